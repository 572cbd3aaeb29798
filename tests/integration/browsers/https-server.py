#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""HTTPS server for tests/integration/test-browsers.sh.

Serves on 127.0.0.1:PORT, requires a client certificate issued by CA, and
writes one line per request to LOG with the client certificate's subject
and the User-Agent, so the test checks the login on the server side, not
from what a browser prints.

usage: https-server.py PORT CERT KEY CA LOG
"""

import http.server
import ssl
import sys
import threading


def subject_text(cert):
    # getpeercert(): subject is a tuple of RDNs, each a tuple of (name, value)
    return ",".join(f"{k}={v}" for rdn in cert.get("subject", ()) for k, v in rdn)


class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        subj = subject_text(self.connection.getpeercert() or {})
        ua = self.headers.get("User-Agent", "-")
        self.server.log(f"request: {self.path} client-cert-subject={subj} tls={self.connection.version()} ua={ua}")
        body = (f"<html><head><title>client certificate: {subj}</title></head><body>"
                f"<p id=\"who\">client certificate: {subj}</p></body></html>\n").encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, fmt, *args):
        pass  # one line per request, written by do_GET


class Server(http.server.ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, addr, ctx, logfile):
        self.ctx = ctx
        self.logf = open(logfile, "a", buffering=1)
        self.lock = threading.Lock()
        super().__init__(addr, Handler)

    def log(self, line):
        with self.lock:
            self.logf.write(line + "\n")

    # The handshake runs in the connection's thread: a browser's idle
    # speculative connection, or one waiting for a touch on the device, must
    # not stop the server from accepting the next one.
    def finish_request(self, request, client_address):
        request.settimeout(90)
        try:
            tls = self.ctx.wrap_socket(request, server_side=True)
        except (ssl.SSLError, OSError) as e:
            self.log(f"handshake failed: {e}")
            return
        self.RequestHandlerClass(tls, client_address, self)

    def handle_error(self, request, client_address):
        self.log(f"error: {sys.exc_info()[1]!r}")


def main():
    port, cert, key, ca, logfile = sys.argv[1:6]
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(cert, key)
    ctx.load_verify_locations(ca)
    ctx.verify_mode = ssl.CERT_REQUIRED  # no client certificate, no page
    srv = Server(("127.0.0.1", int(port)), ctx, logfile)
    srv.log(f"listening on 127.0.0.1:{port}")
    srv.serve_forever()


if __name__ == "__main__":
    main()
