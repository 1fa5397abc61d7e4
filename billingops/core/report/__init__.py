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

One module per concern: `rows` (the input `Listed` and the `Report`'s rows), `aggregation`
(exact money per plan, seat buckets, bounded top-N lists), `churn` (churn risk), `groups`
(the joins over the key store: several subscriptions, shared emails, conversions) and
`builder` (`ReportBuilder`, which feeds them). This package re-exports what callers use.
"""

from billingops.core.report.aggregation import (
    UNKNOWN_SHOWN,
    email_key,
    potential_mrr,
    round_minor,
)
from billingops.core.report.builder import (
    CONVERSION_METHOD,
    DEFAULT_TOP,
    MRR_NOTE,
    ReportBuilder,
)
from billingops.core.report.groups import classify_group
from billingops.core.report.rows import (
    DEFAULT_CONVERSION_WINDOW_DAYS,
    DEFAULT_TRIAL_DAYS,
    RISK_KINDS,
    SEAT_BUCKETS,
    Conversion,
    CurrencyTotal,
    EmailGroup,
    GroupKind,
    IntervalRow,
    Listed,
    MultiGroup,
    PlanRow,
    Report,
    RiskItem,
    RiskKind,
    RiskRow,
    SeatBucket,
    Several,
    UnknownMrr,
    currency_totals,
    interval_label,
    interval_mix,
    interval_rows,
    plan_mix,
    plan_title,
)

__all__ = [
    "CONVERSION_METHOD",
    "DEFAULT_CONVERSION_WINDOW_DAYS",
    "DEFAULT_TOP",
    "DEFAULT_TRIAL_DAYS",
    "MRR_NOTE",
    "RISK_KINDS",
    "SEAT_BUCKETS",
    "UNKNOWN_SHOWN",
    "Conversion",
    "CurrencyTotal",
    "EmailGroup",
    "GroupKind",
    "IntervalRow",
    "Listed",
    "MultiGroup",
    "PlanRow",
    "Report",
    "ReportBuilder",
    "RiskItem",
    "RiskKind",
    "RiskRow",
    "SeatBucket",
    "Several",
    "UnknownMrr",
    "classify_group",
    "currency_totals",
    "email_key",
    "interval_label",
    "interval_mix",
    "interval_rows",
    "plan_mix",
    "plan_title",
    "potential_mrr",
    "round_minor",
]
