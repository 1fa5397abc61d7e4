"""Helpers every command shares: the wiring from the injected environment, the JSON
contract on stdout, and the common options."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import click

from billingops.errors import BillingopsError, ExitStatus

# pydantic models and settings load when a command runs, not for `--help` (SPEC §8).
if TYPE_CHECKING:
    from billingops.models.decision import Action
    from billingops.models.result import RunResult
    from billingops.wiring import Wiring


def _wiring(ctx: click.Context) -> Wiring:
    from billingops.wiring import Wiring

    wiring: Wiring | None = ctx.obj.get("wiring")
    if wiring is None:
        wiring = ctx.obj["wiring"] = Wiring.from_env(ctx.obj["env"])
    return wiring


def _emit(ctx: click.Context, result: RunResult, as_json: bool) -> None:
    """One JSON object on stdout with --json; human lines otherwise (stderr for status)."""
    labels = _wiring(ctx).config.labels
    if as_json:
        click.echo(json.dumps(result.contract(labels), indent=2, sort_keys=False))
    else:
        for text in result.would_write:
            click.echo(text)
    # Reasons often start with the action already ("ignored: ..."): say it once.
    reason = result.reason.removeprefix(f"{result.action}: ")
    click.echo(f"billingops: {result.action}: {reason}", err=True)


def _failure(action: Action, issue: int | None, exc: BillingopsError) -> RunResult:
    from billingops.models.result import RunResult

    return RunResult(action=action, issue=issue, reason=f"error: {exc}")


json_option = click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
dry_run_option = click.option(
    "--dry-run",
    is_flag=True,
    help="Write nothing to GitHub or Stripe; print what would be written.",
)
event_option = click.option(
    "--event",
    "event_path",
    type=click.Path(dir_okay=False),
    help="Event payload file (default: $GITHUB_EVENT_PATH).",
)


def _run_desk(
    ctx: click.Context,
    action: Action,
    event: dict[str, Any],
    as_json: bool,
    work: Any,
) -> ExitStatus:
    """Run `work(desk)`; with --json a failure still prints one JSON object."""
    from billingops.desk.public import open_desk

    issue = event.get("issue")
    number = issue.get("number") if isinstance(issue, dict) else None
    try:
        wiring = _wiring(ctx)
        from billingops.wiring import repository_of

        named = isinstance(event.get("repository"), dict)
        wiring.require(stripe=True, github=True, repository=not named)
        repository = repository_of(event, wiring)
        # A public repository's events get the public desk (SPEC §5b), whatever the command.
        desk = open_desk(
            event, wiring.billing(), wiring.tracker(repository), wiring.config, repository
        )
        result: RunResult = work(desk)
    except BillingopsError as exc:
        # A failure half-way carries the exact record of what was and was not done.
        partial: RunResult | None = getattr(exc, "result", None)
        if as_json:
            shown = partial or _failure(action, number, exc)
            click.echo(json.dumps(shown.contract(_labels(ctx)), indent=2))
        raise
    _emit(ctx, result, as_json)
    return ExitStatus.OK


def _labels(ctx: click.Context) -> Any:
    try:
        return _wiring(ctx).config.labels
    except BillingopsError:
        from billingops.config import Config

        return Config().labels


def _load_event(ctx: click.Context, path: str | None, as_json: bool) -> dict[str, Any]:
    try:
        from billingops.wiring import read_event

        event = read_event(path or _wiring(ctx).env.github_event_path)
    except BillingopsError as exc:
        if as_json:
            click.echo(json.dumps(_failure("ignored", None, exc).contract(_labels(ctx))))
        raise
    _debug_for_audience(ctx, event)
    return event


def _debug_for_audience(ctx: click.Context, event: dict[str, Any]) -> None:
    """A public or internal repository's run (the event payload says so; a payload that
    does not say counts as public): its Actions log is public, so `--debug` is reduced to
    requests, statuses and timings without Stripe ids, and says so once."""
    from billingops.config import Config
    from billingops.core.audience import Audience, audience_of
    from billingops.logs import reduce_for_public

    if audience_of(event.get("repository"), Config()) is not Audience.public:
        return
    if reduce_for_public() and ctx.obj.get("debug"):
        from billingops.core.render import environment

        notice = environment().get_template("debug_public_notice.txt.j2").render()
        click.echo(notice.strip(), err=True)
