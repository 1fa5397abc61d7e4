"""A loopback HTTP proxy that injects one fault at the Nth request (reliability tests).

It sits in front of a sandbox (localstripe, the fake GitHub): point the client's base URL
at `proxy.url` and every request is forwarded to `upstream`, except the one(s) chosen by
`arm(kind, at=N)`, which get a fault instead:

| kind        | what the client sees                          | did the upstream see it? |
|-------------|-----------------------------------------------|--------------------------|
| `429`       | 429 with `Retry-After`, a rate-limit error    | yes, by the gateway      |
| `500`       | 500 with an `api_error` body                  | no                       |
| `502`       | 502 with an error body                        | no                       |
| `503`       | 503 with an `api_error` body                  | no                       |
| `timeout`   | no answer until after the client gave up      | yes (the write happened) |
| `reset`     | the TCP connection reset (RST), no answer     | yes (the write happened) |
| `malformed` | the upstream's status with a truncated body   | yes (the write happened) |
| `*-after`   | (`500-after`, `502-after`) the status, after  | yes (the write happened) |
| a race code | Stripe's 400 with that code (`RACE_KINDS`)    | no                       |

The "after" kinds are the hard ones for exactly-once: the write was done, the client
cannot know it. Requests are counted from 1 since the last `arm()` / `reset()`; `times`
faults that many consecutive requests (a service that stays down through the retries).
`only` restricts counting to requests whose "METHOD /path" matches a glob.

Bounded: a timeout holds the connection for `hold` seconds at most, and the server's
threads are daemons. It binds 127.0.0.1 only and forwards only to a loopback upstream.

While the upstream works on a forwarded request, the client is sent an interim
`100 Continue` every `heartbeat` seconds (HTTP/1.1 clients skip interim answers; each one
restarts a client's read timeout). So a client's timeout measures the proxy's silence, not
the upstream's speed: a short timeout is safe on a loaded machine (localstripe can take
seconds), and a `timeout` fault is heard exactly `timeout` after the upstream's answer.
"""

from __future__ import annotations

import contextlib
import fnmatch
import http.client
import ipaddress
import json
import socket
import struct
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import urlsplit

from billingops.sandbox.loopback import LoopbackService, ThreadedServer

FAULT_KINDS = ("429", "500", "503", "timeout", "reset", "malformed")
AFTER_KINDS = ("500-after", "502-after")
# Stripe's 400 answers to a write that lost a race (someone else acted first).
RACE_KINDS = {
    "charge_disputed": "This charge has been disputed (injected).",
    "charge_already_refunded": "Charge has already been refunded (injected).",
    "resource_locked": "This object cannot be accessed right now (injected).",
}
ALL_KINDS = (*FAULT_KINDS, "502", *AFTER_KINDS, *RACE_KINDS)
_HOP_BY_HOP = frozenset(
    {
        "connection",
        "keep-alive",
        "proxy-authenticate",
        "proxy-authorization",
        "te",
        "trailers",
        "transfer-encoding",
        "upgrade",
        "host",
        "content-length",
    }
)


@dataclass(frozen=True)
class Seen:
    n: int  # 1-based position since the last arm/reset (among counted requests)
    method: str
    path: str
    fault: str | None
    key: str | None = None  # the Idempotency-Key header, if any


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _error_body(status: int) -> bytes:
    kind = {429: "rate_limit_error", 502: "api_error", 503: "api_error"}.get(status, "api_error")
    message = {
        429: "Too many requests hit the API too quickly.",
        500: "An unknown error occurred (injected).",
        502: "Bad gateway (injected).",
        503: "The service is temporarily unavailable (injected).",
    }.get(status, "Injected fault.")
    return json.dumps({"error": {"type": kind, "message": message}}).encode()


class FaultProxy(LoopbackService):
    """Use as a context manager; `url` is the base URL to give the client."""

    def __init__(
        self,
        upstream: str,
        *,
        hold: float = 2.0,
        retry_after: int = 1,
        upstream_timeout: float = 30.0,
        heartbeat: float = 0.05,
    ) -> None:
        parts = urlsplit(upstream)
        if parts.scheme != "http" or not parts.hostname or not _is_loopback(parts.hostname):
            raise ValueError(f"the fault proxy only fronts a loopback http upstream: {upstream}")
        self.upstream_host = parts.hostname
        self.upstream_port = parts.port or 80
        self.upstream_prefix = parts.path.rstrip("/")
        self.hold = hold
        self.retry_after = retry_after
        self.upstream_timeout = upstream_timeout
        self.heartbeat = heartbeat
        self.seen: list[Seen] = []
        self._lock = threading.Lock()
        self._kind: str | None = None
        self._at = 0
        self._times = 0
        self._only: str | None = None
        self._count = 0
        self._server: ThreadedServer | None = None

    # -- control ------------------------------------------------------------------------

    def arm(self, kind: str, *, at: int, times: int = 1, only: str | None = None) -> None:
        """Fault requests at..at+times-1 (1-based, counted from now) with `kind`."""
        if kind not in ALL_KINDS:
            raise ValueError(f"unknown fault kind {kind!r}; one of {', '.join(ALL_KINDS)}")
        if at < 1 or times < 1:
            raise ValueError("at and times start at 1")
        with self._lock:
            self._kind, self._at, self._times, self._only = kind, at, times, only
            self._count = 0
            self.seen = []

    def reset(self, *, only: str | None = None) -> None:
        """No fault; the request count starts again (counting only `only`, if given)."""
        with self._lock:
            self._kind, self._at, self._times, self._only = None, 0, 0, only
            self._count = 0
            self.seen = []

    @property
    def count(self) -> int:
        """Counted requests since the last arm/reset."""
        with self._lock:
            return self._count

    @property
    def injected(self) -> list[Seen]:
        with self._lock:
            return [s for s in self.seen if s.fault]

    def _decide(self, method: str, path: str, key: str | None = None) -> str | None:
        with self._lock:
            if self._only is not None and not fnmatch.fnmatchcase(f"{method} {path}", self._only):
                return None
            self._count += 1
            n = self._count
            fault = None
            if self._kind is not None and self._at <= n < self._at + self._times:
                fault = self._kind
            self.seen.append(Seen(n, method, path.split("?", 1)[0], fault, key))
            return fault

    # -- lifecycle ----------------------------------------------------------------------

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        return _make_handler(self)

    @property
    def url(self) -> str:
        if self._server is None:
            raise RuntimeError("the fault proxy is not running")
        return f"http://127.0.0.1:{self._server.server_address[1]}{self.upstream_prefix}"

    # -- forwarding ---------------------------------------------------------------------

    def forward(
        self, method: str, path: str, headers: dict[str, str], body: bytes
    ) -> tuple[int, list[tuple[str, str]], bytes]:
        conn = http.client.HTTPConnection(
            self.upstream_host, self.upstream_port, timeout=self.upstream_timeout
        )
        try:
            sent = {k: v for k, v in headers.items() if k.lower() not in _HOP_BY_HOP}
            sent["Content-Length"] = str(len(body))
            sent["Connection"] = "close"
            conn.request(method, path, body=body or None, headers=sent)
            resp = conn.getresponse()
            data = resp.read()
            kept = [(k, v) for k, v in resp.getheaders() if k.lower() not in _HOP_BY_HOP]
            return resp.status, kept, data
        finally:
            conn.close()


def _make_handler(proxy: FaultProxy) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.0"  # one request per connection: simple, and resets are clean

        def _serve(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            headers = {k: v for k, v in self.headers.items()}
            fault = proxy._decide(self.command, self.path, self.headers.get("Idempotency-Key"))
            if fault in ("429", "500", "502", "503"):
                status = int(fault)
                extra = [("Retry-After", str(proxy.retry_after))] if status == 429 else []
                self._reply(
                    status, [("Content-Type", "application/json"), *extra], _error_body(status)
                )
                return
            if fault in RACE_KINDS:
                err = {"type": "invalid_request_error", "code": fault, "message": RACE_KINDS[fault]}
                self._reply(400, [("Content-Type", "application/json")],
                            json.dumps({"error": err}).encode())  # fmt: skip
                return
            try:
                status, kept, data = self._forward_with_heartbeats(headers, body)
            except OSError:
                self._reply(502, [("Content-Type", "application/json")], _error_body(502))
                return
            if fault == "timeout":
                # The upstream did the work; the client hears nothing until it gives up.
                deadline = time.monotonic() + proxy.hold
                while time.monotonic() < deadline:
                    time.sleep(0.05)
                self._abort()
                return
            if fault == "reset":
                self._abort()
                return
            if fault == "malformed":
                cut = data[: max(len(data) // 2, 1)] if data else b"{"
                self._reply(status, [("Content-Type", "application/json")], cut + b"\x00<html")
                return
            if fault in AFTER_KINDS:
                code = int(fault.split("-", 1)[0])
                self._reply(code, [("Content-Type", "application/json")], _error_body(code))
                return
            self._reply(status, kept, data)

        def _forward_with_heartbeats(
            self, headers: dict[str, str], body: bytes
        ) -> tuple[int, list[tuple[str, str]], bytes]:
            """`proxy.forward` in a helper thread; meanwhile an interim `100 Continue`
            every `heartbeat` seconds keeps the client's read timeout from running out."""
            done = threading.Event()
            answer: list[tuple[int, list[tuple[str, str]], bytes]] = []
            failed: list[OSError] = []

            def forward() -> None:
                try:
                    answer.append(proxy.forward(self.command, self.path, headers, body))
                except OSError as exc:
                    failed.append(exc)
                finally:
                    done.set()

            threading.Thread(target=forward, daemon=True).start()
            interim = self.request_version != "HTTP/1.0"  # 1xx is for HTTP/1.1 clients only
            while not done.wait(proxy.heartbeat):
                if interim:
                    try:
                        self.wfile.write(b"HTTP/1.1 100 Continue\r\n\r\n")
                    except OSError:
                        interim = False  # the client went away; the upstream still finishes
            if failed:
                raise failed[0]
            return answer[0]

        def _reply(self, status: int, headers: list[tuple[str, str]], data: bytes) -> None:
            try:
                self.send_response(status)
                for k, v in headers:
                    self.send_header(k, v)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
            except OSError:
                pass  # the client went away

        def _abort(self) -> None:
            """Close with RST (SO_LINGER 0): the client sees a connection reset."""
            sock: Any = self.connection
            with contextlib.suppress(OSError):
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.close_connection = True
            with contextlib.suppress(OSError):
                sock.close()

        do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _serve

        def log_message(self, format: str, *args: Any) -> None:
            pass

    return Handler


__all__ = ["AFTER_KINDS", "ALL_KINDS", "FAULT_KINDS", "FaultProxy", "Seen"]
