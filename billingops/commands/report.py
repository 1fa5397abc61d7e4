"""`billingops report`: the whole Stripe account in one read-only pass: plan mix, MRR per
plan and currency, monthly vs yearly and conversions, seats, customers with several
subscriptions (duplicate candidates vs teams), one email over several customers, churn risk.

The listing streams (the SDK's 100 per page, aggregated on the fly, `core/report.py`; the
per-subscription join keys go to a temporary sqlite file, `billingops/report_store.py`, so
memory stays flat) and is split into `created` ranges fetched concurrently within
`stripe_rate_limit_per_second` (config), with backoff on 429. Only read access is needed
(subscriptions, customers, invoices, products). `--post ISSUE` puts the Markdown on an
issue, editing its own comment (found by a hidden marker) on later runs.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import click

from billingops.commands.common import _wiring
from billingops.errors import BadInput, ExitStatus

if TYPE_CHECKING:
    from billingops._billing.stripe_gateway import ListingStats, StripeGateway
    from billingops._tracker.interface import IssueTracker
    from billingops.config import Config
    from billingops.core.report import Listed, Report
    from billingops.core.report_keys import KeyStore

FORMATS = ("terminal", "markdown", "json", "csv")


def format_option(f: Callable[..., Any]) -> Callable[..., Any]:
    """`--format`, and `--json` (the same as `--format json`, as every command has it)."""
    f = click.option(
        "--json",
        "as_json",
        is_flag=True,
        help="Print exactly one JSON object on stdout, whatever happens (= --format json).",
    )(f)
    return click.option(
        "--format",
        "fmt",
        type=click.Choice(FORMATS),
        default="terminal",
        show_default=True,
        help="terminal: tables; markdown: GitHub Markdown with Mermaid charts "
        "(for an issue or $GITHUB_STEP_SUMMARY); json; csv (one tidy table).",
    )(f)


def chosen_format(fmt: str, as_json: bool) -> str:
    if as_json and fmt not in ("terminal", "json"):
        raise BadInput(f"choose one of --json and --format {fmt}")
    return "json" if as_json else fmt


def emit(ctx: click.Context, fmt: str, text: str) -> None:
    """The report or audit on stdout: JSON through the one JSON printer."""
    if fmt == "json":
        from billingops.commands.common import print_json

        print_json(ctx, text)
    else:
        click.echo(text, nl=False)


def post_option(f: Callable[..., Any]) -> Callable[..., Any]:
    return click.option(
        "--post",
        "post_issue",
        type=click.IntRange(min=1),
        metavar="ISSUE",
        help="Also put the Markdown on this issue of GITHUB_REPOSITORY (edited in place).",
    )(f)


def _refuse_public(tracker: IssueTracker, config: Config) -> None:
    from billingops.config import Config
    from billingops.core.audience import Audience, audience_of

    seen = tracker.visibility()
    # What GitHub says decides (a `staff` audience set on a public repository does not make
    # it private), and `ticket_audience: public` counts too: whoever set it says the public
    # reads this repository's tickets.
    by_github = audience_of(seen, Config()) is Audience.public
    if by_github or config.ticket_audience == "public":
        shown = seen.get("visibility") or "public"
        if not by_github:
            shown = "read by the public (ticket_audience: public)"
        raise BadInput(
            f"report: {tracker.repository} is {shown}: the report (revenue by plan) is never "
            "posted to or logged in a repository the public can read; run it locally, or "
            "post it to an issue of a private repository"
        )


def _day(value: str | None, name: str) -> int | None:
    if value is None:
        return None
    try:
        return int(datetime.strptime(value, "%Y-%m-%d").replace(tzinfo=UTC).timestamp())
    except ValueError:
        raise BadInput(f"{name} must be a date as YYYY-MM-DD, not {value!r}") from None


def post_markdown(tracker: IssueTracker, number: int, marker: str, body: str) -> str:
    """Find-by-marker, then write: edit our earlier comment, or create one. Never blindly
    retried (a retried POST could duplicate the comment). Returns what was done."""
    thread = tracker.read_thread(number)
    # Only billingops' own account's comment is ours: a look-alike is never edited.
    ours = [c for c in thread.mine() if c.body.lstrip("\ufeff \r\n").split("\n", 1)[0] == marker]
    existing = min(ours, key=lambda c: (c.created_at, c.id)) if ours else None
    if existing is None:
        tracker.create_comment(number, body)
        return f"posted on #{number}"
    if existing.body == body:
        return f"unchanged on #{number}"
    tracker.edit_comment(existing.id, body)
    return f"updated on #{number}"


def render(fmt: str, report: Report, listing: dict[str, Any] | None, *, color: bool) -> str:
    from billingops._format.interface import formatter

    options: dict[str, Any] = {"color": color} if fmt == "terminal" else {}
    return formatter(fmt, **options).report(report, listing=listing)


def build_report(
    gateway: StripeGateway,
    *,
    rate_per_second: float,
    as_of: int,
    trial_days: int,
    conversion_window_days: int,
    top: int,
    workers: int | None = None,
    since: int | None = None,
    until: int | None = None,
    on_page: Callable[[ListingStats], None] | None = None,
    keys: KeyStore | None = None,
    stats: ListingStats | None = None,
) -> tuple[Report, ListingStats]:
    """List every subscription once and aggregate it as it streams. The join keys go to
    `keys` if given, else to a temporary sqlite file deleted before returning."""
    from billingops._billing.stripe_gateway import (
        ListingStats,
        RateLimiter,
        iter_report_subscriptions,
        report_products,
    )
    from billingops.core.report import ReportBuilder

    if keys is None:
        from billingops.report_store import SqliteKeys

        with SqliteKeys() as store:
            return build_report(
                gateway,
                rate_per_second=rate_per_second,
                as_of=as_of,
                trial_days=trial_days,
                conversion_window_days=conversion_window_days,
                top=top,
                workers=workers,
                since=since,
                until=until,
                on_page=on_page,
                keys=store,
                stats=stats,
            )
    stats = stats if stats is not None else ListingStats()
    limiter = RateLimiter(rate_per_second)
    builder = ReportBuilder(
        as_of=as_of,
        trial_days=trial_days,
        conversion_window_days=conversion_window_days,
        top=top,
        keys=keys,
    )
    products = report_products(gateway, limiter, stats)
    listed: Iterable[Listed] = iter_report_subscriptions(
        gateway,
        rate_per_second=rate_per_second,
        workers=workers,
        since=since,
        until=until,
        stats=stats,
        limiter=limiter,
        on_page=on_page,
    )
    builder.add_all(listed)
    return builder.build(products), stats


def progress_line(stats: ListingStats) -> str:
    s = stats.as_dict()
    line = (
        f"{s['pages']} pages · {s['objects']} subscriptions · {s['requests']} requests · "
        f"{s['throttled']} rate-limited · {s['ranges']} ranges"
    )
    if s.get("retries"):
        line += f" · {s['retries']} retries (Stripe did not answer; retrying)"
    return line


class _Progress:
    """A progress line on stderr while paging (pages, objects, requests, 429s); nothing
    when stderr is not a terminal."""

    def __init__(self, enabled: bool, stats: ListingStats | None = None) -> None:
        self.enabled = enabled and sys.stderr.isatty()
        self.stats = stats  # read at every refresh: retries show while backing off
        self._progress: Any = None
        self._task: Any = None

    def __enter__(self) -> _Progress:
        if self.enabled:
            from rich.console import Console
            from rich.progress import (
                Progress,
                ProgressColumn,
                SpinnerColumn,
                TextColumn,
                TimeElapsedColumn,
            )
            from rich.text import Text

            stats = self.stats

            class Live(ProgressColumn):
                def render(self, task: Any) -> Text:
                    if stats is not None and stats.requests:
                        return Text(progress_line(stats))
                    return Text(str(task.description))

            self._progress = Progress(
                SpinnerColumn(),
                Live() if stats is not None else TextColumn("{task.description}"),
                TimeElapsedColumn(),
                console=Console(stderr=True),
                transient=True,
            )
            self._progress.__enter__()
            self._task = self._progress.add_task("listing subscriptions")
        return self

    def update(self, stats: ListingStats) -> None:
        if self._progress is None:
            return
        self._progress.update(self._task, description=progress_line(stats))

    def __exit__(self, *exc: object) -> None:
        if self._progress is not None:
            self._progress.__exit__(None, None, None)


@click.command("report")
@format_option
@post_option
@click.option(
    "--trial-days",
    type=click.IntRange(min=0),
    default=7,
    show_default=True,
    help="Churn risk: trials ending within this many days.",
)
@click.option(
    "--conversion-window",
    "conversion_days",
    type=click.IntRange(min=0),
    default=31,
    show_default=True,
    help="Monthly→yearly: the yearly subscription started within this many days of the "
    "monthly one's end.",
)
@click.option("--since", help="Only subscriptions created on or after this day (YYYY-MM-DD).")
@click.option("--until", help="Only subscriptions created before this day (YYYY-MM-DD).")
@click.option(
    "--rate",
    type=click.FloatRange(min=0.1),
    help="Requests per second (default: stripe_rate_limit_per_second from the config).",
)
@click.option(
    "--workers", type=click.IntRange(min=1, max=64), help="Concurrent requests (default: auto)."
)
@click.option(
    "--top", type=click.IntRange(min=0), default=20, show_default=True, help="Rows per list."
)
@click.option("--no-progress", is_flag=True, help="No progress line on stderr.")
@click.pass_context
def command(
    ctx: click.Context,
    fmt: str,
    as_json: bool,
    post_issue: int | None,
    trial_days: int,
    conversion_days: int,
    since: str | None,
    until: str | None,
    rate: float | None,
    workers: int | None,
    top: int,
    no_progress: bool,
) -> ExitStatus:
    """Plan mix, MRR, monthly vs yearly, seats, duplicates and churn risk (read-only)."""
    from billingops._billing.stripe_gateway import StripeGateway

    fmt = chosen_format(fmt, as_json)
    wiring = _wiring(ctx)
    gateway = wiring.billing()
    if not isinstance(gateway, StripeGateway):  # pragma: no cover - wiring gives one
        raise BadInput("the report needs the Stripe gateway")
    tracker = wiring.tracker() if post_issue is not None else None  # fail before listing
    in_actions = str(ctx.obj["env"].get("GITHUB_ACTIONS", "")).lower() == "true"
    if tracker is not None or in_actions:
        # The MRR by plan never goes where the public reads it: an issue comment, a run's
        # log or job summary of a public or internal repository (SPEC §5b).
        _refuse_public(tracker or wiring.tracker(), wiring.config)
    rate = rate or wiring.config.stripe_rate_limit_per_second
    started = time.monotonic()
    from billingops._billing.stripe_gateway import ListingStats

    live = ListingStats()
    with _Progress(not no_progress, live) as progress:
        report, stats = build_report(
            gateway,
            rate_per_second=rate,
            as_of=int(gateway._clock()),
            trial_days=trial_days,
            conversion_window_days=conversion_days,
            top=top,
            workers=workers,
            since=_day(since, "--since"),
            until=_day(until, "--until"),
            on_page=progress.update,
            stats=live,
        )
    listing = stats.as_dict()
    posted = None
    if tracker is not None and post_issue is not None:
        # Posted before printing: a failed post leaves stdout to the error object alone.
        from billingops._format.markdown import REPORT_MARKER

        body = render("markdown", report, listing, color=False)
        posted = post_markdown(tracker, post_issue, REPORT_MARKER, body)
    emit(ctx, fmt, render(fmt, report, listing, color=sys.stdout.isatty()))
    s = listing
    click.echo(
        f"billingops: report: {report.scanned} subscriptions in {s['pages']} pages, "
        f"{s['requests']} requests ({s['throttled']} rate-limited) at ≤ {rate:g}/s, "
        f"{time.monotonic() - started:.1f} s",
        err=True,
    )
    if posted is not None:
        click.echo(f"billingops: report {posted}", err=True)
    return ExitStatus.OK
