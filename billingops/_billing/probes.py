"""Onboarding: key probes (`billingops doctor`) and the billing portal configuration
(`billingops portal`); separate from the desk's reads, but built from the same list
parameters, so a probe makes the very call triage makes."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import Any, NamedTuple

from billingops._billing.client import PRICE_EXPAND, StripeClientBase
from billingops._billing.translate import _dedupe, redact
from billingops.errors import BadInput, ExitStatus


def _problem(s: Any, exc: Any) -> tuple[str, str]:
    """(kind, one line) for a Stripe SDK error."""
    status = getattr(exc, "http_status", None)
    if isinstance(exc, s.AuthenticationError):
        return "auth", "Stripe rejected the API key (revoked, rolled or mistyped)"
    if isinstance(exc, s.PermissionError):
        return "permission", "the key lacks the permission for this call"
    if isinstance(exc, s.RateLimitError):
        return "rate_limited", "Stripe rate limit (try again in a minute)"
    if isinstance(exc, s.APIConnectionError):
        return "unreachable", "cannot reach Stripe (after retries)"
    message = redact(str(getattr(exc, "user_message", "") or exc))[:200]
    if status == 404 and getattr(exc, "code", None) == "resource_missing":
        return "not_found", message or "not found"
    if status == 404:  # an endpoint this server does not have (localstripe: the portal)
        return "unavailable", "this Stripe endpoint does not exist here"
    if isinstance(exc, s.InvalidRequestError):
        return "invalid", message or f"HTTP {status}"
    return "error", f"Stripe failed (HTTP {status or '?'}, after retries)"


# The Dashboard's name of the restricted-key permission each read needs: the resource's,
# and, for an expansion, the expanded object's.
_RESOURCE_PERMISSION = {
    "customers": "Customers: Read",
    "subscriptions": "Subscriptions: Read",
    "charges": "Charges: Read",
    "invoices": "Invoices: Read",
    "prices": "Prices: Read",
    "refunds": "Refunds: Read",
}
_EXPANSION_PERMISSION = {
    "default_payment_method": "PaymentMethods: Read",
    "default_source": "PaymentMethods: Read",
    "latest_invoice": "Invoices: Read",
    "payments": "Invoices: Read",
    "discounts": "Coupons: Read",
    "refunds": "Refunds: Read",
    "tiers": "Prices: Read",
    "currency_options": "Prices: Read",
}


def permission_for(resource: str, expansion: str | None) -> str:
    """The permission a refused read needs (`data.refunds` on charges: Refunds: Read)."""
    if expansion:
        for part in reversed(expansion.split(".")):
            if part in _EXPANSION_PERMISSION:
                return _EXPANSION_PERMISSION[part]
    return _RESOURCE_PERMISSION.get(resource, f"{resource.capitalize()}: Read")


class KeyProbe(NamedTuple):
    """What one probe call found: `kind` is ok, auth, permission, unreachable, unavailable,
    rate_limited, not_found, invalid or error; `detail` a one-line reason."""

    kind: str
    detail: str

    @property
    def ok(self) -> bool:
        return self.kind == "ok"


class KeyProblem(BadInput):
    """A probe or portal call failed; `kind` as in `KeyProbe`."""

    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message)
        self.kind = kind
        if kind in ("unreachable", "rate_limited", "error"):
            self.status = ExitStatus.OPERATIONAL


class Probes(StripeClientBase):
    # -- onboarding: key probes and the billing portal configuration --------------------
    # (used by `billingops doctor` and `billingops portal`; separate from the desk's reads)

    def probe_reads(self) -> dict[str, KeyProbe]:
        """The calls triage and apply make, each with limit=1 and the same expansions
        (built by the same code), concurrently: what the key may read. A call refused for
        permissions is tried bare and with one expansion at a time, so the probe names the
        missing permission (`KeyProbe.detail`). Never raises."""
        v1 = self._client.v1
        calls: dict[str, tuple[Any, dict[str, Any]]] = {}
        for kind in ("customers", "subscriptions", "charges", "invoices"):
            params = {**self._list_params(kind, ""), "limit": 1}
            del params["customer"]
            if kind == "customers":
                params["expand"] = self._customer_expand("data.")
            calls[kind] = (getattr(v1, kind).list, params)
        if not self.compat:
            calls["customers.search"] = (
                v1.customers.search,
                {"query": 'email:"doctor@example.invalid"', "limit": 1,
                 "expand": self._customer_expand("data.")},
            )  # fmt: skip
            calls["prices"] = (
                v1.prices.list,
                {"limit": 1, "expand": [f"data.{e}" for e in PRICE_EXPAND]},
            )
        calls["refunds"] = (v1.refunds.list, {"limit": 1})  # apply's reconciliation
        tasks: list[Callable[[], KeyProbe]] = [
            partial(self._probe_named, name, fn, params) for name, (fn, params) in calls.items()
        ]
        return dict(zip(calls, self._concurrently(tasks), strict=True))

    def _probe_named(self, name: str, fn: Any, params: dict[str, Any]) -> KeyProbe:
        probe = self._probe(lambda: fn(params=params))
        if probe.kind != "permission":
            return probe
        base = name.split(".")[0]
        expand = list(params.get("expand") or [])
        bare = {k: v for k, v in params.items() if k != "expand"}
        if expand and self._probe(lambda: fn(params=bare)).ok:
            for e in expand:
                one = {**bare, "expand": [e]}
                if self._probe(partial(fn, params=one)).kind == "permission":
                    return KeyProbe("permission", permission_for(base, e))
        return KeyProbe("permission", permission_for(base, None))

    def portal_configurations(self) -> list[dict[str, Any]]:
        """Every active billing portal configuration, as Stripe returns them.

        Raises `KeyProblem` (kind `unavailable` where the endpoint does not exist, as on
        localstripe; `permission` for a restricted key without Customer portal: read)."""
        v1 = self._client.v1
        page = self._checked(
            lambda: v1.billing_portal.configurations.list(params={"active": True, "limit": 100})
        )
        return [c.to_dict() for c in page.data]

    def create_portal_configuration(
        self, params: dict[str, Any], *, idempotency_key: str
    ) -> dict[str, Any]:
        """Create one billing portal configuration (a write: `Customer portal: write`)."""
        v1 = self._client.v1
        obj = self._checked(
            lambda: v1.billing_portal.configurations.create(
                params=params, options={"idempotency_key": idempotency_key}
            )
        )
        return dict(obj.to_dict())

    def retrieve_prices(self, price_ids: list[str]) -> list[dict[str, Any]]:
        """The prices (with their product id) for a portal's plan switching, concurrently."""
        v1 = self._client.v1
        tasks: list[Callable[[], Any]] = [
            partial(self._checked, partial(v1.prices.retrieve, pid)) for pid in _dedupe(price_ids)
        ]
        return [dict(p.to_dict()) for p in self._concurrently(tasks)]

    def _probe(self, fn: Callable[[], Any]) -> KeyProbe:
        try:
            self._checked(fn)
        except KeyProblem as exc:
            return KeyProbe(exc.kind, str(exc))
        return KeyProbe("ok", "")

    def _checked(self, fn: Callable[[], Any]) -> Any:
        """Run one SDK call; errors become a `KeyProblem` with a kind (never the key)."""
        s = self._stripe
        try:
            return fn()
        except s.StripeError as exc:
            raise KeyProblem(*_problem(s, exc)) from None


IDENTITY_SCAN_PAGES = 5  # pages of 100 customers, newest first: doctor stays cheap


@dataclass(frozen=True)
class LoginCoverage:
    """Of the newest customers read: how many carry a GitHub login in metadata, and how
    many of those lack the numeric account id (SPEC §5a)."""

    scanned: int
    with_login: int
    without_id: int
    more: bool  # older customers exist that were not read


class IdentityProbe(StripeClientBase):
    def login_coverage(
        self, username_key: str, id_key: str, *, pages: int = IDENTITY_SCAN_PAGES
    ) -> LoginCoverage:
        """Lists customers (limit 100, newest first, at most `pages` pages; no Search: a
        metadata key's absence cannot be searched for) and counts the logins without an
        account id."""
        scanned = with_login = without_id = 0
        params: dict[str, Any] = {"limit": 100}
        more = False
        for _ in range(pages):
            batch, more = self._list_page("customers", params)
            for c in batch:
                scanned += 1
                meta = c.get("metadata") or {}
                if str(meta.get(username_key) or "").strip():
                    with_login += 1
                    if not str(meta.get(id_key) or "").strip():
                        without_id += 1
            if not more or not batch:
                break
            params = {"limit": 100, "starting_after": batch[-1]["id"]}
        return LoginCoverage(scanned, with_login, without_id, more)
