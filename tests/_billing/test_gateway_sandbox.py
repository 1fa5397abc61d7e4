"""StripeGateway through the real SDK against localstripe, one scenario at a time."""

from __future__ import annotations

from typing import Any

import pytest

from billingops._billing.stripe_gateway import StripeGateway
from billingops.core.resolve import resolve
from billingops.models.billing import ResolvedBy

pytestmark = pytest.mark.sandbox


def _lookup(gw: StripeGateway, **kw: Any) -> Any:
    kw.setdefault("stripe_ids", [])
    kw.setdefault("emails", [])
    kw.setdefault("github_username", None)
    return gw.lookup(metadata_key="github_username", **kw)


@pytest.mark.parametrize("kind", ["customers", "subscriptions", "invoices", "charges"])
def test_lookup_by_each_id_kind(
    stripe_sandbox: Any, stripe_gateway: StripeGateway, kind: str
) -> None:
    seeded = stripe_sandbox.seed("healthy_single")
    sid = getattr(seeded, kind)[0]
    lk = _lookup(stripe_gateway, stripe_ids=[sid])
    assert lk.by_id == {sid: seeded.customers}
    assert lk.emails == {seeded.customers[0]: "alice@example.com"}
    assert len(stripe_gateway.requests) == 1


def test_lookup_by_payment_intent(stripe_sandbox: Any, stripe_gateway: StripeGateway) -> None:
    seeded = stripe_sandbox.seed("healthy_single")
    state = stripe_gateway.read_state(seeded.customers)
    pi = state.charges[0].payment_intent_id
    assert pi and pi.startswith("pi_")
    assert _lookup(stripe_gateway, stripe_ids=[pi]).by_id == {pi: seeded.customers}


def test_email_in_another_case_finds_both_customers_of_one_person(
    stripe_sandbox: Any, stripe_gateway: StripeGateway
) -> None:
    seeded = stripe_sandbox.seed("duplicate_across_customers")
    lk = _lookup(stripe_gateway, emails=["CAROL.JONES@example.com"])
    assert sorted(lk.by_email["CAROL.JONES@example.com"]) == sorted(seeded.customers)
    res = resolve(emails=["CAROL.JONES@example.com"], lookups=lk)
    assert sorted(res.customer_ids) == sorted(seeded.customers)
    assert res.resolved_by is ResolvedBy.email and not res.conflicting
    state = stripe_gateway.read_state(res.customer_ids)
    assert len([s for s in state.subscriptions if s.live]) == 2
    assert {s.product_id for s in state.subscriptions} == {"prod_pro"}


def test_exact_email_lists_without_search(stripe_sandbox: Any) -> None:
    """Real-Stripe mode against localstripe: lists as given + lower-cased; search is absent
    (404) and skipped silently, so a mixed-case stored email is only found by search."""
    seeded = stripe_sandbox.seed("duplicate_across_customers")
    gw = StripeGateway(stripe_sandbox.api_key, stripe_sandbox.base_url, compat=False,
                       max_network_retries=0)  # fmt: skip
    lk = _lookup(gw, emails=["CAROL.JONES@example.com"])
    assert lk.by_email["CAROL.JONES@example.com"] == [seeded.customers[1]]
    assert any(r.startswith("GET v1/customers/search?") for r in gw.requests)
    assert len(gw.requests) == 3  # as given, lower-cased, one search (404)
    lk = _lookup(gw, emails=["Carol.Jones@Example.com"])  # as stored, and lower-cased
    assert lk.by_email["Carol.Jones@Example.com"] == seeded.customers
    assert len(gw.requests) == 5  # search is not retried once known absent


def test_github_username_metadata(stripe_sandbox: Any, stripe_gateway: StripeGateway) -> None:
    seeded = stripe_sandbox.seed("github_username_metadata")
    lk = _lookup(stripe_gateway, github_username="Octo-Mona")
    assert lk.by_github_username == {"Octo-Mona": seeded.customers}
    gw = StripeGateway(stripe_sandbox.api_key, stripe_sandbox.base_url, compat=False,
                       max_network_retries=0)  # fmt: skip
    lk = _lookup(gw, github_username="octo-mona")
    assert lk.by_github_username == {"octo-mona": seeded.customers}
    assert len(gw.requests) == 2  # search (404), then one bounded page


def test_unknown_ids_and_email(stripe_sandbox: Any, stripe_gateway: StripeGateway) -> None:
    stripe_sandbox.seed("healthy_single")
    ids = ["cus_doesnotexist", "sub_doesnotexist", "in_nope", "ch_nope", "pi_nope", "xx_1"]
    lk = _lookup(stripe_gateway, stripe_ids=ids, emails=["nobody@example.com"])
    assert lk.by_id == {i: [] for i in ids}
    assert lk.by_email == {"nobody@example.com": []}
    res = resolve(stripe_ids=ids, emails=["nobody@example.com"], lookups=lk)
    assert not res.found and len(res.problems) == 7


def test_deleted_customer(stripe_sandbox: Any, stripe_gateway: StripeGateway) -> None:
    seeded = stripe_sandbox.seed("deleted_customer")
    cus, sub = seeded.customers[0], seeded.subscriptions[0]
    lk = _lookup(stripe_gateway, stripe_ids=[cus, sub], emails=["oscar@example.com"])
    assert lk.by_id[sub] == [cus]
    assert lk.deleted == [cus]
    res = resolve(stripe_ids=[cus, sub], emails=["oscar@example.com"], lookups=lk)
    assert not res.found
    assert any("deleted" in p for p in res.problems)
    state = stripe_gateway.read_state([cus])
    assert state.customers[0].deleted and state.subscriptions == []


def test_identifiers_of_two_people_conflict(
    stripe_sandbox: Any, stripe_gateway: StripeGateway
) -> None:
    first = stripe_sandbox.seed("healthy_single")
    second = stripe_sandbox.seed("past_due")
    lk = _lookup(stripe_gateway, stripe_ids=[second.subscriptions[0]], emails=["alice@example.com"])
    res = resolve(stripe_ids=[second.subscriptions[0]], emails=["alice@example.com"], lookups=lk)
    assert res.conflicting
    assert res.resolved_by is ResolvedBy.subscription_id
    assert res.customer_ids == second.customers
    assert first.customers[0] not in res.customer_ids


def test_state_past_due(stripe_sandbox: Any, stripe_gateway: StripeGateway) -> None:
    seeded = stripe_sandbox.seed("past_due")
    state = stripe_gateway.read_state(seeded.customers)
    (sub,) = state.subscriptions
    assert sub.status == "past_due"
    assert sub.current_period_start <= stripe_sandbox.now < sub.current_period_end
    inv = state.invoices[0]  # newest first: the failed renewal (the history follows)
    assert [i.id for i in state.invoices if i.status == "open"] == [inv.id]
    assert (inv.status, inv.attempt_count, inv.subscription_id) == ("open", 1, sub.id)
    failed = [c for c in state.charges if c.status == "failed"]
    assert len(failed) == 1 and failed[0].invoice_id == inv.id and failed[0].refundable == 0
    assert state.customers[0].default_payment_method is not None
    assert state.customers[0].default_payment_method.last4 == "0341"
    assert state.as_of == stripe_sandbox.now
    assert state.portal.source == "unknown"


def test_state_incomplete(stripe_sandbox: Any, stripe_gateway: StripeGateway) -> None:
    seeded = stripe_sandbox.seed("incomplete")
    state = stripe_gateway.read_state(seeded.customers)
    assert [s.status for s in state.subscriptions] == ["incomplete"]
    assert state.invoices[0].status == "open"
    assert state.charges[0].status == "failed"


def test_state_duplicates_minutes_apart(stripe_sandbox: Any, stripe_gateway: StripeGateway) -> None:
    seeded = stripe_sandbox.seed("duplicate_subscriptions")
    state = stripe_gateway.read_state(seeded.customers)
    a, b = state.subscriptions
    assert a.price_id == b.price_id and a.quantity == b.quantity == 1
    assert b.created - a.created == 180
    assert {c.invoice_id for c in state.charges} == {a.latest_invoice_id, b.latest_invoice_id}
    assert all(c.refundable == 2000 for c in state.charges)


def test_state_team_seats(stripe_sandbox: Any, stripe_gateway: StripeGateway) -> None:
    seeded = stripe_sandbox.seed("team_seats")
    state = stripe_gateway.read_state(seeded.customers)
    old, new = state.subscriptions
    assert (old.quantity, new.quantity) == (5, 2)
    assert old.metadata["team"] == "acme"
    assert new.created - old.created > 80 * 86400
    now = stripe_sandbox.now
    assert all(s.current_period_start <= now < s.current_period_end for s in state.subscriptions)


@pytest.mark.parametrize(
    ("name", "currency", "amount", "interval"),
    [
        ("annual_plan", "usd", 20000, "year"),
        ("zero_decimal_currency", "jpy", 1500, "month"),
        ("three_decimal_currency", "kwd", 5000, "month"),
    ],
)
def test_state_currencies_and_intervals(
    stripe_sandbox: Any, stripe_gateway: StripeGateway, name: str, currency: str, amount: int,
    interval: str,
) -> None:  # fmt: skip
    seeded = stripe_sandbox.seed(name)
    state = stripe_gateway.read_state(seeded.customers)
    sub = state.subscriptions[0]
    assert (sub.currency, sub.unit_amount, sub.interval) == (currency, amount, interval)
    assert {c.currency for c in state.charges} == {currency}
    assert {c.amount for c in state.charges} == {amount}


def test_state_refunded_charge_with_metadata(
    stripe_sandbox: Any, stripe_gateway: StripeGateway
) -> None:
    seeded = stripe_sandbox.seed("refunded_charge")
    state = stripe_gateway.read_state(seeded.customers)
    (charge,) = state.charges
    assert charge.refunded and charge.refundable == 0
    assert charge.refunds[0].metadata == {
        "billingops_issue": "acme/support#7",
        "billingops_step": "refund:1",
    }
    (found,) = stripe_gateway.find_refunds_for(charge.id)
    assert found.id == seeded.refunds[0] and found.metadata["billingops_step"] == "refund:1"


def test_state_cancel_at_period_end_trialing_disputed(
    stripe_sandbox: Any, stripe_gateway: StripeGateway
) -> None:
    cape = stripe_sandbox.seed("cancel_at_period_end")
    trial = stripe_sandbox.seed("trialing")
    disputed = stripe_sandbox.seed("disputed_charge")
    ids = cape.customers + trial.customers + disputed.customers
    state = stripe_gateway.read_state(ids)
    by_customer = {s.customer_id: s for s in state.subscriptions}
    assert by_customer[cape.customers[0]].cancel_at_period_end
    t = by_customer[trial.customers[0]]
    assert t.status == "trialing" and t.trial_end == stripe_sandbox.now + 11 * 86400
    assert [c.disputed for c in state.charges if c.customer_id == disputed.customers[0]] == [True]


def test_request_budget_one_and_two_customers(stripe_sandbox: Any) -> None:
    one = stripe_sandbox.seed("healthy_single")
    stripe_sandbox.seed("duplicate_across_customers")

    def triage(**kw: Any) -> list[str]:
        gw = StripeGateway(
            stripe_sandbox.api_key, stripe_sandbox.base_url, compat=True, max_network_retries=0
        )
        lk = _lookup(gw, **kw)
        res = resolve(lookups=lk, **kw)
        gw.read_state(res.customer_ids)
        return gw.requests

    # State per customer: subscriptions, charges, invoices (localstripe: no portal read).
    assert len(triage(stripe_ids=one.customers)) == 4  # 1 lookup + 3 state
    assert len(triage(emails=["alice@example.com"])) == 4  # 1 shared page + 3 state
    assert len(triage(emails=["carol.jones@example.com"])) == 7  # 1 + 2 x 3


def test_writes_refund_and_cancel(stripe_sandbox: Any, stripe_gateway: StripeGateway) -> None:
    seeded = stripe_sandbox.seed("duplicate_subscriptions")
    keep, extra = seeded.subscriptions
    refund = stripe_gateway.refund(
        charge_id=seeded.charges[1],
        amount=500,
        idempotency_key="acme/support#1:step-2",
        metadata={"billingops_issue": "acme/support#1", "billingops_step": "2"},
    )
    assert (refund.amount, refund.charge_id) == (500, seeded.charges[1])
    assert refund.metadata["billingops_step"] == "2"
    later = stripe_gateway.cancel_subscription(
        subscription_id=keep, at_period_end=True, idempotency_key="k1", metadata={"a": "b"}
    )
    assert later.cancel_at_period_end and later.status == "active"
    now = stripe_gateway.cancel_subscription(
        subscription_id=extra, at_period_end=False, idempotency_key="k2", metadata={"a": "b"}
    )
    assert now.status == "canceled"
    state = stripe_gateway.read_state(seeded.customers)
    assert {s.id: s.status for s in state.subscriptions} == {keep: "active", extra: "canceled"}
    assert [c.amount_refunded for c in state.charges if c.id == seeded.charges[1]] == [500]


def test_iter_subscriptions_paginates_and_filters(
    stripe_sandbox: Any, stripe_gateway: StripeGateway
) -> None:
    for name in ("healthy_single", "duplicate_subscriptions", "team_seats", "annual_plan"):
        stripe_sandbox.seed(name)
    every = list(stripe_gateway.iter_subscriptions())
    assert len(every) == 6
    recent = list(stripe_gateway.iter_subscriptions(created_gte=stripe_sandbox.now - 5 * 86400))
    assert len(recent) == 2
    assert all(s.created >= stripe_sandbox.now - 5 * 86400 for s in recent)


def test_portal_absent_is_unknown(stripe_sandbox: Any) -> None:
    gw = StripeGateway(stripe_sandbox.api_key, stripe_sandbox.base_url, compat=False,
                       max_network_retries=0)  # fmt: skip
    assert gw.portal_capabilities().source == "unknown"
    assert len(gw.requests) == 1
