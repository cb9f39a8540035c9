# Copyright: (c) 2026, resolver.scim contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Another host for redirect tests: a real HTTP server on loopback that records every request it receives (method,
path, headers, body) and answers each with ``answer`` (status, headers, body): by default a 200 with a JSON body that
a client following the redirect would take for success."""

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

# Loopback, but another address than the emulators' 127.0.0.1: a host of its own, as far as any client can tell.
HOST = "127.0.0.2"
DEFAULT_ANSWER = (200, {"Content-Type": "application/json"},
                  json.dumps({"token": "recorder-session", "access_token": "recorder-access", "id": 10}).encode())


class RecordingServer:
    """Start with ``with RecordingServer() as other:``; ``other.url`` is its base, ``other.received`` the requests."""

    def __init__(self, answer=DEFAULT_ANSWER):
        self.received = []
        self.answer = answer
        recorder = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def handle_any(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                recorder.received.append({"method": self.command, "path": self.path, "headers": dict(self.headers),
                                          "body": body.decode("utf-8", "replace")})
                status, headers, payload = recorder.answer
                self.send_response(status)
                for key, value in headers.items():
                    self.send_header(key, value)
                if "Content-Length" not in headers and "Connection" not in headers:
                    self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            do_GET = do_POST = do_PUT = do_DELETE = handle_any

            def log_message(self, *args):  # pylint: disable=arguments-differ
                pass

        self.server = ThreadingHTTPServer((HOST, 0), Handler)
        self.server.daemon_threads = True
        self.url = "http://%s:%d" % (HOST, self.server.server_address[1])

    def __enter__(self):
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()

    def text(self):
        """Everything received, as one text to search for secrets."""
        return json.dumps(self.received)
