"""What a comment write keeps of the record another run wrote (SPEC §5b): pure."""

from __future__ import annotations

from billingops.core.record import merge_executed
from billingops.models.decision import Executed, StepKind

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
