"""The Stripe billing portal: what a configuration lets customers do, and the
configuration `billingops portal create` proposes. Pure: dicts in, checks / params out."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from typing import Any

from billingops.config import PortalSettings
from billingops.errors import BadInput
from billingops.onboarding.checks import Check, fail, passed, warn

UNKNOWN = "unknown (the account cannot tell; set portal.* in the config)"
CANCELLATION_REASONS = [
    "too_expensive",
    "missing_features",
    "switched_service",
    "unused",
    "customer_service",
    "too_complex",
    "low_quality",
    "other",
]
CREATE_FIX = (
    "run `billingops portal create` (or Stripe Dashboard: Settings > Billing > Customer portal)"
)


def _get(d: Any, *path: str) -> Any:
    for key in path:
        d = d.get(key) if isinstance(d, Mapping) else None
    return d


def default_configuration(configs: list[dict[str, Any]]) -> dict[str, Any] | None:
    active = [c for c in configs if c.get("active", True)]
    return next((c for c in active if c.get("is_default")), active[0] if active else None)


def _yes(value: bool) -> str:
    return "yes" if value else "no"


def capabilities(config: Mapping[str, Any]) -> dict[str, bool]:
    def on(feature: str) -> bool:
        return bool(_get(config, "features", feature, "enabled"))

    return {
        "cancellation": on("subscription_cancel"),
        "invoice history": on("invoice_history"),
        "payment-method update": on("payment_method_update"),
        "plan switching": on("subscription_update"),
    }


def summary(configs: list[dict[str, Any]], settings: PortalSettings) -> Check:
    """doctor's one line on the portal."""
    config = default_configuration(configs)
    if config is None:
        return fail("stripe.portal", "billing portal: no active configuration", CREATE_FIX)
    caps = capabilities(config)
    text = ", ".join(f"{k} {_yes(v)}" for k, v in caps.items())
    missing = [
        k for k in ("cancellation", "invoice history", "payment-method update") if not caps[k]
    ]
    if missing:
        return warn(
            "stripe.portal",
            f"billing portal: {text}",
            f"enable {', '.join(missing)} in the portal (customers must otherwise ask you); "
            + CREATE_FIX,
        )
    if not _login_url(config) and not settings.login_url:
        return warn(
            "stripe.portal",
            f"billing portal: {text}; no public login link",
            "enable the portal's login page and put its URL in portal.login_url",
        )
    return passed("stripe.portal", f"billing portal: {text}")


def unknown(settings: PortalSettings, reason: str | None = None) -> Check:
    """The account cannot tell (localstripe has no portal API; a key without portal read)."""
    known = {
        "cancellation": settings.allows_cancellation,
        "invoice history": settings.allows_invoice_history,
    }
    if all(v is not None for v in known.values()):
        text = ", ".join(f"{k} {_yes(bool(v))}" for k, v in known.items())
        return passed("stripe.portal", f"billing portal: from the config: {text}")
    return warn(
        "stripe.portal",
        f"billing portal: {UNKNOWN}",
        reason
        or "set portal.allows_cancellation, portal.allows_invoice_history and "
        "portal.login_url in .github/billingops.yml",
    )


def _login_url(config: Mapping[str, Any]) -> str | None:
    if _get(config, "login_page", "enabled"):
        url = _get(config, "login_page", "url")
        return str(url) if url else None
    return None


def details(configs: list[dict[str, Any]], settings: PortalSettings) -> list[Check]:
    """`portal validate`: every check, one line each."""
    config = default_configuration(configs)
    if config is None:
        return [fail("portal.configuration", "no active billing portal configuration", CREATE_FIX)]
    cid = str(config.get("id", "?"))
    out = [
        passed(
            "portal.configuration",
            f"configuration {cid}"
            + (" (the default)" if config.get("is_default") else " (active, not the default)"),
            None if len(configs) == 1 else f"{len(configs)} active configurations; checked {cid}",
        )
    ]
    cancel = _get(config, "features", "subscription_cancel") or {}
    if not cancel.get("enabled"):
        out.append(
            warn(
                "portal.cancellation",
                "cancellation: off (customers must ask you to cancel)",
                "enable subscription cancellation, at period end; " + CREATE_FIX,
            )
        )
    else:
        mode = cancel.get("mode") or "at_period_end"
        reasons = bool(_get(cancel, "cancellation_reason", "enabled"))
        asked = "asked" if reasons else "not asked"
        text = f"cancellation: on, {mode.replace('_', ' ')}, reasons {asked}"
        if mode != "at_period_end":
            out.append(
                warn(
                    "portal.cancellation",
                    text,
                    "cancel at period end: the customer keeps what they paid for",
                )
            )
        elif not reasons:
            out.append(
                warn("portal.cancellation", text, "ask for a reason: it tells you why they leave")
            )
        else:
            out.append(passed("portal.cancellation", text))
    for key, feature, fix in (
        ("invoice_history", "invoice history", "customers download invoices themselves"),
        ("payment_method_update", "payment-method update", "customers fix a failed card alone"),
    ):
        on = bool(_get(config, "features", key, "enabled"))
        check = passed if on else warn
        out.append(
            check(
                f"portal.{key}",
                f"{feature}: {'on' if on else 'off'}",
                None if on else f"enable it: {fix}",
            )
        )
    update = _get(config, "features", "subscription_update") or {}
    if update.get("enabled"):
        products = update.get("products") or []
        prices = sum(len(p.get("prices") or []) for p in products if isinstance(p, Mapping))
        allowed = ", ".join(update.get("default_allowed_updates") or []) or "nothing"
        out.append(
            passed(
                "portal.subscription_update",
                f"plan switching: on ({allowed}; {prices} price(s) in {len(products)} product(s))",
            )
        )
    else:
        out.append(
            passed(
                "portal.subscription_update",
                "plan switching: off",
                "optional: billingops portal create --price PRICE --price PRICE",
            )
        )
    url = _login_url(config)
    if url is None:
        out.append(
            warn(
                "portal.login_page",
                "public login link: off",
                "enable the login page, then put its URL in portal.login_url",
            )
        )
    elif settings.login_url and settings.login_url != url:
        out.append(
            warn(
                "portal.login_page",
                f"public login link: {url}",
                f"portal.login_url in the config is {settings.login_url}: make them the same",
            )
        )
    else:
        out.append(
            passed(
                "portal.login_page",
                f"public login link: {url}",
                None if settings.login_url else f"put it in the config: portal.login_url: {url}",
            )
        )
    caps = capabilities(config)
    for key, field in (
        ("cancellation", settings.allows_cancellation),
        ("invoice history", settings.allows_invoice_history),
    ):
        if field is not None and field != caps[key]:
            out.append(
                warn(
                    "portal.config",
                    f"config says {key} {_yes(field)}, the account says {_yes(caps[key])}",
                    "the account wins; remove or fix the portal.* value in the config",
                )
            )
    return out


def build_params(
    prices: list[dict[str, Any]],
    *,
    allow_quantity: bool = False,
    return_url: str | None = None,
    headline: str | None = None,
) -> dict[str, Any]:
    """The configuration `portal create` proposes: cancel at period end with reasons,
    invoice history, payment-method update, plan switching between `prices` (if any),
    and the public login page."""
    features: dict[str, Any] = {
        "invoice_history": {"enabled": True},
        "payment_method_update": {"enabled": True},
        "subscription_cancel": {
            "enabled": True,
            "mode": "at_period_end",
            "proration_behavior": "none",
            "cancellation_reason": {"enabled": True, "options": list(CANCELLATION_REASONS)},
        },
    }
    by_product: dict[str, list[str]] = {}
    for price in prices:
        pid = str(price.get("id"))
        if not price.get("recurring"):
            raise BadInput(f"{pid} is not a recurring price: plan switching needs recurring prices")
        if price.get("active") is False:
            raise BadInput(f"{pid} is archived: plan switching needs active prices")
        product = price.get("product")
        product_id = product.get("id") if isinstance(product, Mapping) else product
        by_product.setdefault(str(product_id), []).append(pid)
    if by_product:
        features["subscription_update"] = {
            "enabled": True,
            "default_allowed_updates": ["price", "quantity"] if allow_quantity else ["price"],
            "proration_behavior": "create_prorations",
            "products": [{"product": k, "prices": v} for k, v in by_product.items()],
        }
    params: dict[str, Any] = {
        "features": features,
        "login_page": {"enabled": True},
        "metadata": {"created_by": "billingops"},
    }
    if return_url:
        if not return_url.startswith("https://"):
            raise BadInput(f"--return-url must be an https:// URL, got {return_url!r}")
        params["default_return_url"] = return_url
    if headline:
        params["business_profile"] = {"headline": headline}
    return params


def idempotency_key(params: Mapping[str, Any]) -> str:
    """The same configuration asked twice (a retried command) is created once."""
    digest = hashlib.sha256(json.dumps(params, sort_keys=True).encode()).hexdigest()[:32]
    return f"billingops-portal-{digest}"
