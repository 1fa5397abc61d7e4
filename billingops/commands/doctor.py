"""`billingops doctor`: check keys, labels, permissions, portal and config, each with
its fix. Exit 0 only when every check passes (warnings are not failures)."""

from __future__ import annotations

from pathlib import Path

import click

from billingops.commands.common import json_option, print_checks
from billingops.errors import ExitStatus


@click.command("doctor")
@click.option(
    "--fix", is_flag=True, help="Create the missing labels (the only thing doctor writes)."
)
@json_option
@click.pass_context
def command(ctx: click.Context, fix: bool, as_json: bool) -> ExitStatus:
    """Check the Stripe key (type, mode, what it can read), the GitHub token, the labels,
    the billing portal and the config. Never prints a key."""
    from billingops.onboarding import doctor

    results = doctor.run(ctx.obj["env"], Path.cwd(), fix=fix)
    return print_checks(ctx, "doctor", results, as_json)
