"""An HTTP proxy between workers and the API that fails on demand: what an outage of API Gateway,
Lambda throttling or a network partition looks like from a worker.

Modes: `PASS` forwards every request; `UNAVAILABLE` answers each with 503 (a gateway whose
backend is down); `REFUSED` stops listening, so new connections are refused, and drops requests
on connections already open without an answer (the network is gone).
"""

from __future__ import annotations

import enum
import http.client
import threading
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

from slipstream.local.moto import free_port

_HOP_BY_HOP = frozenset(
    {"connection", "keep-alive", "proxy-connection", "te", "trailer", "transfer-encoding", "upgrade"}
)


class Mode(enum.Enum):
    PASS = "pass"  # noqa: S105 (a mode, not a password)
    UNAVAILABLE = "unavailable"
    REFUSED = "refused"


class FaultProxy:
    def __init__(self, upstream: str) -> None:
        """`upstream`: the API's base URL (`http://host:port`)."""
        parts = urlsplit(upstream)
        self._upstream = (parts.hostname or "127.0.0.1", parts.port or 80)
        self.port = free_port()
        self.mode = Mode.PASS
        self.requests: Counter[Mode] = Counter()
        """Requests seen, by the mode that decided their fate."""
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> FaultProxy:
        self._listen()
        return self

    def __exit__(self, *exc: object) -> None:
        self._close()

    def set_mode(self, mode: Mode) -> None:
        with self._lock:
            if mode is Mode.REFUSED:
                self._close()
            elif self._server is None:
                self._listen()
            self.mode = mode

    def _listen(self) -> None:
        self._server = _Server(self)
        threading.Thread(target=self._server.serve_forever, name="fault-proxy", daemon=True).start()

    def _close(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def _relay(self, handler: _Relay) -> None:
        mode = self.mode
        self.requests[mode] += 1
        body = handler.rfile.read(int(handler.headers.get("Content-Length") or 0))
        if mode is Mode.REFUSED:
            handler.close_connection = True
            return
        if mode is Mode.UNAVAILABLE:
            handler.answer(503, [("Content-Type", "application/json")], b'{"detail":"injected outage"}')
            return
        headers = {k: v for k, v in handler.headers.items() if k.lower() not in _HOP_BY_HOP}
        upstream = http.client.HTTPConnection(*self._upstream, timeout=120)
        try:
            upstream.request(handler.command, handler.path, body=body or None, headers=headers)
            response = upstream.getresponse()
            handler.answer(response.status, response.getheaders(), response.read())
        finally:
            upstream.close()


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, proxy: FaultProxy) -> None:
        super().__init__(("127.0.0.1", proxy.port), _Relay)
        self.proxy = proxy


class _Relay(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as API Gateway speaks it
    server: _Server

    def relay(self) -> None:
        self.server.proxy._relay(self)

    do_GET = do_HEAD = do_POST = do_PUT = do_PATCH = do_DELETE = relay

    def answer(self, status: int, headers: list[tuple[str, str]], body: bytes) -> None:
        self.send_response(status)
        for name, value in headers:
            if name.lower() not in _HOP_BY_HOP and name.lower() != "content-length":
                self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        """Silent: a soak sends thousands of requests."""
