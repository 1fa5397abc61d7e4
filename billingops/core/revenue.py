"""What a subscription brings in: every item, every price shape, after discounts. Pure.

Per item, in minor units of the subscription's currency, exact (fractions; rounded once,
later, by whoever shows a total):

- per unit: quantity × `unit_amount_decimal` (sub-cent prices are exact, not 0);
- package (`transform_quantity`): quantity ÷ `divide_by`, rounded up or down, × unit amount;
- tiered, volume: every unit at the tier the quantity falls in, plus that tier's flat fee;
- tiered, graduated: each tier's units at its own price, plus the flat fee of each tier used;
- metered: usage-based, not estimated (unknown: never counted as 0).

Discounts (whole subscription, still running at `now`): percentage off, then amount off
(same currency; never below zero), spread over the items in proportion to their amounts.

A figure that cannot be known is `None` with a one-line reason.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from fractions import Fraction
from functools import lru_cache
from typing import NamedTuple

from billingops.models.billing import Subscription, SubscriptionItem

# Periods per month; a year is 12 months, a week 52/12 per month, a day 365/12.
PER_MONTH = {
    "month": Fraction(1),
    "year": Fraction(1, 12),
    "week": Fraction(52, 12),
    "day": Fraction(365, 12),
}
# Subscriptions that count in MRR (trials have not paid yet; Stripe's MRR excludes them).
MRR_STATUSES = frozenset({"active", "past_due", "unpaid"})
METERED = "usage-based, not estimated"


class Amount(NamedTuple):
    """An exact amount, or None and why it cannot be known."""

    value: Fraction | None
    why: str | None = None


@lru_cache(maxsize=4096)  # prices repeat across an account's subscriptions
def _dec(raw: str | None) -> Fraction | None:
    if raw is None:
        return None
    try:
        return Fraction(Decimal(raw))
    except (InvalidOperation, ValueError):
        return None


def item_amount(item: SubscriptionItem) -> Amount:
    """What one period of this item costs, before discounts."""
    if item.unknown:
        return Amount(None, item.unknown)
    if item.usage_type == "metered":
        return Amount(None, METERED)
    q = max(item.quantity, 0)
    if item.billing_scheme == "tiered":
        return _tiered(item, q)
    unit = _dec(item.unit_amount_decimal)
    if unit is None:
        return Amount(None, f"price {item.price_id} has no unit amount")
    if item.divide_by:
        packages = Fraction(q, item.divide_by)
        whole = packages.__ceil__() if item.round == "up" else packages.__floor__()
        return Amount(unit * whole)
    return Amount(unit * q)


def _tiered(item: SubscriptionItem, q: int) -> Amount:
    tiers = item.tiers
    if not tiers:
        return Amount(None, f"tiered price {item.price_id} came without its tiers")
    parsed: list[tuple[int | None, Fraction, Fraction]] = []
    for t in tiers:
        unit = _dec(t.unit_amount_decimal) or Fraction(0)
        flat = _dec(t.flat_amount_decimal) or Fraction(0)
        parsed.append((t.up_to, unit, flat))
    if item.tiers_mode == "volume":
        for up_to, unit, flat in parsed:
            if up_to is None or q <= up_to:
                return Amount(unit * q + flat if q > 0 else Fraction(0))
        return Amount(None, f"quantity {q} is above every tier of {item.price_id}")
    if item.tiers_mode == "graduated":
        total, below = Fraction(0), 0
        for up_to, unit, flat in parsed:
            if q <= below:
                break
            units = q - below if up_to is None else min(q, up_to) - below
            total += unit * units + flat
            if up_to is None:
                break
            below = up_to
        return Amount(total)
    return Amount(None, f"unknown tiers mode {item.tiers_mode!r} on {item.price_id}")


def _items(sub: Subscription) -> list[SubscriptionItem]:
    if sub.items:
        return list(sub.items)
    # Built without items (older callers): the flattened main item is all there is.
    return [
        SubscriptionItem(
            price_id=sub.price_id,
            product_id=sub.product_id,
            currency=sub.currency,
            interval=sub.interval,
            interval_count=sub.interval_count,
            quantity=sub.quantity,
            unit_amount_decimal=str(sub.unit_amount),
        )
    ]


def item_amounts(
    sub: Subscription, now: int | None = None
) -> tuple[list[tuple[SubscriptionItem, Fraction]], str | None]:
    """Every item with its period amount after the subscription's discounts, or ([], why)."""
    items = _items(sub)
    amounts: list[tuple[SubscriptionItem, Fraction]] = []
    for it in items:
        a = item_amount(it)
        if a.value is None:
            return [], a.why
        if it.currency.lower() != sub.currency.lower():
            return [], (
                f"billed in {sub.currency.upper()} on a price in {it.currency.upper()} "
                f"({it.price_id}) without a {sub.currency.upper()} amount"
            )
        amounts.append((it, a.value))
    total = sum((v for _, v in amounts), Fraction(0))
    after = total
    for d in sub.discounts:
        if d.end is not None and now is not None and d.end <= now:
            continue
        if d.percent_off is None and d.amount_off is None:
            return [], "a discount whose terms were not read"
        if d.percent_off is not None:
            after -= after * Fraction(Decimal(str(d.percent_off))) / 100
        elif d.amount_off is not None:
            if (d.currency or "").lower() != sub.currency.lower():
                cur = (d.currency or "?").upper()
                return [], f"a discount in {cur} on a {sub.currency.upper()} subscription"
            after -= d.amount_off
    after = max(after, Fraction(0))
    if total and after != total:
        amounts = [(it, v * after / total) for it, v in amounts]
    return amounts, None


def period_amount(sub: Subscription, now: int | None = None) -> Amount:
    """What one billing period of the subscription costs, after discounts."""
    amounts, why = item_amounts(sub, now)
    if why is not None:
        return Amount(None, why)
    return Amount(sum((v for _, v in amounts), Fraction(0)))


def per_month(amount: Fraction, interval: str, interval_count: int) -> Fraction:
    return amount * PER_MONTH.get(interval, Fraction(1)) / max(interval_count, 1)


def monthly(sub: Subscription, now: int | None = None) -> Amount:
    """MRR of one subscription: 0 outside the paying statuses or while collection is
    paused; None (with why) when the amount cannot be known."""
    if sub.status not in MRR_STATUSES or sub.collection_paused:
        return Amount(Fraction(0))
    amounts, why = item_amounts(sub, now)
    if why is not None:
        return Amount(None, why)
    return Amount(
        sum((per_month(v, it.interval, it.interval_count) for it, v in amounts), Fraction(0))
    )
