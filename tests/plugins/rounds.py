"""Sequential round trips of a run, counted without a timing assertion (SPEC §8, issue 22).

`Rounds` holds every request it sees (GitHub at the fake server, Stripe at the gateway's
HTTP client) until no new request has arrived for `quiet` seconds, then lets every held
request through at once: that is one round. A request the client can only send after it
read another request's answer necessarily lands in a later round; requests it sends
together land in the same one. So `len(rounds.rounds)` is the depth of the run's request
chain, the benchmark's *waves* (`benchmarks/latency_proxy.py`), whatever the speed of the
machine: a slow or loaded machine can only split a round (a higher count, a failure on the
safe side), never merge two. The test asserts counts, never durations.
"""

from __future__ import annotations

import threading
import time
from typing import Any
from urllib.parse import urlsplit

from billingops.sandbox.fake_github import FakeGitHub


class Rounds:
    def __init__(self, quiet: float = 0.5) -> None:
        self.quiet = quiet
        self.rounds: list[list[str]] = []
        self._cond = threading.Condition()
        self._held: list[str] = []
        self._last = 0.0
        self._releasing = False

    def hold(self, what: str) -> None:
        """Called in the request's own thread: returns when the request's round is released."""
        with self._cond:
            self._held.append(what)
            self._last = time.monotonic()
            mine = len(self.rounds)
            if not self._releasing:
                self._releasing = True
                threading.Thread(target=self._release, daemon=True).start()
            if not self._cond.wait_for(lambda: len(self.rounds) > mine, timeout=60):
                raise AssertionError(f"round never released: {what}")

    def _release(self) -> None:
        with self._cond:
            while (left := self._last + self.quiet - time.monotonic()) > 0:
                self._cond.wait(left)
            self.rounds.append(self._held)
            self._held = []
            self._releasing = False
            self._cond.notify_all()

    def describe(self) -> str:
        return "\n".join(f"{i}. {', '.join(r)}" for i, r in enumerate(self.rounds, 1))

    # -- where requests are held ----------------------------------------------------------

    def gate_github(self, fake: FakeGitHub) -> None:
        """Every request the fake GitHub answers from now on is held first."""
        answer = fake.handle

        def handle(method: str, path: str, headers: dict[str, str], body: bytes) -> Any:
            self.hold(f"github {method} {urlsplit(path).path}")
            return answer(method, path, headers, body)

        fake.handle = handle  # type: ignore[method-assign]

    def stripe_http_client(self) -> Any:
        """An HTTP client for `StripeGateway(http_client=...)` whose requests are held."""
        import stripe

        client = stripe.new_default_http_client(timeout=20)
        send = client.request

        def request(method: str, url: str, headers: Any, post_data: Any = None, **kw: Any) -> Any:
            self.hold(f"stripe {method.upper()} {urlsplit(url).path}")
            return send(method, url, headers, post_data, **kw)

        client.request = request  # type: ignore[method-assign]
        return client
