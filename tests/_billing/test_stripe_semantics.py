"""Stripe's semantics where localstripe differs (SPEC §5c), in the current-API stand-in, and
the product relying on Stripe's, not on the stand-in's: a cancel Stripe answers 404 because
the subscription is already canceled is "already canceled", credited to billingops only
when the subscription's own metadata says so; a schedule refuses `cancel_at_period_end`;
idempotency on POST only, with no replay of a request refused before it executed; an email
Search misses is listed as given and lower-cased."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest

from billingops._billing.stripe_gateway import StripeGateway
from billingops.core.apply import step_run
from billingops.desk.perform import execute
from billingops.errors import AlreadyCanceled
from billingops.models.billing import BillingState
from billingops.models.decision import Approval, Step, StepKind
from billingops.sandbox.current_api import CurrentApiServer

from . import current_api as api
from .current_api import NOW

KEY = "billingops-test-key-0002"
REF = "acme/support#7"
STEP = Step(kind=StepKind.cancel_subscription, target="sub_1", at_period_end=False,
            needs=Approval.cancel, why="duplicate")  # fmt: skip
MARK = {"billingops_issue": REF, "billingops_step": STEP.key}


def execute_step(
    billing: Any,
    ref: str,
    step: Step,
    state: BillingState,
    plan_hash: str,
    recorded: Any,
    *,
    dry_run: bool,
) -> Any:
    """One approved step decided (core/apply.py) and performed (desk/perform.py)."""
    done, failure = execute(
        billing, step_run(step, state, ref, plan_hash, recorded), dry_run=dry_run
    )
    return failure or done


@pytest.fixture
def server(loopback_only: None) -> Iterator[CurrentApiServer]:
    with CurrentApiServer(now=NOW) as s:
        yield s


def gateway(server: CurrentApiServer, **kw: Any) -> StripeGateway:
    kw.setdefault("max_network_retries", 0)
    return StripeGateway("sk_test_current", server.base_url, clock=lambda: float(NOW), **kw)


def raw(server: CurrentApiServer, method: str, path: str, body: str = "",
        key: str | None = None) -> tuple[int, dict[str, Any], dict[str, str]]:  # fmt: skip
    headers = {"Authorization": "Bearer sk_test_current"}
    if key:
        headers["Idempotency-Key"] = key
    data = body.encode() if body else None
    if data is not None:
        headers["Content-Type"] = "application/x-www-form-urlencoded"
    req = urllib.request.Request(server.base_url + path, data=data, method=method,
                                 headers=headers)  # fmt: skip
    try:
        with urllib.request.urlopen(req, timeout=10) as resp:
            return resp.status, json.loads(resp.read()), dict(resp.headers)
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read()), dict(exc.headers)


# -- the stand-in -------------------------------------------------------------------------


def test_deleting_a_canceled_subscription_is_a_404(server: CurrentApiServer) -> None:
    server.add(api.subscription(status="canceled", canceled_at=NOW - 5))
    status, body, _ = raw(server, "DELETE", "/v1/subscriptions/sub_1")
    assert status == 404 and body["error"]["code"] == "resource_missing"


def test_a_canceled_subscription_takes_metadata_and_cancellation_details_only(
    server: CurrentApiServer,
) -> None:
    server.add(api.subscription(status="canceled", canceled_at=NOW - 5))
    status, _, _ = raw(server, "POST", "/v1/subscriptions/sub_1",
                       "metadata[note]=x&cancellation_details[comment]=why")  # fmt: skip
    assert status == 200
    assert server.objects["sub_1"]["metadata"] == {"note": "x"}
    assert server.objects["sub_1"]["cancellation_details"]["comment"] == "why"
    status, body, _ = raw(server, "POST", "/v1/subscriptions/sub_1", "cancel_at_period_end=true")
    assert status == 400 and "only update its cancellation_details and metadata" in str(body)


def test_a_scheduled_subscription_refuses_cancel_at_period_end(server: CurrentApiServer) -> None:
    server.add(api.subscription(schedule="sub_sched_1"))
    status, body, _ = raw(server, "POST", "/v1/subscriptions/sub_1", "cancel_at_period_end=true")
    assert status == 400 and "schedule" in body["error"]["message"]
    assert server.objects["sub_1"]["cancel_at_period_end"] is False


def test_the_idempotency_key_is_honoured_on_post_only(server: CurrentApiServer) -> None:
    server.add(api.subscription())
    first = raw(server, "DELETE", "/v1/subscriptions/sub_1", key="k-delete")
    again = raw(server, "DELETE", "/v1/subscriptions/sub_1", key="k-delete")
    assert first[0] == 200 and again[0] == 404  # ran afresh, not replayed
    assert "Idempotent-Replayed" not in again[2]


def test_a_request_refused_before_it_ran_is_not_replayed(server: CurrentApiServer) -> None:
    """Stripe stores an idempotent answer only once the endpoint started executing: a
    validation error is not stored, and the retry under the same key runs afresh."""
    server.add(api.charge("ch_1"))
    bad = raw(server, "POST", "/v1/refunds", "charge=ch_1&amount=100&bogus=1", "k-1")
    assert bad[0] == 400 and bad[1]["error"]["type"] == "invalid_request_error"
    good = raw(server, "POST", "/v1/refunds", "charge=ch_1&amount=100", "k-1")
    assert good[0] == 200 and good[1]["object"] == "refund"
    assert "Idempotent-Replayed" not in good[2]
    server.violations.clear()  # the bad request was this test's own


def test_lists_are_newest_first_and_page_past_a_hundred(server: CurrentApiServer) -> None:
    server.add(*[api.charge(f"ch_{n:03d}", created=NOW - 1000 + n) for n in range(150)])
    gw = gateway(server)
    first, more = gw._list_page("charges", {"customer": "cus_A", "limit": 100})
    assert more and len(first) == 100 and first[0]["id"] == "ch_149"
    rest, more = gw._list_page("charges", {"customer": "cus_A", "limit": 100,
                                           "starting_after": first[-1]["id"]})  # fmt: skip
    assert not more and [c["id"] for c in rest][-1] == "ch_000" and len(rest) == 50


# -- the product --------------------------------------------------------------------------


def _cancel(gw: StripeGateway, at_period_end: bool = False) -> Any:
    meta = MARK | {"billingops_prior_status": "active"}
    return gw.cancel_subscription(subscription_id="sub_1", at_period_end=at_period_end,
                                  idempotency_key=KEY, metadata=meta)  # fmt: skip


def test_a_cancel_of_a_subscription_someone_else_canceled_is_not_ours(
    server: CurrentApiServer,
) -> None:
    server.add(api.subscription(status="canceled", canceled_at=NOW - 5))
    with pytest.raises(AlreadyCanceled) as caught:
        _cancel(gateway(server))
    assert not caught.value.ours
    # Nothing on the subscription credits billingops (a later run must not either).
    assert not set(MARK) & set(server.objects["sub_1"]["metadata"])
    assert server.calls("DELETE") == []


def test_a_cancel_whose_delete_finds_it_canceled_by_us_is_ours(server: CurrentApiServer) -> None:
    """Our DELETE went through but its answer was lost; the retry gets Stripe's 404."""

    class LostAnswer(CurrentApiServer):
        def _write_subscription(self, method: str, sub_id: str, params: Any) -> Any:
            if method == "DELETE" and self.objects[sub_id]["status"] != "canceled":
                super()._write_subscription(method, sub_id, params)  # done, answer lost
            return super()._write_subscription(method, sub_id, params)

    with LostAnswer(now=NOW) as lost:
        lost.add(api.subscription())
        with pytest.raises(AlreadyCanceled) as caught:
            _cancel(gateway(lost))
        assert caught.value.ours
        assert lost.objects["sub_1"]["metadata"]["billingops_issue"] == REF


def test_the_desk_records_someone_elses_cancel_as_skipped(server: CurrentApiServer) -> None:
    """The state read showed it live; by the write, the customer had canceled it."""
    server.add(api.subscription())
    gw = gateway(server)
    state = gw.read_state(["cus_A"])
    server.objects["sub_1"].update(status="canceled", canceled_at=NOW - 1)
    done = execute_step(gw, REF, STEP, state, "hash", None, dry_run=False)
    assert not isinstance(done, Exception)
    assert done.status == "skipped"
    assert done.reason == "sub_1 was already canceled at Stripe (not by billingops)"


def test_a_paused_subscription_is_canceled_not_skipped_as_gone(server: CurrentApiServer) -> None:
    server.add(api.subscription(status="paused"))
    gw = gateway(server)
    state: BillingState = gw.read_state(["cus_A"])
    done = execute_step(gw, REF, STEP, state, "hash", None, dry_run=False)
    assert not isinstance(done, Exception)
    assert done.status == "done"
    assert server.objects["sub_1"]["status"] == "canceled"


def test_an_email_search_misses_is_listed_as_given_and_lower_cased(
    server: CurrentApiServer,
) -> None:
    server.search_lag = 60
    server.add(api.customer(email="kate@example.com", created=NOW - 10))
    gw = gateway(server)
    found = gw.lookup(stripe_ids=[], emails=["Kate@Example.com"], github_username=None,
                      metadata_key="github_username")  # fmt: skip
    assert found.by_email == {"Kate@Example.com": ["cus_A"]}
    lists = [r.params.get("email") for r in server.calls("GET", "/v1/customers")
             if r.path == "/v1/customers"]  # fmt: skip
    assert sorted(lists) == ["Kate@Example.com", "kate@example.com"]


def test_an_email_search_finds_costs_no_extra_list(server: CurrentApiServer) -> None:
    server.add(api.customer(email="kate@example.com", created=NOW - 86_400))
    gateway(server).lookup(stripe_ids=[], emails=["Kate@Example.com"], github_username=None,
                           metadata_key="github_username")  # fmt: skip
    assert len(server.requests) == 2  # the list as given and the search (SPEC §8 budget)


def test_our_refund_is_found_past_the_first_hundred_refunds_of_a_charge(
    server: CurrentApiServer,
) -> None:
    """The exactly-once check reads every refund of the charge, not the newest 100."""
    mark = {"billingops_issue": REF, "billingops_step": "refund:ch_1"}
    server.add(api.charge("ch_1", amount=100_000))
    server.add(api.refund("re_ours", "ch_1", 10, metadata=mark, created=NOW - 500))
    server.add(*[api.refund(f"re_{n:03d}", "ch_1", 10, created=NOW - 400 + n) for n in range(150)])
    refunds = gateway(server).find_refunds_for("ch_1")
    assert len(refunds) == 151 and refunds[-1].id == "re_ours"
