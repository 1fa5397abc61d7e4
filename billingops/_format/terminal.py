"""The terminal view: rich tables (progress is drawn by the command, on stderr)."""

from __future__ import annotations

import io
import shutil
from typing import Any

from rich.console import Console
from rich.table import Table

from billingops.core.audit import Audit, human_duration
from billingops.core.money import format_money, format_totals
from billingops.core.report import Report, interval_label

GROUP_TITLES = {
    "duplicate_candidate": "duplicate?",
    "team": "team",
    "needs_human": "human",
}


def _table(title: str, *columns: str, right: tuple[str, ...] = ()) -> Table:
    table = Table(title=title, title_justify="left", show_edge=False, pad_edge=False)
    for c in columns:
        table.add_column(c, justify="right" if c in right else "left", overflow="fold")
    return table


class TerminalFormat:
    def __init__(self, *, color: bool = False, width: int | None = None) -> None:
        self.color = color
        # The terminal's width ($COLUMNS, else the tty's); 120 when not a terminal.
        self.width = width or shutil.get_terminal_size(fallback=(120, 24)).columns

    def _console(self) -> tuple[Console, io.StringIO]:
        buf = io.StringIO()
        console = Console(
            file=buf,
            width=self.width,
            force_terminal=self.color,
            no_color=not self.color,
            highlight=False,
            emoji=False,
            markup=False,
        )
        return console, buf

    def report(self, report: Report, *, listing: dict[str, Any] | None = None) -> str:
        r = report
        console, buf = self._console()
        read = f"{r.scanned} subscriptions read, {r.live} live"
        if listing:
            read += f" ({listing['pages']} pages, {listing['requests']} requests"
            read += f", {listing['throttled']} rate-limited)" if listing.get("throttled") else ")"
        console.print(f"Billing report, {_date(r.as_of)} UTC: {read}")
        for note in r.notes:
            console.print(note, style="dim")
        console.print()

        t = _table("Plans (live)", "Product", "Plan", "Every", "Cur", "Live", "Trial", "Seats",
                   "MRR", right=("Live", "Trial", "Seats", "MRR"))  # fmt: skip
        for p in r.plans:
            t.add_row(
                p.product_name or p.product_id,
                p.plan_name or p.price_id,
                interval_label(p.interval, p.interval_count),
                p.currency.upper(),
                str(p.live),
                str(p.trialing),
                str(p.seats),
                format_money(p.mrr, p.currency),
            )
        console.print(t)
        t = _table("Per currency (never summed across)", "Currency", "Live", "Seats", "MRR",
                   right=("Live", "Seats", "MRR"))  # fmt: skip
        for c in r.currencies:
            mrr = format_money(c.mrr, c.currency)
            t.add_row(c.currency.upper(), str(c.live), str(c.seats), mrr)
        console.print(t)
        if r.unknown_mrr_count:
            shown = "; ".join(f"{u.subscription}: {u.why}" for u in r.unknown_mrr[:5])
            more = r.unknown_mrr_count - min(len(r.unknown_mrr), 5)
            tail = f" (+{more} more)" if more > 0 else ""
            console.print(
                f"MRR not known for {r.unknown_mrr_count} subscription(s), in no total: "
                f"{shown}{tail}",
                markup=False,
            )
        t = _table("Monthly vs yearly", "Interval", "Cur", "Live", "MRR", right=("Live", "MRR"))
        for i in r.intervals:
            t.add_row(i.interval, i.currency.upper(), str(i.live), format_money(i.mrr, i.currency))
        console.print(t)
        console.print(
            f"Monthly → yearly conversions: {r.conversions}"
            f" ({r.conversions_pending} pending), window {r.conversion_window_days} days."
        )
        console.print(r.conversion_method, style="dim")
        console.print()

        t = _table("Seats per subscription", "Seats", "Subscriptions", "Total seats",
                   right=("Subscriptions", "Total seats"))  # fmt: skip
        for s in r.seats:
            t.add_row(s.bucket, str(s.subscriptions), str(s.seats))
        console.print(t)

        sev = r.several
        console.print(
            f"Customers with several live subscriptions: {sev.customers}; same-product groups: "
            f"{sev.duplicate_candidates} duplicate candidates, {sev.team} team, "
            f"{sev.needs_human} for a human ({sev.cross_customer_groups} across customers); "
            f"one email over several customers: {r.email_groups}."
        )
        if sev.shown:
            t = _table("Same person, same product", "Kind", "Product", "Customers",
                       "Subscriptions", "Why")  # fmt: skip
            for g in sev.shown:
                t.add_row(
                    GROUP_TITLES[g.kind],
                    g.product,
                    ", ".join(g.customer_ids),
                    ", ".join(g.subscription_ids),
                    "; ".join(g.reasons),
                )
            console.print(t)
        console.print()

        t = _table("Churn risk", "Risk", "Subscriptions", "MRR at stake",
                   right=("Subscriptions", "MRR at stake"))  # fmt: skip
        for k in r.risk:
            name = k.kind.replace("_", " ")
            if k.kind == "trial_ending":
                name += f" (≤ {r.trial_days} days)"
            t.add_row(name, str(k.subscriptions), format_totals(k.mrr, "—"))
        console.print(t)
        statuses = ", ".join(f"{s} {n}" for s, n in r.by_status.items())
        console.print(f"Statuses: {statuses or 'none'}")
        return buf.getvalue()

    def audit(self, audit: Audit) -> str:
        a = audit
        console, buf = self._console()
        console.print(
            f"Billing support audit of {a.repository}: {a.issues} issues, "
            f"{a.open} open, {a.closed} closed"
        )
        t = _table("By case", "Case", "Open", "Closed", right=("Open", "Closed"))
        for c in a.cases:
            t.add_row(c.case, str(c.open), str(c.closed))
        console.print(t)
        t = _table("Time from opening", "To", "Timed", "Median", "p90", "Longest",
                   right=("Timed", "Median", "p90", "Longest"))  # fmt: skip
        for d in a.durations:
            t.add_row(
                d.description,
                str(d.measured),
                human_duration(d.median),
                human_duration(d.p90),
                human_duration(d.max),
            )
        console.print(t)
        console.print(a.limits, style="dim")
        console.print(
            f"Refunds: {a.refunds} ({format_totals(a.refunded, 'nothing')}); cancellations: "
            f"{a.cancellations} ({a.cancellations_at_period_end} at period end)"
        )
        t = _table("Top product gaps", "Gap", "Tickets", "Open", right=("Tickets", "Open"))
        for g in a.gaps:
            t.add_row(g.key, str(g.tickets), str(g.open_tickets))
        console.print(t)
        return buf.getvalue()


def _date(ts: int) -> str:
    from billingops.core.render import date

    return date(ts)


FORMAT_CLASS = TerminalFormat
