from __future__ import annotations

import random

import pytest

from billingops.core.classify import classify, signals
from billingops.models.billing import BillingState, Resolution
from billingops.models.decision import Case, Classification
from billingops.models.ticket import RequestKind, Ticket
from tests.core.builders import (
    DAY,
    MIN,
    NOW,
    charge,
    config,
    customer,
    invoice,
    paid_sub,
    resolved,
    state,
    sub,
    ticket,
)


def run(t: Ticket, s: BillingState, r: Resolution | None = None) -> Classification:
    return classify(t, r or resolved("cus_1"), s, config())


def dup_state(**kw: object) -> BillingState:
    return state(
        paid_sub(1, started=NOW - 2 * DAY),
        paid_sub(2, started=NOW - 2 * DAY + 5 * MIN, **kw),  # type: ignore[arg-type]
    )


# --- duplicate vs team ----------------------------------------------------------------------


def test_accidental_duplicate() -> None:
    c = run(ticket("I was charged twice this month", request=RequestKind.refund), dup_state())
    assert c.case is Case.duplicate_subscription
    assert c.confidence == 0.9
    assert any("sub_1, sub_2" in e for e in c.evidence)


def test_duplicate_from_state_alone_is_less_confident() -> None:
    c = run(ticket("something is off with my bill"), dup_state())
    assert c.case is Case.duplicate_subscription
    assert c.confidence < 0.9


def test_duplicate_across_two_customers_with_one_email() -> None:
    s = state(
        paid_sub(1, customer="cus_a", started=NOW - DAY),
        paid_sub(2, customer="cus_b", started=NOW - DAY + MIN),
        customers=[customer("cus_a", "jane@example.com"), customer("cus_b", "JANE@example.com")],
    )
    c = run(ticket("double charge"), s, resolved("cus_a", "cus_b"))
    assert c.case is Case.duplicate_subscription
    assert any("one email across 2 customers" in e for e in c.evidence)


@pytest.mark.parametrize(
    ("why", "t", "s"),
    [
        ("quantity", ticket("charged twice"), dup_state(quantity=3)),
        ("metadata", ticket("charged twice"), dup_state(metadata={"team": "design"})),
        (
            "far apart",
            ticket("charged twice"),
            state(paid_sub(1, started=NOW - 40 * DAY), paid_sub(2, started=NOW - 5 * DAY)),
        ),
        ("ticket", ticket("I bought a second one for my colleague, why two charges?"), dup_state()),
        ("seats", ticket("we need seats for the whole team"), dup_state()),
    ],
)
def test_team_purchase_is_not_a_duplicate(why: str, t: Ticket, s: BillingState) -> None:
    c = run(t, s)
    assert c.case is Case.team_seats, why


def test_team_purchase_with_cancel_and_refund_needs_a_human() -> None:
    t = ticket("cancel everything for my team and refund us", request=RequestKind.refund)
    assert run(t, dup_state(quantity=3)).case is Case.needs_human


def test_annual_duplicate_needs_a_human() -> None:
    s = state(
        paid_sub(1, started=NOW - DAY, interval="year"),
        paid_sub(2, started=NOW - DAY + MIN, interval="year"),
    )
    c = run(ticket("charged twice", request=RequestKind.refund), s)
    assert c.case is Case.needs_human
    assert any("annual" in e for e in c.evidence)


def test_single_seat_subscription_questioned_is_team_seats() -> None:
    c = run(ticket("why was I charged so much?"), state(paid_sub(1, quantity=5)))
    assert c.case is Case.team_seats


# --- needs_human ----------------------------------------------------------------------------


def test_no_identifier() -> None:
    c = classify(ticket("help", emails=[]), Resolution(), state(), config())
    assert c.case is Case.needs_human and c.confidence == 1.0


def test_customer_not_found() -> None:
    r = Resolution(problems=["email matched nobody"])
    c = classify(ticket("help"), r, BillingState(), config())
    assert c.case is Case.needs_human
    assert "matched nobody" not in " ".join(c.evidence)  # notes may hold PII; only a count


def test_conflicting_identities() -> None:
    r = resolved("cus_a", "cus_b", conflicting=True)
    assert run(ticket("refund"), dup_state(), r).case is Case.needs_human


def test_deleted_customer() -> None:
    s = state(paid_sub(1), customers=[customer("cus_1", deleted=True)])
    assert run(ticket("cancel"), s).case is Case.needs_human


def test_disputed_charge_wins_over_everything() -> None:
    s = state(paid_sub(1, started=NOW - DAY), paid_sub(2, started=NOW - DAY, disputed=True))
    c = run(ticket("charged twice, refund"), s)
    assert c.case is Case.needs_human
    assert any("disputed" in e for e in c.evidence)


@pytest.mark.parametrize("shape", [{"interval": "year"}, {"item_count": 2}])
def test_contract_shape_with_refund_needs_a_human(shape: dict[str, object]) -> None:
    t = ticket("please cancel and refund me", request=RequestKind.cancel)
    c = run(t, state(paid_sub(1, **shape)))  # type: ignore[arg-type]
    assert c.case is Case.needs_human


def test_team_with_cancel_and_refund_needs_a_human() -> None:
    t = ticket("cancel it and refund", request=RequestKind.refund)
    assert run(t, state(paid_sub(1, quantity=4))).case is Case.needs_human


def test_annual_cancel_only_is_self_serve() -> None:
    t = ticket("please cancel my plan", request=RequestKind.cancel)
    assert run(t, state(paid_sub(1, interval="year"))).case is Case.missing_self_serve


def test_refund_with_nothing_wrong_needs_a_human() -> None:
    c = run(ticket("I want my money back", request=RequestKind.refund), state(paid_sub(1)))
    assert c.case is Case.needs_human


# --- failed payment -------------------------------------------------------------------------


@pytest.mark.parametrize("status", ["past_due", "unpaid", "incomplete"])
def test_failed_status(status: str) -> None:
    c = run(ticket("my account is locked"), state(sub("sub_1", status=status)))
    assert c.case is Case.failed_payment
    assert f"sub_1 is {status}" in c.evidence[0]


def test_incomplete_expired_without_live_subscription() -> None:
    c = run(ticket("checkout failed"), state(sub("sub_1", status="incomplete_expired")))
    assert c.case is Case.failed_payment


def test_open_invoice_with_failed_attempts() -> None:
    s = state(sub("sub_1"), invoice("in_1", subscription="sub_1", status="open", attempt_count=3))
    assert run(ticket("card?"), s).case is Case.failed_payment


def test_latest_charge_failed() -> None:
    s = state(paid_sub(1), charge("ch_f", status="failed", created=NOW - DAY))
    assert run(ticket("payment problem"), s).case is Case.failed_payment


def test_old_failed_charge_followed_by_success_is_fine() -> None:
    s = state(charge("ch_f", status="failed", created=NOW - 20 * DAY), paid_sub(1))
    assert run(ticket("where are my invoices?"), s).case is Case.missing_self_serve


# --- self-serve and product failure ---------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("how do I cancel?", None),
        ("", RequestKind.cancel),
        ("I need my invoices for VAT", None),
        ("update my card please", None),
        ("add two more seats", RequestKind.seats_or_plan),
    ],
)
def test_missing_self_serve(text: str, kind: RequestKind | None) -> None:
    assert run(ticket(text, request=kind), state(paid_sub(1))).case is Case.missing_self_serve


def test_charge_after_cancel_is_product_failure() -> None:
    s1, i1, c1 = paid_sub(1, canceled_at=NOW - 35 * DAY, started=NOW - 60 * DAY)
    late = [
        invoice("in_l", subscription="sub_1", charge="ch_l", created=NOW - DAY),
        charge("ch_l", invoice="in_l", created=NOW - DAY),
    ]
    c = run(ticket("refund please"), state(s1, i1, c1, *late))
    assert c.case is Case.product_failure
    assert c.confidence == 0.9


@pytest.mark.parametrize(
    "text",
    [
        "the export feature never worked",
        "I was charged even though I had already cancelled",
        "it renewed without any notice",
    ],
)
def test_product_failure_from_the_ticket(text: str) -> None:
    assert run(ticket(text), state(paid_sub(1))).case is Case.product_failure


# --- properties -----------------------------------------------------------------------------


def test_deterministic_whatever_the_order() -> None:
    parts = [paid_sub(i, started=NOW - DAY + i * MIN) for i in range(1, 5)]
    t = ticket("charged 4 times")
    first = run(t, state(*parts))
    for seed in range(5):
        shuffled = parts[:]
        random.Random(seed).shuffle(shuffled)
        assert run(t, state(*shuffled)) == first


def test_evidence_has_no_email() -> None:
    s = state(
        paid_sub(1, customer="cus_a", started=NOW - DAY),
        paid_sub(2, customer="cus_b", started=NOW - DAY),
        customers=[customer("cus_a", "jane@example.com"), customer("cus_b", "jane@example.com")],
    )
    c = run(ticket("double charge jane@example.com"), s, resolved("cus_a", "cus_b"))
    assert "@" not in " ".join(c.evidence)


def test_signals_read_form_and_text() -> None:
    s = signals(ticket("", request=RequestKind.refund))
    assert s.wants_refund and not s.wants_cancel
    s = signals(ticket("Our team needs 3 more seats", title="Seats"))
    assert s.team and s.wants_seats
