#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Drives WebAuthn ceremonies in a running Firefox through Marionette.

usage: webauthn.py [--virtual] [--t0 EPOCH-MS] [--timeout S] PORT OUT CEREMONY...

Serves this directory (index.html, the relying party's page) on
http://localhost:N/ (a secure context; RP ID "localhost") from a thread,
connects to Firefox's Marionette on 127.0.0.1:PORT, opens the page and runs
each CEREMONY in the page (WebDriver:ExecuteAsyncScript in content):

  es256      create, ES256 (-7), non-resident; then get with its ID
  eddsa      create, EdDSA (-8), non-resident; then get with its ID
  resident   create, ES256, residentKey "required"; then get with an
             empty allowCredentials (discovery)

All with attestation "none" and userVerification "discouraged": nothing
asks for a PIN or for consent, so no prompt needs answering.  Writes
OUT/results.json (what verify.py checks) and prints one line per step.

--virtual adds Firefox's virtual authenticator first
(WebAuthn:AddVirtualAuthenticator, CTAP2, USB, resident keys, no UV):
for developing the page and this driver on a machine with no security
key.  Without it Firefox uses whatever real authenticator it finds.
--t0: the browser's start (milliseconds since the epoch, `date +%s%3N`);
the time until Marionette answered is then printed.

Exit status: 0 when every ceremony returned a credential (checking them is
verify.py's job), 1 otherwise.  Needs firefox --marionette with the pref
marionette.port = PORT; the Marionette client is the one
tests/integration/browsers/marionette.py defines.
"""

import functools
import http.server
import json
import os
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "integration", "browsers"))
from marionette import Marionette  # noqa: E402

CEREMONIES = {
    "es256": {"alg": -7, "resident": False},
    "eddsa": {"alg": -8, "resident": False},
    "resident": {"alg": -7, "resident": True},
}

# the page's function, its promise resolved into Marionette's callback
RUN = """
const done = arguments[arguments.length - 1];
window.olCeremony(arguments[0]).then(done, (e) => done(JSON.stringify({error: String(e)})));
"""


class Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, fmt, *args):
        self.server.log.append(fmt % args)


def serve():
    handler = functools.partial(Quiet, directory=HERE)
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    srv.log = []
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    return srv


def main():
    args = sys.argv[1:]
    virtual = False
    t0 = None
    timeout = 120.0
    while args and args[0].startswith("--"):
        opt = args.pop(0)
        if opt == "--virtual":
            virtual = True
        elif opt == "--t0":
            t0 = int(args.pop(0))
        elif opt == "--timeout":
            timeout = float(args.pop(0))
        else:
            sys.exit(__doc__)
    if len(args) < 3 or any(c not in CEREMONIES for c in args[2:]):
        sys.exit(__doc__)
    port, out, names = int(args[0]), args[1], args[2:]

    srv = serve()
    url = f"http://localhost:{srv.server_address[1]}/"
    m = Marionette(port, time.monotonic() + timeout)
    if t0 is not None:
        print(f"marionette listening {int(time.time() * 1000) - t0} ms after the browser's start")
    m.cmd("WebDriver:NewSession", {})
    m.cmd("WebDriver:SetTimeouts", {"script": int(timeout * 1000)})
    if t0 is not None:
        print(f"marionette session (browser window ready) {int(time.time() * 1000) - t0} ms after the browser's start")
    results = {"url": url, "virtual": virtual, "ceremonies": {}}
    if virtual:
        aid = m.cmd("WebAuthn:AddVirtualAuthenticator", {
            "protocol": "ctap2", "transport": "usb", "hasResidentKey": True,
            "hasUserVerification": False, "isUserConsenting": True, "isUserVerified": False})
        print(f"virtual authenticator {aid}")
    t = time.monotonic()
    m.cmd("WebDriver:Navigate", {"url": url})
    print(f"page {url} loaded in {int((time.monotonic() - t) * 1000)} ms")

    ok = True
    for name in names:
        c = CEREMONIES[name]
        create = json.loads(m.cmd("WebDriver:ExecuteAsyncScript", {"script": RUN, "args": [
            {"op": "create", "alg": c["alg"], "resident": c["resident"], "user": f"openloop-{name}"}]}))
        create["alg"] = c["alg"]
        create["resident"] = c["resident"]
        entry = {"create": create}
        if "error" in create:
            print(f"{name}: create failed after {create.get('ms')} ms: {create['error']}")
            ok = False
        else:
            print(f"{name}: create {create['ms']} ms, credential {create['id'][:16]}... "
                  f"({len(create['id']) * 3 // 4} bytes), alg {create['publicKeyAlgorithm']}")
            ids = [] if c["resident"] else [create["rawId"]]
            get = json.loads(m.cmd("WebDriver:ExecuteAsyncScript", {"script": RUN, "args": [
                {"op": "get", "ids": ids}]}))
            entry["get"] = get
            if "error" in get:
                print(f"{name}: get failed after {get.get('ms')} ms: {get['error']}")
                ok = False
            else:
                print(f"{name}: get {get['ms']} ms{' (discovery)' if not ids else ''}, "
                      f"credential {get['id'][:16]}...")
        results["ceremonies"][name] = entry
    results["http_log"] = srv.log
    with open(os.path.join(out, "results.json"), "w") as f:
        json.dump(results, f, indent=1)
    try:
        m.cmd("WebDriver:DeleteSession", {})
    except SystemExit:
        pass
    srv.shutdown()
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
