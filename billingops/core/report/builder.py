"""`ReportBuilder`: fed every subscription once as the listing streams in, it hands each to
the aggregates (plans, seats, churn risk) and its join keys to the `KeyStore`, then builds
the `Report`. Everything is a function of the subscriptions given and `as_of` (no clock)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping

from billingops.core.anomalies import has_team_metadata, product_key, started
from billingops.core.report.aggregation import PlanTally, email_key, seat_bucket
from billingops.core.report.churn import RiskTally
from billingops.core.report.groups import ANNUAL, ITEMS, TEAM, conversions, email_groups, several
from billingops.core.report.rows import (
    DEFAULT_CONVERSION_WINDOW_DAYS,
    DEFAULT_TRIAL_DAYS,
    SEAT_BUCKETS,
    Listed,
    Report,
    SeatBucket,
    currency_totals,
    interval_rows,
)
from billingops.core.report_keys import InMemoryKeys, KeyStore, Member, MonthlyEnd, Yearly
from billingops.models.billing import Subscription

DEFAULT_TOP = 20
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
        self._plans = PlanTally(as_of)
        self._risk = RiskTally(as_of=as_of, trial_days=trial_days, top=top)
        self._seats: Counter[str] = Counter()
        self._seat_totals: Counter[str] = Counter()

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
        self._risk.add(item)
        if not sub.live:
            return
        self._plans.add(item, product)
        bucket = seat_bucket(sub.quantity)
        self._seats[bucket] += 1
        self._seat_totals[bucket] += sub.quantity
        flags = (
            (TEAM if sub.metadata and has_team_metadata(sub) else 0)
            | (ANNUAL if sub.interval == "year" else 0)
            | (ITEMS if sub.item_count > 1 else 0)
        )
        self.keys.add_member(
            person, product, Member(sub.id, customer_id, started(sub), sub.quantity, flags)
        )

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

    # -- results --------------------------------------------------------------------------

    def build(self, products: Mapping[str, str] | None = None) -> Report:
        names = dict(products or {})
        plans = self._plans.rows(names)
        groups = several(self.keys, self.top)
        email_count, email_shown = email_groups(self.keys, self.top)
        converted, pending, conversions_shown = conversions(self.keys, self.window_days, self.top)
        currencies = [
            c.model_copy(
                update={
                    "live": self._plans.live_by_currency[c.currency],
                    "seats": self._plans.seats_by_currency[c.currency],
                }
            )
            for c in currency_totals(plans)
        ]
        return Report(
            as_of=self.as_of,
            scanned=self.scanned,
            live=sum(self._plans.live_by_currency.values()),
            by_status=dict(sorted(self._status.items())),
            plans=plans,
            currencies=currencies,
            intervals=interval_rows(plans),
            seats=[
                SeatBucket(bucket=b, subscriptions=self._seats[b], seats=self._seat_totals[b])
                for b, _, _ in SEAT_BUCKETS
                if self._seats[b]
            ],
            several=groups,
            email_groups=email_count,
            email_groups_shown=email_shown,
            conversions=converted,
            conversions_pending=pending,
            conversions_shown=conversions_shown,
            conversion_window_days=self.window_days,
            conversion_method=CONVERSION_METHOD.format(days=self.window_days),
            risk=self._risk.rows(),
            risk_shown=self._risk.shown(),
            trial_days=self.trial_days,
            notes=[MRR_NOTE],
            unknown_mrr_count=self._plans.unknown_count,
            unknown_mrr=sorted(self._plans.unknown, key=lambda u: u.subscription),
        )
