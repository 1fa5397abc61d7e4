"""One loopback HTTP server served from a daemon thread: the lifecycle every local
stand-in shares (fake GitHub, fault proxy, list server, latency proxy)."""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Self


class ThreadedServer:
    def __init__(
        self, handler: type[BaseHTTPRequestHandler], host: str = "127.0.0.1", port: int = 0
    ) -> None:
        self.server = ThreadingHTTPServer((host, port), handler)
        self.server.daemon_threads = True
        # A short poll interval so that close() returns at once (tests start many).
        self._thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()

    @property
    def server_address(self) -> tuple[str, int]:
        host, port = self.server.server_address[:2]
        return str(host), int(port)

    @property
    def port(self) -> int:
        return self.server_address[1]

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self._thread.join(timeout=5)


class LoopbackService:
    """start/stop and `with` for a stand-in served by a ThreadedServer; subclasses give the
    request handler and may set `_host` / `_port` before starting."""

    _server: ThreadedServer | None = None
    _host: str = "127.0.0.1"
    _port: int = 0

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        raise NotImplementedError

    def start(self) -> Self:
        self._server = ThreadedServer(self._handler(), self._host, self._port)
        self._port = self._server.port
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            self._server = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
