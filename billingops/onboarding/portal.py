"""The Stripe billing portal: what a configuration lets customers do, and the
configuration `billingops portal create` proposes. Pure: dicts in, checks / params out."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from typing import Any

from billingops.config import PortalSettings
from billingops.errors import BadInput
from billingops.onboarding.checks import Check, Texts, fail, passed, warn
from billingops.onboarding.texts import message

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
# The texts: templates/checks/portal.txt.j2.
_check = Texts("portal")


def __getattr__(name: str) -> str:
    """`UNKNOWN`: what doctor says of a portal the account cannot describe."""
    if name == "UNKNOWN":
        return _check.text("unknown_text")
    raise AttributeError(name)


def _get(d: Any, *path: str) -> Any:
    for key in path:
        d = d.get(key) if isinstance(d, Mapping) else None
    return d


def default_configuration(configs: list[dict[str, Any]]) -> dict[str, Any] | None:
    active = [c for c in configs if c.get("active", True)]
    return next((c for c in active if c.get("is_default")), active[0] if active else None)


def capabilities(config: Mapping[str, Any]) -> dict[str, bool]:
    """What the configuration lets customers do, by feature (in the order doctor says)."""

    def on(feature: str) -> bool:
        return bool(_get(config, "features", feature, "enabled"))

    return {
        "cancellation": on("subscription_cancel"),
        "invoice_history": on("invoice_history"),
        "payment_method_update": on("payment_method_update"),
        "subscription_update": on("subscription_update"),
    }


def summary(configs: list[dict[str, Any]], settings: PortalSettings) -> Check:
    """doctor's one line on the portal."""
    config = default_configuration(configs)
    if config is None:
        return _check(fail, "stripe.portal", "summary_none")
    caps = capabilities(config)
    missing = [
        k for k in ("cancellation", "invoice_history", "payment_method_update") if not caps[k]
    ]
    if missing:
        return _check(warn, "stripe.portal", "summary_missing", features=caps, missing=missing)
    if not _login_url(config) and not settings.login_url:
        return _check(warn, "stripe.portal", "summary_no_login", features=caps)
    return _check(passed, "stripe.portal", "summary_ok", features=caps)


def unknown(
    settings: PortalSettings, *, permission_missing: bool = False, command: str = "doctor"
) -> Check:
    """The account cannot tell (localstripe has no portal API; a key without portal read:
    `permission_missing`, worded for `command`, doctor or portal)."""
    known = {
        "cancellation": settings.allows_cancellation,
        "invoice_history": settings.allows_invoice_history,
    }
    if all(v is not None for v in known.values()):
        features = {k: bool(v) for k, v in known.items()}
        return _check(passed, "stripe.portal", "from_config", features=features)
    return _check(
        warn,
        "stripe.portal",
        "unknown",
        permission_missing=permission_missing,
        command=command,
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
        return [_check(fail, "portal.configuration", "configuration_none")]
    out = [
        _check(
            passed,
            "portal.configuration",
            "configuration",
            id=str(config.get("id", "?")),
            default=bool(config.get("is_default")),
            count=len(configs),
        )
    ]
    cancel = _get(config, "features", "subscription_cancel") or {}
    if not cancel.get("enabled"):
        out.append(_check(warn, "portal.cancellation", "cancellation_off"))
    else:
        mode = cancel.get("mode") or "at_period_end"
        reasons = bool(_get(cancel, "cancellation_reason", "enabled"))
        values = {"mode": mode, "reasons": reasons}
        if mode != "at_period_end":
            out.append(_check(warn, "portal.cancellation", "cancellation_immediate", **values))
        elif not reasons:
            out.append(_check(warn, "portal.cancellation", "cancellation_no_reason", **values))
        else:
            out.append(_check(passed, "portal.cancellation", "cancellation_ok", **values))
    for key in ("invoice_history", "payment_method_update"):
        on = bool(_get(config, "features", key, "enabled"))
        out.append(_check(passed if on else warn, f"portal.{key}", "feature", key=key, on=on))
    update = _get(config, "features", "subscription_update") or {}
    if update.get("enabled"):
        products = update.get("products") or []
        prices = sum(len(p.get("prices") or []) for p in products if isinstance(p, Mapping))
        out.append(
            _check(
                passed,
                "portal.subscription_update",
                "switching_on",
                allowed=update.get("default_allowed_updates") or [],
                prices=prices,
                products=len(products),
            )
        )
    else:
        out.append(_check(passed, "portal.subscription_update", "switching_off"))
    url = _login_url(config)
    configured = settings.login_url
    if url is None:
        out.append(_check(warn, "portal.login_page", "login_off"))
    elif configured and configured != url:
        out.append(
            _check(warn, "portal.login_page", "login_differs", url=url, configured=configured)
        )
    else:
        out.append(_check(passed, "portal.login_page", "login_ok", url=url, configured=configured))
    caps = capabilities(config)
    for key, field in (
        ("cancellation", settings.allows_cancellation),
        ("invoice_history", settings.allows_invoice_history),
    ):
        if field is not None and field != caps[key]:
            out.append(
                _check(
                    warn,
                    "portal.config",
                    "config_differs",
                    key=key,
                    configured=field,
                    actual=caps[key],
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
            raise BadInput(message("portal", "not_recurring", price=pid))
        if price.get("active") is False:
            raise BadInput(message("portal", "archived", price=pid))
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
            raise BadInput(message("portal", "return_url_not_https", url=return_url))
        params["default_return_url"] = return_url
    if headline:
        params["business_profile"] = {"headline": headline}
    return params


def idempotency_key(params: Mapping[str, Any]) -> str:
    """The same configuration asked twice (a retried command) is created once."""
    digest = hashlib.sha256(json.dumps(params, sort_keys=True).encode()).hexdigest()[:32]
    return f"billingops-portal-{digest}"
