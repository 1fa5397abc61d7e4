"""`billingops live-check`: the real round trip once against a Stripe test-mode key and a
scratch repository, no money moved; one line per call with what failed and the fix."""

from __future__ import annotations

from pathlib import Path

import click

from billingops.commands.common import json_option
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
    the product's own code, the comment and labels read back, then everything removed.

    \b
    Environment: STRIPE_API_KEY (test mode), STRIPE_API_BASE, GITHUB_TOKEN,
    GITHUB_API_URL, GITHUB_REPOSITORY, BILLINGOPS_CONFIG.
    Exit codes: 0 every call passed; 1 a service could not be reached; 2 a key, token,
    permission or set-up problem (each failed line says the fix).

    \b
    Example:
      STRIPE_API_KEY=sk_test_... GITHUB_TOKEN=... billingops live-check --repository acme/scratch
    """
    from billingops.onboarding import checks, live_check

    results = live_check.run(ctx.obj["env"], Path.cwd(), repository=repository)
    if as_json:
        click.echo(checks.render_json(results))
    else:
        for line in checks.render_lines(results):
            click.echo(line)
    status = checks.exit_status(results)
    failed = sum(1 for c in results if c.status is checks.Status.fail)
    verdict = "every call passed" if status is ExitStatus.OK else f"{failed} call(s) failed"
    click.echo(f"billingops: live-check: {verdict}", err=True)
    return status
