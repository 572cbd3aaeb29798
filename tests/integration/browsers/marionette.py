#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""A minimal Marionette client for tests/integration/test-browsers.sh.

Makes the Firefox it is connected to load URL and answers NSS's token
password prompt ("Please authenticate to the security device") with the
PIN read from PINFILE ("-": no PIN; a prompt is then cancelled).  The PIN
goes over Marionette's socket into Firefox only: never on a command line,
never into a log.

usage: marionette.py PORT URL TIMEOUT PINFILE REPORT

It returns as soon as the page load has started.  The prompt is answered by
an observer inside Firefox, which writes what it saw to REPORT: while NSS's
prompt is up, Firefox's main thread spins a nested event loop in which
Marionette answers no further commands, so the prompt cannot be answered by
polling from here.  The caller checks the result on the server's side.

Firefox must run with --marionette -remote-allow-system-access (scripts in
the chrome context) and the pref marionette.port = PORT.

Marionette's protocol: messages "LENGTH:JSON" over TCP; a command is
[0, id, name, params], its answer [1, id, error, result].
"""

import json
import socket
import sys
import time

# Chrome-context script.  "common-dialog-loaded" is notified with the
# dialog's window when a prompt (commonDialog.xhtml) has loaded; the prompt
# is answered from a fresh main-thread task, after its own load handlers.
ARM = r"""
const [pin, url, report] = arguments;
const lines = [];
function note(s) {
  lines.push(s);
  IOUtils.writeUTF8(report, lines.join("\n") + "\n");
}
const observer = {
  observe(win, topic) {
    const doc = win.document;
    const info = doc.getElementById("infoBody");
    const pw = doc.getElementById("password1Textbox");
    note("prompt: " + (info ? info.textContent.replace(/\s+/g, " ").trim() : doc.title));
    Services.tm.dispatchToMainThread(() => {
      const dialog = doc.getElementById("commonDialog");
      if (pin !== null && pw) {
        pw.value = pin;
        dialog.acceptDialog();
        note("prompt answered with the PIN");
      } else {
        dialog.cancelDialog();
        note("prompt cancelled (no PIN given)");
      }
    });
  },
};
Services.obs.addObserver(observer, "common-dialog-loaded");
// keeps the observer alive after this script has returned
globalThis.openloopPromptObserver = observer;
note("observer ready; loading " + url);
Services.wm.getMostRecentWindow("navigator:browser").openTrustedLinkIn(url, "current");
return "loading " + url;
"""


class Marionette:
    def __init__(self, port, deadline):
        while True:
            try:
                self.sock = socket.create_connection(("127.0.0.1", port), timeout=5)
                break
            except OSError:
                if time.monotonic() > deadline:
                    sys.exit(f"marionette: no connection to 127.0.0.1:{port}")
                time.sleep(0.2)
        self.sock.settimeout(max(5.0, deadline - time.monotonic()))
        self.buf = b""
        self.msgid = 0
        self.read()  # the server's greeting

    def more(self):
        data = self.sock.recv(65536)
        if not data:
            sys.exit("marionette: connection closed")
        self.buf += data

    def read(self):
        while b":" not in self.buf:
            self.more()
        n, _, self.buf = self.buf.partition(b":")
        while len(self.buf) < int(n):
            self.more()
        msg, self.buf = self.buf[:int(n)], self.buf[int(n):]
        return json.loads(msg)

    def cmd(self, name, params):
        self.msgid += 1
        data = json.dumps([0, self.msgid, name, params]).encode()
        self.sock.sendall(str(len(data)).encode() + b":" + data)
        while True:
            msg = self.read()
            if msg[0] == 1 and msg[1] == self.msgid:
                break
        if msg[2]:
            sys.exit(f"marionette: {name}: {msg[2].get('error')}: {msg[2].get('message')}")
        res = msg[3]
        return res.get("value", res) if isinstance(res, dict) else res


def main():
    if len(sys.argv) != 6:
        sys.exit(__doc__)
    port, url, timeout, pinfile, report = sys.argv[1:6]
    pin = None
    if pinfile != "-":
        with open(pinfile) as f:
            pin = f.read().strip()
    m = Marionette(int(port), time.monotonic() + float(timeout))
    m.cmd("WebDriver:NewSession", {})
    m.cmd("Marionette:SetContext", {"value": "chrome"})
    print(m.cmd("WebDriver:ExecuteScript", {"script": ARM, "args": [pin, url, report]}))


if __name__ == "__main__":
    main()
