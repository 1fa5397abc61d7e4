"""The account report's aggregation: pure, on generated subscription sets."""

from __future__ import annotations

from collections import Counter
from fractions import Fraction

from hypothesis import given, settings
from hypothesis import strategies as st

from billingops.core.anomalies import person_key
from billingops.core.plan import monthly
from billingops.core.report import (
    DEFAULT_TOP,
    Listed,
    ReportBuilder,
    classify_group,
    email_key,
    interval_mix,
    plan_mix,
    round_minor,
)
from billingops.models.billing import LIVE_STATUSES, BillingState, Customer, Subscription
from tests.core.builders import DAY, MIN, NOW, sub

STATUSES = sorted({*LIVE_STATUSES, "canceled", "incomplete_expired", "paused"})
CURRENCIES = ["usd", "eur", "jpy", "kwd"]


@st.composite
def listed(draw: st.DrawFn, n: int) -> Listed:
    product = draw(st.sampled_from(["prod_a", "prod_b", "prod_c"]))
    interval = draw(st.sampled_from(["month", "year", "week", "day"]))
    currency = draw(st.sampled_from(CURRENCIES))
    customer = f"cus_{draw(st.integers(0, 12))}"
    count = draw(st.sampled_from([1, 1, 3]))
    s = Subscription(
        id=f"sub_{n}",
        customer_id=customer,
        status=draw(st.sampled_from(STATUSES)),
        product_id=product,
        price_id=f"price_{product}_{count}{interval}_{currency}",
        unit_amount=draw(st.integers(0, 10**7)),
        currency=currency,
        interval=interval,
        interval_count=count,
        quantity=draw(st.integers(1, 150)),
        created=NOW - draw(st.integers(0, 400)) * DAY,
        trial_end=NOW + draw(st.integers(-5, 20)) * DAY,
        cancel_at_period_end=draw(st.booleans()),
        metadata=draw(st.sampled_from([{}, {"seats": "4"}])),
    )
    email = draw(st.sampled_from([None, f"{customer}@example.com", "shared@example.com"]))
    return Listed(sub=s, email=email, latest_invoice_failed=draw(st.booleans()))


@st.composite
def listings(draw: st.DrawFn) -> list[Listed]:
    size = draw(st.integers(0, 40))
    return [draw(listed(n)) for n in range(size)]


def build(items: list[Listed], **kw: int) -> ReportBuilder:
    return ReportBuilder(as_of=NOW, **kw).add_all(items)


@settings(max_examples=60, deadline=None)
@given(listings())
def test_totals_are_the_sum_of_their_parts(items: list[Listed]) -> None:
    r = build(items).build()
    live = [i.sub for i in items if i.sub.live]
    assert r.scanned == len(items) == sum(r.by_status.values())
    assert r.live == len(live) == sum(p.live for p in r.plans)
    assert sum(c.live for c in r.currencies) == r.live == sum(i.live for i in r.intervals)
    assert sum(s.subscriptions for s in r.seats) == r.live
    assert sum(s.seats for s in r.seats) == sum(s.quantity for s in live)
    assert sum(interval_mix(r).values()) == r.live
    assert sum(n for _, n in plan_mix(r)) == r.live
    for c in r.currencies:
        assert c.mrr == sum(p.mrr for p in r.plans if p.currency == c.currency)
        assert c.mrr == sum(i.mrr for i in r.intervals if i.currency == c.currency)
        assert c.seats == sum(p.seats for p in r.plans if p.currency == c.currency)


@settings(max_examples=60, deadline=None)
@given(listings())
def test_per_currency_sums_never_mix(items: list[Listed]) -> None:
    r = build(items).build()
    for p in r.plans:
        # Each plan row is one currency, and its MRR is that of its own subscriptions only.
        own = [
            i.sub
            for i in items
            if i.sub.live and i.sub.price_id == p.price_id and i.sub.currency == p.currency
        ]
        assert p.mrr == round_minor(sum((monthly(s) for s in own), Fraction(0)))
    currencies = {i.sub.currency for i in items if i.sub.live}
    assert [c.currency for c in r.currencies] == sorted(currencies)
    for row in r.risk:
        assert set(row.mrr) <= {i.sub.currency for i in items}
    assert set(r.mrr_by_currency()) == currencies


@settings(max_examples=40, deadline=None)
@given(listings())
def test_the_order_of_the_stream_does_not_matter(items: list[Listed]) -> None:
    assert build(items).build() == build(list(reversed(items))).build()


@settings(max_examples=40, deadline=None)
@given(listings())
def test_groups_match_the_triage_grouping(items: list[Listed]) -> None:
    """Same person (email, else customer) and product, 2+ live: as `live_groups` groups."""
    r = build(items, top=10_000).build()
    state = BillingState(
        customers=[
            Customer(id=i.sub.customer_id, email=i.email)
            for i in {i.sub.customer_id: i for i in items}.values()
        ],
        subscriptions=[i.sub for i in items],
    )
    # person_key takes the customer's (first) email; give each customer one email here.
    email_of = {c.id: c.email for c in state.customers}
    consistent = [i for i in items if i.email == email_of[i.sub.customer_id]]
    if len(consistent) != len(items):
        return
    expected = Counter(
        (person_key(state, s.customer_id), s.product_id) for s in state.subscriptions if s.live
    )
    assert r.several.groups == sum(1 for n in expected.values() if n > 1)
    assert r.several.groups == (
        r.several.duplicate_candidates + r.several.team + r.several.needs_human
    )


def test_risk_and_lists_are_bounded() -> None:
    items = [
        Listed(sub=sub(f"sub_{n}", f"cus_{n}", status="past_due"), latest_invoice_failed=True)
        for n in range(500)
    ]
    r = build(items, top=7).build()
    assert len(r.risk_shown) == 7
    assert {k.kind: k.subscriptions for k in r.risk}["past_due"] == 500
    assert {k.kind: k.subscriptions for k in r.risk}["failed_payment"] == 500
    assert ReportBuilder(as_of=NOW).top == DEFAULT_TOP


def test_trial_ending_within_the_window_only() -> None:
    soon = sub("sub_1", status="trialing", trial_end=NOW + 3 * DAY)
    later = sub("sub_2", "cus_2", status="trialing", trial_end=NOW + 30 * DAY)
    r = build([Listed(sub=soon), Listed(sub=later)], trial_days=7).build()
    row = {k.kind: k for k in r.risk}["trial_ending"]
    assert row.subscriptions == 1
    assert row.mrr == {"usd": 2000}  # potential MRR: a trial pays nothing yet
    assert r.currencies[0].mrr == 0


def test_duplicate_vs_team_vs_human() -> None:
    dup = [("sub_1", "cus_1", NOW, 1, 0), ("sub_2", "cus_1", NOW + 3 * MIN, 1, 0)]
    assert classify_group(dup)[0] == "duplicate_candidate"
    seats = [("sub_1", "cus_1", NOW, 3, 0), ("sub_2", "cus_1", NOW + 3 * MIN, 1, 0)]
    assert classify_group(seats)[0] == "team"
    apart = [("sub_1", "cus_1", NOW, 1, 0), ("sub_2", "cus_1", NOW + 5 * DAY, 1, 0)]
    assert classify_group(apart)[0] == "team"
    annual = [("sub_1", "cus_1", NOW, 1, 0), ("sub_2", "cus_1", NOW + MIN, 1, 2)]
    assert classify_group(annual)[0] == "needs_human"


def test_one_email_over_two_customers_is_one_person() -> None:
    a = sub("sub_1", "cus_1", started=NOW - DAY)
    b = sub("sub_2", "cus_2", started=NOW - DAY + 4 * MIN)
    r = build(
        [
            Listed(sub=a, email="Carol.Jones@Example.com"),
            Listed(sub=b, email=" carol.jones@example.com"),
        ]
    ).build()
    assert r.email_groups == 1
    assert r.email_groups_shown[0].customer_ids == ["cus_1", "cus_2"]
    assert r.several.duplicate_candidates == 1
    assert r.several.cross_customer_groups == 1
    assert r.several.customers == 0  # each customer alone holds one
    assert email_key("a@x.io") == email_key(" A@X.io ") != email_key("b@x.io")
    assert "carol" not in r.model_dump_json().lower()  # the email itself is never kept


def test_monthly_to_yearly_conversion() -> None:
    ended = sub(
        "sub_m",
        "cus_1",
        status="canceled",
        started=NOW - 200 * DAY,
        ended_at=NOW - 40 * DAY,
        canceled_at=NOW - 41 * DAY,
    )
    yearly = sub("sub_y", "cus_1", interval="year", amount=20000, started=NOW - 39 * DAY)
    other_product = sub("sub_o", "cus_1", product="prod_x", interval="year", started=NOW - DAY)
    far = sub("sub_f", "cus_2", status="canceled", ended_at=NOW - 300 * DAY)
    far_yearly = sub("sub_fy", "cus_2", interval="year", started=NOW - 10 * DAY)
    pending = sub("sub_p", "cus_3", cancel_at_period_end=True, current_period_end=NOW + 5 * DAY)
    pending_yearly = sub("sub_py", "cus_3", interval="year", started=NOW - DAY)
    r = build(
        [
            Listed(sub=s)
            for s in (ended, yearly, other_product, far, far_yearly, pending, pending_yearly)
        ]
    ).build()
    assert r.conversions == 2
    assert r.conversions_pending == 1
    pairs = {(c.monthly_id, c.yearly_id) for c in r.conversions_shown}
    assert pairs == {("sub_m", "sub_y"), ("sub_p", "sub_py")}
    assert "not seen" in r.conversion_method


def test_annual_counts_per_month_and_weekly_per_52_12() -> None:
    y = sub("sub_y", interval="year", amount=12000)
    w = sub("sub_w", "cus_2", interval="week", amount=1200, currency="eur")
    r = build([Listed(sub=y), Listed(sub=w)]).build()
    assert r.mrr_by_currency() == {"eur": 5200, "usd": 1000}
    assert [i.interval for i in r.intervals] == ["week", "year"]
