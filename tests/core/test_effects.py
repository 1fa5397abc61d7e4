from billingops.core.effects import (
    ISSUE_KEY,
    PERIOD_END_KEY,
    PRIOR_STATUS_KEY,
    STEP_KEY,
    find_own_refund,
    idempotency_key,
    issue_ref,
    own_cancellation_done,
    without_own_effects,
)
from billingops.models.billing import BillingState, Charge, Refund, Subscription
from billingops.models.decision import Approval, Step, StepKind

REF = issue_ref("acme/support", 42)
REFUND = Step(
    kind=StepKind.refund, target="ch_1", amount=2000, currency="usd", needs=Approval.refund
)
CANCEL = Step(
    kind=StepKind.cancel_subscription, target="sub_2", at_period_end=False, needs=Approval.cancel
)


def mark(step: Step, ref: str = REF) -> dict[str, str]:
    return {ISSUE_KEY: ref, STEP_KEY: step.key}


def test_idempotency_key_is_deterministic_and_step_specific() -> None:
    a = idempotency_key(REF, "h1", REFUND)
    assert a == idempotency_key(REF, "h1", REFUND)
    assert a != idempotency_key(REF, "h1", CANCEL)
    assert a != idempotency_key(issue_ref("acme/support", 43), "h1", REFUND)
    assert a != idempotency_key(REF, "h2", REFUND)
    assert len(a) <= 255  # Stripe's limit


def test_own_refund_is_found_by_metadata_only() -> None:
    theirs = Refund(id="re_x", charge_id="ch_1", amount=2000, currency="usd")
    other_issue = Refund(
        id="re_y",
        charge_id="ch_1",
        amount=2000,
        currency="usd",
        metadata=mark(REFUND, issue_ref("acme/support", 7)),
    )
    ours = Refund(id="re_z", charge_id="ch_1", amount=2000, currency="usd", metadata=mark(REFUND))
    charge = Charge(id="ch_1", amount=4000, amount_refunded=4000, refunds=[theirs, other_issue])
    assert find_own_refund(BillingState(charges=[charge]), REF, REFUND) is None
    charge = charge.model_copy(update={"refunds": [theirs, ours]})
    assert find_own_refund(BillingState(charges=[charge]), REF, REFUND) == "re_z"


def test_undo_restores_the_charge_before_our_refund_but_keeps_others() -> None:
    theirs = Refund(id="re_x", charge_id="ch_1", amount=500, currency="usd")
    ours = Refund(id="re_z", charge_id="ch_1", amount=1500, currency="usd", metadata=mark(REFUND))
    charge = Charge(
        id="ch_1", amount=2000, amount_refunded=2000, refunded=True, refunds=[theirs, ours]
    )
    before = without_own_effects(BillingState(charges=[charge]), REF).charges[0]
    assert before.amount_refunded == 500
    assert before.refunded is False
    assert [r.id for r in before.refunds] == ["re_x"]
    assert before.refundable == 1500


def test_undo_restores_a_subscription_we_canceled_now() -> None:
    sub = Subscription(
        id="sub_2",
        customer_id="cus_1",
        status="canceled",
        canceled_at=5,
        metadata={**mark(CANCEL), PRIOR_STATUS_KEY: "active", "seats": "team"},
    )
    state = BillingState(subscriptions=[sub])
    assert own_cancellation_done(state, REF, CANCEL)
    before = without_own_effects(state, REF).subscriptions[0]
    assert before.status == "active"
    assert before.canceled_at is None
    assert before.metadata == {"seats": "team"}


def test_undo_restores_a_cancel_at_period_end() -> None:
    step = CANCEL.model_copy(update={"at_period_end": True})
    sub = Subscription(
        id="sub_2",
        customer_id="cus_1",
        status="active",
        cancel_at_period_end=True,
        metadata={**mark(step), PERIOD_END_KEY: "true"},
    )
    state = BillingState(subscriptions=[sub])
    assert own_cancellation_done(state, REF, step)
    assert not without_own_effects(state, REF).subscriptions[0].cancel_at_period_end


def test_a_cancellation_by_someone_else_is_not_ours_and_not_undone() -> None:
    sub = Subscription(id="sub_2", customer_id="cus_1", status="canceled")
    state = BillingState(subscriptions=[sub])
    assert not own_cancellation_done(state, REF, CANCEL)
    assert without_own_effects(state, REF).subscriptions[0].status == "canceled"


def test_marked_but_not_yet_canceled_is_not_done() -> None:
    # A crash between the metadata mark and the cancel call: the next run must cancel.
    sub = Subscription(
        id="sub_2",
        customer_id="cus_1",
        status="active",
        metadata={**mark(CANCEL), PRIOR_STATUS_KEY: "active"},
    )
    assert not own_cancellation_done(BillingState(subscriptions=[sub]), REF, CANCEL)
