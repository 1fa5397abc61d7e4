"""The record of executed steps: two reads of it merged (SPEC §5b), Stripe's answer read."""

from __future__ import annotations

from billingops.core.record import merge, written
from billingops.models.billing import Refund
from billingops.models.decision import Executed, Step, StepKind
from billingops.models.outcome import StripeWrite


def rec(kind: StepKind, target: str, status: str, sid: str | None = None) -> Executed:
    return Executed(kind=kind, target=target, status=status, stripe_id=sid)  # type: ignore[arg-type]


def test_a_merge_keeps_every_step_either_read_holds_and_never_unfinishes_one() -> None:
    cancel_done = rec(StepKind.cancel_subscription, "sub_2", "done", "sub_2")
    refund_failed = rec(StepKind.refund, "ch_2", "failed")
    refund_done = rec(StepKind.refund, "ch_2", "done", "re_1")
    other = rec(StepKind.refund, "ch_3", "done", "re_2")
    assert merge([cancel_done], [refund_done]) == [cancel_done, refund_done]
    assert merge([refund_failed], [refund_done]) == [refund_done]  # the other run did it
    assert merge([refund_done], [refund_failed]) == [refund_done]
    assert merge([cancel_done, other], []) == [cancel_done, other]


def test_a_refund_stripe_will_not_pay_out_is_recorded_failed_with_its_reason() -> None:
    step = Step(kind=StepKind.refund, target="ch_2", amount=2000, currency="usd")
    write = StripeWrite(step=step, idempotency_key="k")
    ok = Refund(id="re_1", charge_id="ch_2", amount=2000, currency="usd")
    bad = ok.model_copy(update={"status": "failed", "failure_reason": "lost_or_stolen_card"})
    assert written(write, ok) == Executed.of(step, "done", "re_1")
    failed = written(write, bad)
    assert (failed.status, failed.reason) == (
        "failed",
        "refund re_1 is failed at Stripe: lost_or_stolen_card",
    )
