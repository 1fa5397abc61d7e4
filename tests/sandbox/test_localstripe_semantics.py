"""localstripe, as the sandbox serves it, with Stripe's semantics where localstripe's own
differ (SPEC §5c): DELETE of a canceled subscription is a 404 `resource_missing`; a
canceled subscription takes `metadata` (nothing else); lists are newest first and page
past 100 with `has_more` / `starting_after`."""

from __future__ import annotations

from typing import Any

import pytest

from billingops.errors import OperationalError
from billingops.sandbox.stripe_server import sandbox_request
from tests.plugins.sandbox import Sandbox

pytestmark = pytest.mark.sandbox


def _subscription(sandbox: Sandbox) -> str:
    seeded: Any = sandbox.seed("healthy_single")
    subs = sandbox_request(sandbox.base_url, "GET", "/v1/subscriptions", {"status": "all"})
    assert seeded is not None
    return str(subs["data"][0]["id"])


def test_deleting_a_canceled_subscription_is_a_404(stripe_sandbox: Sandbox) -> None:
    sid = _subscription(stripe_sandbox)
    sandbox_request(stripe_sandbox.base_url, "DELETE", f"/v1/subscriptions/{sid}")
    with pytest.raises(OperationalError, match=r"HTTP 404.*resource_missing"):
        sandbox_request(stripe_sandbox.base_url, "DELETE", f"/v1/subscriptions/{sid}")


def test_a_canceled_subscription_takes_metadata_only(stripe_sandbox: Sandbox) -> None:
    base = stripe_sandbox.base_url
    sid = _subscription(stripe_sandbox)
    sandbox_request(base, "DELETE", f"/v1/subscriptions/{sid}")
    got = sandbox_request(base, "POST", f"/v1/subscriptions/{sid}", {"metadata": {"n": "1"}})
    assert got["metadata"]["n"] == "1" and got["status"] == "canceled"
    with pytest.raises(OperationalError, match=r"HTTP 400.*cancellation_details and metadata"):
        sandbox_request(base, "POST", f"/v1/subscriptions/{sid}", {"cancel_at_period_end": True})


def test_lists_are_newest_first_and_page_past_a_hundred(stripe_sandbox: Sandbox) -> None:
    base = stripe_sandbox.base_url
    for n in range(120):
        sandbox_request(base, "POST", "/v1/customers", {"email": f"c{n}@example.com"})
        sandbox_request(base, "POST", "/_config/billingops/clock", json_body={"advance": 1})
    first = sandbox_request(base, "GET", "/v1/customers", {"limit": 100})
    assert first["has_more"] and len(first["data"]) == 100
    assert first["data"][0]["email"] == "c119@example.com"
    created = [c["created"] for c in first["data"]]
    assert created == sorted(created, reverse=True)
    rest = sandbox_request(base, "GET", "/v1/customers",
                           {"limit": 100, "starting_after": first["data"][-1]["id"]})  # fmt: skip
    assert not rest["has_more"] and len(rest["data"]) == 20
    assert rest["data"][-1]["email"] == "c0@example.com"


def test_a_cancel_sent_again_after_it_went_through_is_already_done_and_ours(
    stripe_gateway: Any, stripe_sandbox: Sandbox
) -> None:
    """A second run of the step (the first one's record was lost): Stripe replays the
    mark's answer under its key, the DELETE gets Stripe's 404, and the mark says it was us."""
    from billingops.errors import AlreadyCanceled

    sid = _subscription(stripe_sandbox)
    mark = {"billingops_issue": "acme/support#1", "billingops_step": "cancel:x"}

    def cancel() -> Any:
        return stripe_gateway.cancel_subscription(
            subscription_id=sid, at_period_end=False, idempotency_key="k", metadata=mark
        )

    assert cancel().status == "canceled"
    with pytest.raises(AlreadyCanceled) as caught:
        cancel()
    assert caught.value.ours


def test_a_cancel_of_a_subscription_someone_else_canceled_leaves_no_mark(
    stripe_gateway: Any, stripe_sandbox: Sandbox
) -> None:
    from billingops.errors import AlreadyCanceled

    sid = _subscription(stripe_sandbox)
    sandbox_request(stripe_sandbox.base_url, "DELETE", f"/v1/subscriptions/{sid}")
    mark = {"billingops_issue": "acme/support#1", "billingops_step": "cancel:x"}
    with pytest.raises(AlreadyCanceled) as caught:
        stripe_gateway.cancel_subscription(subscription_id=sid, at_period_end=False,
                                           idempotency_key="k", metadata=mark)  # fmt: skip
    assert not caught.value.ours
    sub = sandbox_request(stripe_sandbox.base_url, "GET", f"/v1/subscriptions/{sid}")
    assert not set(mark) & set(sub.get("metadata") or {})


def test_a_request_refused_before_it_ran_is_not_replayed(stripe_sandbox: Sandbox) -> None:
    import urllib.error
    import urllib.request

    from billingops._billing.client import API_VERSION
    from billingops.sandbox.stripe_server import SANDBOX_API_KEY, reset_sandbox

    def post(body: str) -> tuple[int, dict[str, str]]:
        req = urllib.request.Request(
            stripe_sandbox.base_url + "/v1/customers", data=body.encode(), method="POST",
            headers={"Authorization": f"Bearer {SANDBOX_API_KEY}", "Stripe-Version": API_VERSION,
                     "Idempotency-Key": "k-1",
                     "Content-Type": "application/x-www-form-urlencoded"},
        )  # fmt: skip
        try:
            with urllib.request.urlopen(req, timeout=10) as resp:
                return resp.status, dict(resp.headers)
        except urllib.error.HTTPError as exc:
            return exc.code, dict(exc.headers)

    assert post("email=a@example.com&bogus=1")[0] == 400
    status, headers = post("email=a@example.com")
    assert status == 200 and "Idempotent-Replayed" not in headers
    reset_sandbox(stripe_sandbox.base_url)  # the refused request was this test's own
