"""What a comment write keeps of the record another run wrote (SPEC §5b): pure."""

from __future__ import annotations

from billingops.core.record import merge_executed, written
from billingops.models.billing import Refund
from billingops.models.decision import Executed, Step, StepKind
from billingops.models.outcome import StripeWrite

CANCEL = Executed(kind=StepKind.cancel_subscription, target="sub_1", status="done")
REFUND = Executed(kind=StepKind.refund, target="ch_1", status="done", stripe_id="re_1")


def test_a_write_from_a_stale_read_keeps_the_steps_another_run_recorded() -> None:
    assert merge_executed([], [CANCEL, REFUND]) == [CANCEL, REFUND]


def test_a_step_done_on_record_is_not_turned_back_into_a_failure() -> None:
    failed = REFUND.model_copy(update={"status": "failed", "reason": "Stripe down"})
    assert merge_executed([failed], [REFUND]) == [REFUND]
    # ... and a step this run finished replaces a failure on record.
    assert merge_executed([REFUND], [failed]) == [REFUND]


def test_the_first_record_of_a_finished_step_stays_as_it_was_written() -> None:
    rerun = REFUND.model_copy(update={"status": "already_done"})
    assert merge_executed([CANCEL, rerun], [REFUND]) == [CANCEL, REFUND]


def test_a_refund_stripe_will_not_pay_out_is_recorded_failed_with_its_reason() -> None:
    """What Stripe's answer to a write means for the record (issue 15)."""
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
