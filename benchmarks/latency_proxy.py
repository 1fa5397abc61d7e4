"""A loopback HTTP reverse proxy that adds a fixed latency to every request.

Why HTTP-level rather than TCP-level: the quantity measured is *requests* in sequence
(SPEC §8 "sequential round trips"), not packets. Each request is held for `latency`
seconds before it is forwarded, in its own thread, so requests the client sends
concurrently wait concurrently and requests it sends one after another add up. Then

    round trips ≈ (wall time with latency L − wall time with latency 0) / L

where both runs go through the proxy (same extra hop; only the latency differs).

Every request is logged (`ProxyLog`) with its arrival and completion times, which gives a
second, latency-independent measure: the *wave* of a request is 1 + the highest wave among
the requests that had completed before it arrived (0 when none had). The number of waves is
the depth of the request chain the client could possibly have waited on; listing the
requests per wave shows where the round trips go.

An optional `responder` may answer a request itself (after the latency, so it still costs a
round trip) or rewrite it before forwarding; the benchmark uses one to give localstripe the
endpoints it lacks (see `triage_budget.StripeProductionShim`).

Only loopback: the proxy binds 127.0.0.1 and refuses non-loopback upstreams.
"""

from __future__ import annotations

import http.client
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from urllib.parse import urlsplit

from billingops.sandbox.loopback import LoopbackService, ThreadedServer

# Not forwarded in either direction (RFC 9110 §7.6.1), plus the framing we redo ourselves.
_HOP_BY_HOP = frozenset(
    {
        "connection",
        "keep-alive",
        "proxy-connection",
        "te",
        "trailer",
        "transfer-encoding",
        "upgrade",
        "content-length",
        "host",
    }
)
_LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})


@dataclass(frozen=True)
class ProxiedRequest:
    upstream: str  # the proxy's name, e.g. "stripe" or "github"
    method: str
    path: str  # path and query as the client sent them
    status: int
    arrived: float  # time.perf_counter() when the request was read
    done: float  # time.perf_counter() when the response was written


@dataclass
class ProxyLog:
    """One log shared by several proxies, so waves span Stripe and GitHub together."""

    entries: list[ProxiedRequest] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, entry: ProxiedRequest) -> None:
        with self._lock:
            self.entries.append(entry)

    def since(self, start: float) -> list[ProxiedRequest]:
        with self._lock:
            return sorted((e for e in self.entries if e.arrived >= start), key=lambda e: e.arrived)

    def clear(self) -> None:
        with self._lock:
            self.entries.clear()


def waves(entries: list[ProxiedRequest]) -> list[list[ProxiedRequest]]:
    """Group requests into waves (see the module docstring); entries in arrival order."""
    ordered = sorted(entries, key=lambda e: e.arrived)
    level: list[int] = []
    for i, e in enumerate(ordered):
        before = [level[j] for j, p in enumerate(ordered[:i]) if p.done <= e.arrived]
        level.append(max(before) + 1 if before else 0)
    out: list[list[ProxiedRequest]] = [[] for _ in range(max(level, default=-1) + 1)]
    for e, n in zip(ordered, level, strict=True):
        out[n].append(e)
    return out


@dataclass(frozen=True)
class Answer:
    """What a responder hands back instead of forwarding."""

    status: int
    body: bytes
    content_type: str = "application/json"


# (method, path-with-query, forward) -> an Answer, or a rewritten path to forward, or None
# to forward unchanged. `forward(method, path)` fetches from the upstream (for shims that
# build their answer from other upstream data); it adds no latency.
Forward = Callable[[str, str], tuple[int, bytes]]
Responder = Callable[[str, str, Forward], "Answer | str | None"]


class LatencyProxy(LoopbackService):
    """`with LatencyProxy(upstream_url, latency=0.1, name="stripe", log=log) as p: p.url`."""

    def __init__(
        self,
        upstream: str,
        *,
        latency: float = 0.0,
        name: str = "upstream",
        log: ProxyLog | None = None,
        responder: Responder | None = None,
        timeout: float = 30.0,
    ) -> None:
        parts = urlsplit(upstream)
        if parts.scheme != "http" or parts.hostname not in _LOOPBACK_HOSTS:
            raise ValueError(f"the proxy only forwards to plain-HTTP loopback, not {upstream!r}")
        self.upstream_host = parts.hostname or "127.0.0.1"
        self.upstream_port = parts.port or 80
        self.upstream_prefix = parts.path.rstrip("/")
        self.latency = latency  # may be changed between runs
        self.name = name
        self.log = log if log is not None else ProxyLog()
        self.responder = responder
        self.timeout = timeout
        self._server: ThreadedServer | None = None

    @property
    def url(self) -> str:
        if self._server is None:
            raise RuntimeError("the proxy is not running")
        port = self._server.server_address[1]
        return f"http://127.0.0.1:{port}{self.upstream_prefix}"

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        return _make_handler(self)

    def connect(self) -> http.client.HTTPConnection:
        return http.client.HTTPConnection(
            self.upstream_host, self.upstream_port, timeout=self.timeout
        )


def _make_handler(proxy: LatencyProxy) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive, as the SDKs use it
        _upstream: http.client.HTTPConnection | None = None

        def log_message(self, format: str, *args: object) -> None:
            pass  # quiet

        def _fetch(
            self, method: str, path: str, headers: dict[str, str], body: bytes | None
        ) -> tuple[int, list[tuple[str, str]], bytes]:
            for attempt in (0, 1):  # once more on a stale keep-alive connection
                if self._upstream is None:
                    self._upstream = proxy.connect()
                try:
                    self._upstream.request(method, path, body=body, headers=headers)
                    resp = self._upstream.getresponse()
                    data = resp.read()
                    return resp.status, resp.getheaders(), data
                except (http.client.HTTPException, ConnectionError):
                    self._upstream.close()
                    self._upstream = None
                    if attempt:
                        raise
            raise AssertionError("unreachable")

        def _relay(self) -> None:
            arrived = time.perf_counter()
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else None
            headers = {k: v for k, v in self.headers.items() if k.lower() not in _HOP_BY_HOP}
            headers["Host"] = f"{proxy.upstream_host}:{proxy.upstream_port}"
            if proxy.latency > 0:
                time.sleep(proxy.latency)
            method, path = self.command, self.path

            def forward(m: str, p: str) -> tuple[int, bytes]:
                status, _, data = self._fetch(m, p, dict(headers), None)
                return status, data

            answer = proxy.responder(method, path, forward) if proxy.responder else None
            if isinstance(answer, Answer):
                status, out_headers, data = (
                    answer.status,
                    [("Content-Type", answer.content_type)],
                    answer.body,
                )
            else:
                status, out_headers, data = self._fetch(method, answer or path, headers, body)
            # Logged before the client can see the answer: a log read right after the
            # client's last response is complete, and `done` precedes any request the
            # client sends in reaction to this one.
            proxy.log.add(
                ProxiedRequest(proxy.name, method, self.path, status, arrived, time.perf_counter())
            )
            self.send_response(status)
            for k, v in out_headers:
                if k.lower() not in _HOP_BY_HOP:
                    self.send_header(k, v)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
            self.wfile.flush()

        do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _relay

    return Handler
