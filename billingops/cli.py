"""The command line: a thin click layer that wires config, gateways and core.

`main(args, env)` returns an ExitStatus and takes the environment as a mapping
(httpie style), so tests swap both. Heavy SDKs are imported lazily by the gateways,
so `billingops --help` stays instant.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping, Sequence

import click

from billingops import __version__
from billingops.errors import BillingopsError, ExitStatus


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="billingops")
@click.option("--debug", is_flag=True, help="Verbose logs on stderr (secrets stay redacted).")
@click.pass_context
def cli(ctx: click.Context, debug: bool) -> None:
    """Billing support desk on GitHub issues, backed by Stripe."""
    ctx.ensure_object(dict)
    ctx.obj["debug"] = debug


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
