from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from billingops.core.classify import classify
from billingops.core.plan import guardrail_violations, make_plan, plan_hash, revenue_impact
from billingops.models.billing import BillingState
from billingops.models.decision import Approval, Case, Plan, Step, StepKind
from billingops.models.ticket import RequestKind, Ticket
from tests.core.builders import (
    DAY,
    MIN,
    NOW,
    charge,
    config,
    invoice,
    paid_sub,
    resolved,
    state,
    sub,
    ticket,
)


def plan(case: Case, s: BillingState, t: Ticket | None = None) -> Plan:
    return make_plan(case, t or ticket("charged twice"), resolved("cus_1"), s, config())


def kinds(p: Plan) -> list[StepKind]:
    return [s.kind for s in p.steps]


def dup(n: int = 2, **kw: Any) -> BillingState:
    return state(*(paid_sub(i, started=NOW - DAY + i * MIN, **kw) for i in range(1, n + 1)))


def refund_step(target: str, amount: int, currency: str = "usd") -> Step:
    return Step(
        kind=StepKind.refund, target=target, amount=amount, currency=currency, needs=Approval.refund
    )


def cancel_step(target: str, at_period_end: bool = False) -> Step:
    return Step(
        kind=StepKind.cancel_subscription,
        target=target,
        at_period_end=at_period_end,
        needs=Approval.cancel,
    )


# --- per case -------------------------------------------------------------------------------


def test_duplicate_plan_cancels_extras_now_and_refunds_only_theirs() -> None:
    p = plan(Case.duplicate_subscription, dup(3))
    assert kinds(p) == [
        StepKind.restore_self_serve,
        StepKind.cancel_subscription,
        StepKind.cancel_subscription,
        StepKind.refund,
        StepKind.refund,
    ]
    cancels = [s for s in p.steps if s.kind is StepKind.cancel_subscription]
    assert [s.target for s in cancels] == ["sub_2", "sub_3"]  # sub_1, the oldest, is kept
    assert all(s.at_period_end is False and s.needs is Approval.cancel for s in cancels)
    refunds = [s for s in p.steps if s.kind is StepKind.refund]
    assert [(s.target, s.amount, s.needs) for s in refunds] == [
        ("ch_2", 2000, Approval.refund),
        ("ch_3", 2000, Approval.refund),
    ]
    assert p.impact.refund_total == {"usd": 4000}
    assert p.impact.mrr_change == {"usd": -4000}


def test_duplicate_keeps_the_oldest_whatever_the_input_order() -> None:
    s = state(paid_sub(9, started=NOW - DAY), paid_sub(1, started=NOW - DAY + MIN))
    p = plan(Case.duplicate_subscription, s)
    assert [x.target for x in p.steps if x.kind is StepKind.cancel_subscription] == ["sub_1"]


def test_team_seats_moves_no_money() -> None:
    p = plan(Case.team_seats, dup(2, quantity=3))
    assert kinds(p) == [StepKind.none]
    assert p.impact.refund_total == {} and p.impact.mrr_change == {}


def test_failed_payment_restores_self_serve_and_never_refunds() -> None:
    s = state(sub("sub_1", status="past_due"), charge("ch_1"))
    p = plan(Case.failed_payment, s, ticket("my card failed, refund me"))
    assert kinds(p) == [StepKind.restore_self_serve]
    assert p.steps[0].target == "cus_1" and p.steps[0].needs is None


def test_missing_self_serve_without_cancel_request() -> None:
    p = plan(Case.missing_self_serve, state(paid_sub(1)), ticket("where are my invoices?"))
    assert kinds(p) == [StepKind.restore_self_serve]


def test_missing_self_serve_cancels_at_period_end_only_when_asked() -> None:
    t = ticket("please cancel", request=RequestKind.cancel)
    p = plan(Case.missing_self_serve, state(paid_sub(1)), t)
    assert kinds(p) == [StepKind.restore_self_serve, StepKind.cancel_subscription]
    assert p.steps[1].at_period_end is True and p.steps[1].needs is Approval.cancel
    assert p.impact.refund_total == {}


def test_missing_self_serve_cancel_with_several_subscriptions_asks_which() -> None:
    s = state(paid_sub(1), paid_sub(2, product="prod_other"))
    p = plan(Case.missing_self_serve, s, ticket("cancel", request=RequestKind.cancel))
    assert kinds(p) == [StepKind.restore_self_serve, StepKind.none]


def test_already_scheduled_cancel_is_not_repeated() -> None:
    s = state(paid_sub(1, cancel_at_period_end=True))
    p = plan(Case.missing_self_serve, s, ticket("cancel", request=RequestKind.cancel))
    assert kinds(p) == [StepKind.restore_self_serve]


def test_product_failure_refunds_the_latest_paid_charge() -> None:
    s = state(
        paid_sub(1, started=NOW - 40 * DAY),
        invoice("in_r", subscription="sub_1", charge="ch_r", created=NOW - 10 * DAY),
        charge("ch_r", invoice="in_r", created=NOW - 10 * DAY),
    )
    p = plan(Case.product_failure, s, ticket("it never worked"))
    assert [(x.kind, x.target, x.amount) for x in p.steps] == [(StepKind.refund, "ch_r", 2000)]
    assert p.steps[0].needs is Approval.refund


def test_product_failure_refunds_the_charges_after_cancel() -> None:
    s1, i1, c1 = paid_sub(1, canceled_at=NOW - 35 * DAY, started=NOW - 60 * DAY)
    late = [
        invoice("in_l", subscription="sub_1", charge="ch_l", created=NOW - 5 * DAY),
        charge("ch_l", invoice="in_l", created=NOW - 5 * DAY),
        charge("ch_other", created=NOW - DAY),  # later, but unrelated to the cancellation
    ]
    p = plan(Case.product_failure, state(s1, i1, c1, *late))
    assert [x.target for x in p.steps if x.kind is StepKind.refund] == ["ch_l"]


def test_product_failure_without_refundable_charge() -> None:
    p = plan(Case.product_failure, state(paid_sub(1, refunded=2000)), ticket("broken"))
    assert kinds(p) == [StepKind.none]


def test_needs_human_is_a_none_step() -> None:
    p = plan(Case.needs_human, dup(2))
    assert kinds(p) == [StepKind.none]
    assert p.impact == revenue_impact([], state())


def test_order_restore_then_cancel_then_refund() -> None:
    t = ticket("broken, cancel it", request=RequestKind.cancel)
    p = plan(Case.product_failure, state(paid_sub(1)), t)
    assert kinds(p) == [StepKind.cancel_subscription, StepKind.refund]
    p = plan(Case.duplicate_subscription, dup(2))
    order = [StepKind.restore_self_serve, StepKind.cancel_subscription, StepKind.refund]
    assert kinds(p) == order


# --- guardrails (one test each) -------------------------------------------------------------


def test_guardrail_refund_names_one_charge_and_at_most_its_remainder() -> None:
    s = dup(2, refunded=500)
    p = plan(Case.duplicate_subscription, s)
    refund = next(x for x in p.steps if x.kind is StepKind.refund)
    assert refund.target == "ch_2" and refund.amount == 1500  # what is left, not the charge
    too_much = [refund_step("ch_2", 1501)]
    assert guardrail_violations(Case.product_failure, too_much, s)
    twice = [refund_step("ch_2", 1000), refund_step("ch_2", 1000)]
    assert guardrail_violations(Case.product_failure, twice, s)
    assert guardrail_violations(Case.product_failure, [refund_step("ch_nope", 1)], s)
    assert guardrail_violations(Case.product_failure, [refund_step("ch_2", 0)], s)
    assert guardrail_violations(Case.product_failure, [refund_step("ch_2", 10, "eur")], s)


def test_guardrail_never_a_disputed_charge() -> None:
    s = state(paid_sub(1, started=NOW - DAY), paid_sub(2, started=NOW - DAY, disputed=True))
    p = plan(Case.duplicate_subscription, s)
    assert not any(x.kind is StepKind.refund for x in p.steps)
    assert guardrail_violations(Case.product_failure, [refund_step("ch_2", 2000)], s)
    p = plan(Case.product_failure, state(paid_sub(1, disputed=True)), ticket("broken"))
    assert kinds(p) == [StepKind.none]


def test_guardrail_never_an_already_refunded_charge() -> None:
    s = dup(2, refunded=2000)
    p = plan(Case.duplicate_subscription, s)
    assert not any(x.kind is StepKind.refund for x in p.steps)
    assert guardrail_violations(Case.product_failure, [refund_step("ch_2", 1)], s)


def test_guardrail_duplicate_never_cancels_every_live_subscription() -> None:
    s = dup(2)
    every = [cancel_step("sub_1"), cancel_step("sub_2")]
    problems = guardrail_violations(Case.duplicate_subscription, every, s)
    assert any("every" in p for p in problems)
    p = plan(Case.duplicate_subscription, s)
    live_after = {"sub_1", "sub_2"} - {x.target for x in p.steps}
    assert live_after == {"sub_1"}


def test_guardrail_annual_no_immediate_cancel_with_refund() -> None:
    s = dup(2, interval="year")
    p = plan(Case.duplicate_subscription, s)  # even if a caller forces the case
    assert kinds(p) == [StepKind.none]
    assert "annual" in p.steps[0].why
    t = ticket("cancel please", request=RequestKind.cancel)
    p = plan(Case.missing_self_serve, state(paid_sub(1, interval="year")), t)
    cancel = next(x for x in p.steps if x.kind is StepKind.cancel_subscription)
    assert cancel.at_period_end is True


def test_guardrail_team_and_prorated_no_immediate_cancel_with_refund() -> None:
    for shape in ({"quantity": 3}, {"item_count": 2}):
        s = dup(2, **shape)
        p = plan(Case.duplicate_subscription, s)
        assert kinds(p) == [StepKind.none], shape


def test_guardrail_steps_carry_their_approval() -> None:
    s = dup(2)
    no_label = [Step(kind=StepKind.refund, target="ch_2", amount=10, currency="usd")]
    assert guardrail_violations(Case.product_failure, no_label, s)
    no_label = [Step(kind=StepKind.cancel_subscription, target="sub_2", at_period_end=True)]
    assert guardrail_violations(Case.missing_self_serve, no_label, s)


def test_guardrail_cases_that_move_no_money() -> None:
    s = dup(2)
    for case in (Case.needs_human, Case.team_seats):
        assert guardrail_violations(case, [cancel_step("sub_2", True)], s)
    assert guardrail_violations(Case.failed_payment, [refund_step("ch_2", 100)], s)


# --- impact and hash ------------------------------------------------------------------------


def test_mrr_normalises_intervals_per_currency() -> None:
    s = state(
        sub("sub_y", amount=12000, interval="year"),
        sub("sub_w", product="w", amount=1000, interval="week", currency="eur"),
        sub("sub_q", product="q", amount=3000, interval="month", interval_count=3),
        sub("sub_j", product="j", amount=1200, currency="jpy"),
        sub("sub_t", product="t", status="trialing"),
    )
    steps = [cancel_step(x, True) for x in ("sub_y", "sub_w", "sub_q", "sub_j", "sub_t")]
    impact = revenue_impact(steps, s)
    # 12000/12 + 3000/3 in usd; 1000*52/12 = 4333.33 in eur; trials are not MRR yet.
    assert impact.mrr_change == {"eur": -4333, "jpy": -1200, "usd": -2000}


def test_mrr_rounds_half_even_once_per_currency() -> None:
    s = state(
        sub("sub_a", amount=6, interval="year"),
        sub("sub_b", product="b", amount=18, interval="year"),
    )
    # 0.5 + 1.5 = 2 exactly: summed before rounding, not 0 + 2 or 1 + 2.
    impact = revenue_impact([cancel_step("sub_a"), cancel_step("sub_b")], s)
    assert impact.mrr_change == {"usd": -2}


def test_hash_is_stable_and_covers_only_what_the_plan_does() -> None:
    s = dup(2)
    a = plan(Case.duplicate_subscription, s)
    b = plan(Case.duplicate_subscription, s, ticket("totally different words"))
    assert a.hash == b.hash and len(a.hash) == 16
    reworded = [x.model_copy(update={"why": "other"}) for x in a.steps]
    assert plan_hash(reworded) == a.hash
    relabeled = [x.model_copy(update={"needs": None}) for x in a.steps]
    assert plan_hash(relabeled) == a.hash
    changed = dup(2, refunded=1)
    assert plan(Case.duplicate_subscription, changed).hash != a.hash
    later = [x.model_copy(update={"at_period_end": True}) for x in a.steps]
    assert plan_hash(later) != a.hash


# --- properties -----------------------------------------------------------------------------


@st.composite
def billing_states(draw: st.DrawFn) -> BillingState:
    parts: list[Any] = []
    for i in range(draw(st.integers(1, 4))):
        amount = draw(st.integers(1, 100_000))
        parts.append(
            paid_sub(
                i,
                customer=draw(st.sampled_from(["cus_1", "cus_2"])),
                started=NOW - draw(st.integers(0, 60)) * DAY,
                amount=amount,
                currency=draw(st.sampled_from(["usd", "jpy", "kwd"])),
                quantity=draw(st.sampled_from([1, 1, 1, 2])),
                interval=draw(st.sampled_from(["month", "year", "week"])),
                status=draw(st.sampled_from(["active", "active", "past_due", "canceled"])),
                product=draw(st.sampled_from(["prod_a", "prod_b"])),
                refunded=draw(st.sampled_from([0, 0, 1, amount])),
                disputed=draw(st.booleans()),
                canceled_at=draw(st.sampled_from([None, NOW - 30 * DAY])),
            )
        )
    return state(*parts)


texts = st.sampled_from(
    ["charged twice", "cancel and refund", "it never worked", "invoices", "team seats", ""]
)


@settings(max_examples=150, deadline=None)
@given(billing_states(), st.sampled_from(list(Case)), texts)
def test_no_plan_ever_breaks_a_guardrail(s: BillingState, case: Case, text: str) -> None:
    p = make_plan(case, ticket(text), resolved("cus_1", "cus_2"), s, config())
    assert guardrail_violations(case, p.steps, s) == []
    charges = {c.id: c for c in s.charges}
    for step in p.steps:
        if step.kind is StepKind.refund:
            ch = charges[step.target or ""]
            assert 0 < (step.amount or 0) <= ch.amount - ch.amount_refunded
            assert not ch.disputed and not ch.refunded
    for cur, total in p.impact.refund_total.items():
        assert total == sum(
            x.amount or 0 for x in p.steps if x.kind is StepKind.refund and x.currency == cur
        )


@settings(max_examples=100, deadline=None)
@given(billing_states(), texts)
def test_classify_then_plan_is_deterministic(s: BillingState, text: str) -> None:
    t = ticket(text)
    c1 = classify(t, resolved("cus_1", "cus_2"), s, config())
    c2 = classify(t, resolved("cus_1", "cus_2"), s.model_copy(), config())
    assert c1 == c2
    p1 = make_plan(c1.case, t, resolved("cus_1", "cus_2"), s, config())
    reordered = s.model_copy(
        update={"subscriptions": s.subscriptions[::-1], "charges": s.charges[::-1]}
    )
    p2 = make_plan(c1.case, t, resolved("cus_1", "cus_2"), reordered, config())
    assert p1.hash == p2.hash
