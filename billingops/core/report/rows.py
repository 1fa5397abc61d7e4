"""The report's rows: what a subscription looks like coming in (`Listed`) and every row
and total of the `Report` going out, with the row arithmetic the formats share (per
currency, per interval, the plan mix). Pure data; the builder fills it."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from billingops.models.billing import Subscription

DEFAULT_TRIAL_DAYS = 7
DEFAULT_CONVERSION_WINDOW_DAYS = 31
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


def interval_label(interval: str, count: int) -> str:
    return interval if count <= 1 else f"{count} {interval}"


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
