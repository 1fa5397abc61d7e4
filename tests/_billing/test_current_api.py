"""The gateway against current-API JSON served over HTTP to the real SDK (issue 15):
`STRIPE_API_BASE` changes only the address; writes reconcile, survive races and record
what Stripe really did."""

from __future__ import annotations

import inspect
from collections.abc import Iterator
from typing import Any

import pytest
import stripe

from billingops._billing.stripe_gateway import StripeGateway
from billingops.config import Environment
from billingops.errors import AlreadyCanceled, ConfigError, WriteRefused
from billingops.sandbox.current_api import CurrentApiServer, error
from billingops.wiring import Wiring

from . import current_api as api
from .current_api import NOW

KEY = "billingops-test-key-0001"
MARK = {"billingops_issue": "acme/support#7", "billingops_step": "refund:ch_1"}


def _nested(cls: type, name: str) -> type | None:
    camel = "".join(p.capitalize() for p in name.split("_"))
    found = getattr(cls, camel, None)
    return found if inspect.isclass(found) else None


def _fields(cls: type) -> set[str]:
    names: set[str] = set()
    for klass in cls.__mro__:
        names |= set(getattr(klass, "__annotations__", {}))
    return names


def _conforms(obj: dict[str, Any], cls: type, where: str) -> list[str]:
    bad = []
    fields = _fields(cls)
    for key, value in obj.items():
        if key not in fields:
            bad.append(f"{where}.{key}")
        elif isinstance(value, dict) and (sub := _nested(cls, key)) is not None:
            bad += _conforms(value, sub, f"{where}.{key}")
    return bad


@pytest.mark.parametrize(("name", "obj"), api.SHAPES, ids=[n for n, _ in api.SHAPES])
def test_current_api_shapes(name: str, obj: dict[str, Any]) -> None:
    """Every key of the fixture objects is a field of stripe-python 16.1's resource class."""
    assert stripe.VERSION.startswith("16."), stripe.VERSION
    assert _conforms(obj, getattr(stripe, name), name) == []


def test_the_shape_check_catches_a_field_stripe_does_not_send() -> None:
    assert _conforms({"paid_out_of_band": True}, stripe.Invoice, "Invoice") == [
        "Invoice.paid_out_of_band"
    ]


@pytest.fixture
def server(loopback_only: None) -> Iterator[CurrentApiServer]:
    with CurrentApiServer(now=NOW) as s:
        yield s


def gateway(server: CurrentApiServer, **kw: Any) -> StripeGateway:
    kw.setdefault("max_network_retries", 0)
    return StripeGateway("sk_test_current", server.base_url, clock=lambda: float(NOW), **kw)


# -- 5. STRIPE_API_BASE changes only the address ------------------------------------------


def test_an_api_base_alone_gets_the_requests_real_stripe_gets(server: CurrentApiServer) -> None:
    server.add(api.customer(email="ann@example.com"), api.subscription())
    gw = gateway(server)
    found = gw.lookup(stripe_ids=[], emails=["Ann@Example.com"], github_username="ann",
                      metadata_key="github_username")  # fmt: skip
    assert found.by_email == {"Ann@Example.com": ["cus_A"]}  # found by search, any case
    gw.read_state(["cus_A"])
    paths = [r.path for r in server.requests]
    assert "/v1/customers/search" in paths
    assert "/v1/billing_portal/configurations" in paths
    subs = server.calls("GET", "/v1/subscriptions")[0]
    assert "data.latest_invoice.payments" in subs.params["expand"]


def test_the_sandbox_setting_switches_localstripe_behaviour(server: CurrentApiServer) -> None:
    server.add(api.customer(email="ann@example.com"))
    gw = gateway(server, compat=True)
    gw.lookup(stripe_ids=[], emails=["ann@example.com"], github_username=None,
              metadata_key="github_username")  # fmt: skip
    gw.read_state(["cus_A"])
    paths = [r.path for r in server.requests]
    assert "/v1/customers/search" not in paths
    assert "/v1/billing_portal/configurations" not in paths


def test_the_environment_decides_sandbox_mode_not_the_address() -> None:
    base = {"STRIPE_API_KEY": "sk_test_x", "STRIPE_API_BASE": "http://127.0.0.1:9"}
    wiring = Wiring(Environment.from_mapping(base), config=Wiring.from_env({}).config)
    assert wiring.billing().compat is False  # type: ignore[attr-defined]
    env = Environment.from_mapping(base | {"BILLINGOPS_SANDBOX": "localstripe"})
    assert Wiring(env, config=wiring.config).billing().compat is True  # type: ignore[attr-defined]
    with pytest.raises(ConfigError, match="billingops_sandbox"):
        Environment.from_mapping(base | {"BILLINGOPS_SANDBOX": "yes"})


# -- 3. writes ----------------------------------------------------------------------------


def _refund(gw: StripeGateway, amount: int = 1000, key: str = KEY) -> Any:
    return gw.refund(charge_id="ch_1", amount=amount, idempotency_key=key, metadata=MARK)


def test_a_refund_says_why_and_reports_stripes_status(server: CurrentApiServer) -> None:
    server.refund_status = "pending"
    server.add(api.charge("ch_1"))
    refund = _refund(gateway(server))
    assert refund.status == "pending"
    sent = server.calls("POST", "/v1/refunds")[0]
    assert sent.params["reason"] == "requested_by_customer"
    assert sent.params["metadata"] == MARK
    assert sent.idempotency_key == KEY


@pytest.mark.parametrize(
    ("charge", "code"),
    [
        ({"disputed": True}, "charge_disputed"),
        ({"amount_refunded": 1000, "refunded": True}, "charge_already_refunded"),
    ],
)
def test_a_race_400_is_a_refusal_with_stripes_code(
    server: CurrentApiServer, charge: dict[str, Any], code: str
) -> None:
    server.add(api.charge("ch_1", **charge))
    with pytest.raises(WriteRefused) as caught:
        _refund(gateway(server))
    assert caught.value.code == code
    assert "Traceback" not in str(caught.value) and "sk_test" not in str(caught.value)
    assert not [o for o in server.objects if o.startswith("re_")]


def test_a_400_after_our_own_refund_went_through_is_that_refund(server: CurrentApiServer) -> None:
    """The first attempt refunded, its answer was lost; the retry meets
    `charge_already_refunded` and finds the refund carrying this step's metadata."""
    server.add(
        api.charge("ch_1", amount_refunded=1000, refunded=True),
        api.refund("re_ours", "ch_1", 1000, metadata=MARK),
    )
    assert _refund(gateway(server)).id == "re_ours"


def test_an_idempotency_error_reconciles_then_retries_once(server: CurrentApiServer) -> None:
    """An older billingops sent this key without `reason` and Stripe refused that attempt
    (a 400, stored under the key): the same key with the new parameters is an
    `idempotency_error`. No refund of ours exists, so one is created under a key bound to
    the parameters; running again creates nothing more."""
    server.add(api.charge("ch_1", disputed=True))
    with pytest.raises(WriteRefused):
        gateway(server).refund(
            charge_id="ch_1", amount=1000, idempotency_key=KEY, metadata=MARK, reason="duplicate"
        )
    server.objects["ch_1"]["disputed"] = False  # the dispute was won
    first = _refund(gateway(server))
    second = _refund(gateway(server))
    assert first.id == second.id
    assert [o for o in server.objects if o.startswith("re_")] == [first.id]
    # 400 disputed; idempotency error + create; idempotency error, then found by metadata.
    assert len(server.calls("POST", "/v1/refunds")) == 4


def test_stripe_replays_an_error_for_the_same_key(server: CurrentApiServer) -> None:
    server.add(api.charge("ch_1"))
    server.fail_next("POST", "/v1/refunds", 400, error(400, "disputed", "charge_disputed"))
    with pytest.raises(WriteRefused):
        _refund(gateway(server))
    with pytest.raises(WriteRefused, match="disputed"):  # replayed, though nothing changed
        _refund(gateway(server))
    assert server.calls("POST", "/v1/refunds")[-1].replayed


CANCEL = {"billingops_issue": "acme/support#7", "billingops_step": "cancel:sub_1"}


def _cancel(gw: StripeGateway, prior: str, at_period_end: bool = False) -> Any:
    meta = CANCEL | {"billingops_prior_status": prior}
    return gw.cancel_subscription(
        subscription_id="sub_1", at_period_end=at_period_end, idempotency_key=KEY, metadata=meta
    )


def test_a_cancel_retried_after_the_status_changed_goes_through(server: CurrentApiServer) -> None:
    """The first attempt marked the subscription (prior status `active`), then failed
    before cancelling; meanwhile a renewal failed (`past_due`). The retry sends other
    metadata: no `idempotency_error`, and the subscription is canceled with
    `cancellation_details`."""
    server.add(api.subscription())
    server.fail_next("DELETE", "/v1/subscriptions/sub_1", 500, error(500, "boom", kind="api_error"))
    with pytest.raises(Exception, match="HTTP 500"):
        _cancel(gateway(server), "active")
    server.objects["sub_1"]["status"] = "past_due"
    sub = _cancel(gateway(server), "past_due")
    assert sub.status == "canceled"
    stored = server.objects["sub_1"]
    assert stored["metadata"]["billingops_prior_status"] == "past_due"
    assert stored["cancellation_details"]["comment"] == "billingops: approved on acme/support#7"
    deletes = server.calls("DELETE", "/v1/subscriptions/sub_1")
    assert deletes[-1].params["cancellation_details"]["comment"].startswith("billingops")


def test_at_period_end_sends_cancellation_details(server: CurrentApiServer) -> None:
    server.add(api.subscription())
    sub = _cancel(gateway(server), "active", at_period_end=True)
    assert sub.cancel_at_period_end and sub.cancel_at == NOW + 20 * api.DAY
    sent = server.calls("POST", "/v1/subscriptions/sub_1")[0].params
    assert sent["cancellation_details"] == {"comment": "billingops: approved on acme/support#7"}


def test_a_cancel_that_lost_a_race_to_another_cancel_is_settled(
    server: CurrentApiServer,
) -> None:
    """Someone else canceled it first: already canceled, and not credited to billingops
    (SPEC §5c; it was `.status == "canceled"`, taken as done, before Stripe's semantics)."""
    server.add(api.subscription(status="canceled", canceled_at=NOW - 5))
    with pytest.raises(AlreadyCanceled) as caught:
        _cancel(gateway(server), "active")
    assert not caught.value.ours


def test_a_cancel_refused_for_another_reason_is_a_refusal(server: CurrentApiServer) -> None:
    server.add(api.subscription())
    locked = error(400, "locked", "resource_locked")
    server.fail_next("POST", "/v1/subscriptions/sub_1", 400, locked)
    with pytest.raises(WriteRefused) as caught:
        _cancel(gateway(server), "active")
    assert caught.value.code == "resource_locked"
    assert server.objects["sub_1"]["status"] == "active"


# -- 2. history ---------------------------------------------------------------------------


def _past_due_customer(server: CurrentApiServer, retries: int) -> None:
    """A subscription started 60 days ago; its paid first charge was disputed; since then
    `retries` failed renewal attempts, all newer."""
    start = NOW - 60 * api.DAY
    server.add(
        api.customer(),
        api.subscription(status="past_due", created=start),
        api.charge("ch_paid", created=start + 10, disputed=True),
        api.charge("ch_before", created=start - 10 * api.DAY),  # before the subscription
        *[
            api.charge(f"ch_fail{n:04d}", status="failed", created=start + 3600 * (n + 1))
            for n in range(retries)
        ],
    )


def test_failed_retries_do_not_hide_an_older_disputed_charge(server: CurrentApiServer) -> None:
    _past_due_customer(server, retries=250)
    gw = gateway(server)
    state = gw.read_state(["cus_A"])
    ids = {c.id for c in state.charges}
    assert "ch_paid" in ids and next(c for c in state.charges if c.id == "ch_paid").disputed
    assert state.history_truncated == []
    # 251 charges since the start: pages of 100 until the start is passed, no further.
    charge_pages = server.calls("GET", "/v1/charges")
    assert len(charge_pages) == 3
    assert "ch_before" in ids  # the last page's tail, read anyway
    # Round 1: customer, subscriptions, charges, invoices, portal; round 2: 2 more pages.
    assert len(server.requests) == 7


def test_a_quiet_customer_costs_one_page(server: CurrentApiServer) -> None:
    _past_due_customer(server, retries=3)
    gateway(server).read_state(["cus_A"])
    assert len(server.calls("GET", "/v1/charges")) == 1


def test_history_is_capped_and_says_so(
    server: CurrentApiServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    from billingops._billing import reads

    monkeypatch.setattr(reads, "HISTORY_PAGES", 2)
    _past_due_customer(server, retries=250)
    state = gateway(server).read_state(["cus_A"])
    assert "ch_paid" not in {c.id for c in state.charges}
    assert state.history_truncated == ["charges of cus_A"]


# -- 6. permissions, search ----------------------------------------------------------------


def test_doctor_probes_the_calls_triage_makes(server: CurrentApiServer) -> None:
    server.add(api.customer(), api.subscription(), api.charge("ch_1"), api.invoice("in_1"))
    gw = gateway(server)
    probes = gw.probe_reads()
    assert all(p.ok for p in probes.values()), probes
    assert set(probes) == {"customers", "customers.search", "subscriptions", "charges",
                           "invoices", "prices", "refunds"}  # fmt: skip
    probed = {r.path: r.params for r in server.requests}
    assert all(p["limit"] == "1" for p in probed.values())
    server.requests.clear()
    gw.read_state(["cus_A"])
    for path in ("/v1/subscriptions", "/v1/charges", "/v1/invoices"):
        triage = next(r.params for r in server.requests if r.path == path)
        assert probed[path]["expand"] == triage["expand"], path


@pytest.mark.parametrize(
    ("path", "expansion", "probe", "permission"),
    [
        ("/v1/charges", "data.refunds", "charges", "Refunds: Read"),
        ("/v1/charges", None, "charges", "Charges: Read"),
        ("/v1/invoices", "data.payments", "invoices", "Invoices: Read"),
        ("/v1/subscriptions", "data.discounts.source.coupon", "subscriptions", "Coupons: Read"),
        ("/v1/subscriptions", "data.default_payment_method", "subscriptions",
         "PaymentMethods: Read"),
        ("/v1/refunds", None, "refunds", "Refunds: Read"),
    ],
)  # fmt: skip
def test_doctor_names_the_missing_permission(
    server: CurrentApiServer, path: str, expansion: str | None, probe: str, permission: str
) -> None:
    server.deny(path, expansion)
    probes = gateway(server).probe_reads()
    assert (probes[probe].kind, probes[probe].detail) == ("permission", permission)
    assert [n for n, p in probes.items() if not p.ok] == [probe]


def test_search_refused_for_the_account_falls_back_to_lists(server: CurrentApiServer) -> None:
    server.add(api.customer(metadata={"github_username": "Octo"}))
    server.fail_next("GET", "/v1/customers/search", 400,
                     error(400, "Search is not available for your account"))  # fmt: skip
    gw = gateway(server)
    found = gw.lookup(stripe_ids=[], emails=[], github_username="octo",
                      metadata_key="github_username")  # fmt: skip
    assert found.by_github_username == {"octo": ["cus_A"]}
    assert not gw._search  # no more searches for this run


def test_a_customer_too_new_for_search_is_found(server: CurrentApiServer) -> None:
    server.search_lag = 60
    server.add(api.customer(metadata={"github_username": "octo"}, created=NOW - 10))
    found = gateway(server).lookup(stripe_ids=[], emails=[], github_username="octo",
                                   metadata_key="github_username")  # fmt: skip
    assert found.by_github_username == {"octo": ["cus_A"]}
    assert [r.path for r in server.requests] == ["/v1/customers/search", "/v1/customers"]


def test_without_search_the_username_scan_reads_past_the_first_hundred(
    server: CurrentApiServer,
) -> None:
    server.add(*[api.customer(f"cus_{n:04d}", email=f"c{n}@example.com", created=NOW - n)
                 for n in range(250)])  # fmt: skip
    server.objects["cus_0240"]["metadata"] = {"github_username": "octo"}
    server.deny("/v1/customers/search")
    found = gateway(server).lookup(stripe_ids=[], emails=[], github_username="octo",
                                   metadata_key="github_username")  # fmt: skip
    assert found.by_github_username == {"octo": ["cus_0240"]}
    assert len(server.calls("GET", "/v1/customers")) == 4  # search (403), 3 pages
