"""Money that `unit amount × quantity` and a charge's `amount` do not show (issue 15), read
from current-API JSON over HTTP: customer balance, credit notes, payments outside Stripe,
partial captures, the subscription's own card, `cancel_at` without `cancel_at_period_end`,
paused subscriptions."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from billingops._billing.stripe_gateway import StripeGateway
from billingops.core.anomalies import AnomalyKind, find_anomalies
from billingops.core.plan import finish
from billingops.core.revenue import monthly
from billingops.models.billing import BillingState
from billingops.models.decision import Approval, Case, Step, StepKind
from billingops.sandbox.current_api import CurrentApiServer

from . import current_api as api
from .current_api import DAY, NOW


@pytest.fixture
def server(loopback_only: None) -> Iterator[CurrentApiServer]:
    with CurrentApiServer(now=NOW) as s:
        yield s


def _state(server: CurrentApiServer, *objects: Any, **customer: Any) -> BillingState:
    server.add(api.customer(**customer), *objects)
    gw = StripeGateway("sk_test_money", server.base_url, max_network_retries=0,
                       clock=lambda: float(NOW))  # fmt: skip
    return gw.read_state(["cus_A"])


def _refund_plan(state: BillingState, amount: int = 1000) -> list[Step]:
    step = Step(kind=StepKind.refund, target="ch_1", amount=amount, currency="usd",
                needs=Approval.refund, why="the product failed")  # fmt: skip
    return finish(Case.product_failure, [step], state).steps


def _paid(server: CurrentApiServer, **invoice: Any) -> BillingState:
    return _state(
        server,
        api.subscription(latest_invoice="in_1"),
        api.invoice("in_1", **invoice),
        api.invoice_payment("inpay_1", "in_1", charge="ch_1", amount=1000),
        api.charge("ch_1", amount=1000),
    )


@pytest.mark.parametrize(
    ("invoice", "why"),
    [
        ({"starting_balance": -500, "total": 1500},
         "in_1 was paid partly from customer balance ($5.00)"),
        ({"post_payment_credit_notes_amount": 300},
         "in_1 was already credited $3.00 by credit notes"),
        ({"amount_paid_off_stripe": 400, "amount_due": 1400},
         "in_1 was paid $4.00 outside Stripe"),
    ],
)  # fmt: skip
def test_an_uncertain_refund_amount_goes_to_a_human(
    server: CurrentApiServer, invoice: dict[str, Any], why: str
) -> None:
    state = _paid(server, **invoice)
    assert next(c for c in state.charges if c.id == "ch_1").invoice_id == "in_1"
    [step] = _refund_plan(state)
    assert step.kind is StepKind.none
    assert step.why == f"guardrail: refund of ch_1 needs a human: {why}"


def test_a_plainly_paid_invoice_keeps_its_refund(server: CurrentApiServer) -> None:
    [step] = _refund_plan(_paid(server))
    assert (step.kind, step.amount) == (StepKind.refund, 1000)


def test_a_partial_capture_refunds_at_most_what_was_captured(server: CurrentApiServer) -> None:
    state = _state(server, api.charge("ch_1", amount=1000, amount_captured=600))
    charge = state.charges[0]
    assert charge.refundable == 600
    [step] = _refund_plan(state, amount=1000)  # more than captured: refused by the guardrail
    assert step.kind is StepKind.none and "exceed what is left unrefunded" in (step.why or "")


def test_the_subscription_card_takes_precedence(server: CurrentApiServer) -> None:
    visa = {"id": "pm_sub", "object": "payment_method", "type": "card",
            "card": {"brand": "visa", "last4": "4242"}}  # fmt: skip
    master = {"id": "pm_cus", "object": "payment_method", "type": "card",
              "card": {"brand": "mastercard", "last4": "5555"}}  # fmt: skip
    server.add(visa, master)
    settings = {"default_payment_method": "pm_cus", "custom_fields": None}
    alone = _state(server, invoice_settings=settings)
    pm = alone.customers[0].default_payment_method
    assert pm is not None and (pm.brand, pm.last4) == ("mastercard", "5555")
    server.add(api.subscription(default_payment_method="pm_sub"))
    state = _state(server, invoice_settings=settings)
    pm = state.customers[0].default_payment_method
    assert pm is not None and (pm.brand, pm.last4) == ("visa", "4242")


def test_cancel_at_without_cancel_at_period_end_is_ending(server: CurrentApiServer) -> None:
    state = _state(server, api.subscription(cancel_at=NOW + 5 * DAY))
    sub = state.subscriptions[0]
    assert not sub.cancel_at_period_end and sub.ending
    kinds = {a.kind for a in find_anomalies(state)}
    assert AnomalyKind.cancel_at_period_end in kinds


def test_paused_subscriptions_bring_no_mrr(server: CurrentApiServer) -> None:
    state = _state(
        server,
        api.subscription("sub_paused", status="paused"),
        api.subscription("sub_pc", pause_collection={"behavior": "void", "resumes_at": None}),
        api.subscription("sub_on"),
    )
    mrr = {s.id: monthly(s, NOW).value for s in state.subscriptions}
    assert mrr == {"sub_paused": 0, "sub_pc": 0, "sub_on": 1000}
    assert {s.id for s in state.subscriptions if s.live} == {"sub_pc", "sub_on"}
