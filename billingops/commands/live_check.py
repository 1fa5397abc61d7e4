"""`billingops live-check`: the real round trip once against a Stripe test-mode key and a
scratch repository, no money moved; one line per call with what failed and the fix."""

from __future__ import annotations

from pathlib import Path

import click

from billingops.commands.common import json_option, print_checks
from billingops.errors import ExitStatus


@click.command("live-check")
@click.option(
    "--repository",
    metavar="OWNER/NAME",
    help="The scratch repository to file the test ticket in (default: $GITHUB_REPOSITORY).",
)
@json_option
@click.pass_context
def command(ctx: click.Context, repository: str | None, as_json: bool) -> ExitStatus:
    """Run the real round trip once: a test customer and subscription in Stripe (test
    mode; a live key is refused), a ticket in a scratch repository, two triages through
    the product's own code, the comment and labels read back, then everything removed."""
    from billingops.onboarding import live_check

    results = live_check.run(ctx.obj["env"], Path.cwd(), repository=repository)
    return print_checks(ctx, "live-check", results, as_json)
