"""The account report (`billingops report`): pure, streaming aggregation of subscriptions.

`ReportBuilder.add` is called once per subscription as the listing streams in, and keeps:

- bounded aggregates: counters keyed by plan (price) and by status — they grow with the
  number of *plans*, not of subscriptions;
- small per-customer keys for the joins that need them (several subscriptions, duplicates,
  one email over several customers, monthly→yearly): ids, a 64-bit hash of the email
  (never the email itself), start / end times and a few flags — never the objects;
- bounded "top N" lists (heaps) for the rows it shows.

Money: MRR is exact (`plan.monthly`, fractions) per plan, rounded once per plan (half-even,
minor units); every per-currency total is the sum of the rounded plan rows, so each table
adds up. Amounts of two currencies are never added: there is no cross-currency total.

Everything is a function of the subscriptions given and `as_of` (no clock).
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Decimal
from fractions import Fraction
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from billingops.core.anomalies import (
    DAY,
    DUPLICATE_WINDOW,
    has_team_metadata,
    product_key,
    started,
)
from billingops.core.plan import monthly
from billingops.models.billing import Subscription

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
    "MRR counts active, past-due and unpaid subscriptions (not trials), annual plans per "
    "month (1/12), weekly 52/12 and daily 365/12 per month; per currency, never converted "
    "or summed across currencies."
)


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

    def mrr_by_currency(self) -> dict[str, int]:
        return {c.currency: c.mrr for c in self.currencies}


# --- helpers -------------------------------------------------------------------------------


def round_minor(x: Fraction) -> int:
    """Half-even on an exact value, as the plan's revenue impact rounds."""
    q = Decimal(x.numerator) / Decimal(x.denominator)
    return int(q.quantize(Decimal(1), rounding=ROUND_HALF_EVEN))


def email_key(email: str | None) -> int | None:
    """A 64-bit key of the normalised email, as `anomalies.person_key` normalises it
    (strip, lower case). The report keeps this, never the address."""
    if not email or not email.strip():
        return None
    digest = hashlib.blake2b(email.strip().lower().encode("utf-8"), digest_size=8).digest()
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
# quantity, flags). Flags: bit 0 team metadata, bit 1 annual, bit 2 several items.
_Member = tuple[str, str, int, int, int]
_TEAM, _ANNUAL, _ITEMS = 1, 2, 4


def classify_group(members: list[_Member]) -> tuple[GroupKind, list[str]]:
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
    mrr: Fraction = Fraction(0)


class _Top:
    """The `n` smallest items by key: at most 2n held, whatever the stream's length."""

    def __init__(self, n: int) -> None:
        self.n = n
        self._held: list[tuple[tuple[int, str], RiskItem]] = []

    def add(self, key: tuple[int, str], item: RiskItem) -> None:
        if self.n <= 0:
            return
        self._held.append((key, item))
        if len(self._held) > 2 * self.n:
            self._trim()

    def _trim(self) -> None:
        self._held.sort(key=lambda kv: kv[0])
        del self._held[self.n :]

    def items(self) -> list[RiskItem]:
        self._trim()
        return [item for _, item in self._held]


# --- the builder ---------------------------------------------------------------------------


class ReportBuilder:
    """Feed it every subscription once (`add`), then `build()` the report."""

    def __init__(
        self,
        *,
        as_of: int,
        trial_days: int = DEFAULT_TRIAL_DAYS,
        conversion_window_days: int = DEFAULT_CONVERSION_WINDOW_DAYS,
        top: int = DEFAULT_TOP,
    ) -> None:
        self.as_of = as_of
        self.trial_days = trial_days
        self.window_days = conversion_window_days
        self.top = top
        self.scanned = 0
        self._status: Counter[str] = Counter()
        self._plans: dict[tuple[str, str, str, int, str], _PlanAcc] = {}
        self._seats: Counter[str] = Counter()
        self._seat_totals: Counter[str] = Counter()
        # Joins: small keys only.
        self._live_per_customer: Counter[str] = Counter()
        self._groups: dict[tuple[str | int, str], _Member | list[_Member]] = {}
        self._email_first: dict[int, str] = {}  # email key → first customer id
        self._email_more: dict[int, set[str]] = {}  # only for emails with 2+ customers
        self._monthly_ends: dict[tuple[str | int, str], list[tuple[str, str, int, bool]]] = {}
        self._yearly: dict[tuple[str | int, str], list[tuple[str, str, int]]] = {}
        self._risk_counts: Counter[RiskKind] = Counter()
        self._risk_mrr: dict[tuple[RiskKind, str], Fraction] = {}
        self._risk_top = _Top(top)

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
        person: str | int = ekey if ekey is not None else "customer:" + sub.customer_id
        product = product_key(sub)
        if ekey is not None and sub.customer_id:
            self._note_email(ekey, sub.customer_id)
        self._conversions_in(sub, person, product)
        self._risk_in(item)
        if not sub.live:
            return
        self._plan_in(item)
        bucket = _bucket(sub.quantity)
        self._seats[bucket] += 1
        self._seat_totals[bucket] += sub.quantity
        self._live_per_customer[sub.customer_id] += 1
        flags = (
            (_TEAM if has_team_metadata(sub) else 0)
            | (_ANNUAL if sub.interval == "year" else 0)
            | (_ITEMS if sub.item_count > 1 else 0)
        )
        member: _Member = (sub.id, sub.customer_id, started(sub), sub.quantity, flags)
        key = (person, product)
        held = self._groups.get(key)
        if held is None:
            self._groups[key] = member
        elif isinstance(held, list):
            held.append(member)
        else:
            self._groups[key] = [held, member]

    def _note_email(self, ekey: int, customer_id: str) -> None:
        first = self._email_first.setdefault(ekey, customer_id)
        if first != customer_id:
            self._email_more.setdefault(ekey, {first}).add(customer_id)

    def _plan_in(self, item: Listed) -> None:
        sub = item.sub
        key = (
            product_key(sub),
            sub.price_id or "(no price)",
            sub.interval,
            max(sub.interval_count, 1),
            sub.currency.lower(),
        )
        acc = self._plans.get(key)
        if acc is None:
            acc = self._plans[key] = _PlanAcc(
                product_id=key[0],
                price_id=key[1],
                plan_name=item.plan_name,
                interval=sub.interval,
                interval_count=key[3],
                currency=key[4],
                unit_amount=sub.unit_amount,
            )
        # One price has one amount; older data may disagree: keep the same answer in any order.
        acc.unit_amount = min(acc.unit_amount, sub.unit_amount)
        if item.plan_name and (acc.plan_name is None or item.plan_name < acc.plan_name):
            acc.plan_name = item.plan_name
        acc.live += 1
        acc.trialing += sub.status == "trialing"
        acc.seats += sub.quantity
        acc.mrr += monthly(sub)

    def _conversions_in(self, sub: Subscription, person: str | int, product: str) -> None:
        if sub.interval == "month" and sub.interval_count == 1:
            end: int | None = None
            pending = False
            if not sub.live:
                end = sub.ended_at or sub.canceled_at
            elif sub.cancel_at_period_end or sub.cancel_at:
                end = sub.cancel_at or sub.current_period_end
                pending = True
            if end:
                self._monthly_ends.setdefault((person, product), []).append(
                    (sub.id, sub.customer_id, end, pending)
                )
        elif sub.interval == "year" and sub.status not in ("incomplete", "incomplete_expired"):
            self._yearly.setdefault((person, product), []).append(
                (sub.id, sub.customer_id, started(sub))
            )

    def _risk_in(self, item: Listed) -> None:
        sub = item.sub
        kinds: list[tuple[RiskKind, int | None]] = []
        if sub.status in ("past_due", "unpaid", "incomplete"):
            kinds.append((sub.status, sub.current_period_end))  # type: ignore[arg-type]
        if sub.live and sub.cancel_at_period_end:
            kinds.append(("cancel_at_period_end", sub.cancel_at or sub.current_period_end))
        horizon = self.as_of + self.trial_days * DAY
        if (
            sub.status == "trialing"
            and sub.trial_end is not None
            and self.as_of <= sub.trial_end <= horizon
        ):
            kinds.append(("trial_ending", sub.trial_end))
        if sub.live and item.latest_invoice_failed:
            kinds.append(("failed_payment", sub.current_period_end))
        if not kinds:
            return
        value = potential_mrr(sub)
        cur = sub.currency.lower()
        for kind, when in kinds:
            self._risk_counts[kind] += 1
            self._risk_mrr[(kind, cur)] = self._risk_mrr.get((kind, cur), Fraction(0)) + value
            risk = RiskItem(
                kind=kind,
                subscription_id=sub.id,
                customer_id=sub.customer_id,
                status=sub.status,
                currency=cur,
                mrr=round_minor(value),
                when=when,
            )
            self._risk_top.add((RISK_KINDS.index(kind) * 10**12 + (when or 0), sub.id), risk)

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
                mrr=round_minor(a.mrr),
            )
            for a in self._plans.values()
        ]
        plans.sort(key=lambda p: (p.currency, -p.mrr, -p.live, p.product_id, p.price_id))
        several = self._several()
        emails = sorted(sorted(ids) for ids in self._email_more.values())
        conversions = self._conversions()
        return Report(
            as_of=self.as_of,
            scanned=self.scanned,
            live=sum(p.live for p in plans),
            by_status=dict(sorted(self._status.items())),
            plans=plans,
            currencies=currency_totals(plans),
            intervals=interval_rows(plans),
            seats=[
                SeatBucket(bucket=b, subscriptions=self._seats[b], seats=self._seat_totals[b])
                for b, _, _ in SEAT_BUCKETS
                if self._seats[b]
            ],
            several=several,
            email_groups=len(emails),
            email_groups_shown=[
                EmailGroup(
                    customer_ids=ids,
                    live_subscriptions=sum(self._live_per_customer[c] for c in ids),
                )
                for ids in emails[: self.top]
            ],
            conversions=len(conversions),
            conversions_pending=sum(c.pending for c in conversions),
            conversions_shown=conversions[: self.top],
            conversion_window_days=self.window_days,
            conversion_method=CONVERSION_METHOD.format(days=self.window_days),
            risk=[
                RiskRow(
                    kind=k,
                    subscriptions=self._risk_counts[k],
                    mrr={
                        cur: round_minor(v)
                        for (kind, cur), v in sorted(self._risk_mrr.items())
                        if kind == k
                    },
                )
                for k in RISK_KINDS
            ],
            risk_shown=self._risk_top.items(),
            trial_days=self.trial_days,
            notes=[MRR_NOTE],
        )

    def _several(self) -> Several:
        per_customer = Counter(
            "4+" if n >= 4 else str(n) for n in self._live_per_customer.values() if n > 1
        )
        kinds: Counter[GroupKind] = Counter()
        cross = 0
        shown: list[MultiGroup] = []
        for (_, product), held in self._groups.items():
            if not isinstance(held, list):
                continue
            kind, reasons = classify_group(held)
            kinds[kind] += 1
            members = sorted(held, key=lambda m: (m[2], m[0]))
            customers = sorted({m[1] for m in members})
            cross += len(customers) > 1
            shown.append(
                MultiGroup(
                    kind=kind,
                    product=product,
                    customer_ids=customers,
                    subscription_ids=[m[0] for m in members],
                    span_seconds=members[-1][2] - members[0][2],
                    reasons=reasons,
                )
            )
        order: dict[str, int] = {"duplicate_candidate": 0, "needs_human": 1, "team": 2}
        shown.sort(key=lambda g: (order[g.kind], g.subscription_ids[0]))
        return Several(
            customers=sum(per_customer.values()),
            by_count={k: per_customer[k] for k in ("2", "3", "4+") if per_customer[k]},
            groups=sum(kinds.values()),
            duplicate_candidates=kinds["duplicate_candidate"],
            team=kinds["team"],
            needs_human=kinds["needs_human"],
            cross_customer_groups=cross,
            shown=shown[: self.top],
        )

    def _conversions(self) -> list[Conversion]:
        window = self.window_days * DAY
        out: list[Conversion] = []
        for key, yearly in self._yearly.items():
            ends = self._monthly_ends.get(key)
            if not ends:
                continue
            used: set[str] = set()
            for y_id, y_cus, y_start in sorted(yearly, key=lambda y: (y[2], y[0])):
                best = min(
                    (e for e in ends if e[0] not in used and abs(y_start - e[2]) <= window),
                    key=lambda e: (abs(y_start - e[2]), e[0]),
                    default=None,
                )
                if best is None:
                    continue
                used.add(best[0])
                out.append(
                    Conversion(
                        customer_ids=sorted({y_cus, best[1]}),
                        product=key[1],
                        monthly_id=best[0],
                        yearly_id=y_id,
                        monthly_end=best[2],
                        yearly_start=y_start,
                        pending=best[3],
                    )
                )
        out.sort(key=lambda c: (-c.yearly_start, c.yearly_id))
        return out


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
