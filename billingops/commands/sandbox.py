"""`billingops sandbox`: local Stripe and GitHub stand-ins with demo data, left running so
that every command can be tried without keys. Ctrl-C stops both."""

from __future__ import annotations

import shlex
import signal
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING

import click

from billingops.commands.common import json_option, print_json
from billingops.errors import BadInput, ExitStatus

if TYPE_CHECKING:
    from billingops.sandbox.session import Session


def _stop(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt  # Ctrl-C, and SIGTERM as cleanly


_SIGNALS = (signal.SIGINT, signal.SIGTERM)


@click.command()
@click.option(
    "--scenario",
    "scenarios",
    multiple=True,
    help="Seed only this scenario (repeatable; see `billingops demo --list`). "
    "Default: the demo's tour.",
)
@click.option(
    "--env-file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Also write the `export` lines to this file (source it in another shell).",
)
@click.option(
    "--github-port",
    type=click.IntRange(0, 65535),
    default=0,
    help="Port of the local GitHub on 127.0.0.1 (default: any free port).",
)
@click.option(
    "--public",
    is_flag=True,
    help="The support repository is public, with a private desk for the handoffs "
    "(config private_repository): try public mode without keys.",
)
@json_option
@click.pass_context
def command(
    ctx: click.Context,
    scenarios: tuple[str, ...],
    env_file: Path | None,
    github_port: int,
    public: bool,
    as_json: bool,
) -> ExitStatus:
    """Start a local Stripe (localstripe) and a local GitHub with demo tickets, print the
    environment to export, and keep them running until Ctrl-C: then doctor, gaps, report,
    audit and triage --dry-run work without any key. With --json: one object (the
    environment, the tickets, their event files) on stdout, the rest on stderr."""
    from billingops.sandbox import demo, session
    from billingops.sandbox.scenarios import SCENARIOS

    unknown = [s for s in scenarios if s not in SCENARIOS]
    if unknown:
        raise click.BadParameter(
            f"unknown scenario {unknown[0]!r} (see billingops demo --list)",
            param_hint="--scenario",
        )
    # Set explicitly: a shell starts background jobs with SIGINT ignored.
    previous = {sig: signal.signal(sig, _stop) for sig in _SIGNALS}
    try:
        with ExitStack() as stack, tempfile.TemporaryDirectory(prefix="billingops-") as tmp:
            click.echo(
                "billingops sandbox: starting localstripe and the local GitHub ...", err=True
            )
            try:
                running = session.start(
                    stack, Path(tmp), scenarios or demo.TOUR, github_port=github_port,
                    public=public,
                )  # fmt: skip
            except OSError as exc:
                raise BadInput(f"cannot start the sandbox: {exc.strerror or exc}") from None
            exports = "".join(
                f"export {k}={shlex.quote(v)}\n" for k, v in running.environment().items()
            )
            if env_file is not None:
                env_file.write_text(exports, encoding="utf-8")
            _announce(ctx, running, exports, as_json)
            while True:
                time.sleep(3600)
    except KeyboardInterrupt:
        click.echo("billingops sandbox: stopped", err=True)
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    return ExitStatus.OK


def _announce(ctx: click.Context, running: Session, exports: str, as_json: bool) -> None:
    """What is running and what to try: one JSON object with --json, else the text."""
    from billingops.commands.texts import cli_text
    from billingops.sandbox.demo import PRIVATE_DESK, REPOSITORY, SCRATCH_REPOSITORY

    tickets = [
        {
            "number": n,
            "scenario": running.tickets[n],
            "event": str(running.events[n]),
            "handoff": running.handoffs.get(n),
            "handoff_event": str(running.handoff_events[n])
            if n in running.handoff_events
            else None,
        }
        for n in sorted(running.tickets)
    ]
    env = running.environment()
    if as_json:
        print_json(
            ctx,
            {
                "action": "sandbox",
                "public": running.public,
                "repository": REPOSITORY,
                "private_repository": PRIVATE_DESK if running.public else None,
                "environment": env,
                "tickets": tickets,
            },
        )
        click.echo("billingops sandbox: running; Ctrl-C stops it.", err=True)
        return
    click.echo(
        cli_text(
            "sandbox_ready",
            stripe_url=running.stripe_url,
            github_url=running.github_url,
            public=running.public,
            repository=REPOSITORY,
            desk=PRIVATE_DESK,
            scratch=SCRATCH_REPOSITORY,
            tickets=tickets,
            exports=exports,
            event=shlex.quote(env.get("GITHUB_EVENT_PATH", "EVENT.json")),
        )
    )


command.name = "sandbox"
