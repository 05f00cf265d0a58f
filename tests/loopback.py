"""HTTP servers on a free loopback port for the tests that need something real at the other end
of a request: the webhook receiver (tests/conftest.py), a partner's image site
(tests/partners/conftest.py), a web site (tests.helpers.web_server)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


class QuietHandler(BaseHTTPRequestHandler):
    """A request handler that logs nothing (a test's output is its own) and answers in one call."""

    def start(self, status: int, headers: dict[str, str], length: int) -> None:
        """The status line and headers of an answer whose body is `length` bytes."""
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(length))
        self.end_headers()

    def answer(self, status: int, headers: dict[str, str], body: bytes) -> None:
        self.start(status, headers, len(body))
        self.wfile.write(body)

    def log_message(self, *args: Any) -> None:
        pass


@contextmanager
def loopback_server(handler: type[BaseHTTPRequestHandler]) -> Iterator[int]:
    """A threaded HTTP server on 127.0.0.1 answering with `handler` until the block ends; its port."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield int(server.server_address[1])
    finally:
        server.shutdown()
        server.server_close()
