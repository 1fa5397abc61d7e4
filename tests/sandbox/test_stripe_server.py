"""The localstripe launcher: starts on loopback, isolates state, seeds, stops cleanly."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from billingops.errors import BadInput
from billingops.sandbox import stripe_server
from billingops.sandbox.scenarios import SCENARIOS, seed
from billingops.sandbox.stripe_server import StripeServer, reset_sandbox, sandbox_request

pytestmark = pytest.mark.sandbox


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie still answers kill(0); stop() reaps, so a zombie would be a bug too.
    return True


def test_starts_on_loopback_answers_and_stops_without_leftover() -> None:
    server = StripeServer()
    with server:
        assert server.base_url.startswith("http://127.0.0.1:")
        pid = server.pid
        assert pid is not None
        assert sandbox_request(server.base_url, "GET", "/v1/customers")["data"] == []
    assert server.pid is None
    assert not _alive(pid)


def test_stop_is_idempotent() -> None:
    server = StripeServer(stop_timeout=2)
    server.start()
    pid = server.pid
    assert pid is not None
    server.stop()
    server.stop()
    assert not _alive(pid)


def test_does_not_touch_the_shared_pickle(stripe_server: str) -> None:
    before = (
        Path("/tmp/localstripe.pickle").stat().st_mtime_ns
        if Path("/tmp/localstripe.pickle").exists()
        else None
    )
    reset_sandbox(stripe_server)
    seed(stripe_server, "healthy_single")
    after = (
        Path("/tmp/localstripe.pickle").stat().st_mtime_ns
        if Path("/tmp/localstripe.pickle").exists()
        else None
    )
    assert before == after


def test_two_instances_are_isolated(stripe_server: str) -> None:
    reset_sandbox(stripe_server)
    seed(stripe_server, "healthy_single")
    with StripeServer() as other:
        assert sandbox_request(other.base_url, "GET", "/v1/customers")["data"] == []
    assert len(sandbox_request(stripe_server, "GET", "/v1/customers")["data"]) == 1


def test_reset_empties_and_seeding_is_deterministic(stripe_server: str) -> None:
    reset_sandbox(stripe_server)
    first = seed(stripe_server, "duplicate_subscriptions")
    reset_sandbox(stripe_server)
    assert sandbox_request(stripe_server, "GET", "/v1/customers")["data"] == []
    second = seed(stripe_server, "duplicate_subscriptions")
    assert first == second


@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_every_scenario_seeds(stripe_server: str, name: str) -> None:
    reset_sandbox(stripe_server)
    seeded = seed(stripe_server, name)
    assert seeded.customers and seeded.subscriptions
    assert seeded.ticket is not None
    ticket = seeded.ticket.to_ticket()
    assert ticket.has_identifier


def test_clear_error_when_localstripe_is_missing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(stripe_server, "localstripe_installed", lambda: False)
    with pytest.raises(BadInput, match="billingops\\[sandbox\\]"):
        StripeServer().start()


def test_unknown_scenario_is_a_clear_error(stripe_server: str) -> None:
    with pytest.raises(ValueError, match="unknown scenario"):
        seed(stripe_server, "nope")


def test_form_encoding_matches_stripe() -> None:
    assert stripe_server.encode_form(
        {"items": [{"plan": "p", "quantity": 2}], "metadata": {"a": "b"}, "x": None, "t": True}
    ) == [("items[0][plan]", "p"), ("items[0][quantity]", "2"), ("metadata[a]", "b"), ("t", "true")]
