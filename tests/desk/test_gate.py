"""The read-only job's half of an apply (`desk/gate.py:gate_apply`): it reads the issue and
Stripe once, decides once, then either leaves approved Stripe steps to the apply job
(`pending`, nothing written) or performs the GitHub side of the outcome itself, with no
Stripe write possible (issue 22)."""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest

from billingops._billing.read_only import ReadOnlyBilling, writes_stripe
from billingops.desk.gate import gate_apply
from billingops.desk.handoff import HandoffDesk
from billingops.desk.public import PublicDesk
from billingops.errors import BillingopsError, OperationalError
from tests.desk.test_public import PRIVATE, PUBLIC, _handoffs, _label
from tests.desk.test_public import _config as public_config
from tests.desk.test_public import desk_world as desk_world
from tests.plugins.desk import ADMIN, MAINTAINER, TRIAGER, World
from tests.plugins.github import gateway_for


class Counting:
    """The billing gateway, counting its calls (each read is one or more Stripe requests)."""

    def __init__(self, inner: Any) -> None:
        self._inner = inner
        self.calls: Counter[str] = Counter()

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self._inner, name)
        if not callable(attr):
            return attr

        def counted(*args: Any, **kwargs: Any) -> Any:
            self.calls[name] += 1
            return attr(*args, **kwargs)

        return counted


def _reads(world: World) -> Counter[str]:
    """GitHub reads by what they read (the GraphQL thread read counts as one)."""
    seen: Counter[str] = Counter()
    for r in world.fake.requests:
        if r.method == "GET" or r.path.endswith("/graphql"):
            seen[f"{r.method} {r.path}"] += 1
    return seen


def _gate(world: World, number: int, **kw: Any) -> tuple[Any, Counting]:
    desk = world.desk()
    counting = Counting(desk.billing)
    desk.billing = counting
    world.fake.reset_requests()
    return gate_apply(desk, number, **kw), counting


def test_a_refusal_in_the_read_only_job_reads_everything_once(world: World) -> None:
    number, _ = world.file("duplicate_subscriptions")
    world.triage(number)
    world.label(number, "approve-refund", actor=TRIAGER)  # triage role: refused
    gate, billing = _gate(world, number)
    assert (gate.result.action, gate.pending) == ("refused", False)
    assert "approve-refund" not in world.fake.labels_of(number)
    reads = _reads(world)
    assert reads and max(reads.values()) == 1, reads
    assert billing.calls == Counter(lookup=1, read_state=1)


def test_pending_steps_are_read_once_and_nothing_is_written(world: World) -> None:
    number, seeded = world.file("duplicate_subscriptions")
    world.triage(number)
    world.label(number, "approve-cancel", actor=MAINTAINER)
    world.label(number, "approve-refund", actor=TRIAGER)  # refused, by the apply job
    gate, billing = _gate(world, number)
    assert gate.pending
    assert gate.result.reason.startswith("pending: ")
    assert world.fake.writes() == 0  # not even the refusal: the apply job writes it all
    reads = _reads(world)
    assert reads and max(reads.values()) == 1, reads
    assert billing.calls == Counter(lookup=1, read_state=1)
    assert {"approve-cancel", "approve-refund"} <= set(world.fake.labels_of(number))
    assert [r for ch in seeded.charges for r in world.stripe.find_refunds_for(ch)] == []
    done = world.apply(number)
    assert [e.status for e in done.executed] == ["done"]
    assert "approve-refund" not in world.fake.labels_of(number)


def test_label_clean_up_in_the_read_only_job_reads_once(world: World) -> None:
    """Every approved step already done (e.g. the label put back): the read-only job
    removes the label itself and the apply job is not asked."""
    number, _ = world.file("duplicate_subscriptions")
    world.triage(number)
    world.label(number, "approve-refund", actor=ADMIN)
    assert [e.status for e in world.apply(number).executed] == ["done"]
    world.label(number, "approve-refund", actor=ADMIN)
    gate, billing = _gate(world, number)
    assert not gate.pending
    assert [e.status for e in gate.result.executed] == ["already_done"]
    assert "approve-refund" not in world.fake.labels_of(number)
    reads = _reads(world)
    assert reads and max(reads.values()) == 1, reads
    assert billing.calls == Counter(lookup=1, read_state=1)


def test_no_stripe_write_and_no_report_back_from_the_read_only_job_on_a_handoff(
    desk_world: World,
) -> None:
    """The private desk (SPEC §5b): the cancel is done, the refund is approved now. The
    read-only job holds the whole outcome for the apply job: no refund, no record, and no
    outcome posted to the public ticket (the apply job reports back once it is done)."""
    world = desk_world
    number, seeded = world.file("duplicate_subscriptions")
    PublicDesk(world.stripe, gateway_for(world.fake), public_config(), PUBLIC).triage(
        world.payload(number)
    )
    [handoff] = _handoffs(world, number)
    desk = HandoffDesk(
        world.stripe, gateway_for(world.fake).for_repository(PRIVATE), public_config(), PRIVATE
    )
    _label(world, handoff, "approve-cancel", ADMIN)
    # The apply job cancels, but its report to the public ticket is lost (a 502).
    world.fake.fail_next("POST", f"/repos/{PUBLIC}/issues/{number}/comments", 502)
    with pytest.raises(BillingopsError):
        desk.apply(handoff)
    assert world.subscription(seeded.subscriptions[-1])["status"] == "canceled"
    _label(world, handoff, "approve-cancel", ADMIN)  # put back
    world.fake.label_issue(handoff, "approve-refund", actor=MAINTAINER, repo=PRIVATE)
    world.fake.reset_requests()
    gate = gate_apply(desk, handoff)
    assert gate.pending
    assert sorted(e.status for e in gate.result.executed) == ["already_done", "would_do"]
    assert world.fake.writes() == 0
    assert [r for ch in seeded.charges for r in world.stripe.find_refunds_for(ch)] == []
    done = desk.apply(handoff)  # the apply job, which reports back
    assert sorted(e.status for e in done.executed) == ["already_done", "done"]
    assert [b for b in world.fake.comments_of(number) if "public-outcome" in b]
    assert len([r for ch in seeded.charges for r in world.stripe.find_refunds_for(ch)]) == 1


def test_the_read_only_port_decides_as_a_run_without_the_write_key(world: World) -> None:
    guarded = ReadOnlyBilling(world.stripe)
    assert writes_stripe(world.stripe) and not writes_stripe(guarded)
    with pytest.raises(OperationalError, match="read-only Stripe key"):
        guarded.refund(charge_id="ch_1", amount=1, idempotency_key="k", metadata={})
