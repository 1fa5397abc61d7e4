"""The account report (`billingops report`): pure, streaming aggregation of subscriptions.

`ReportBuilder.add` is called once per subscription as the listing streams in, and keeps:

- bounded aggregates: counters keyed by plan (price) and by status — they grow with the
  number of *plans*, not of subscriptions;
- small per-subscription keys for the joins that need them (several subscriptions,
  duplicates, one email over several customers, monthly→yearly): ids, a 64-bit hash of the
  email (never the email itself), start / end times and a few flags — never the objects.
  They go to a `KeyStore` (`core/report_keys.py`): in memory by default (tests), a temporary
  sqlite file in `billingops report` (`billingops/report_store.py`), so memory stays flat;
  the store hands back only the groups that matter, one at a time, at the end;
- bounded "top N" lists for the rows it shows.

Money: MRR is exact (`core.revenue`, fractions): every item of a subscription counts in its
own plan row (price), per price shape and after the subscription's discounts, in the
subscription's currency; each plan sums exact monthly amounts as they stream and is rounded
once (half-even, minor units), in `build`; every per-currency total is the sum of the
rounded plan rows, so each table adds up. Amounts of two currencies are never added. A
subscription whose amount cannot be known (metered usage, a price whose tiers or currency
option could not be read, a discount of another currency) is listed in `unknown_mrr` with
the reason, and counted in no total: never as 0.

Everything is a function of the subscriptions given and `as_of` (no clock).
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_HALF_EVEN, Decimal
from fractions import Fraction
from typing import Any, Generic, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field

from billingops.core.anomalies import (
    DAY,
    DUPLICATE_WINDOW,
    has_team_metadata,
    product_key,
    started,
)
from billingops.core.plan import monthly
from billingops.core.report_keys import InMemoryKeys, KeyStore, Member, MonthlyEnd, Yearly
from billingops.core.revenue import MRR_STATUSES, item_amounts, per_month
from billingops.models.billing import Subscription, SubscriptionItem
from billingops.models.text import email_key as _person_email

DEFAULT_TRIAL_DAYS = 7
DEFAULT_CONVERSION_WINDOW_DAYS = 31
DEFAULT_TOP = 20
SEAT_BUCKETS: tuple[tuple[str, int, int | None], ...] = (
    ("1", 1, 1),
    ("2", 2, 2),
    ("3-5", 3, 5),
    ("6-10", 6, 10),
    ("11-25", 11, 25),
    ("26-100", 26, 100),
    ("101+", 101, None),
)
RiskKind = Literal[
    "past_due", "unpaid", "incomplete", "cancel_at_period_end", "trial_ending", "failed_payment"
]
RISK_KINDS: tuple[RiskKind, ...] = (
    "past_due",
    "unpaid",
    "incomplete",
    "cancel_at_period_end",
    "trial_ending",
    "failed_payment",
)
GroupKind = Literal["duplicate_candidate", "team", "needs_human"]

CONVERSION_METHOD = (
    "A conversion is a person (same billing email, else same customer) whose monthly "
    "subscription to a product ended, was canceled or is set to cancel, and who has a "
    "yearly subscription to the same product that started within {days} days of that end. "
    "Limits: a price changed in place on one subscription (monthly item swapped for a "
    "yearly one) is not seen, because only the current price is listed; a yearly plan of "
    "another product, or a change of email between the two, is not matched; and a "
    "customer deleted since is missing from the Stripe list."
)
MRR_NOTE = (
    "MRR counts active, past-due and unpaid subscriptions (not trials, not paused "
    "collection), every item at its price's shape after discounts, annual plans per month "
    "(1/12), weekly 52/12 and daily 365/12 per month; per currency, never converted or "
    "summed across currencies. A subscription whose amount cannot be known (metered usage, "
    "...) is listed under unknown MRR, not counted."
)
# How many subscriptions of unknown MRR the report lists by id (all are counted).
UNKNOWN_SHOWN = 1000


# --- input ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Listed:
    """One subscription as the report's listing reads it (its customer's email and latest
    invoice come with it, expanded in the same page)."""

    sub: Subscription
    email: str | None = None
    plan_name: str | None = None
    # The latest invoice is open after one or more failed payment attempts.
    latest_invoice_failed: bool = False


# --- output --------------------------------------------------------------------------------


class _Row(BaseModel):
    model_config = ConfigDict(frozen=True)


class PlanRow(_Row):
    """Live subscriptions of one price (plan)."""

    product_id: str
    product_name: str | None = None
    price_id: str
    plan_name: str | None = None
    interval: str
    interval_count: int = 1
    currency: str
    unit_amount: int = 0
    live: int = 0
    trialing: int = 0
    seats: int = 0
    mrr: int = 0  # minor units of `currency`, per month
    unknown: int = 0  # live subscriptions of this price whose amount cannot be known


class UnknownMrr(_Row):
    subscription: str
    why: str


class CurrencyTotal(_Row):
    currency: str
    live: int = 0
    seats: int = 0
    mrr: int = 0


class IntervalRow(_Row):
    """`interval` is `month`, `year`, `week`, `day`, or e.g. `3 month` for other counts."""

    interval: str
    currency: str
    live: int = 0
    mrr: int = 0


class SeatBucket(_Row):
    bucket: str
    subscriptions: int = 0
    seats: int = 0


class MultiGroup(_Row):
    """Two or more live subscriptions of one person to one product."""

    kind: GroupKind
    product: str
    customer_ids: list[str]
    subscription_ids: list[str]
    span_seconds: int
    reasons: list[str] = Field(default_factory=list)


class Several(_Row):
    """Customers with several live subscriptions, and what the same-product groups look like
    under the triage rules."""

    customers: int = 0
    by_count: dict[str, int] = Field(default_factory=dict)  # "2", "3", "4+" → customers
    groups: int = 0
    duplicate_candidates: int = 0
    team: int = 0
    needs_human: int = 0
    cross_customer_groups: int = 0
    shown: list[MultiGroup] = Field(default_factory=list)


class EmailGroup(_Row):
    """Customers that share one billing email (the email is not shown)."""

    customer_ids: list[str]
    live_subscriptions: int = 0


class Conversion(_Row):
    customer_ids: list[str]
    product: str
    monthly_id: str
    yearly_id: str
    monthly_end: int
    yearly_start: int
    pending: bool = False  # the monthly one is set to cancel, not ended yet


class RiskRow(_Row):
    kind: RiskKind
    subscriptions: int = 0
    # Potential MRR per currency (what they bring or would bring per month; trials included).
    mrr: dict[str, int] = Field(default_factory=dict)


class RiskItem(_Row):
    kind: RiskKind
    subscription_id: str
    customer_id: str
    status: str
    currency: str
    mrr: int
    when: int | None = None  # trial end, period end, or latest invoice time


class Report(BaseModel):
    model_config = ConfigDict(frozen=True)

    as_of: int
    scanned: int = 0
    live: int = 0
    by_status: dict[str, int] = Field(default_factory=dict)
    plans: list[PlanRow] = Field(default_factory=list)
    currencies: list[CurrencyTotal] = Field(default_factory=list)
    intervals: list[IntervalRow] = Field(default_factory=list)
    seats: list[SeatBucket] = Field(default_factory=list)
    several: Several = Field(default_factory=Several)
    email_groups: int = 0
    email_groups_shown: list[EmailGroup] = Field(default_factory=list)
    conversions: int = 0
    conversions_pending: int = 0
    conversions_shown: list[Conversion] = Field(default_factory=list)
    conversion_window_days: int = DEFAULT_CONVERSION_WINDOW_DAYS
    conversion_method: str = ""
    risk: list[RiskRow] = Field(default_factory=list)
    risk_shown: list[RiskItem] = Field(default_factory=list)
    trial_days: int = DEFAULT_TRIAL_DAYS
    notes: list[str] = Field(default_factory=list)
    unknown_mrr_count: int = 0
    unknown_mrr: list[UnknownMrr] = Field(default_factory=list)

    def mrr_by_currency(self) -> dict[str, int]:
        return {c.currency: c.mrr for c in self.currencies}


# --- helpers -------------------------------------------------------------------------------


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


def interval_label(interval: str, count: int) -> str:
    return interval if count <= 1 else f"{count} {interval}"


def potential_mrr(sub: Subscription) -> Fraction:
    """What the subscription brings per month if it pays (trials and failures included)."""
    if sub.status in ("active", "past_due", "unpaid"):
        return monthly(sub)
    return monthly(sub.model_copy(update={"status": "active"}))


def _bucket(quantity: int) -> str:
    for name, lo, hi in SEAT_BUCKETS:
        if quantity >= lo and (hi is None or quantity <= hi):
            return name
    return SEAT_BUCKETS[0][0]


# Compact per-subscription facts kept for the joins: (sub id, customer id, started,
# quantity, flags), a `report_keys.Member`. Flags: bit 0 team metadata, bit 1 annual,
# bit 2 several items.
_Member = tuple[str, str, int, int, int]
_TEAM, _ANNUAL, _ITEMS = 1, 2, 4
_GROUP_ORDER: dict[str, int] = {"duplicate_candidate": 0, "needs_human": 1, "team": 2}


def classify_group(members: Sequence[_Member]) -> tuple[GroupKind, list[str]]:
    """The triage rules of `classify._duplicates`, on one group (no ticket text here):
    quantity > 1, seat/team metadata or started more than 48 h apart → team; otherwise an
    annual or multi-item extra needs a human; otherwise a duplicate candidate."""
    ordered = sorted(members, key=lambda m: (m[2], m[0]))
    span = ordered[-1][2] - ordered[0][2]
    team = [f"quantity {m[3]} on {m[0]}" for m in ordered if m[3] > 1]
    team += [f"seat/team metadata on {m[0]}" for m in ordered if m[4] & _TEAM]
    if span > DUPLICATE_WINDOW:
        team.append(f"started {span // DAY} days apart (more than 48 h)")
    if team:
        return "team", team
    shapes = [f"{m[0]} is annual" for m in ordered[1:] if m[4] & _ANNUAL]
    shapes += [f"{m[0]} has several items" for m in ordered[1:] if m[4] & _ITEMS]
    if shapes:
        return "needs_human", shapes
    return "duplicate_candidate", ["quantity 1 each, no seat or team metadata, within 48 h"]


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


class _Top(Generic[T]):
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


# --- the builder ---------------------------------------------------------------------------


class ReportBuilder:
    """Feed it every subscription once (`add`), then `build()` the report.

    `keys`: where the per-subscription join keys go (`InMemoryKeys` unless given; the
    command passes a sqlite-backed store so memory stays flat)."""

    def __init__(
        self,
        *,
        as_of: int,
        trial_days: int = DEFAULT_TRIAL_DAYS,
        conversion_window_days: int = DEFAULT_CONVERSION_WINDOW_DAYS,
        top: int = DEFAULT_TOP,
        keys: KeyStore | None = None,
    ) -> None:
        self.as_of = as_of
        self.trial_days = trial_days
        self.window_days = conversion_window_days
        self.top = top
        self.keys: KeyStore = keys if keys is not None else InMemoryKeys()
        self.scanned = 0
        self._status: Counter[str] = Counter()
        self._plans: dict[tuple[str, str, str, int, str], _PlanAcc] = {}
        self._seats: Counter[str] = Counter()
        self._seat_totals: Counter[str] = Counter()
        self._risk_counts: Counter[RiskKind] = Counter()
        # (kind, currency) → potential MRR, exact.
        self._risk_amounts: dict[tuple[RiskKind, str], Fraction] = {}
        self._live_by_currency: Counter[str] = Counter()
        self._seats_by_currency: Counter[str] = Counter()
        self._unknown: list[UnknownMrr] = []
        self._unknown_count = 0
        self._risk_top: _Top[tuple[RiskKind, Subscription, int | None]] = _Top(top)

    # -- ingest ---------------------------------------------------------------------------

    def add_all(self, items: Iterable[Listed]) -> ReportBuilder:
        for item in items:
            self.add(item)
        return self

    def add(self, item: Listed) -> None:
        sub = item.sub
        self.scanned += 1
        self._status[sub.status] += 1
        ekey = email_key(item.email)
        customer_id = sub.customer_id
        person: str | int = ekey if ekey is not None else "customer:" + customer_id
        product = product_key(sub)
        if ekey is not None and customer_id:
            self.keys.add_email(ekey, customer_id)
        self._conversions_in(sub, person, product)
        self._risk_in(item)
        if not sub.live:
            return
        self._plan_in(item, product)
        bucket = _bucket(sub.quantity)
        self._seats[bucket] += 1
        self._seat_totals[bucket] += sub.quantity
        flags = (
            (_TEAM if sub.metadata and has_team_metadata(sub) else 0)
            | (_ANNUAL if sub.interval == "year" else 0)
            | (_ITEMS if sub.item_count > 1 else 0)
        )
        self.keys.add_member(
            person, product, Member(sub.id, customer_id, started(sub), sub.quantity, flags)
        )

    def _plan_in(self, item: Listed, product: str) -> None:
        """Every item of the subscription in its own plan row (price)."""
        sub = item.sub
        cur = sub.currency.lower()
        self._live_by_currency[cur] += 1
        self._seats_by_currency[cur] += sub.quantity
        amounts, why = item_amounts(sub, self.as_of)
        counts = sub.status in MRR_STATUSES and not sub.collection_paused
        if why is not None and counts:
            self._unknown_count += 1
            if len(self._unknown) < UNKNOWN_SHOWN:
                self._unknown.append(UnknownMrr(subscription=sub.id, why=why))
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

    def _conversions_in(self, sub: Subscription, person: str | int, product: str) -> None:
        if sub.interval == "month" and sub.interval_count == 1:
            end: int | None = None
            pending = False
            if sub.ended:  # paused is not ended (SPEC §5c)
                end = sub.ended_at or sub.canceled_at
            elif sub.cancel_at_period_end or sub.cancel_at:
                end = sub.cancel_at or sub.current_period_end
                pending = True
            if end:
                self.keys.add_monthly_end(
                    person, product, MonthlyEnd(sub.id, sub.customer_id, end, pending)
                )
        elif sub.interval == "year" and sub.status not in ("incomplete", "incomplete_expired"):
            self.keys.add_yearly(person, product, Yearly(sub.id, sub.customer_id, started(sub)))

    def _risk_in(self, item: Listed) -> None:
        sub = item.sub
        status = sub.status
        kinds: list[tuple[RiskKind, int | None]] = []
        if status in ("past_due", "unpaid", "incomplete"):
            kinds.append((status, sub.current_period_end))  # type: ignore[arg-type]
        if sub.ending and sub.live:  # at period end, or at a date (`cancel_at`)
            kinds.append(("cancel_at_period_end", sub.cancel_at or sub.current_period_end))
        if (
            status == "trialing"
            and sub.trial_end is not None
            and self.as_of <= sub.trial_end <= self.as_of + self.trial_days * DAY
        ):
            kinds.append(("trial_ending", sub.trial_end))
        if item.latest_invoice_failed and sub.live:
            kinds.append(("failed_payment", sub.current_period_end))
        if not kinds:
            return
        cur = sub.currency.lower()
        potential = potential_mrr(sub)
        for kind, when in kinds:
            self._risk_counts[kind] += 1
            key2 = (kind, cur)
            self._risk_amounts[key2] = self._risk_amounts.get(key2, Fraction(0)) + potential
            key = (RISK_KINDS.index(kind) * 10**12 + (when or 0), sub.id)
            self._risk_top.add(key, (kind, sub, when))

    # -- results --------------------------------------------------------------------------

    def build(self, products: Mapping[str, str] | None = None) -> Report:
        names = dict(products or {})
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
        several = self._several()
        email_count, email_shown = self._email_groups()
        conversions, pending, conversions_shown = self._conversions()
        risk_mrr = self._risk_amounts
        currencies = [
            c.model_copy(
                update={
                    "live": self._live_by_currency[c.currency],
                    "seats": self._seats_by_currency[c.currency],
                }
            )
            for c in currency_totals(plans)
        ]
        return Report(
            as_of=self.as_of,
            scanned=self.scanned,
            live=sum(self._live_by_currency.values()),
            by_status=dict(sorted(self._status.items())),
            plans=plans,
            currencies=currencies,
            intervals=interval_rows(plans),
            seats=[
                SeatBucket(bucket=b, subscriptions=self._seats[b], seats=self._seat_totals[b])
                for b, _, _ in SEAT_BUCKETS
                if self._seats[b]
            ],
            several=several,
            email_groups=email_count,
            email_groups_shown=email_shown,
            conversions=conversions,
            conversions_pending=pending,
            conversions_shown=conversions_shown,
            conversion_window_days=self.window_days,
            conversion_method=CONVERSION_METHOD.format(days=self.window_days),
            risk=[
                RiskRow(
                    kind=k,
                    subscriptions=self._risk_counts[k],
                    mrr={
                        cur: round_minor(v)
                        for (kind, cur), v in sorted(risk_mrr.items())
                        if kind == k
                    },
                )
                for k in RISK_KINDS
            ],
            risk_shown=[
                RiskItem(
                    kind=kind,
                    subscription_id=sub.id,
                    customer_id=sub.customer_id,
                    status=sub.status,
                    currency=sub.currency.lower(),
                    mrr=round_minor(potential_mrr(sub)),
                    when=when,
                )
                for kind, sub, when in self._risk_top.items()
            ],
            trial_days=self.trial_days,
            notes=[MRR_NOTE],
            unknown_mrr_count=self._unknown_count,
            unknown_mrr=sorted(self._unknown, key=lambda u: u.subscription),
        )

    def _several(self) -> Several:
        per_customer: Counter[str] = Counter()
        for n, holders in self.keys.customers_by_live_count().items():
            if n > 1:
                per_customer["4+" if n >= 4 else str(n)] += holders
        kinds: Counter[GroupKind] = Counter()
        cross = 0
        top: _Top[tuple[GroupKind, str, list[Member], list[str], list[str]]] = _Top(self.top)
        for product, held in self.keys.groups():
            kind, reasons = classify_group(held)
            kinds[kind] += 1
            members = sorted(held, key=lambda m: (m[2], m[0]))
            customers = sorted({m[1] for m in members})
            cross += len(customers) > 1
            top.add(
                (_GROUP_ORDER[kind], members[0][0]), (kind, product, members, customers, reasons)
            )
        shown = [
            MultiGroup(
                kind=kind,
                product=product,
                customer_ids=customers,
                subscription_ids=[m[0] for m in members],
                span_seconds=members[-1][2] - members[0][2],
                reasons=reasons,
            )
            for kind, product, members, customers, reasons in top.items()
        ]
        return Several(
            customers=sum(per_customer.values()),
            by_count={k: per_customer[k] for k in ("2", "3", "4+") if per_customer[k]},
            groups=sum(kinds.values()),
            duplicate_candidates=kinds["duplicate_candidate"],
            team=kinds["team"],
            needs_human=kinds["needs_human"],
            cross_customer_groups=cross,
            shown=shown,
        )

    def _email_groups(self) -> tuple[int, list[EmailGroup]]:
        count = 0
        top: _Top[list[str]] = _Top(self.top)
        for ids in self.keys.email_groups():
            count += 1
            top.add(tuple(ids), ids)
        shown = top.items()
        live = self.keys.live_counts({c for ids in shown for c in ids})
        return count, [
            EmailGroup(customer_ids=ids, live_subscriptions=sum(live.get(c, 0) for c in ids))
            for ids in shown
        ]

    def _conversions(self) -> tuple[int, int, list[Conversion]]:
        """(conversions, of which pending, the first `top` newest first)."""
        window = self.window_days * DAY
        count = pending = 0
        top: _Top[Conversion] = _Top(self.top)
        for product, yearly, ends in self.keys.conversion_candidates():
            used: set[str] = set()
            for y in sorted(yearly, key=lambda y: (y.start, y.sub_id)):
                best = min(
                    (e for e in ends if e.sub_id not in used and abs(y.start - e.end) <= window),
                    key=lambda e: (abs(y.start - e.end), e.sub_id),
                    default=None,
                )
                if best is None:
                    continue
                used.add(best.sub_id)
                count += 1
                pending += best.pending
                top.add(
                    (-y.start, y.sub_id),
                    Conversion(
                        customer_ids=sorted({y.customer_id, best.customer_id}),
                        product=product,
                        monthly_id=best.sub_id,
                        yearly_id=y.sub_id,
                        monthly_end=best.end,
                        yearly_start=y.start,
                        pending=best.pending,
                    ),
                )
        return count, pending, top.items()


def currency_totals(plans: Iterable[PlanRow]) -> list[CurrencyTotal]:
    """Per currency: the sums of the plan rows of that currency only."""
    acc: dict[str, list[int]] = {}
    for p in plans:
        t = acc.setdefault(p.currency, [0, 0, 0])
        t[0] += p.live
        t[1] += p.seats
        t[2] += p.mrr
    return [
        CurrencyTotal(currency=c, live=v[0], seats=v[1], mrr=v[2]) for c, v in sorted(acc.items())
    ]


def interval_rows(plans: Iterable[PlanRow]) -> list[IntervalRow]:
    """Per currency and billing interval (monthly vs yearly and the rest)."""
    acc: dict[tuple[str, str], list[int]] = {}
    for p in plans:
        t = acc.setdefault((p.currency, interval_label(p.interval, p.interval_count)), [0, 0])
        t[0] += p.live
        t[1] += p.mrr
    order = {"month": 0, "year": 1, "week": 2, "day": 3}
    keys = sorted(acc, key=lambda k: (k[0], order.get(k[1], 9), k[1]))
    return [IntervalRow(interval=k[1], currency=k[0], live=acc[k][0], mrr=acc[k][1]) for k in keys]


def interval_mix(report: Report) -> dict[str, int]:
    """Live subscriptions per interval, all currencies (a count, not money)."""
    out: Counter[str] = Counter()
    for row in report.intervals:
        out[row.interval] += row.live
    order = {"month": 0, "year": 1, "week": 2, "day": 3}
    return dict(sorted(out.items(), key=lambda kv: (order.get(kv[0], 9), kv[0])))


def plan_mix(report: Report, limit: int = 8) -> list[tuple[str, int]]:
    """Live subscriptions per plan for the pie chart: the largest `limit`, then "other"."""
    rows = sorted(report.plans, key=lambda p: (-p.live, p.price_id))
    out = [(plan_title(p), p.live) for p in rows[:limit]]
    rest = sum(p.live for p in rows[limit:])
    if rest:
        out.append(("other plans", rest))
    return out


def plan_title(p: PlanRow) -> str:
    product = p.product_name or p.product_id
    plan = p.plan_name or p.price_id
    every = interval_label(p.interval, p.interval_count)
    return f"{product} · {plan} ({p.currency.upper()}/{every})"
