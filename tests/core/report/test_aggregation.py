"""The report's aggregates: exact money per plan and currency, totals that add up."""

from __future__ import annotations

from fractions import Fraction

from hypothesis import given, settings

from billingops.core.plan import monthly
from billingops.core.report import (
    Listed,
    interval_mix,
    plan_mix,
    round_minor,
)
from tests.core.builders import sub
from tests.core.report.strategies import build, listings


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


def test_annual_counts_per_month_and_weekly_per_52_12() -> None:
    y = sub("sub_y", interval="year", amount=12000)
    w = sub("sub_w", "cus_2", interval="week", amount=1200, currency="eur")
    r = build([Listed(sub=y), Listed(sub=w)]).build()
    assert r.mrr_by_currency() == {"eur": 5200, "usd": 1000}
    assert [i.interval for i in r.intervals] == ["week", "year"]
