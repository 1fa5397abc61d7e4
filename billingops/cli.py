"""The command line: a thin click layer that wires config, gateways and core.

`main(args, env)` returns an ExitStatus and takes the environment as a mapping
(httpie style), so tests swap both. Heavy SDKs are imported lazily by the gateways,
so `billingops --help` stays instant.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import click

from billingops import __version__
from billingops.commands import register
from billingops.commands.common import (
    _emit,
    _load_event,
    _run_desk,
    _wiring,
    dry_run_option,
    error_object,
    event_option,
    json_option,
    print_json,
    wants_json,
)
from billingops.commands.texts import add_help_epilogs, help_epilog
from billingops.errors import BadInput, BillingopsError, ExitStatus

if TYPE_CHECKING:
    from billingops.models.decision import Action
    from billingops.models.result import RunResult


required_event_option = click.option(
    "--event", "event_path", required=True, type=click.Path(dir_okay=False),
    help="Event payload file.",
)  # fmt: skip


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="billingops")
@click.option("--debug", is_flag=True, help="Verbose logs on stderr (secrets stay redacted).")
@click.pass_context
def cli(ctx: click.Context, debug: bool) -> None:
    """Billing support desk on GitHub issues, backed by Stripe."""
    from billingops.logs import configure

    ctx.ensure_object(dict)
    ctx.obj["debug"] = debug
    configure(debug)  # every log line passes the redaction filter, --debug included


@cli.command()
@event_option
@click.option("--event-name", help="Event name (default: $GITHUB_EVENT_NAME).")
@click.option(
    "--read-only",
    is_flag=True,
    help="This job holds a read-only Stripe key: triage and check approvals (refusals are "
    "written), but leave approved Stripe steps to the apply job (Actions output "
    "apply-pending=true).",
)
@dry_run_option
@json_option
@click.pass_context
def handle(
    ctx: click.Context,
    event_path: str | None,
    event_name: str | None,
    read_only: bool,
    dry_run: bool,
    as_json: bool,
) -> ExitStatus:
    """Route an Actions event: ticket changes to triage, approval labels to apply."""
    from billingops.core.routing import Route, route

    event = _load_event(ctx, event_path, as_json)
    name = event_name or _wiring(ctx).env.github_event_name
    config = _wiring(ctx).config
    routing = route(
        name,
        event,
        config.labels.values(),
        triage_labels=(config.intake_label, config.verified_requester_label),
    )
    if routing.route is Route.ignored:
        from billingops.models.result import RunResult

        _emit(ctx, RunResult(action="ignored", reason=routing.reason), as_json)
        return ExitStatus.OK

    def work(desk: Any) -> RunResult:
        if routing.route is Route.triage:
            return desk.triage(event["issue"], dry_run=dry_run)  # type: ignore[no-any-return]
        if routing.route is Route.triage_then_apply:
            first: RunResult = desk.triage(event["issue"], dry_run=dry_run)
            if first.action != "triage":
                return first
        number = event["issue"]["number"]
        if read_only:
            from billingops.desk.gate import gate_apply

            gate = gate_apply(desk, number, dry_run=dry_run)
            _actions_output(ctx.obj["env"], "apply-pending", gate.pending)
            return gate.result
        return desk.apply(number, dry_run=dry_run)  # type: ignore[no-any-return]

    action: Action = "triage" if routing.route is Route.triage else "apply"
    return _run_desk(ctx, action, event, as_json, work, dry_run=dry_run)


@cli.command()
@required_event_option
@dry_run_option
@json_option
@click.pass_context
def triage(ctx: click.Context, event_path: str, dry_run: bool, as_json: bool) -> ExitStatus:
    """Resolve the customer, read billing, classify, plan, and comment on the issue."""
    event = _load_event(ctx, event_path, as_json)
    if not isinstance(event.get("issue"), dict):
        raise BadInput(f"event file {event_path} has no issue")
    return _run_desk(
        ctx,
        "triage",
        event,
        as_json,
        lambda desk: desk.triage(event["issue"], dry_run=dry_run),
        dry_run=dry_run,
    )


@cli.command()
@required_event_option
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
        ctx,
        "apply",
        event,
        as_json,
        lambda desk: desk.apply(issue["number"], dry_run=dry_run),
        dry_run=dry_run,
    )


def _actions_output(env: Mapping[str, str], name: str, value: bool) -> None:
    """Append `name=value` to $GITHUB_OUTPUT when running in Actions."""
    path = env.get("GITHUB_OUTPUT")
    if path:
        with open(path, "a", encoding="utf-8") as out:
            out.write(f"{name}={'true' if value else 'false'}\n")


register(cli)
cli.epilog = help_epilog("billingops")
add_help_epilogs(cli)


def main(args: Sequence[str], env: Mapping[str, str]) -> ExitStatus:
    """Run one command; never raises, never prints a traceback for expected failures.
    With --json, stdout gets exactly one JSON object whatever happened (SPEC §3)."""
    from billingops.envvars import trim_secrets

    env, notes = trim_secrets(env)
    for note in notes:
        click.echo(note, err=True)
    obj: dict[str, Any] = {"env": env}
    try:
        rv = cli.main(args=list(args), prog_name="billingops", standalone_mode=False, obj=obj)
    except click.exceptions.Exit as exc:
        return ExitStatus(exc.exit_code)
    except click.Abort:
        click.echo("billingops: aborted", err=True)
        return _failed(args, obj, ExitStatus.BAD_INPUT, "aborted")
    except click.ClickException as exc:
        exc.show()
        return _failed(args, obj, ExitStatus.BAD_INPUT, exc.format_message())
    except BillingopsError as exc:
        click.echo(f"billingops: {exc}", err=True)
        return _failed(args, obj, exc.status, str(exc))
    except KeyboardInterrupt:
        click.echo("billingops: interrupted", err=True)
        return _failed(args, obj, ExitStatus.OPERATIONAL, "interrupted")
    except Exception as exc:  # a bug: one redacted line; the traceback only with --debug
        from billingops.core.sensitive import scrub

        line = scrub(f"{type(exc).__name__}: {exc}")
        click.echo(f"billingops: internal error: {line}", err=True)
        if "--debug" in args:
            import traceback

            click.echo(scrub("".join(traceback.format_exception(exc))), err=True)
        return _failed(args, obj, ExitStatus.OPERATIONAL, f"internal error: {line}")
    return ExitStatus(rv) if isinstance(rv, int) else ExitStatus.OK


def _failed(
    args: Sequence[str], obj: dict[str, Any], status: ExitStatus, message: str
) -> ExitStatus:
    """With --json, the error object, unless the command already printed its one object."""
    if wants_json(args) and not obj.get("json_printed"):
        command = next((a for a in args if a in cli.commands), None)
        print_json(None, error_object(command, status, message, obj))
    return status


def run() -> None:
    """Console-script entry point."""
    sys.exit(int(main(sys.argv[1:], os.environ)))
