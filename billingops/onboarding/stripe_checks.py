"""`billingops doctor`, the Stripe half: the key's type and mode, what it can read (the
very calls triage and apply make, `limit=1`), the billing portal, and the GitHub account
ids in customer metadata. The key is never printed: at most its type (`rk_test`). The
read probes and the portal configurations are read side by side.

The texts: templates/checks/doctor_stripe.txt.j2.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any

from billingops.config import Config, Environment
from billingops.errors import BillingopsError
from billingops.onboarding import portal
from billingops.onboarding.checks import Check, Texts, fail, passed, skip, warn
from billingops.onboarding.gateways import stripe_gateway
from billingops.onboarding.keys import classify, permissions_line

if TYPE_CHECKING:
    from billingops._billing.stripe_gateway import StripeGateway

# Stripe's default per-endpoint limit (https://docs.stripe.com/rate-limits; Search: 20/s).
STRIPE_ENDPOINT_RATE = 25

_check = Texts("doctor_stripe")


def stripe_checks(env: Environment, config: Config) -> list[Check]:
    if env.stripe_api_key is None or not env.stripe_api_key.get_secret_value().strip():
        return [
            _check(fail, "stripe.key", "key_missing", permissions=permissions_line()),
            _check(skip, "stripe.read", "reads_no_key"),
            _check(skip, "stripe.portal", "portal_no_key"),
        ]
    shape = classify(env.stripe_api_key.get_secret_value())
    out = [_check(passed, "stripe.key", "key_present")]
    values = {"label": shape.label, "permissions": permissions_line()}
    if shape.kind == "publishable":
        out.append(_check(fail, "stripe.key.type", "key_publishable", **values))
    elif shape.kind in ("webhook", "unknown"):
        webhook = shape.kind == "webhook"
        out.append(
            _check(
                fail,
                "stripe.key.type",
                "key_not_api",
                webhook=webhook,
                permissions=permissions_line(),
            )
        )
    elif shape.kind == "secret":
        out.append(_check(warn, "stripe.key.type", "key_secret", **values))
    else:
        out.append(_check(passed, "stripe.key.type", "key_restricted", **values))
    if shape.mode is not None:
        # https://docs.stripe.com/rate-limits: 100/s (live) or 25/s (sandbox) per account,
        # and 25/s per endpoint unless stated otherwise; the report lists one endpoint
        # (subscriptions) at a time, so more than 25/s only meets 429s.
        rate = config.stripe_rate_limit_per_second
        out.append(
            _check(
                passed,
                "stripe.key.mode",
                "key_mode",
                mode=shape.mode,
                rate=rate if rate > STRIPE_ENDPOINT_RATE else None,
                limit=STRIPE_ENDPOINT_RATE,
            )
        )
    if shape.kind not in ("secret", "restricted"):
        out.append(_check(skip, "stripe.read", "reads_unusable_key"))
        out.append(_check(skip, "stripe.portal", "portal_unusable_key"))
        return out
    return out + _stripe_probes(env, config)


def _stripe_probes(env: Environment, config: Config) -> list[Check]:
    from billingops._billing.stripe_gateway import KeyProbe

    where = env.stripe_api_base or "api.stripe.com"
    try:
        gateway = stripe_gateway(env)
        with ThreadPoolExecutor(max_workers=2) as pool:
            reads = pool.submit(gateway.probe_reads)
            configs = pool.submit(_portal_or_problem, gateway)
            probes: dict[str, KeyProbe] = reads.result()
            portal_result = configs.result()
    except BillingopsError as exc:
        return [_check(fail, "stripe.read", "stripe_failed", error=str(exc))]
    kinds = {p.kind for p in probes.values()}
    if kinds == {"auth"}:
        return [
            _check(fail, "stripe.read", "key_rejected"),
            _check(skip, "stripe.portal", "portal_key_rejected"),
        ]
    if kinds == {"unreachable"}:
        return [
            _check(fail, "stripe.read", "unreachable", where=where, operational=True),
            _check(skip, "stripe.portal", "portal_unreachable"),
        ]
    out = []
    # The very calls triage and apply make (same expansions), limit=1.
    for resource, probe in probes.items():
        id = f"stripe.read.{resource}"
        if probe.ok:
            out.append(_check(passed, id, "can_read", resource=resource))
        elif probe.kind == "permission":
            out.append(_check(fail, id, "cannot_read", resource=resource, permission=probe.detail))
        else:
            out.append(
                _check(
                    fail,
                    id,
                    "read_failed",
                    resource=resource,
                    detail=probe.detail,
                    operational=probe.kind in ("unreachable", "rate_limited", "error"),
                )
            )
    if isinstance(portal_result, BillingopsError):
        out.append(_portal_problem(portal_result, config))
    else:
        out.append(portal.summary(portal_result, config.portal))
    if probes.get("customers") is not None and probes["customers"].ok:
        out.append(_login_ids(gateway, config))
    return out


def _login_ids(gateway: StripeGateway, config: Config) -> Check:
    """How many customers carry a GitHub login without the numeric account id (SPEC §5a:
    a login can be renamed and registered by another account; the id cannot)."""
    login, uid = config.github_username_metadata_key, config.github_user_id_metadata_key
    try:
        seen = gateway.login_coverage(login, uid)
    except BillingopsError as exc:
        return _check(warn, "stripe.github_ids", "github_ids_unchecked", error=str(exc))
    values = {
        "with_login": seen.with_login,
        "login": login,
        "uid": uid,
        "count": seen.scanned,
        "more": seen.more,
    }
    if seen.without_id:
        return _check(
            warn, "stripe.github_ids", "github_ids_missing", without_id=seen.without_id, **values
        )
    return _check(passed, "stripe.github_ids", "github_ids_ok", **values)


def _portal_or_problem(gateway: StripeGateway) -> list[dict[str, Any]] | BillingopsError:
    from billingops._billing.stripe_gateway import KeyProblem

    try:
        return gateway.portal_configurations()
    except KeyProblem as exc:
        return exc


def _portal_problem(problem: BillingopsError, config: Config) -> Check:
    kind = getattr(problem, "kind", "error")
    if kind == "unavailable":
        return portal.unknown(config.portal)
    if kind == "permission":
        return portal.unknown(config.portal, permission_missing=True)
    if kind in ("auth", "unreachable"):
        return _check(skip, "stripe.portal", "portal_not_checked")
    return _check(warn, "stripe.portal", "portal_unreadable", error=str(problem))
