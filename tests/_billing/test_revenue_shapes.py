"""Revenue for every price shape (issue 15), from current-API JSON served over HTTP to the
real SDK: the report listing and triage read it; MRR is per item, per price shape, in the
subscription's currency, after discounts; what cannot be known is listed, never 0."""

from __future__ import annotations

import json
from collections.abc import Iterator
from fractions import Fraction
from typing import Any

import pytest

from billingops._billing.stripe_gateway import StripeGateway, iter_report_subscriptions
from billingops._format.json import JsonFormat
from billingops.core.plan import monthly
from billingops.core.report import ReportBuilder
from billingops.core.revenue import METERED
from billingops.core.revenue import monthly as exact_monthly
from billingops.sandbox.current_api import CurrentApiServer

from . import current_api as api
from .current_api import NOW

TIERS = [
    {"up_to": 5, "unit_amount": 1000, "unit_amount_decimal": "1000",
     "flat_amount": None, "flat_amount_decimal": None},
    {"up_to": None, "unit_amount": 500, "unit_amount_decimal": "500",
     "flat_amount": 200, "flat_amount_decimal": "200"},
]  # fmt: skip

# name → (prices to store, subscription, expected MRR {currency: minor units} or why unknown)
CASES: dict[str, tuple[list[dict[str, Any]], dict[str, Any], dict[str, int] | str]] = {}


def case(name: str, prices: list[dict[str, Any]], expected: dict[str, int] | str,
         quantities: list[int] | None = None, **sub: Any) -> None:  # fmt: skip
    sid = f"sub_{name}"
    qs = quantities or [1] * len(prices)
    items = [
        api.item(dict(p), q, sid=sid, n=n) for n, (p, q) in enumerate(zip(prices, qs, strict=True))
    ]
    CASES[name] = (prices, api.subscription(sid, *items, **sub), expected)


case("per_unit", [api.price("price_pu", unit_amount=1000)], {"usd": 3000}, [3])
case(
    "volume",
    [
        api.price(
            "price_vol", unit_amount=None, billing_scheme="tiered", tiers_mode="volume", tiers=TIERS
        )
    ],
    {"usd": 10 * 500 + 200},
    [10],
)
case(
    "graduated",
    [
        api.price(
            "price_grad",
            unit_amount=None,
            billing_scheme="tiered",
            tiers_mode="graduated",
            tiers=TIERS,
        )
    ],
    {"usd": 5 * 1000 + 5 * 500 + 200},
    [10],
)
case(
    "package",
    [api.price("price_pkg", unit_amount=2500, transform_quantity={"divide_by": 10, "round": "up"})],
    {"usd": 3 * 2500},
    [25],
)
case(
    "sub_cent",
    [api.price("price_dec", unit_amount=None, unit_amount_decimal="0.5")],
    {"usd": 500},
    [1000],
)
case("metered", [api.price("price_meter", unit_amount=3, usage_type="metered")], METERED, [1])
case(
    "base_plus_seats",
    [
        api.price("price_base", unit_amount=1000),
        api.price("price_seat", unit_amount=500, product="prod_seat"),
    ],
    {"usd": 1000 + 5 * 500},
    [1, 5],
)
case(
    "eur_on_usd_price",
    [
        api.price(
            "price_multi",
            unit_amount=1000,
            currency="usd",
            currency_options={
                "eur": {
                    "unit_amount": 900,
                    "unit_amount_decimal": "900",
                    "tax_behavior": "unspecified",
                }
            },
        )
    ],
    {"eur": 900},
    [1],
    currency="eur",
)
case(
    "free_coupon",
    [api.price("price_free", unit_amount=1000)],
    {"usd": 0},
    [1],
    discounts=[api.discount(api.coupon(percent_off=100), sid="sub_free_coupon")],
)
case(
    "amount_off",
    [api.price("price_off", unit_amount=1000)],
    {"usd": 750},
    [1],
    discounts=[api.discount(api.coupon(amount_off=250, currency="usd"), sid="sub_amount_off")],
)
case("yearly", [api.price("price_year", unit_amount=12000, interval="year")], {"usd": 1000})


@pytest.fixture
def account(loopback_only: None) -> Iterator[CurrentApiServer]:
    with CurrentApiServer(now=NOW) as server:
        for prices, sub, _ in CASES.values():
            server.add(*prices, sub, api.customer(str(sub["customer"])))
        yield server


def _gateway(server: CurrentApiServer) -> StripeGateway:
    return StripeGateway("sk_test_rev", server.base_url, max_network_retries=0,
                         clock=lambda: float(NOW))  # fmt: skip


def test_every_shape_is_read_as_stripe_bills_it(account: CurrentApiServer) -> None:
    state = _gateway(account).read_state(["cus_A"])
    subs = {s.id: s for s in state.subscriptions}
    for name, (_, _, expected) in CASES.items():
        sub = subs[f"sub_{name}"]
        got = exact_monthly(sub, NOW)
        if isinstance(expected, str):
            assert (got.value, got.why) == (None, expected), name
            assert monthly(sub) == 0  # the plan's impact counts it 0; the report lists it
        else:
            assert {sub.currency: got.value} == {k: Fraction(v) for k, v in expected.items()}, name


def test_the_report_states_revenue_per_currency_per_plan_and_what_is_unknown(
    account: CurrentApiServer,
) -> None:
    gw = _gateway(account)
    builder = ReportBuilder(as_of=NOW)
    builder.add_all(iter_report_subscriptions(gw, rate_per_second=1000, workers=2))
    data = json.loads(JsonFormat().report(builder.build()))
    known = [e for e in CASES.values() if not isinstance(e[2], str)]
    usd = sum(e[2].get("usd", 0) for e in known if isinstance(e[2], dict))
    assert data["mrr"] == {"eur": 900, "usd": usd}
    assert data["unknown_mrr"] == [{"subscription": "sub_metered", "why": METERED}]
    plans = {p["price"]: p for p in data["plans"]}
    assert plans["price_seat"] == {"product": "prod_seat", "price": "price_seat",
                                   "currency": "usd", "interval": "month",
                                   "subscriptions": 1, "mrr": 2500, "unknown": 0}  # fmt: skip
    assert plans["price_base"]["mrr"] == 1000
    assert plans["price_multi"]["currency"] == "eur" and plans["price_multi"]["mrr"] == 900
    assert plans["price_meter"]["unknown"] == 1 and plans["price_meter"]["mrr"] == 0
    # The tiers and the EUR option are read once per price, not per subscription.
    retrieved = [r.path for r in account.calls("GET", "/v1/prices/")]
    assert sorted(retrieved) == ["/v1/prices/price_grad", "/v1/prices/price_multi",
                                 "/v1/prices/price_vol"]  # fmt: skip


def test_a_price_whose_tiers_cannot_be_read_is_unknown_not_zero(
    account: CurrentApiServer,
) -> None:
    del account.objects["price_vol"]  # e.g. a key without Prices: read
    state = _gateway(account).read_state(["cus_A"])
    sub = next(s for s in state.subscriptions if s.id == "sub_volume")
    got = exact_monthly(sub, NOW)
    assert got.value is None and "came without its tiers" in (got.why or "")


@pytest.mark.parametrize("fmt", ["markdown", "terminal", "csv"])
def test_every_format_says_which_mrr_is_not_known(
    account: CurrentApiServer, fmt: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from billingops._format.interface import formatter

    # An 80-column terminal, whatever runs the test (pytest-xdist's workers get COLUMNS=80,
    # a plain run without a terminal 120): the terminal format wraps the line there.
    monkeypatch.setenv("COLUMNS", "80")
    builder = ReportBuilder(as_of=NOW)
    builder.add_all(iter_report_subscriptions(_gateway(account), rate_per_second=1000, workers=2))
    text = formatter(fmt).report(builder.build()).replace("\\", "")  # markdown escapes
    text = " ".join(text.split())  # a line the terminal wrapped reads on
    assert "sub_metered" in text and METERED in text
