"""The Stripe stand-ins are held to stripe-python 16's description of Stripe's API (SPEC §5c):
the checker itself, and each stand-in answering a request Stripe would refuse with a 400
and recording it, so that the test which sent it fails."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from typing import Any

import pytest
import stripe

from billingops._billing.client import API_VERSION
from billingops._billing.stripe_gateway import StripeGateway
from billingops.sandbox import stripe_contract
from billingops.sandbox.current_api import CurrentApiServer
from billingops.sandbox.stripe_server import SANDBOX_API_KEY, sandbox_violations

# What the gateway sends (client.py, reads.py, writes.py, listing.py): Stripe takes all of it.
ACCEPTED = [
    ("GET", "/v1/customers/cus_1",
     {"expand": ["invoice_settings.default_payment_method", "default_source"]}),
    ("GET", "/v1/customers", {"email": "Ann@Example.com", "limit": "100"}),
    ("GET", "/v1/customers", {"limit": "100", "created": {"gte": "1790000000"}}),
    ("GET", "/v1/customers/search",
     {"query": 'email:"ann@example.com"', "limit": "100",
      "expand": ["data.invoice_settings.default_payment_method", "data.default_source"]}),
    ("GET", "/v1/subscriptions/sub_1",
     {"expand": ["customer", "customer.invoice_settings.default_payment_method"]}),
    ("GET", "/v1/subscriptions",
     {"customer": "cus_1", "limit": "100", "status": "all",
      "expand": ["data.latest_invoice.payments", "data.default_payment_method",
                 "data.discounts.source.coupon"]}),
    ("GET", "/v1/subscriptions",
     {"status": "all", "limit": "100", "created": {"gte": "1", "lt": "2"},
      "starting_after": "sub_9", "expand": ["data.customer", "data.latest_invoice"]}),
    ("GET", "/v1/charges", {"customer": "cus_1", "limit": "100", "expand": ["data.refunds"]}),
    ("GET", "/v1/invoices", {"customer": "cus_1", "limit": "100", "expand": ["data.payments"]}),
    ("GET", "/v1/prices/price_1", {"expand": ["tiers", "currency_options"]}),
    ("GET", "/v1/billing_portal/configurations", {"active": "true", "limit": "10"}),
    ("GET", "/v1/refunds", {"charge": "ch_1", "limit": "100"}),
    ("POST", "/v1/refunds",
     {"charge": "ch_1", "amount": "500", "reason": "requested_by_customer",
      "metadata": {"billingops_issue": "a/b#1"}}),
    ("POST", "/v1/subscriptions/sub_1",
     {"cancel_at_period_end": "true", "metadata": {"k": "v"},
      "cancellation_details": {"comment": "billingops"}}),
    ("DELETE", "/v1/subscriptions/sub_1", {"cancellation_details": {"comment": "billingops"}}),
]  # fmt: skip

REFUSED = [
    # a parameter the endpoint does not take
    ("GET", "/v1/subscriptions", {"customer": "cus_1", "include_canceled": "true"},
     "Received unknown parameter: include_canceled"),
    ("DELETE", "/v1/subscriptions/sub_1", {"metadata": {"k": "v"}},
     "Received unknown parameter: metadata"),
    ("POST", "/v1/subscriptions/sub_1", {"cancellation_details": {"note": "x"}},
     "Received unknown parameter: cancellation_details[note]"),
    ("POST", "/v1/refunds", {"charge": "ch_1", "refund_application_fee": "maybe"},
     "Invalid value for refund_application_fee"),
    ("GET", "/v1/customers", {"limit": "ten"}, "Invalid value for limit"),
    # a field that is not expandable
    ("GET", "/v1/subscriptions", {"expand": ["data.status"]},
     "This property cannot be expanded (data.status)."),
    ("GET", "/v1/customers/cus_1", {"expand": ["latest_invoice"]},
     "This property cannot be expanded (latest_invoice)."),
    ("GET", "/v1/subscriptions", {"expand": ["latest_invoice"]},  # a list: data. first
     "This property cannot be expanded (latest_invoice)."),
    # deeper than four levels
    ("GET", "/v1/charges", {"expand": ["data.invoice.subscription.customer.default_source"]},
     "You cannot expand more than 4 levels"),
    ("GET", "/v1/subscriptions", {"expand": ["data.items.data.price.tiers"]},
     "You cannot expand more than 4 levels"),
    # no such route
    ("GET", "/v1/subscriptions/sub_1/invoices", {}, "Unrecognized request URL"),
]  # fmt: skip


def test_the_checker_reads_stripe_python_16() -> None:
    assert stripe.VERSION.startswith("16."), stripe.VERSION
    route = stripe_contract.route_for("GET", "/v1/customers/search")
    assert route is not None and route.listing and route.resource is stripe.Customer
    assert route.params is not None and route.params.__name__ == "CustomerSearchParams"
    route = stripe_contract.route_for("DELETE", "/v1/subscriptions/sub_1")
    assert route is not None and route.params is not None
    assert route.params.__name__ == "SubscriptionCancelParams"


@pytest.mark.parametrize(("method", "path", "params"), ACCEPTED)
def test_what_the_gateway_sends_is_accepted(method: str, path: str, params: Any) -> None:
    assert stripe_contract.check(method, path, params) == []


@pytest.mark.parametrize(("method", "path", "params", "why"), REFUSED)
def test_a_request_stripe_would_refuse_is_caught(
    method: str, path: str, params: Any, why: str
) -> None:
    found = stripe_contract.check(method, path, params)
    assert found and found[0].startswith(why), found


def test_the_includable_fields_are_fields_of_stripe_pythons_classes() -> None:
    """The one list stripe-python cannot give (fields expandable though not
    ExpandableFields): each must at least be a field of that resource."""
    for cls_name, field in stripe_contract.INCLUDABLE:
        assert field in stripe_contract._annotations(getattr(stripe, cls_name)), (cls_name, field)


# -- the stand-ins ----------------------------------------------------------------------------


def _get(url: str, headers: dict[str, str]) -> tuple[int, dict[str, Any]]:
    req = urllib.request.Request(url, headers=headers)
    try:
        with urllib.request.urlopen(req, timeout=10) as resp:
            return resp.status, json.loads(resp.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


def test_the_current_api_server_refuses_and_records(loopback_only: None) -> None:
    server = CurrentApiServer()
    # Leaving the block with a violation recorded fails the test that sent it.
    with pytest.raises(AssertionError, match="include_canceled"), server:
        gw = StripeGateway("sk_test_x", server.base_url, max_network_retries=0)
        with pytest.raises(Exception, match="include_canceled"):
            gw._list_page("subscriptions", {"customer": "cus_1", "include_canceled": True})
    assert server.violations == [
        "GET /v1/subscriptions: Received unknown parameter: include_canceled"
    ]


@pytest.mark.sandbox
def test_localstripe_refuses_and_records_what_the_sdk_sends(
    stripe_server: str, loopback_only: None
) -> None:
    from billingops.sandbox.stripe_server import reset_sandbox

    reset_sandbox(stripe_server)
    headers = {"Authorization": f"Bearer {SANDBOX_API_KEY}", "Stripe-Version": API_VERSION}
    status, body = _get(f"{stripe_server}/v1/customers?expand[0]=data.subscriptions.data.x.y",
                        headers)  # fmt: skip
    assert status == 400 and body["error"]["type"] == "invalid_request_error"
    assert "4 levels" in body["error"]["message"]
    assert len(sandbox_violations(stripe_server)) == 1
    reset_sandbox(stripe_server)  # the fixture's check would fail this test otherwise
    assert sandbox_violations(stripe_server) == []


def test_the_list_server_refuses_and_records(loopback_only: None) -> None:
    from billingops.sandbox.list_server import ListServer

    server = ListServer(10)
    with pytest.raises(AssertionError, match=r"data\.plan"), server:
        status, body = _get(f"{server.base_url}/v1/subscriptions?expand[0]=data.plan", {})
        assert status == 400 and body["error"]["type"] == "invalid_request_error"
