"""Current-API (2026-10-28.endive, stripe-python 16.1) JSON objects for the fixture server.

Field names and layouts follow stripe-python's resource classes (`stripe.Subscription`,
`stripe.Price`, `stripe.Invoice`, `stripe.InvoicePayment`, `stripe.Charge`, `stripe.Refund`,
`stripe.Discount`, `stripe.Coupon`, `stripe.Customer`); `test_current_api_shapes` checks every
key of every builder against those classes, so a field that the SDK does not define fails
the tests instead of quietly testing a shape Stripe never sends.
"""

from __future__ import annotations

from typing import Any

NOW = 1_790_000_000  # 2026-09-21
DAY = 86_400
MONTH = 30 * DAY


def listing(*items: Any, url: str = "/v1/x") -> dict[str, Any]:
    return {"object": "list", "data": list(items), "has_more": False, "url": url}


def customer(cid: str = "cus_A", email: str = "ann@example.com", **kw: Any) -> dict[str, Any]:
    return {
        "id": cid,
        "object": "customer",
        "email": email,
        "name": "Ann",
        "created": NOW - 400 * DAY,
        "metadata": {},
        "balance": 0,
        "currency": "usd",
        "delinquent": False,
        "invoice_settings": {"default_payment_method": None, "custom_fields": None},
        "default_source": None,
        "livemode": False,
        **kw,
    }


def price(
    pid: str = "price_pro",
    *,
    unit_amount: int | None = 1000,
    currency: str = "usd",
    interval: str = "month",
    interval_count: int = 1,
    usage_type: str = "licensed",
    billing_scheme: str = "per_unit",
    tiers: list[dict[str, Any]] | None = None,
    tiers_mode: str | None = None,
    transform_quantity: dict[str, Any] | None = None,
    unit_amount_decimal: str | None = None,
    currency_options: dict[str, Any] | None = None,
    product: str = "prod_pro",
    nickname: str | None = None,
) -> dict[str, Any]:
    if unit_amount_decimal is None and unit_amount is not None:
        unit_amount_decimal = str(unit_amount)
    return {
        "id": pid,
        "object": "price",
        "active": True,
        "billing_scheme": billing_scheme,
        "created": NOW - 500 * DAY,
        "currency": currency,
        "currency_options": currency_options,
        "livemode": False,
        "lookup_key": None,
        "metadata": {},
        "nickname": nickname,
        "product": product,
        "recurring": {
            "interval": interval,
            "interval_count": interval_count,
            "meter": "mtr_1" if usage_type == "metered" else None,
            "usage_type": usage_type,
        },
        "tax_behavior": "unspecified",
        "tiers": tiers,
        "tiers_mode": tiers_mode,
        "transform_quantity": transform_quantity,
        "type": "recurring",
        "unit_amount": unit_amount,
        "unit_amount_decimal": unit_amount_decimal,
    }


def item(
    prc: dict[str, Any], quantity: int | None = 1, *, sid: str = "sub_1", n: int = 1
) -> dict[str, Any]:
    return {
        "id": f"si_{sid[4:]}_{n}",
        "object": "subscription_item",
        "created": NOW - 60 * DAY,
        "current_period_start": NOW - 10 * DAY,
        "current_period_end": NOW + 20 * DAY,
        "discounts": [],
        "metadata": {},
        "price": prc,
        "quantity": quantity,
        "subscription": sid,
        "tax_rates": [],
    }


def coupon(*, percent_off: float | None = None, amount_off: int | None = None,
           currency: str | None = None, duration: str = "forever") -> dict[str, Any]:  # fmt: skip
    return {
        "id": "co_1",
        "object": "coupon",
        "amount_off": amount_off,
        "currency": currency,
        "duration": duration,
        "duration_in_months": None,
        "percent_off": percent_off,
        "valid": True,
        "name": None,
        "metadata": {},
        "created": NOW - 100 * DAY,
        "livemode": False,
        "times_redeemed": 1,
    }


def discount(cpn: dict[str, Any], sid: str = "sub_1") -> dict[str, Any]:
    return {
        "id": "di_1",
        "object": "discount",
        "customer": "cus_A",
        "end": None,
        "start": NOW - 60 * DAY,
        "subscription": sid,
        "subscription_item": None,
        "source": {"type": "coupon", "coupon": cpn},
    }


def subscription(
    sid: str = "sub_1",
    *items: dict[str, Any],
    customer_id: str = "cus_A",
    status: str = "active",
    currency: str = "usd",
    created: int = NOW - 60 * DAY,
    discounts: list[Any] | None = None,
    **kw: Any,
) -> dict[str, Any]:
    data = list(items) or [item(price(), 1, sid=sid)]
    for d in data:
        d["subscription"] = sid
    return {
        "id": sid,
        "object": "subscription",
        "billing_cycle_anchor": created,
        "cancel_at": None,
        "cancel_at_period_end": False,
        "canceled_at": None,
        "cancellation_details": {"comment": None, "feedback": None, "reason": None},
        "collection_method": "charge_automatically",
        "created": created,
        "currency": currency,
        "customer": customer_id,
        "default_payment_method": None,
        "discounts": discounts or [],
        "ended_at": None,
        "items": listing(*data, url=f"/v1/subscription_items?subscription={sid}"),
        "latest_invoice": None,
        "livemode": False,
        "metadata": {},
        "pause_collection": None,
        "start_date": created,
        "status": status,
        "trial_end": None,
        "trial_start": None,
        **kw,
    }


def invoice(
    iid: str = "in_1",
    *,
    sub: str | None = "sub_1",
    customer_id: str = "cus_A",
    status: str = "paid",
    amount_due: int = 1000,
    amount_paid: int | None = None,
    currency: str = "usd",
    created: int = NOW - 10 * DAY,
    **kw: Any,
) -> dict[str, Any]:
    paid = amount_due if amount_paid is None else amount_paid
    return {
        "id": iid,
        "object": "invoice",
        "amount_due": amount_due,
        "amount_overpaid": 0,
        "amount_paid": paid,
        "amount_paid_off_stripe": 0,
        "amount_remaining": max(amount_due - paid, 0),
        "attempt_count": 1,
        "attempted": True,
        "billing_reason": "subscription_cycle",
        "collection_method": "charge_automatically",
        "created": created,
        "currency": currency,
        "customer": customer_id,
        "ending_balance": 0,
        "hosted_invoice_url": f"https://invoice.stripe.com/i/{iid}",
        "livemode": False,
        "metadata": {},
        "parent": {
            "type": "subscription_details",
            "subscription_details": {"subscription": sub, "metadata": {}},
            "quote_details": None,
        }
        if sub
        else None,
        "post_payment_credit_notes_amount": 0,
        "pre_payment_credit_notes_amount": 0,
        "starting_balance": 0,
        "status": status,
        "subtotal": amount_due,
        "total": amount_due,
        **kw,
    }


def invoice_payment(
    ipid: str, invoice_id: str, *, intent: str | None = None, charge: str | None = None,
    status: str = "paid", amount: int = 1000, created: int = NOW - 10 * DAY,
    kind: str | None = None,
) -> dict[str, Any]:  # fmt: skip
    return {
        "id": ipid,
        "object": "invoice_payment",
        "amount_paid": amount if status == "paid" else None,
        "amount_requested": amount,
        "created": created,
        "currency": "usd",
        "invoice": invoice_id,
        "is_default": True,
        "livemode": False,
        "payment": {
            "type": kind or ("payment_intent" if intent else "charge"),
            "payment_intent": intent,
            "charge": charge,
        },
        "status": status,
        "status_transitions": {"canceled_at": None, "paid_at": created},
    }


def charge(
    cid: str,
    *,
    amount: int = 1000,
    customer_id: str = "cus_A",
    created: int = NOW - 10 * DAY,
    status: str = "succeeded",
    intent: str | None = None,
    currency: str = "usd",
    **kw: Any,
) -> dict[str, Any]:
    succeeded = status == "succeeded"
    return {
        "id": cid,
        "object": "charge",
        "amount": amount,
        "amount_captured": amount if succeeded else 0,
        "amount_refunded": 0,
        "captured": succeeded,
        "created": created,
        "currency": currency,
        "customer": customer_id,
        "disputed": False,
        "failure_code": None if succeeded else "card_declined",
        "failure_message": None if succeeded else "Your card was declined.",
        "livemode": False,
        "metadata": {},
        "paid": succeeded,
        "payment_intent": intent,
        "refunded": False,
        "status": status,
        **kw,
    }


def refund(
    rid: str, charge_id: str, amount: int, *, status: str = "succeeded",
    metadata: dict[str, str] | None = None, created: int = NOW - DAY,
) -> dict[str, Any]:  # fmt: skip
    return {
        "id": rid,
        "object": "refund",
        "amount": amount,
        "charge": charge_id,
        "created": created,
        "currency": "usd",
        "failure_reason": "lost_or_stolen_card" if status == "failed" else None,
        "metadata": metadata or {},
        "payment_intent": None,
        "reason": "requested_by_customer",
        "status": status,
    }


# What each builder produces, and the stripe-python class it must conform to.
SHAPES: list[tuple[str, Any]] = [
    ("Customer", customer()),
    ("Price", price()),
    ("SubscriptionItem", item(price())),
    ("Coupon", coupon(percent_off=100)),
    ("Discount", discount(coupon(percent_off=100))),
    ("Subscription", subscription()),
    ("Invoice", invoice()),
    ("InvoicePayment", invoice_payment("inpay_1", "in_1", intent="pi_1")),
    ("Charge", charge("ch_1")),
    ("Refund", refund("re_1", "ch_1", 100)),
]
