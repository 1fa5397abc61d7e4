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

import click

from billingops.errors import BadInput, ExitStatus


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
def command(scenarios: tuple[str, ...], env_file: Path | None, github_port: int) -> ExitStatus:
    """Start a local Stripe (localstripe) and a local GitHub with demo tickets, print the
    environment to export, and keep them running until Ctrl-C: then doctor, gaps, report,
    audit and triage --dry-run work without any key."""
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
                    stack, Path(tmp), scenarios or demo.TOUR, github_port=github_port
                )
            except OSError as exc:
                raise BadInput(f"cannot start the sandbox: {exc.strerror or exc}") from None
            exports = "".join(
                f"export {k}={shlex.quote(v)}\n" for k, v in running.environment().items()
            )
            if env_file is not None:
                env_file.write_text(exports, encoding="utf-8")
            numbers = sorted(running.tickets)
            first = numbers[0] if numbers else None
            click.echo(
                f"# billingops sandbox: Stripe (localstripe) at {running.stripe_url}, GitHub "
                f"({session.REPOSITORY}) at {running.github_url}; {len(numbers)} tickets "
                "filed and triaged:"
            )
            for number in numbers:
                click.echo(f"#   #{number} {running.tickets[number]}")
            click.echo("# In another shell, export this (no real key anywhere):")
            click.echo(exports, nl=False)
            click.echo("# Then try:")
            for example in (
                "billingops doctor",
                "billingops gaps",
                "billingops report",
                "billingops audit",
                f"billingops triage --dry-run --event {shlex.quote(str(running.events[first]))}"
                if first is not None
                else "billingops triage --dry-run --event EVENT.json",
            ):
                click.echo(f"#   {example}")
            click.echo("# Ctrl-C stops the sandbox.", nl=True)
            while True:
                time.sleep(3600)
    except KeyboardInterrupt:
        click.echo("billingops sandbox: stopped", err=True)
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    return ExitStatus.OK


command.name = "sandbox"
