"""Helpers every command shares: the wiring from the injected environment, the JSON
contract on stdout, and the common options."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import click

from billingops.errors import BillingopsError, ExitStatus, error_fields

# pydantic models and settings load when a command runs, not for `--help` (SPEC §8).
if TYPE_CHECKING:
    from billingops.models.decision import Action
    from billingops.models.result import RunResult
    from billingops.onboarding.checks import Check
    from billingops.wiring import Wiring


def _wiring(ctx: click.Context) -> Wiring:
    from billingops.wiring import Wiring

    wiring: Wiring | None = ctx.obj.get("wiring")
    if wiring is None:
        wiring = ctx.obj["wiring"] = Wiring.from_env(ctx.obj["env"])
    return wiring


# ------------------------------------------------------------------ the JSON contract (§3)
# Every command that prints data takes --json and prints exactly one object on stdout,
# whatever happened; on exit 1 or 2 it has `"action": "error"` and `"error": {"kind",
# "message"}`. One formatting for all: `print_json`. `main` prints the error object for a
# failure no command caught (bad option, missing variable, service down).

# The desk's commands: their error object carries every key of the run contract too.
DESK_COMMANDS = frozenset({"handle", "triage", "apply"})


def wants_json(args: Sequence[str]) -> bool:
    """Whether the command line asks for JSON (`--json`, or `--format json` of report and
    audit), read from the words themselves so that a failure while parsing still answers."""
    words = list(args)
    if "--" in words:
        words = words[: words.index("--")]
    pairs = zip(words, [*words[1:], ""], strict=True)
    return "--json" in words or "--format=json" in words or ("--format", "json") in pairs


def dumps(data: Mapping[str, Any]) -> str:
    return json.dumps(data, indent=2, sort_keys=False)


def print_json(ctx: click.Context | None, data: Mapping[str, Any] | str) -> None:
    """The one JSON object of this run, on stdout (a string is already formatted)."""
    root = ctx.find_root() if ctx is not None else None
    if root is not None and isinstance(root.obj, dict):
        root.obj["json_printed"] = True
    text = data if isinstance(data, str) else dumps(data)
    click.echo(text.rstrip("\n"))


def error_object(
    command: str | None, status: ExitStatus, message: str, obj: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    """The object a failed command prints: the run contract's keys for the desk's commands
    (nothing found, nothing done), `action` and `error` alone for the others."""
    base: dict[str, Any] = {}
    if command in DESK_COMMANDS:
        from billingops.models.result import RunResult

        wiring = (obj or {}).get("wiring")
        labels = wiring.config.labels if wiring is not None else _default_labels()
        base = RunResult(action="error", reason=" ".join(message.split())).contract(labels)
    return base | error_fields(status, message)


def _default_labels() -> Any:
    from billingops.config import Config

    return Config().labels


def _emit(ctx: click.Context, result: RunResult, as_json: bool, *, dry_run: bool = False) -> None:
    """One JSON object on stdout with --json; human lines otherwise (stderr for status)."""
    labels = _wiring(ctx).config.labels
    if as_json:
        print_json(ctx, result.contract(labels))
    else:
        for text in result.would_write:
            click.echo(text)
        if dry_run and not result.would_write and result.action not in ("ignored", "refused"):
            from billingops.commands.texts import cli_text

            click.echo(cli_text("dry_run_unchanged", issue=result.issue))
    # Reasons often start with the action already ("ignored: ..."): say it once.
    reason = result.reason.removeprefix(f"{result.action}: ")
    click.echo(f"billingops: {result.action}: {reason}", err=True)


json_option = click.option(
    "--json",
    "as_json",
    is_flag=True,
    help="Print exactly one JSON object on stdout, whatever happens (SPEC §3).",
)
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
    *,
    dry_run: bool = False,
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
        if as_json:
            # A failure half-way carries the exact record of what was and was not done.
            partial: RunResult | None = getattr(exc, "result", None)
            if partial is not None:
                shown = partial.contract(_labels(ctx)) | error_fields(exc.status, str(exc))
            else:
                shown = error_object(action, exc.status, str(exc), ctx.find_root().obj)
                shown["issue"] = number if isinstance(number, int) else None
            print_json(ctx, shown)
        raise
    _emit(ctx, result, as_json, dry_run=dry_run)
    return ExitStatus.OK


def _labels(ctx: click.Context) -> Any:
    try:
        return _wiring(ctx).config.labels
    except BillingopsError:
        return _default_labels()


def _load_event(ctx: click.Context, path: str | None, as_json: bool) -> dict[str, Any]:
    """The event payload; a bad file is bad input (`main` prints the error object)."""
    from billingops.wiring import read_event

    event = read_event(path or _wiring(ctx).env.github_event_path)
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


def print_checks(
    ctx: click.Context, command: str, results: list[Check], as_json: bool
) -> ExitStatus:
    """A checklist (doctor, live-check): its lines, or the one --json object, and the
    verdict on stderr; the exit status of SPEC §3."""
    from billingops.onboarding import checks

    if as_json:
        print_json(ctx, checks.as_json(command, results))
    else:
        for line in checks.render_lines(results):
            click.echo(line)
    click.echo(checks.verdict(command, results), err=True)
    return checks.exit_status(results)
