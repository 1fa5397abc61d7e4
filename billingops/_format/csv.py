"""`--format csv`: one tidy table for spreadsheets, a row per figure:
`section, item, interval, currency, metric, value`. Money is in major units of `currency`
(a decimal string), never summed across currencies."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from typing import Any

from billingops.core.audit import Audit
from billingops.core.money import to_major
from billingops.core.report import Report, interval_label

HEADER = ("section", "item", "interval", "currency", "metric", "value")
Row = tuple[str, str, str, str, str, str]


def _money(amount: int, currency: str) -> str:
    return str(to_major(amount, currency))


def report_rows(r: Report) -> Iterator[Row]:
    for status, n in r.by_status.items():
        yield ("status", status, "", "", "subscriptions", str(n))
    for p in r.plans:
        item = f"{p.product_name or p.product_id} / {p.plan_name or p.price_id}"
        every = interval_label(p.interval, p.interval_count)
        yield ("plan", item, every, p.currency, "live", str(p.live))
        yield ("plan", item, every, p.currency, "trialing", str(p.trialing))
        yield ("plan", item, every, p.currency, "seats", str(p.seats))
        yield ("plan", item, every, p.currency, "mrr", _money(p.mrr, p.currency))
    for c in r.currencies:
        yield ("currency_total", c.currency, "", c.currency, "live", str(c.live))
        yield ("currency_total", c.currency, "", c.currency, "mrr", _money(c.mrr, c.currency))
    for u in r.unknown_mrr:
        yield ("unknown_mrr", u.subscription, "", "", "why", u.why)
    for i in r.intervals:
        yield ("interval", i.interval, i.interval, i.currency, "live", str(i.live))
        yield ("interval", i.interval, i.interval, i.currency, "mrr", _money(i.mrr, i.currency))
    for s in r.seats:
        yield ("seats", s.bucket, "", "", "subscriptions", str(s.subscriptions))
        yield ("seats", s.bucket, "", "", "seats", str(s.seats))
    sev = r.several
    for metric, n in (
        ("customers", sev.customers),
        ("same_product_groups", sev.groups),
        ("duplicate_candidates", sev.duplicate_candidates),
        ("team", sev.team),
        ("needs_human", sev.needs_human),
        ("cross_customer_groups", sev.cross_customer_groups),
        ("email_over_several_customers", r.email_groups),
    ):
        yield ("several", "", "", "", metric, str(n))
    yield ("conversion", "monthly_to_yearly", "", "", "count", str(r.conversions))
    yield ("conversion", "monthly_to_yearly", "", "", "pending", str(r.conversions_pending))
    for risk in r.risk:
        yield ("risk", risk.kind, "", "", "subscriptions", str(risk.subscriptions))
        for cur, amount in risk.mrr.items():
            yield ("risk", risk.kind, "", cur, "mrr", _money(amount, cur))


def audit_rows(a: Audit) -> Iterator[Row]:
    for c in a.cases:
        yield ("case", c.case, "", "", "open", str(c.open))
        yield ("case", c.case, "", "", "closed", str(c.closed))
    for d in a.durations:
        yield ("time", d.measure, "", "", "measured", str(d.measured))
        for metric in ("median", "p90", "max"):
            value = getattr(d, metric)
            shown = "" if value is None else str(value)
            yield ("time", d.measure, "", "", f"{metric}_seconds", shown)
    yield ("refunds", "", "", "", "count", str(a.refunds))
    for cur, amount in a.refunded.items():
        yield ("refunds", "", "", cur, "amount", _money(amount, cur))
    yield ("cancellations", "", "", "", "count", str(a.cancellations))
    yield ("cancellations", "", "", "", "at_period_end", str(a.cancellations_at_period_end))
    for g in a.gaps:
        yield ("gap", g.key, "", "", "tickets", str(g.tickets))


def _cell(value: str) -> str:
    """No formula injection: a spreadsheet must not evaluate a product name."""
    return "'" + value if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value


def _write(rows: Iterator[Row]) -> str:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(HEADER)
    writer.writerows(tuple(_cell(v) for v in row) for row in rows)
    return buf.getvalue()


class CsvFormat:
    def report(self, report: Report, *, listing: dict[str, Any] | None = None) -> str:
        return _write(report_rows(report))

    def audit(self, audit: Audit) -> str:
        return _write(audit_rows(audit))


FORMAT_CLASS = CsvFormat
