"""The desk sends independent GitHub requests from several threads at once (SPEC §8). A
PyGithub client keeps one connection whose `request()` stores what to send and whose
`getresponse()` sends it, so two threads sharing a client can swap requests and answers
(seen under load: an issue create answered with a labels write's answer). Each thread has
its own client; the write spacing GitHub asks for still holds across them."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from billingops._tracker.client import _WriteGate
from billingops._tracker.github_gateway import GitHubGateway
from billingops.sandbox.fake_github import FakeGitHub
from tests.plugins.github import gateway_for


def test_concurrent_requests_on_one_gateway_each_get_their_own_answer(
    fake_github: FakeGitHub, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Widen the window between PyGithub's `request()` (which only stores the request) and
    # `getresponse()` (which sends what is stored), as a busy runner's thread switch does.
    from github.Requester import HTTPRequestsConnectionClass

    stored = HTTPRequestsConnectionClass.request

    def request(self: Any, *args: Any, **kw: Any) -> None:
        stored(self, *args, **kw)
        time.sleep(0.005)

    monkeypatch.setattr(HTTPRequestsConnectionClass, "request", request)
    numbers = [fake_github.add_issue(f"ticket {i}", body=f"body {i}") for i in range(12)]
    gateway = gateway_for(fake_github)

    def read(n: int) -> tuple[int, int, str]:
        issue = gateway.get_issue(n)
        return n, issue.number, issue.title

    with ThreadPoolExecutor(max_workers=6) as pool:
        answers = list(pool.map(read, numbers * 3))
    assert all(asked == got for asked, got, _ in answers)
    titles = {n: t for n, _, t in answers}
    assert titles == {n: f"ticket {i}" for i, n in enumerate(numbers)}


def test_each_thread_has_its_own_client_and_a_backlog_gateway_shares_them(
    github_gateway: GitHubGateway,
) -> None:
    seen: list[object] = []

    def requester() -> None:
        seen.append(github_gateway._client.requester)

    threads = [threading.Thread(target=requester) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert seen[0] is not seen[1]
    backlog = github_gateway.for_repository("acme/product")
    assert backlog._client is github_gateway._client


def test_writes_from_several_threads_each_get_their_own_second() -> None:
    """Four threads write at the same instant: each is given its own slot, a second after
    the one before (no wall clock: the gate's clock and sleep are handed in)."""
    slept: list[float] = []
    lock = threading.Lock()

    def sleep(seconds: float) -> None:
        with lock:
            slept.append(round(seconds, 6))

    gate = _WriteGate(1.0, clock=lambda: 100.0, sleep=sleep)
    with ThreadPoolExecutor(max_workers=4) as pool:
        for _ in range(4):
            pool.submit(gate.wait)
    assert sorted(slept) == [1.0, 2.0, 3.0]  # the first goes at once
