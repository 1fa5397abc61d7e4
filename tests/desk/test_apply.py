"""Label-gated execution, asserted on Stripe state read back from the sandbox."""

from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from billingops.core.markers import decode_state
from billingops.errors import OperationalError
from billingops.models.decision import StepKind
from tests.plugins.desk import ADMIN, MAINTAINER, TRIAGER, World


def triaged(world: World, scenario: str = "duplicate_subscriptions") -> tuple[int, Any]:
    number, _seeded = world.file(scenario)
    result = world.triage(number)
    assert result.plan is not None
    return number, result.plan


def refunds_of(world: World, charge_id: str) -> list[Any]:
    return world.stripe.find_refunds_for(charge_id)  # type: ignore[no-any-return]


def sub_status(world: World, sub_id: str) -> str:
    state = world.stripe.read_state(
        [s.customer_id for s in world.stripe.read_state(world.customer_ids).subscriptions]
    )
    return next(s.status for s in state.subscriptions if s.id == sub_id)


def step_of(plan: Any, kind: StepKind) -> Any:
    return next(s for s in plan.steps if s.kind is kind)


def state_of(world: World, number: int) -> Any:
    [comment] = world.bot_comments(number)
    return decode_state(comment)


def test_approved_refund_and_cancel_execute_once(world: World) -> None:
    number, plan = triaged(world)
    refund = step_of(plan, StepKind.refund)
    cancel = step_of(plan, StepKind.cancel_subscription)
    world.label(number, "approve-cancel", actor=MAINTAINER)
    world.label(number, "approve-refund", actor=ADMIN)
    result = world.apply(number)
    assert result.action == "apply"
    assert {(e.kind, e.status) for e in result.executed} == {
        (StepKind.refund, "done"),
        (StepKind.cancel_subscription, "done"),
    }
    [r] = refunds_of(world, refund.target)
    assert r.amount == refund.amount
    assert r.metadata["billingops_issue"] == f"acme/support#{number}"
    # Labels: approvals gone, done on.
    labels = world.fake.labels_of(number)
    assert "billing:done" in labels
    assert "approve-refund" not in labels and "approve-cancel" not in labels
    recorded = state_of(world, number)
    assert {e.stripe_id for e in recorded.executed} == {r.id, cancel.target}
    # The result comment: Stripe ids, realised impact, undo notes, follow-up.
    [comment] = world.bot_comments(number)
    assert "ACTION (taken)" in comment
    assert r.id in comment
    assert "realised: refunds $20.00" in comment
    assert "a refund cannot be undone" in comment
    assert "cannot be resumed" in comment
    assert "FOLLOW-UP" in comment

    # Redelivered event, re-applied label, second run: nothing moves again, and the
    # record of what happened is not rewritten (no comment edit).
    edits = world.fake.count("PATCH", "/repos/acme/support/issues/comments/*")
    for _ in range(3):
        world.label(number, "approve-refund", actor=ADMIN)
        again = world.apply(number)
        assert all(e.status == "already_done" for e in again.executed), again.executed
    assert len(refunds_of(world, refund.target)) == 1
    assert world.fake.count("PATCH", "/repos/acme/support/issues/comments/*") == edits
    assert {e.status for e in state_of(world, number).executed} == {"done"}


def test_cancel_then_refund_later_is_not_drift(world: World) -> None:
    number, _plan = triaged(world)
    world.label(number, "approve-cancel", actor=MAINTAINER)
    first = world.apply(number)
    assert [e.status for e in first.executed] == ["done"]
    world.label(number, "approve-refund", actor=MAINTAINER)
    second = world.apply(number)
    assert second.action == "apply", second.reason
    assert [(e.kind, e.status) for e in second.executed] == [(StepKind.refund, "done")]


def test_triage_role_is_refused_and_label_removed(world: World) -> None:
    number, plan = triaged(world)
    world.label(number, "approve-refund", actor=TRIAGER)
    result = world.apply(number)
    assert result.action == "refused"
    assert "triage" in result.reason
    assert result.executed == []
    assert refunds_of(world, step_of(plan, StepKind.refund).target) == []
    assert "approve-refund" not in world.fake.labels_of(number)
    assert any("refused" in c for c in world.fake.comments_of(number))


def test_non_collaborator_is_refused(world: World) -> None:
    number, plan = triaged(world)
    world.label(number, "approve-refund", actor="stranger")
    assert world.apply(number).action == "refused"
    assert refunds_of(world, step_of(plan, StepKind.refund).target) == []


def test_label_before_any_plan_is_refused(world: World) -> None:
    number, _ = world.file("duplicate_subscriptions")
    world.label(number, "approve-refund", actor=ADMIN)
    result = world.apply(number)
    assert result.action == "refused"
    assert "no plan" in result.reason
    assert "approve-refund" not in world.fake.labels_of(number)


def test_label_that_came_with_the_issue_approves_nothing(world: World) -> None:
    # The label predates the plan: the approver cannot have seen what they approved.
    number, _seeded = world.file("duplicate_subscriptions", labels=("billing", "approve-refund"))
    world.triage(number)
    result = world.apply(number)
    assert result.action == "refused"
    assert "before the current plan" in result.reason


def test_drift_executes_nothing_and_shows_the_new_plan(world: World) -> None:
    number, plan = triaged(world)
    refund = step_of(plan, StepKind.refund)
    # Someone refunds part of the charge by hand between triage and approval.
    world.stripe.refund(charge_id=refund.target, amount=500, idempotency_key="by-hand", metadata={})
    world.label(number, "approve-refund", actor=ADMIN)
    result = world.apply(number)
    assert result.action == "refused"
    assert "drift" in result.reason
    assert len(refunds_of(world, refund.target)) == 1  # only the manual one
    assert "approve-refund" not in world.fake.labels_of(number)
    new = state_of(world, number)
    assert new.plan_hash != plan.hash
    # Re-approving the new plan executes it, refunding only what is left.
    world.label(number, "approve-refund", actor=ADMIN)
    again = world.apply(number)
    assert again.action == "apply", again.reason
    amounts = sorted(r.amount for r in refunds_of(world, refund.target))
    assert amounts == [500, refund.amount - 500]


def test_no_step_for_the_label_is_refused(world: World) -> None:
    number, _plan = triaged(world, "past_due")  # failed payment: no refund, no cancel
    world.label(number, "approve-refund", actor=ADMIN)
    result = world.apply(number)
    assert result.action == "refused"
    assert "no step" in result.reason


def test_dry_run_shows_what_would_be_done_and_writes_nothing(world: World) -> None:
    number, plan = triaged(world)
    world.label(number, "approve-refund", actor=ADMIN)
    result = world.apply(number, dry_run=True)
    assert [e.status for e in result.executed] == ["would_do"]
    assert refunds_of(world, step_of(plan, StepKind.refund).target) == []
    assert "approve-refund" in world.fake.labels_of(number)


def test_concurrent_runs_refund_once(world: World) -> None:
    number, plan = triaged(world)
    world.label(number, "approve-refund", actor=ADMIN)
    desks = [world.desk() for _ in range(4)]
    with ThreadPoolExecutor(4) as pool:
        results = list(pool.map(lambda d: d.apply(number), desks))
    assert sum(1 for r in results for e in r.executed if e.status == "done") >= 1
    assert len(refunds_of(world, step_of(plan, StepKind.refund).target)) == 1


def test_second_approver_above_the_threshold(world: World) -> None:
    from billingops.config import Config, RefundPolicy

    world.config = Config(refund=RefundPolicy(second_approver_above=100))
    number, plan = triaged(world)
    refund = step_of(plan, StepKind.refund)
    assert refund.amount > 100
    world.label(number, "approve-refund", actor=ADMIN)
    first = world.apply(number)
    assert first.action == "refused"
    assert refunds_of(world, refund.target) == []
    assert "approve-refund" not in world.fake.labels_of(number)
    world.label(number, "approve-refund", actor=ADMIN)  # same person again
    assert world.apply(number).action == "refused"
    world.label(number, "approve-refund", actor=MAINTAINER)
    done = world.apply(number)
    assert done.action == "apply", done.reason
    assert len(refunds_of(world, refund.target)) == 1


def test_stripe_failure_half_way_then_rerun_completes(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    number, plan = triaged(world)
    world.label(number, "approve-cancel", actor=ADMIN)
    world.label(number, "approve-refund", actor=ADMIN)
    real_refund = world.stripe.refund

    def down(**kw: Any) -> Any:
        raise OperationalError("Stripe is down (503) after 2 retries")

    monkeypatch.setattr(world.stripe, "refund", down)
    with pytest.raises(OperationalError):
        world.apply(number)
    recorded = state_of(world, number)
    assert {(e.kind, e.status) for e in recorded.executed} == {
        (StepKind.cancel_subscription, "done"),
        (StepKind.refund, "failed"),
    }
    monkeypatch.setattr(world.stripe, "refund", real_refund)
    result = world.apply(number)
    assert result.action == "apply", result.reason
    # The cancel finished in the first run (its label is gone); only the refund is left.
    assert [(e.kind, e.status) for e in result.executed] == [(StepKind.refund, "done")]
    assert {(e.kind, e.status) for e in state_of(world, number).executed} == {
        (StepKind.cancel_subscription, "done"),
        (StepKind.refund, "done"),
    }
    assert "billing:done" in world.fake.labels_of(number)
    assert len(refunds_of(world, step_of(plan, StepKind.refund).target)) == 1


def test_drift_after_a_cancel_keeps_the_record_of_what_was_done(world: World) -> None:
    number, plan = triaged(world)
    world.label(number, "approve-cancel", actor=MAINTAINER)
    world.apply(number)
    refund = step_of(plan, StepKind.refund)
    world.stripe.refund(charge_id=refund.target, amount=300, idempotency_key="hand", metadata={})
    world.label(number, "approve-refund", actor=MAINTAINER)
    assert world.apply(number).action == "refused"  # drift
    recorded = state_of(world, number)
    assert [(e.kind, e.status) for e in recorded.executed] == [
        (StepKind.cancel_subscription, "done")
    ]
    assert "Done so far" in world.bot_comments(number)[0]


def test_the_apply_writes_in_the_number_of_the_gap_its_triage_filed(world: World) -> None:
    """A triage files a new gap in the round that writes its comment, naming it by its
    label (SPEC §8); the apply that follows (often the ticket's only other run) reads the
    gap listing with its thread and writes the number in, with no request of its own."""
    number, _ = triaged(world)
    [comment] = world.bot_comments(number)
    assert "the issue labeled [`gap:no_duplicate_guard`](" in comment
    [gap] = [n for n in world.fake.numbers() if "gap:no_duplicate_guard" in world.fake.labels_of(n)]
    world.label(number, "approve-cancel", actor=MAINTAINER)
    world.fake.reset_requests()
    result = world.apply(number)
    assert [(g.key, g.issue) for g in result.gaps] == [("no_duplicate_guard", gap)]
    assert world.fake.count("GET", "/repos/acme/support/issues") == 0  # no listing of its own
    [comment] = world.bot_comments(number)
    assert f"→ #{gap}" in comment and "the issue labeled" not in comment


def test_a_re_triage_after_execution_keeps_the_realised_revenue_impact(world: World) -> None:
    """After the cancel ran, Stripe shows the subscription canceled: what it brought per
    month is still what the cancel took away (a re-triage once wrote "MRR change $0.00")."""
    number, _ = triaged(world)
    world.label(number, "approve-cancel", actor=MAINTAINER)
    world.label(number, "approve-refund", actor=ADMIN)
    world.apply(number)
    [applied] = world.bot_comments(number)
    done = next(ln for ln in applied.splitlines() if ln.startswith("**Done so far**"))
    assert "MRR change -$20.00 per month" in done
    world.triage(number)  # an edit of the ticket, a reopen
    [again] = world.bot_comments(number)
    assert next(ln for ln in again.splitlines() if ln.startswith("**Done so far**")) == done
