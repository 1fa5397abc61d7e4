"""A refund is recorded with Stripe's real status and re-checked on later runs (issue 15)."""

from __future__ import annotations

import pytest

from billingops.core import effects
from billingops.models.billing import BillingState, Charge, Refund
from billingops.models.decision import Step, StepKind

REF = "acme/support#7"
STEP = Step(kind=StepKind.refund, target="ch_1", amount=1000, currency="usd",
            needs="refund")  # fmt: skip
MINE = effects.step_metadata(REF, STEP)


def _refund(status: str, rid: str = "re_1", created: int = 10, **kw: object) -> Refund:
    return Refund(id=rid, charge_id="ch_1", amount=1000, currency="usd", status=status,
                  created=created, metadata=MINE, **kw)  # type: ignore[arg-type]  # fmt: skip


def _state(*refunds: Refund) -> BillingState:
    settled = sum(r.amount for r in refunds if r.status not in effects.REFUND_UNDONE)
    charge = Charge(id="ch_1", amount=1000, amount_refunded=settled, refunds=list(refunds))
    return BillingState(charges=[charge])


@pytest.mark.parametrize(
    ("status", "outcome", "note"),
    [
        ("succeeded", "done", None),
        ("pending", "done", "refund re_1 is pending at Stripe (re-checked next run)"),
        (
            "requires_action",
            "done",
            "refund re_1 is requires_action at Stripe (re-checked next run)",
        ),
        ("failed", "failed", "refund re_1 is failed at Stripe: expired_or_canceled_card"),
        ("canceled", "failed", "refund re_1 is canceled at Stripe"),
    ],
)
def test_a_new_refund_is_recorded_with_its_real_status(
    status: str, outcome: str, note: str | None
) -> None:
    reason = "expired_or_canceled_card" if status == "failed" else None
    assert effects.refund_outcome(_refund(status, failure_reason=reason)) == (outcome, note)


def test_a_refund_that_failed_after_it_was_recorded_done_shows_failed() -> None:
    state = _state(_refund("failed", failure_reason="lost_or_stolen_card"))
    assert effects.recheck_refund(state, REF, STEP) == (
        "failed", "refund re_1 is failed at Stripe: lost_or_stolen_card", "re_1",
    )  # fmt: skip
    # ... and it is not "ours, done" for the exactly-once check, nor subtracted as our effect.
    assert effects.find_own_refund(state, REF, STEP) is None
    assert effects.without_own_effects(state, REF).charges[0].refunds == state.charges[0].refunds


def test_a_pending_refund_stays_done_with_a_note_and_a_settled_one_is_plain() -> None:
    assert effects.recheck_refund(_state(_refund("pending")), REF, STEP) == (
        "already_done", "refund re_1 is pending at Stripe (re-checked next run)", "re_1",
    )  # fmt: skip
    assert effects.recheck_refund(_state(_refund("succeeded")), REF, STEP) == (
        "already_done", None, "re_1",
    )  # fmt: skip


def test_a_refund_redone_after_a_failure_is_the_one_that_counts() -> None:
    state = _state(_refund("failed", "re_old", 5), _refund("succeeded", "re_new", 9))
    assert effects.recheck_refund(state, REF, STEP)[::2] == ("already_done", "re_new")
