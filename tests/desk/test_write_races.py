"""A Stripe write that loses a race (issue 15): Stripe's 400 is injected at the HTTP layer
in front of localstripe; the step is recorded as failed, with Stripe's reason, and the
rest of the approved plan still runs (exit 0: nothing is down)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from billingops._billing.stripe_gateway import StripeGateway
from billingops.core.markers import decode_state
from billingops.models.decision import StepKind
from billingops.sandbox.fault_proxy import FaultProxy
from billingops.sandbox.scenarios import Seeder
from tests.plugins.desk import ADMIN, MAINTAINER, World


def approve(world: World, number: int, label: str, actor: str) -> None:
    """A person reads the plan, then applies the label. Where the fake GitHub has a clock
    to advance (the trust-boundary work), `World.label` does both; otherwise at once."""
    label_after_reading = getattr(world, "label", None)
    if label_after_reading is not None:
        label_after_reading(number, label, actor=actor)
    else:
        world.fake.label_issue(number, label, actor=actor)


@pytest.fixture
def proxied(world: World) -> Iterator[tuple[World, FaultProxy]]:
    with FaultProxy(world.sandbox.base_url) as proxy:
        world.stripe = StripeGateway(
            world.sandbox.api_key, proxy.url, compat=True, max_network_retries=0,
            clock=lambda: float(world.sandbox.now),
        )  # fmt: skip
        yield world, proxy


@pytest.mark.parametrize("code", ["charge_disputed", "charge_already_refunded"])
def test_a_refund_that_loses_a_race_is_recorded_failed_with_stripes_reason(
    proxied: tuple[World, FaultProxy], code: str
) -> None:
    world, proxy = proxied
    number, _ = world.file("duplicate_subscriptions")
    plan = world.triage(number).plan
    assert plan is not None
    refund = next(s for s in plan.steps if s.kind is StepKind.refund)
    approve(world, number, "approve-cancel", MAINTAINER)
    approve(world, number, "approve-refund", ADMIN)
    proxy.arm(code, at=1, only="POST /v1/refunds")
    result = world.apply(number)  # no exception: the run goes on
    assert result.action == "apply", result.reason
    by_kind: dict[StepKind, Any] = {e.kind: e for e in result.executed}
    assert by_kind[StepKind.refund].status == "failed"
    assert by_kind[StepKind.refund].reason.startswith(f"Stripe refused to refund {refund.target}")
    assert by_kind[StepKind.cancel_subscription].status == "done"
    # Recorded on the issue, with Stripe's reason: the exact record of what was not done.
    [comment] = world.bot_comments(number)
    recorded = {e.kind: e for e in decode_state(comment).executed}
    assert recorded[StepKind.refund].status == "failed"
    assert recorded[StepKind.refund].reason == by_kind[StepKind.refund].reason
    assert recorded[StepKind.cancel_subscription].status == "done"
    assert world.stripe.find_refunds_for(refund.target) == []
    assert [s.fault for s in proxy.injected] == [code]


@pytest.mark.parametrize(
    ("status", "outcome", "reason"),
    [
        ("failed", "failed", "is failed at Stripe: lost_or_stolen_card"),
        ("pending", "already_done", "is pending at Stripe (re-checked next run)"),
    ],
)
def test_a_refund_recorded_done_is_rechecked_on_the_next_run(
    world: World, status: str, outcome: str, reason: str
) -> None:
    """Stripe can fail a refund after creating it (the card was closed): the next run
    reads its status and says so, and moves no more money by itself."""
    number, _ = world.file("duplicate_subscriptions")
    plan = world.triage(number).plan
    assert plan is not None
    step = next(s for s in plan.steps if s.kind is StepKind.refund)
    approve(world, number, "approve-refund", ADMIN)
    first = world.apply(number)
    [done] = [e for e in first.executed if e.kind is StepKind.refund]
    assert (done.status, done.reason) == ("done", None)
    fields = {"status": status}
    if status == "failed":
        fields["failure_reason"] = "lost_or_stolen_card"
    # The sandbox's patch route: localstripe has no API to fail a refund.
    assert Seeder(world.sandbox.base_url).patch("refund", done.stripe_id or "", **fields)
    approve(world, number, "approve-refund", ADMIN)
    again = world.apply(number)
    assert again.action == "apply", again.reason
    [rechecked] = [e for e in again.executed if e.kind is StepKind.refund]
    assert rechecked.status == outcome
    assert rechecked.reason == f"refund {done.stripe_id} {reason}"
    assert len(world.stripe.find_refunds_for(step.target)) == 1  # nothing refunded again
