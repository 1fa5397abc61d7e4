"""`--format markdown`: GitHub Markdown for an issue comment or `$GITHUB_STEP_SUMMARY`,
rendered from `templates/report.md.j2` / `templates/audit.md.j2`, with Mermaid charts
(a pie for the plan mix, an `xychart-beta` bar chart for the interval mix) that GitHub
renders natively. The first line is a hidden marker, so `--post` finds and edits its own
comment instead of adding one per run.

Product and plan names come from Stripe: in tables they go through `inert` (no Markdown,
HTML or mentions); in charts they are reduced to letters, digits and a little punctuation,
so nothing can end a Mermaid string or block.
"""

from __future__ import annotations

import re
from typing import Any

from markupsafe import Markup

from billingops.core.anomalies import ago
from billingops.core.audit import Audit, human_duration
from billingops.core.money import format_money, format_totals
from billingops.core.render import _tidy, environment
from billingops.core.report import (
    GroupKind,
    Report,
    interval_label,
    interval_mix,
    plan_mix,
    plan_title,
)

REPORT_MARKER = "<!-- billingops:report v1 -->"
AUDIT_MARKER = "<!-- billingops:audit v1 -->"
_UNSAFE = re.compile(r"[^A-Za-z0-9 .,:/()+·_-]")
MAX_LABEL = 48

GROUP_TITLES: dict[GroupKind, str] = {
    "duplicate_candidate": "duplicate candidate",
    "team": "team",
    "needs_human": "needs a human",
}
RISK_TITLES = {
    "past_due": "Past due",
    "unpaid": "Unpaid",
    "incomplete": "Incomplete (first payment failed)",
    "cancel_at_period_end": "Set to cancel at period end",
    "trial_ending": "Trial ending within {days} days",
    "failed_payment": "Latest invoice open after failed attempts",
}


def chart_label(text: str) -> Markup:
    """A Mermaid-safe string body: no quotes, brackets, semicolons, `%%` or newlines."""
    cleaned = " ".join(_UNSAFE.sub(" ", text).split())[:MAX_LABEL] or "unnamed"
    return Markup(cleaned)


def _context(report: Report, listing: dict[str, Any] | None) -> dict[str, Any]:
    mix = interval_mix(report)
    return {
        "marker": Markup(REPORT_MARKER),
        "r": report,
        "listing": listing or {},
        "pie": [(chart_label(label), n) for label, n in plan_mix(report)],
        "bars": [(chart_label(k), v) for k, v in mix.items()],
        "bar_max": max([*mix.values(), 1]),
        "plan_title": plan_title,
        "interval_label": interval_label,
        "group_titles": GROUP_TITLES,
        "risk_title": lambda k: RISK_TITLES[k].format(days=report.trial_days),
        "money_of": format_money,
        "totals_of": format_totals,
        "days": ago,
    }


class MarkdownFormat:
    def report(self, report: Report, *, listing: dict[str, Any] | None = None) -> str:
        template = environment().get_template("report.md.j2")
        return _tidy(template.render(_context(report, listing)))

    def audit(self, audit: Audit) -> str:
        template = environment().get_template("audit.md.j2")
        return _tidy(
            template.render(
                marker=Markup(AUDIT_MARKER), a=audit, human=human_duration, totals_of=format_totals
            )
        )


FORMAT_CLASS = MarkdownFormat
