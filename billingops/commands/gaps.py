"""`billingops gaps`: the open product gaps ranked for grooming, and `--sync` to repair their
ticket lists (SPEC §7).

Ranking: most linked tickets first; ties go to the larger revenue at risk in the main
currency (the one most linked tickets pay in; amounts in different currencies are never
added up), then to the older issue.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import click

from billingops.commands.common import (
    _wiring,
    dry_run_option,
    json_option,
    print_json,
)
from billingops.errors import BadInput, BillingopsError, ExitStatus, error_fields

if TYPE_CHECKING:
    from billingops.core.backlog import GapIssue
    from billingops.desk.backlog import SyncChange


def rank(gaps: list[GapIssue]) -> list[GapIssue]:
    """Most tickets, then most revenue in the main currency, then the oldest issue."""
    main = main_currency(gaps)
    return sorted(
        gaps,
        key=lambda g: (-len(g.tickets), -_revenue(g).get(main, 0), g.number),
    )


def main_currency(gaps: list[GapIssue]) -> str:
    counts: dict[str, int] = {}
    for g in gaps:
        for t in g.tickets:
            for cur in t.revenue:
                counts[cur] = counts.get(cur, 0) + 1
    return min(counts, key=lambda c: (-counts[c], c)) if counts else ""


def _revenue(g: GapIssue) -> dict[str, int]:
    from billingops.core.backlog import total_revenue

    return total_revenue(g.tickets)


def gap_rows(gaps: list[GapIssue]) -> list[dict[str, Any]]:
    """The `--json` shape of each open gap, ranked."""
    from billingops.core.backlog import gap_title

    return [
        {
            "rank": n,
            "key": g.key,
            "issue": g.number,
            "title": gap_title(g.key),
            "url": g.issue.html_url,
            "tickets": len(g.tickets),
            "revenue_at_risk": _revenue(g),
            "linked": [
                {"repository": t.repository, "number": t.number, "revenue": dict(t.revenue)}
                for t in g.tickets
            ],
        }
        for n, g in enumerate(rank(gaps), 1)
    ]


def _sync_rows(changes: list[SyncChange]) -> list[dict[str, Any]]:
    return [
        {
            "key": c.key,
            "issue": c.issue,
            "status": c.status,
            "added": list(c.added),
            "removed": list(c.removed),
        }
        for c in changes
    ]


def _table(repository: str, rows: list[dict[str, Any]]) -> None:
    from rich.console import Console
    from rich.table import Table

    from billingops.core.money import format_totals

    console = Console(highlight=False, soft_wrap=False)
    if not rows:
        console.print(f"No open product gaps in {repository}.", markup=False)
        return
    table = Table(title=f"Product gaps in {repository}", title_justify="left")
    table.add_column("#", justify="right")
    table.add_column("Gap")
    table.add_column("Issue", justify="right")
    table.add_column("Tickets", justify="right")
    table.add_column("Revenue at risk / month", justify="right")
    for r in rows:
        table.add_row(
            str(r["rank"]),
            r["key"],
            f"#{r['issue']}",
            str(r["tickets"]),
            format_totals(r["revenue_at_risk"], "—"),
            # Every value is ours or GitHub's; no markup is interpreted anyway.
        )
    console.print(table)


def _markdown(repository: str, rows: list[dict[str, Any]]) -> str:
    from billingops.core.render import _tidy, environment

    template = environment().get_template("gaps_report.md.j2")
    return _tidy(template.render(repository=repository, rows=rows))


@click.command(name="gaps")
@json_option
@click.option("--markdown", is_flag=True, help="Print a Markdown table (for an issue or a doc).")
@click.option(
    "--sync",
    is_flag=True,
    help="Rebuild every open gap issue's ticket list from the tickets' triage comments.",
)
@dry_run_option
@click.pass_context
def command(ctx: click.Context, as_json: bool, markdown: bool, sync: bool, dry_run: bool) -> int:
    """List open product gaps ranked by tickets and revenue at risk; --sync repairs them."""
    if as_json and markdown:
        raise BadInput("choose one of --json and --markdown")
    if dry_run and not sync:
        raise BadInput("--dry-run only applies to --sync")
    repository = ""
    try:
        from billingops.desk.backlog import Backlog

        wiring = _wiring(ctx)
        wiring.require(github=True, repository=True)
        support = wiring.repository()
        tracker = wiring.tracker(support)
        desk = wiring.config.private_repository
        if desk and desk.lower() != support.lower():
            from billingops.core.audience import Audience, audience_of

            # A public repository's tickets are triaged in the private desk, which files
            # their gaps there (SPEC §5b): one `GET /repos` says which this is.
            if audience_of(tracker.visibility(), wiring.config) is Audience.public:
                support, tracker = desk, tracker.for_repository(desk)
        backlog = Backlog(tracker, wiring.config, support)
        repository = backlog.repository
        changes = backlog.sync(tracker, dry_run=dry_run) if sync else None
        rows = gap_rows(backlog.open_gaps())
    except BillingopsError as exc:
        if as_json:
            print_json(
                ctx, {"repository": repository or None, **error_fields(exc.status, str(exc))}
            )
        raise
    if as_json:
        out: dict[str, Any] = {"action": "gaps", "repository": repository, "gaps": rows}
        if changes is not None:
            out["sync"] = _sync_rows(changes)
        print_json(ctx, out)
        return ExitStatus.OK
    for text in backlog.would_write:
        click.echo(text)
    if markdown:
        click.echo(_markdown(repository, rows), nl=False)
    else:
        _table(repository, rows)
    for c in changes or []:
        detail = (
            ", ".join([f"+{x}" for x in c.added] + [f"-{x}" for x in c.removed])
            or "no ticket added or removed"
        )
        click.echo(f"billingops: sync #{c.issue} gap:{c.key}: {c.status} ({detail})", err=True)
    return ExitStatus.OK
