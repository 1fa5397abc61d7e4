"""localstripe fixtures: one server per session on a loopback port, reset per test.

- `stripe_server`: the base URL of a localstripe started for the session (stopped after).
- `stripe_sandbox`: resets the store (fixed id seed, frozen clock) and seeds scenarios:
  `stripe_sandbox.seed("past_due")`.
- `stripe_gateway`: a `StripeGateway` on that sandbox, its clock set to the sandbox's.
- `loopback_only`: fails a test that opens a connection to a non-loopback address.
- `no_stripe_retry_pauses` (every test): retries without their pauses (the Stripe SDK's
  backoff, the gateway's wait after a 429, the report listing's backoff).
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from billingops.sandbox.stripe_server import (
    DEFAULT_NOW,
    SANDBOX_API_KEY,
    StripeServer,
    localstripe_installed,
    reset_sandbox,
    sandbox_violations,
)


def _is_loopback(address: Any) -> bool:
    if isinstance(address, tuple) and address:
        host = str(address[0])
        if host == "localhost":
            return True
        try:
            return ipaddress.ip_address(host.split("%")[0]).is_loopback
        except ValueError:
            return False
    return True  # unix sockets and the like


@pytest.fixture
def loopback_only(monkeypatch: pytest.MonkeyPatch) -> None:
    original = socket.socket.connect

    def connect(self: socket.socket, address: Any) -> Any:
        if not _is_loopback(address):
            raise AssertionError(f"test tried to reach a non-loopback address: {address!r}")
        return original(self, address)

    monkeypatch.setattr(socket.socket, "connect", connect)


@pytest.fixture(autouse=True)
def no_stripe_retry_pauses(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every Stripe gateway a test builds, through the CLI too, retries as in production,
    without the pauses between attempts: the SDK's backoff (0.5 s and up), Retry-After
    after a 429 (1 s from the fault proxy), the report listing's backoff. Tests count the
    retries and read what the user is told, not the pauses; a test about the length of a
    pause passes its own `sleep` (tests/_billing/test_rate_limit.py)."""
    from stripe._http_client import HTTPClient

    from billingops._billing import client

    monkeypatch.setattr(client, "pause", lambda seconds: None)
    monkeypatch.setattr(HTTPClient, "INITIAL_DELAY", 0.0)
    monkeypatch.setattr(HTTPClient, "MAX_DELAY", 0.0)


@pytest.fixture(scope="session")
def stripe_server() -> Iterator[str]:
    if not localstripe_installed():
        pytest.skip("localstripe is not installed (the sandbox extra)")
    with StripeServer() as server:
        yield server.base_url


@dataclass
class Sandbox:
    base_url: str
    now: int = DEFAULT_NOW
    api_key: str = SANDBOX_API_KEY

    def seed(self, name: str) -> Any:
        from billingops.sandbox.scenarios import seed

        return seed(self.base_url, name, now=self.now)

    def reset(self) -> None:
        reset_sandbox(self.base_url, now=self.now)


@pytest.fixture
def stripe_sandbox(stripe_server: str, loopback_only: None) -> Iterator[Sandbox]:
    sandbox = Sandbox(stripe_server)
    sandbox.reset()
    yield sandbox
    # Every request the gateway sent was checked against Stripe's published API
    # (stripe_contract): one that Stripe would refuse fails the test that sent it.
    refused = sandbox_violations(stripe_server)
    if refused:
        pytest.fail("requests Stripe would refuse: " + "; ".join(refused))


@pytest.fixture
def stripe_gateway(stripe_sandbox: Sandbox) -> Any:
    from billingops._billing.stripe_gateway import StripeGateway

    return StripeGateway(
        stripe_sandbox.api_key,
        stripe_sandbox.base_url,
        compat=True,  # localstripe: BILLINGOPS_SANDBOX=localstripe
        max_network_retries=0,  # localstripe does not flake; keep failures immediate
        clock=lambda: float(stripe_sandbox.now),
    )
