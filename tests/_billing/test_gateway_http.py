"""StripeGateway against a scripted HTTP client: error mapping and the real-Stripe request
budget (search, portal, `payments` expansion), without any network."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import stripe

from billingops._billing.stripe_gateway import API_VERSION, StripeGateway
from billingops.core.resolve import resolve
from billingops.errors import BadInput, NotFound, OperationalError

from .test_translators import CURRENT_CHARGE, CURRENT_INVOICE, CURRENT_SUBSCRIPTION

Handler = Callable[[str, str, dict[str, list[str]]], tuple[int, Any]]


class Scripted(stripe.HTTPClient):
    """Answers each request from a handler(method, path, query) -> (status, json)."""

    name = "scripted"

    def __init__(self, handler: Handler) -> None:
        super().__init__()
        self.handler = handler
        self.headers: list[dict[str, str]] = []

    def request(self, method: str, url: str, headers: Any, post_data: Any = None, **kw: Any) -> Any:
        self.headers.append(dict(headers or {}))
        parts = urlsplit(url)
        query = parse_qs(parts.query or (post_data or ""))
        status, body = self.handler(method.upper(), parts.path, query)
        if isinstance(body, Exception):
            raise body
        return json.dumps(body), status, {"request-id": "req_test"}

    def close(self) -> None:
        pass


def _gateway(handler: Handler, **kw: Any) -> tuple[StripeGateway, Scripted]:
    client = Scripted(handler)
    kw.setdefault("max_network_retries", 0)
    gw = StripeGateway("sk_test_secretvalue123", http_client=client, clock=lambda: 1.0, **kw)
    return gw, client


_CONNECTION_RESET = stripe.APIConnectionError("reset", should_retry=True)  # type: ignore[no-untyped-call]


def _error(status: int, message: str = "x", code: str | None = None) -> tuple[int, Any]:
    return status, {"error": {"type": "invalid_request_error", "message": message, "code": code}}


CUSTOMER = {
    "id": "cus_A",
    "object": "customer",
    "email": "Ann@Example.com",
    "metadata": {},
    "invoice_settings": {"default_payment_method": None},
    "default_source": None,
}


def _listing(*items: Any) -> dict[str, Any]:
    return {"object": "list", "data": list(items), "has_more": False, "url": "/v1/x"}


def real_stripe(method: str, path: str, q: dict[str, list[str]]) -> tuple[int, Any]:
    if path == "/v1/customers/search":
        return 200, {"object": "search_result", "data": [CUSTOMER, {**CUSTOMER, "id": "cus_B"}],
                     "has_more": False, "url": "/v1/customers/search"}  # fmt: skip
    if path == "/v1/customers":
        return 200, _listing(*([CUSTOMER] if q.get("email") == ["Ann@Example.com"] else []))
    if path == "/v1/subscriptions":
        sub = {
            **CURRENT_SUBSCRIPTION,
            "customer": q["customer"][0],
            "latest_invoice": CURRENT_INVOICE,
        }
        return 200, _listing(sub)
    if path == "/v1/charges":
        return 200, _listing({**CURRENT_CHARGE, "customer": q["customer"][0]})
    if path == "/v1/invoices":
        return 200, _listing({**CURRENT_INVOICE, "customer": q["customer"][0]})
    if path == "/v1/billing_portal/configurations":
        return 200, _listing({"id": "bpc_1", "active": True, "is_default": True,
                              "features": {"subscription_cancel": {"enabled": False}}})  # fmt: skip
    if path.startswith("/v1/customers/"):
        return 200, {**CUSTOMER, "id": path.rsplit("/", 1)[1]}
    return _error(404, "No such object", "resource_missing")


def test_stripe_is_imported_lazily() -> None:
    code = (
        "import sys, billingops, billingops._billing.stripe_gateway, billingops.core.resolve,"
        " billingops.sandbox.scenarios; assert 'stripe' not in sys.modules, 'stripe imported'"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_pinned_version_and_no_key_in_errors() -> None:
    gw, client = _gateway(lambda m, p, q: _error(401, "Invalid API Key provided: sk_test_****123"))
    with pytest.raises(BadInput) as info:
        gw.lookup(stripe_ids=["cus_A"], emails=[], github_username=None, metadata_key="k")
    assert "secretvalue" not in str(info.value) and "sk_" not in str(info.value)
    assert client.headers[0]["Stripe-Version"] == API_VERSION


@pytest.mark.parametrize(
    ("response", "error", "text"),
    [
        (_error(500, "boom"), OperationalError, "HTTP 500"),
        (_error(503, "down"), OperationalError, "HTTP 503"),
        ((429, {"error": {"type": "rate_limit_error", "message": "slow"}}), OperationalError,
         "rate limit"),
        ((200, _CONNECTION_RESET), OperationalError,
         "cannot reach"),
        (_error(403, "nope"), BadInput, "restricted key"),
        (_error(400, "Invalid sk_live_abc param"), BadInput, "[key]"),
    ],
)  # fmt: skip
def test_errors_become_one_line(response: tuple[int, Any], error: type, text: str) -> None:
    gw, _ = _gateway(lambda m, p, q: response)
    with pytest.raises(error) as info:
        gw.read_state(["cus_A"])
    assert text in str(info.value)
    assert "\n" not in str(info.value) and "sk_live" not in str(info.value)


def test_retries_are_made_on_5xx() -> None:
    calls: list[str] = []

    def flaky(m: str, p: str, q: dict[str, list[str]]) -> tuple[int, Any]:
        calls.append(p)
        return _error(500, "boom") if len(calls) < 3 else (200, CUSTOMER)

    gw, _ = _gateway(flaky, max_network_retries=2)
    gw._client._requestor._client.__class__.MAX_DELAY = 0  # no sleeping in tests
    gw._client._requestor._client.__class__.INITIAL_DELAY = 0
    lk = gw.lookup(stripe_ids=["cus_A"], emails=[], github_username=None, metadata_key="k")
    assert lk.by_id == {"cus_A": ["cus_A"]} and len(calls) == 3


def test_not_found_is_a_lookup_result_not_an_error() -> None:
    gw, _ = _gateway(lambda m, p, q: _error(404, "No such customer", "resource_missing"))
    lk = gw.lookup(stripe_ids=["cus_X", "sub_X"], emails=[], github_username=None, metadata_key="k")
    assert lk.by_id == {"cus_X": [], "sub_X": []}
    with pytest.raises(NotFound):
        gw.find_refunds_for("ch_X")


def test_real_stripe_budget_one_customer_by_mixed_case_email() -> None:
    gw, _ = _gateway(real_stripe)
    lk = gw.lookup(stripe_ids=[], emails=["Ann@Example.com"], github_username=None,
                   metadata_key="k")  # fmt: skip
    assert len(gw.requests) == 2  # list as given, search (any letter case)
    # Search matched cus_B too (same email, any case): one person, two customers.
    res = resolve(emails=["Ann@Example.com"], lookups=lk)
    assert res.customer_ids == ["cus_A", "cus_B"] and not res.conflicting
    state = gw.read_state(["cus_A"])
    # + subscriptions, charges, invoices, portal; the customer was cached: SPEC §8's 6.
    assert len(gw.requests) == 6
    assert state.portal.source == "stripe" and state.portal.allows_cancellation is False
    assert state.invoices[0].payment_intent_id == "pi_1"
    assert state.charges[0].invoice_id == "in_1"  # linked through invoice.payments
    assert any("expand[0]=data.latest_invoice.payments" in r for r in gw.requests)
    gw.read_state(["cus_A", "cus_B"])
    assert len(gw.requests) == 6 + 7  # two customers: 2 x 3 + portal (both cached)


def test_real_stripe_budget_by_customer_id() -> None:
    gw, _ = _gateway(real_stripe)
    lk = gw.lookup(stripe_ids=["cus_A"], emails=[], github_username=None, metadata_key="k")
    gw.read_state(resolve(stripe_ids=["cus_A"], lookups=lk).customer_ids)
    assert len(gw.requests) == 5


def test_github_username_uses_search_on_real_stripe() -> None:
    gw, _ = _gateway(real_stripe)
    lk = gw.lookup(stripe_ids=[], emails=[], github_username="octo", metadata_key="github")
    assert lk.by_github_username == {"octo": []}  # search results lack the metadata value
    # Search, and (it lags new customers by up to a minute) the customers created since.
    assert [r.split("?")[0] for r in gw.requests] == ["GET v1/customers/search", "GET v1/customers"]
    assert "metadata[%22github%22]%3A%22octo%22" in gw.requests[0]
    assert "created[gte]=" in gw.requests[1]


def test_missing_key_is_bad_input() -> None:
    with pytest.raises(BadInput):
        StripeGateway("")
