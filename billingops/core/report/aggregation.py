"""The report's bounded aggregates: exact money per plan (price) as subscriptions stream in,
rounded once; seat buckets; "top N" lists that hold at most 2N items whatever the
stream's length. They grow with the number of plans, not of subscriptions."""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import ROUND_HALF_EVEN, Decimal
from fractions import Fraction
from typing import Any, Generic, TypeVar

from billingops.core.plan import monthly
from billingops.core.report.rows import SEAT_BUCKETS, Listed, PlanRow, UnknownMrr
from billingops.core.revenue import MRR_STATUSES, item_amounts, per_month
from billingops.models.billing import Subscription, SubscriptionItem
from billingops.models.text import email_key as _person_email

# How many subscriptions of unknown MRR the report lists by id (all are counted).
UNKNOWN_SHOWN = 1000


def round_minor(x: Fraction) -> int:
    """Half-even on an exact value, as the plan's revenue impact rounds."""
    q = Decimal(x.numerator) / Decimal(x.denominator)
    return int(q.quantize(Decimal(1), rounding=ROUND_HALF_EVEN))


def email_key(email: str | None) -> int | None:
    """A 64-bit key of the normalised email, as `anomalies.person_key` normalises it
    (ASCII letters lower-cased only: a look-alike is another person). The report keeps
    this, never the address."""
    if not email or not email.strip():
        return None
    digest = hashlib.blake2b(_person_email(email).encode("utf-8"), digest_size=8).digest()
    return int.from_bytes(digest, "big")


def potential_mrr(sub: Subscription) -> Fraction:
    """What the subscription brings per month if it pays (trials and failures included)."""
    if sub.status in ("active", "past_due", "unpaid"):
        return monthly(sub)
    return monthly(sub.model_copy(update={"status": "active"}))


def seat_bucket(quantity: int) -> str:
    for name, lo, hi in SEAT_BUCKETS:
        if quantity >= lo and (hi is None or quantity <= hi):
            return name
    return SEAT_BUCKETS[0][0]


# Compact per-subscription facts kept for the joins: (sub id, customer id, started,
# quantity, flags), a `report_keys.Member`. Flags: bit 0 team metadata, bit 1 annual,
# bit 2 several items.


def _whole(decimal: str | None) -> int:
    """A price's unit amount in whole minor units, for display (the exact one is summed)."""
    try:
        return int(Decimal(decimal)) if decimal is not None else 0
    except ArithmeticError:
        return 0


@dataclass
class _PlanAcc:
    product_id: str
    price_id: str
    plan_name: str | None
    interval: str
    interval_count: int
    currency: str
    unit_amount: int
    live: int = 0
    trialing: int = 0
    seats: int = 0
    unknown: int = 0
    # Exact period amounts of the items of this price that count in MRR, summed as they
    # come (whole minor units apart: most are, and ints add fast); per month once, in `mrr`.
    whole: int = 0
    parts: Fraction = field(default_factory=Fraction)

    def add(self, value: Fraction) -> None:
        if value.denominator == 1:
            self.whole += value.numerator
        else:
            self.parts += value

    def mrr(self) -> Fraction:
        return per_month(self.parts + self.whole, self.interval, self.interval_count)


T = TypeVar("T")


class Top(Generic[T]):
    """The `n` items of smallest key: at most 2n held, whatever the stream's length."""

    def __init__(self, n: int) -> None:
        self.n = n
        self._held: list[tuple[Any, T]] = []

    def add(self, key: Any, item: T) -> None:
        if self.n <= 0:
            return
        self._held.append((key, item))
        if len(self._held) > 2 * self.n:
            self._trim()

    def _trim(self) -> None:
        self._held.sort(key=lambda kv: kv[0])
        del self._held[self.n :]

    def items(self) -> list[T]:
        self._trim()
        return [item for _, item in self._held]


class PlanTally:
    """Every live subscription's items in their plan rows (price), per currency; the ones
    whose amount cannot be known counted and listed apart, never as 0."""

    def __init__(self, as_of: int) -> None:
        self.as_of = as_of
        self._plans: dict[tuple[str, str, str, int, str], _PlanAcc] = {}
        self.live_by_currency: Counter[str] = Counter()
        self.seats_by_currency: Counter[str] = Counter()
        self.unknown: list[UnknownMrr] = []
        self.unknown_count = 0

    def add(self, item: Listed, product: str) -> None:
        """Every item of the subscription in its own plan row (price)."""
        sub = item.sub
        cur = sub.currency.lower()
        self.live_by_currency[cur] += 1
        self.seats_by_currency[cur] += sub.quantity
        amounts, why = item_amounts(sub, self.as_of)
        counts = sub.status in MRR_STATUSES and not sub.collection_paused
        if why is not None and counts:
            self.unknown_count += 1
            if len(self.unknown) < UNKNOWN_SHOWN:
                self.unknown.append(UnknownMrr(subscription=sub.id, why=why))
        known = dict((id(it), v) for it, v in amounts)
        items: list[SubscriptionItem | None] = list(sub.items) or [None]
        for n, it in enumerate(items):
            if it is None:  # built without items: the flattened main item
                price_id, interval, count = sub.price_id, sub.interval, sub.interval_count
                unit, quantity, prod, name = sub.unit_amount, sub.quantity, product, None
                value = Fraction(sub.amount) if why is None else None
            else:
                price_id, interval, count = it.price_id, it.interval, it.interval_count
                unit = _whole(it.unit_amount_decimal)
                quantity = it.quantity
                prod = it.product_id or (product if n == 0 else f"price:{it.price_id}")
                name, value = it.nickname, known.get(id(it))
            key = (prod, price_id or "(no price)", interval, max(count, 1), cur)
            acc = self._plans.get(key)
            plan_name = (item.plan_name if n == 0 else None) or name
            if acc is None:
                acc = self._plans[key] = _PlanAcc(
                    product_id=key[0],
                    price_id=key[1],
                    plan_name=plan_name,
                    interval=interval,
                    interval_count=key[3],
                    currency=cur,
                    unit_amount=unit,
                )
            # One price has one amount; older data may disagree: the same answer in any order.
            if unit < acc.unit_amount:
                acc.unit_amount = unit
            if plan_name and (acc.plan_name is None or plan_name < acc.plan_name):
                acc.plan_name = plan_name
            acc.live += 1
            acc.trialing += sub.status == "trialing"
            acc.seats += quantity
            if value is None:
                acc.unknown += 1
            elif counts:
                acc.add(value)

    def rows(self, names: Mapping[str, str]) -> list[PlanRow]:
        plans = [
            PlanRow(
                product_id=a.product_id,
                product_name=names.get(a.product_id),
                price_id=a.price_id,
                plan_name=a.plan_name,
                interval=a.interval,
                interval_count=a.interval_count,
                currency=a.currency,
                unit_amount=a.unit_amount,
                live=a.live,
                trialing=a.trialing,
                seats=a.seats,
                mrr=round_minor(a.mrr()),
                unknown=a.unknown,
            )
            for a in self._plans.values()
        ]
        plans.sort(key=lambda p: (p.currency, -p.mrr, -p.live, p.product_id, p.price_id))
        return plans
