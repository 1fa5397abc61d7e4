"""Fixtures of the reliability suite (kept here: this directory is one part of the suite)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from billingops.sandbox.fault_proxy import FaultProxy
from tests.plugins.sandbox import Sandbox
from tests.reliability._support import PROXY_HOLD


@pytest.fixture
def fast_backoff(monkeypatch: pytest.MonkeyPatch) -> None:
    """The Stripe SDK sleeps 0.5 s at least between retries; the count of retries is what
    these tests exercise, not the pause."""
    from stripe._http_client import HTTPClient

    monkeypatch.setattr(HTTPClient, "INITIAL_DELAY", 0.01)
    monkeypatch.setattr(HTTPClient, "MAX_DELAY", 0.02)


@pytest.fixture
def stripe_proxy(stripe_sandbox: Sandbox, fast_backoff: None) -> Iterator[FaultProxy]:
    """A fault proxy in front of the session's localstripe."""
    with FaultProxy(stripe_sandbox.base_url, hold=PROXY_HOLD) as proxy:
        yield proxy
