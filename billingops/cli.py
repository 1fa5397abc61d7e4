"""The command line: a thin click layer that wires config, gateways and core.

`main(args, env)` returns an ExitStatus and takes the environment as a mapping
(httpie style), so tests swap both. Heavy SDKs are imported lazily by the gateways,
so `billingops --help` stays instant.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Mapping, Sequence
from typing import Any

import click

from billingops import __version__
from billingops.errors import BadInput, BillingopsError, ExitStatus
from billingops.models.decision import Action
from billingops.models.result import RunResult
from billingops.wiring import Wiring, read_event, repository_of


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="billingops")
@click.option("--debug", is_flag=True, help="Verbose logs on stderr (secrets stay redacted).")
@click.pass_context
def cli(ctx: click.Context, debug: bool) -> None:
    """Billing support desk on GitHub issues, backed by Stripe."""
    ctx.ensure_object(dict)
    ctx.obj["debug"] = debug


def _wiring(ctx: click.Context) -> Wiring:
    wiring = ctx.obj.get("wiring")
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
    click.echo(f"billingops: {result.action}: {result.reason}", err=True)


def _failure(action: Action, issue: int | None, exc: BillingopsError) -> RunResult:
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
    from billingops.desk import Desk

    issue = event.get("issue")
    number = issue.get("number") if isinstance(issue, dict) else None
    try:
        wiring = _wiring(ctx)
        repository = repository_of(event, wiring)
        desk = Desk(wiring.billing(), wiring.tracker(repository), wiring.config, repository)
        result: RunResult = work(desk)
    except BillingopsError as exc:
        if as_json:
            click.echo(json.dumps(_failure(action, number, exc).contract(_labels(ctx))))
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
        return read_event(path or _wiring(ctx).env.github_event_path)
    except BillingopsError as exc:
        if as_json:
            click.echo(json.dumps(_failure("ignored", None, exc).contract(_labels(ctx))))
        raise


@cli.command()
@event_option
@click.option("--event-name", help="Event name (default: $GITHUB_EVENT_NAME).")
@dry_run_option
@json_option
@click.pass_context
def handle(
    ctx: click.Context, event_path: str | None, event_name: str | None, dry_run: bool, as_json: bool
) -> ExitStatus:
    """Route an Actions event: ticket changes to triage, approval labels to apply."""
    from billingops.core.routing import Route, route

    event = _load_event(ctx, event_path, as_json)
    name = event_name or _wiring(ctx).env.github_event_name
    routing = route(name, event, _wiring(ctx).config.labels.values())
    if routing.route is Route.ignored:
        _emit(ctx, RunResult(action="ignored", reason=routing.reason), as_json)
        return ExitStatus.OK

    def work(desk: Any) -> RunResult:
        if routing.route is Route.triage:
            return desk.triage(event["issue"], dry_run=dry_run)  # type: ignore[no-any-return]
        if routing.route is Route.triage_then_apply:
            first: RunResult = desk.triage(event["issue"], dry_run=dry_run)
            if first.action != "triage":
                return first
        return desk.apply(event["issue"]["number"], dry_run=dry_run)  # type: ignore[no-any-return]

    return _run_desk(
        ctx, "triage" if routing.route is Route.triage else "apply", event, as_json, work
    )


@cli.command()
@click.option(
    "--event",
    "event_path",
    required=True,
    type=click.Path(dir_okay=False),
    help="Event payload file.",
)
@dry_run_option
@json_option
@click.pass_context
def triage(ctx: click.Context, event_path: str, dry_run: bool, as_json: bool) -> ExitStatus:
    """Resolve the customer, read billing, classify, plan, and comment on the issue."""
    event = _load_event(ctx, event_path, as_json)
    if not isinstance(event.get("issue"), dict):
        raise BadInput(f"event file {event_path} has no issue")
    return _run_desk(
        ctx, "triage", event, as_json, lambda desk: desk.triage(event["issue"], dry_run=dry_run)
    )


@cli.command()
@click.option(
    "--event",
    "event_path",
    required=True,
    type=click.Path(dir_okay=False),
    help="Event payload file.",
)
@dry_run_option
@json_option
@click.pass_context
def apply(ctx: click.Context, event_path: str, dry_run: bool, as_json: bool) -> ExitStatus:
    """Execute the approved steps of the issue's plan, exactly once."""
    event = _load_event(ctx, event_path, as_json)
    issue = event.get("issue")
    if not isinstance(issue, dict) or not isinstance(issue.get("number"), int):
        raise BadInput(f"event file {event_path} has no issue number")
    return _run_desk(
        ctx, "apply", event, as_json, lambda desk: desk.apply(issue["number"], dry_run=dry_run)
    )


def main(args: Sequence[str], env: Mapping[str, str]) -> ExitStatus:
    """Run one command; never raises, never prints a traceback for expected failures."""
    try:
        rv = cli.main(
            args=list(args), prog_name="billingops", standalone_mode=False, obj={"env": env}
        )
    except click.exceptions.Exit as exc:
        return ExitStatus(exc.exit_code)
    except click.Abort:
        click.echo("billingops: aborted", err=True)
        return ExitStatus.BAD_INPUT
    except click.ClickException as exc:
        exc.show()
        return ExitStatus.BAD_INPUT
    except BillingopsError as exc:
        click.echo(f"billingops: {exc}", err=True)
        return exc.status
    except KeyboardInterrupt:
        click.echo("billingops: interrupted", err=True)
        return ExitStatus.OPERATIONAL
    return ExitStatus(rv) if isinstance(rv, int) else ExitStatus.OK


def run() -> None:
    """Console-script entry point."""
    sys.exit(int(main(sys.argv[1:], os.environ)))
