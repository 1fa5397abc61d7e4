"""`billingops audit`: what support did on the billing issues of the support repository
(label `billing`, open and closed): counts by case and state, time from opening to the
first answer / triage / done / close, refunds and cancellations billingops executed, and
the top product gaps. Read from GitHub only (`core/audit.py` says what can and cannot be
measured). Requests: the issue list (paged) + 2 per issue (comments, events), 4 at once.
"""

from __future__ import annotations

import sys
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING

import click

from billingops.commands.common import _wiring
from billingops.commands.report import (
    chosen_format,
    emit,
    format_option,
    post_markdown,
    post_option,
)
from billingops.errors import ExitStatus

if TYPE_CHECKING:
    from billingops._tracker.interface import IssueSnapshot, IssueTracker
    from billingops.core.audit import Audit, IssueFacts

WORKERS = 4


def collect(tracker: IssueTracker, *, label: str, top_gaps: int) -> Audit:
    from billingops.core.audit import build_audit, issue_facts

    issues = tracker.list_issues(labels=[label], state="all")

    def one(issue: IssueSnapshot) -> IssueFacts:
        return issue_facts(
            issue, tracker.read_thread(issue.number), tracker.label_events(issue.number)
        )

    with ThreadPoolExecutor(max_workers=WORKERS) as pool:
        facts = list(pool.map(one, issues))
    return build_audit(tracker.repository, facts, top_gaps=top_gaps)


@click.command("audit")
@format_option
@post_option
@click.option("--label", default="billing", show_default=True, help="Label of billing issues.")
@click.option(
    "--top-gaps", type=click.IntRange(min=0), default=10, show_default=True, help="Gaps shown."
)
@click.pass_context
def command(
    ctx: click.Context,
    fmt: str,
    as_json: bool,
    post_issue: int | None,
    label: str,
    top_gaps: int,
) -> ExitStatus:
    """Support audit of the billing issues: cases, response times, refunds, gaps."""
    from billingops._format.interface import formatter

    fmt = chosen_format(fmt, as_json)
    tracker = _wiring(ctx).tracker()
    audit = collect(tracker, label=label, top_gaps=top_gaps)
    done = None
    if post_issue is not None:
        # Posted before printing: a failed post leaves stdout to the error object alone.
        from billingops._format.markdown import AUDIT_MARKER

        body = formatter("markdown").audit(audit)
        done = post_markdown(tracker, post_issue, AUDIT_MARKER, body)
    options = {"color": sys.stdout.isatty()} if fmt == "terminal" else {}
    emit(ctx, fmt, formatter(fmt, **options).audit(audit))
    click.echo(f"billingops: audit: {audit.issues} issues of {audit.repository}", err=True)
    if done is not None:
        click.echo(f"billingops: audit {done}", err=True)
    return ExitStatus.OK
