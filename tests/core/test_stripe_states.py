"""Subscription states as Stripe has them (SPEC §5c), in the pure core: `paused` is neither
live nor canceled (never treated as gone or ended); a subscription managed by a schedule
cannot be set to cancel at period end (Stripe refuses), so that cancel goes to a human."""

from __future__ import annotations

from billingops.core.classify import classify
from billingops.core.effects import without_own_effects
from billingops.core.plan import ends_last_subscription, guardrail_violations, make_plan
from billingops.core.report import Listed, ReportBuilder
from billingops.models.decision import Approval, Case, Step, StepKind
from billingops.models.ticket import RequestKind
from tests.core.builders import DAY, NOW, config, paid_sub, resolved, state, sub, ticket

CANCEL = ticket("please cancel my subscription", request=RequestKind.cancel)


def test_a_paused_subscription_is_neither_live_nor_ended() -> None:
    paused = sub(status="paused")
    assert not paused.live and not paused.ended
    assert sub(status="canceled").ended and sub(status="incomplete_expired").ended


def test_a_customer_with_a_paused_subscription_who_asks_to_cancel_gets_the_cancel() -> None:
    s = state(paid_sub(1, status="paused"))
    case = classify(CANCEL, resolved("cus_1"), s, config())
    assert case.case is Case.missing_self_serve
    p = make_plan(case.case, CANCEL, resolved("cus_1"), s, config())
    [cancel] = [st for st in p.steps if st.kind is StepKind.cancel_subscription]
    assert cancel.target == "sub_1" and cancel.at_period_end is True


def test_a_cancel_of_a_paused_subscription_is_not_a_cancel_of_an_ended_one() -> None:
    s = state(paid_sub(1, status="paused"))
    step = Step(kind=StepKind.cancel_subscription, target="sub_1", at_period_end=True,
                needs=Approval.cancel)  # fmt: skip
    assert guardrail_violations(Case.missing_self_serve, [step], s) == []


def test_a_paused_subscription_counts_as_the_customers_last_one() -> None:
    """An unverified requester may not cancel it (SPEC §5a): it is still theirs."""
    s = state(paid_sub(1, status="paused"))
    step = Step(kind=StepKind.cancel_subscription, target="sub_1", at_period_end=True,
                needs=Approval.cancel)  # fmt: skip
    assert ends_last_subscription([step], s)


def test_undoing_our_mark_on_a_paused_subscription_keeps_it_paused() -> None:
    marked = sub(status="paused", metadata={"billingops_issue": "acme/support#42",
                                            "billingops_step": "x"})  # fmt: skip
    [undone] = without_own_effects(state(marked), "acme/support#42").subscriptions
    assert undone.status == "paused"


def test_a_paused_monthly_subscription_set_to_cancel_is_a_pending_end_not_an_ended_one() -> None:
    paused = sub("sub_m", status="paused", cancel_at=NOW + 5 * DAY, started=NOW - 90 * DAY)
    yearly = sub("sub_y", interval="year", amount=20000, started=NOW - DAY)
    r = ReportBuilder(as_of=NOW).add_all([Listed(sub=paused), Listed(sub=yearly)]).build()
    assert r.conversions_pending == 1 and r.conversions == 1  # set to end, not ended


def test_a_scheduled_subscription_is_not_set_to_cancel_at_period_end() -> None:
    s = state(paid_sub(1, schedule_id="sub_sched_1"))
    p = make_plan(Case.missing_self_serve, CANCEL, resolved("cus_1"), s, config())
    assert StepKind.cancel_subscription not in [st.kind for st in p.steps]
    [human] = [st for st in p.steps if st.kind is StepKind.none]
    assert "sub_sched_1" in human.why and "schedule" in human.why


def test_a_guardrail_refuses_cancel_at_period_end_on_a_scheduled_subscription() -> None:
    s = state(paid_sub(1, schedule_id="sub_sched_1"))
    step = Step(kind=StepKind.cancel_subscription, target="sub_1", at_period_end=True,
                needs=Approval.cancel)  # fmt: skip
    assert guardrail_violations(Case.missing_self_serve, [step], s) == [
        "cancel at period end of sub_1, which its schedule sub_sched_1 manages"
    ]


def test_a_paused_subscription_beside_an_active_one_is_not_a_duplicate_to_cancel() -> None:
    """Paused bills nothing: it is not a second live subscription, so no plan cancels the
    active one as its duplicate, nor refunds anything for it."""
    from billingops.core.anomalies import live_groups

    s = state(paid_sub(1, status="paused", started=NOW - 2 * DAY), paid_sub(2, started=NOW - DAY))
    assert live_groups(s) == []
    p = make_plan(Case.duplicate_subscription, ticket("charged twice"), resolved("cus_1"), s,
                  config())  # fmt: skip
    assert all(st.target != "sub_2" for st in p.steps if st.kind is StepKind.cancel_subscription)
