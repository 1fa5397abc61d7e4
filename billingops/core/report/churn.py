"""Churn risk in the report: subscriptions past due, unpaid, incomplete, set to cancel,
with a trial ending soon or a failed latest invoice; counted per kind, their potential MRR
per currency (exact, rounded once), and the first N by kind and date."""

from __future__ import annotations

from collections import Counter
from fractions import Fraction

from billingops.core.anomalies import DAY
from billingops.core.report.aggregation import Top, potential_mrr, round_minor
from billingops.core.report.rows import RISK_KINDS, Listed, RiskItem, RiskKind, RiskRow
from billingops.models.billing import Subscription


class RiskTally:
    def __init__(self, *, as_of: int, trial_days: int, top: int) -> None:
        self.as_of = as_of
        self.trial_days = trial_days
        self._counts: Counter[RiskKind] = Counter()
        # (kind, currency) → potential MRR, exact.
        self._amounts: dict[tuple[RiskKind, str], Fraction] = {}
        self._top: Top[tuple[RiskKind, Subscription, int | None]] = Top(top)

    def add(self, item: Listed) -> None:
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
            self._counts[kind] += 1
            key2 = (kind, cur)
            self._amounts[key2] = self._amounts.get(key2, Fraction(0)) + potential
            key = (RISK_KINDS.index(kind) * 10**12 + (when or 0), sub.id)
            self._top.add(key, (kind, sub, when))

    # -- results --------------------------------------------------------------------------

    def rows(self) -> list[RiskRow]:
        return [
            RiskRow(
                kind=k,
                subscriptions=self._counts[k],
                mrr={
                    cur: round_minor(v)
                    for (kind, cur), v in sorted(self._amounts.items())
                    if kind == k
                },
            )
            for k in RISK_KINDS
        ]

    def shown(self) -> list[RiskItem]:
        return [
            RiskItem(
                kind=kind,
                subscription_id=sub.id,
                customer_id=sub.customer_id,
                status=sub.status,
                currency=sub.currency.lower(),
                mrr=round_minor(potential_mrr(sub)),
                when=when,
            )
            for kind, sub, when in self._top.items()
        ]
