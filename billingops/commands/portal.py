"""`billingops portal`: check the Stripe billing portal configuration in detail, or create
one with sensible defaults. Prints the public portal login link, never a per-customer
session link (those are single-use logins: never post one in a public place)."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

import click

from billingops.commands.common import _wiring, dry_run_option, json_option, print_json
from billingops.errors import BadInput, ExitStatus

if TYPE_CHECKING:
    from billingops._billing.stripe_gateway import StripeGateway


@click.group("portal")
def command() -> None:
    """Validate or create the Stripe billing portal configuration."""


def _gateway(ctx: click.Context) -> StripeGateway:
    from billingops.onboarding.gateways import stripe_gateway
    from billingops.onboarding.keys import classify

    env = _wiring(ctx).env
    if env.stripe_api_key is None:
        raise BadInput("STRIPE_API_KEY is not set: export a Stripe key (restricted: rk_...)")
    shape = classify(env.stripe_api_key.get_secret_value())
    if shape.kind not in ("secret", "restricted"):
        raise BadInput(
            f"STRIPE_API_KEY is not a secret or restricted key ({shape.label}): use an rk_ key"
        )
    return stripe_gateway(env)


@command.command("validate")
@json_option
@click.pass_context
def validate(ctx: click.Context, as_json: bool) -> ExitStatus:
    """Every check of the portal: configuration, cancellation, invoice history,
    payment-method update, plan switching, the public login link, the config."""
    from billingops._billing.stripe_gateway import KeyProblem
    from billingops.onboarding import checks, portal

    settings = _wiring(ctx).config.portal
    gateway = _gateway(ctx)
    try:
        results = portal.details(gateway.portal_configurations(), settings)
    except KeyProblem as exc:
        if exc.kind == "unavailable":
            results = [portal.unknown(settings)]
        elif exc.kind == "permission":
            results = [portal.unknown(settings, permission_missing=True, command="portal")]
        else:
            raise
    if as_json:
        print_json(ctx, checks.as_json("portal", results))
    else:
        for line in checks.render_lines(results):
            click.echo(line)
    return checks.exit_status(results)


@command.command("create")
@click.option(
    "--price",
    "prices",
    multiple=True,
    metavar="PRICE_ID",
    help="A recurring price customers may switch to (repeat; none: no plan switching).",
)
@click.option("--allow-quantity", is_flag=True, help="Let customers change seats too.")
@click.option("--return-url", metavar="URL", help="Where the portal's back link goes (https).")
@click.option("--headline", help="Short text at the top of the portal.")
@dry_run_option
@json_option
@click.pass_context
def create(
    ctx: click.Context,
    prices: tuple[str, ...],
    allow_quantity: bool,
    return_url: str | None,
    headline: str | None,
    dry_run: bool,
    as_json: bool,
) -> ExitStatus:
    """Create a portal configuration: cancel at period end with reasons, invoice history,
    payment-method update, and plan switching between the given prices."""
    from billingops._billing.stripe_gateway import KeyProblem
    from billingops.onboarding import portal

    bad = [p for p in prices if not p.startswith("price_")]
    if bad:
        raise BadInput(f"--price takes price IDs (price_...), got {bad[0]!r}")
    gateway = _gateway(ctx)
    try:
        found = gateway.retrieve_prices(list(prices)) if prices else []
        params = portal.build_params(
            found, allow_quantity=allow_quantity, return_url=return_url, headline=headline
        )
        if dry_run:
            if as_json:
                print_json(ctx, {"action": "would_create", "params": params})
            else:
                click.echo(json.dumps(params, indent=2))
            click.echo("billingops: dry run: would create this portal configuration", err=True)
            return ExitStatus.OK
        created = gateway.create_portal_configuration(
            params, idempotency_key=portal.idempotency_key(params)
        )
    except KeyProblem as exc:
        raise _create_problem(exc) from None
    login = created.get("login_page") or {}
    url = login.get("url") if isinstance(login, dict) and login.get("enabled") else None
    if as_json:
        print_json(ctx, {"action": "created", "id": created.get("id"), "login_url": url})
    else:
        click.echo(f"created billing portal configuration {created.get('id')}")
        if url:
            click.echo(f"public portal login link: {url}")
            click.echo(f"put it in .github/billingops.yml:  portal: {{login_url: {url}}}")
        else:
            click.echo("no public login link came back: enable the login page in the Dashboard")
    if not created.get("is_default"):
        click.echo(
            "billingops: note: this configuration is not the account's default; make it the "
            "default in the Dashboard (Settings > Billing > Customer portal) to use it",
            err=True,
        )
    return ExitStatus.OK


def _create_problem(exc: Exception) -> Exception:
    kind = getattr(exc, "kind", "")
    if kind == "unavailable":
        return BadInput(
            "the billing portal API is unavailable at this Stripe endpoint (localstripe has "
            "none): run portal create against Stripe (test mode first) or use the Dashboard"
        )
    if kind == "permission":
        return BadInput(
            "the key may not write the portal configuration: run this once with a key that has "
            "Customer portal: Write and Prices: Read (not a workflow key)"
        )
    if kind == "not_found":
        return BadInput(f"a --price does not exist in this Stripe account: {exc}")
    return exc
