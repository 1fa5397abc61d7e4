from __future__ import annotations

import re
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from billingops.core.money import (
    THREE_DECIMAL,
    ZERO_DECIMAL,
    exponent,
    format_money,
    format_totals,
    sum_by_currency,
    to_major,
)


@pytest.mark.parametrize(
    ("amount", "currency", "text"),
    [
        (2000, "usd", "$20.00"),
        (2000, "USD", "$20.00"),
        (2000, "jpy", "¥2,000"),
        (1500, "kwd", "KWD 1.500"),
        (1234567, "bhd", "BHD 1,234.567"),
        (-350, "eur", "-€3.50"),
        (5, "gbp", "£0.05"),
        (0, "usd", "$0.00"),
        (123456, "krw", "₩123,456"),
        (100, "cad", "CA$1.00"),
        # Stripe differs from ISO 4217 here: ISK is two-decimal in the API, MGA zero-decimal.
        (100000, "isk", "ISK 1,000.00"),
        (5, "mga", "MGA 5"),
    ],
)
def test_format_money(amount: int, currency: str, text: str) -> None:
    assert format_money(amount, currency) == text


def test_exponents_follow_stripe() -> None:
    assert exponent("jpy") == 0 and exponent("JPY") == 0
    assert exponent("kwd") == 3
    assert exponent("usd") == 2
    assert exponent("isk") == 2
    assert {"jpy", "krw", "vnd", "clp", "ugx"} <= ZERO_DECIMAL
    assert {"bhd", "jod", "kwd", "omr", "tnd"} == THREE_DECIMAL
    assert to_major(1500, "kwd") == Decimal("1.500")


def test_sum_by_currency_never_mixes() -> None:
    totals = sum_by_currency([("usd", 100), ("JPY", 500), ("usd", 250), ("kwd", 1)])
    assert totals == {"jpy": 500, "kwd": 1, "usd": 350}
    assert list(totals) == ["jpy", "kwd", "usd"]
    assert format_totals(totals) == "¥500 + KWD 0.001 + $3.50"
    assert format_totals({}) == "none"


currencies = st.sampled_from(["usd", "eur", "jpy", "krw", "kwd", "bhd", "isk", "mga"])


@given(st.lists(st.tuples(currencies, st.integers(-(10**9), 10**9))))
def test_sums_per_currency_are_the_sums_of_that_currency(
    items: list[tuple[str, int]],
) -> None:
    totals = sum_by_currency(items)
    assert set(totals) == {c for c, _ in items}
    for cur, total in totals.items():
        assert total == sum(a for c, a in items if c == cur)


@given(currencies, st.integers(-(10**12), 10**12))
def test_formatting_keeps_every_minor_unit(currency: str, amount: int) -> None:
    text = format_money(amount, currency)
    digits = re.sub(r"\D", "", text)
    assert int(digits) == abs(amount)
    assert text.startswith("-") == (amount < 0)
    exp = exponent(currency)
    if exp:
        assert re.search(rf"\.\d{{{exp}}}$", text)
    else:
        assert "." not in text
