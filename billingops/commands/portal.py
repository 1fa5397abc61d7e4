"""`billingops portal`: check the Stripe billing portal configuration in detail, or create
one with sensible defaults. Prints the public portal login link, never a per-customer
session link (those are single-use logins: never post one in a public place)."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

import click

from billingops.commands.common import _wiring, dry_run_option, json_option, print_json
from billingops.errors import BadInput, ExitStatus
from billingops.onboarding.texts import message

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
        raise BadInput(message("portal", "key_missing"))
    shape = classify(env.stripe_api_key.get_secret_value())
    if shape.kind not in ("secret", "restricted"):
        raise BadInput(message("portal", "key_not_secret", label=shape.label))
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
        raise BadInput(message("portal", "not_price_ids", value=bad[0]))
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
            click.echo(message("portal", "dry_run_done"), err=True)
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
        click.echo(message("portal", "created", id=created.get("id")))
        if url:
            click.echo(message("portal", "login_link", url=url))
            click.echo(message("portal", "login_link_config", url=url))
        else:
            click.echo(message("portal", "no_login_link"))
    if not created.get("is_default"):
        click.echo(message("portal", "not_default"), err=True)
    return ExitStatus.OK


def _create_problem(exc: Exception) -> Exception:
    kind = getattr(exc, "kind", "")
    if kind == "unavailable":
        return BadInput(message("portal", "api_unavailable"))
    if kind == "permission":
        return BadInput(message("portal", "permission_missing"))
    if kind == "not_found":
        return BadInput(message("portal", "price_not_found", problem=exc))
    return exc
