"""A real HTTP server on 127.0.0.1 in a thread, for tests of outgoing HTTP (webhooks, SP4N-LAPOR!).

``handler(method, path, headers, body) -> (status, dict | None)`` answers each request; every request
is recorded in ``server.requests`` as a ``Received``.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Received:
    method: str
    path: str
    headers: object  # http.client.HTTPMessage: case-insensitive lookups
    body: bytes

    def json(self):
        return json.loads(self.body)


class LocalServer:
    def __init__(self, handler: Callable[[str, str, object, bytes], tuple[int, dict | None]]):
        self.requests: list[Received] = []
        self._lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            def _serve(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                headers = self.headers  # case-insensitive, like any web framework's
                with server._lock:
                    server.requests.append(Received(self.command, self.path, headers, body))
                    status, answer = handler(self.command, self.path, headers, body)
                data = json.dumps(answer).encode() if answer is not None else b""
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = _serve  # noqa: N815

            def log_message(self, *args):
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_port}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self) -> LocalServer:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
