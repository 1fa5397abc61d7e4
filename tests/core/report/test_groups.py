"""The report's joins: several subscriptions (as the triage groups them), one email over
several customers, monthly → yearly conversions."""

from __future__ import annotations

from collections import Counter

from hypothesis import given, settings

from billingops.core.anomalies import person_key
from billingops.core.report import (
    Listed,
    classify_group,
    email_key,
)
from billingops.models.billing import BillingState, Customer
from tests.core.builders import DAY, MIN, NOW, sub
from tests.core.report.strategies import build, listings


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
