"""The pure shape translators, on the current API shape and on the older/localstripe one."""

from __future__ import annotations

from typing import Any

from billingops._billing.stripe_gateway import (
    link_charges,
    redact,
    to_charge,
    to_customer,
    to_invoice,
    to_portal,
    to_subscription,
)

# --- current API (2025-03-31.basil and later): abridged but real field layout -----------

CURRENT_SUBSCRIPTION: dict[str, Any] = {
    "id": "sub_1QA",
    "object": "subscription",
    "customer": "cus_A",
    "status": "active",
    "cancel_at_period_end": False,
    "cancel_at": None,
    "canceled_at": None,
    "created": 1736000000,
    "start_date": 1736000000,
    "ended_at": None,
    "trial_end": None,
    "latest_invoice": "in_1",
    "metadata": {"team": "acme"},
    "items": {
        "object": "list",
        "data": [
            {
                "id": "si_1",
                "object": "subscription_item",
                "current_period_start": 1738600000,
                "current_period_end": 1741000000,
                "quantity": 3,
                "price": {
                    "id": "price_1",
                    "object": "price",
                    "currency": "eur",
                    "product": "prod_pro",
                    "recurring": {"interval": "year", "interval_count": 1},
                    "unit_amount": 12000,
                },
            }
        ],
        "has_more": False,
    },
}

CURRENT_INVOICE: dict[str, Any] = {
    "id": "in_1",
    "object": "invoice",
    "customer": "cus_A",
    "status": "open",
    "amount_due": 36000,
    "amount_paid": 0,
    "currency": "eur",
    "attempt_count": 2,
    "created": 1738600000,
    "billing_reason": "subscription_cycle",
    "hosted_invoice_url": "https://invoice.stripe.com/i/x",
    "parent": {
        "type": "subscription_details",
        "subscription_details": {"subscription": "sub_1QA", "metadata": {}},
        "quote_details": None,
    },
    "payments": {
        "object": "list",
        "data": [
            {
                "id": "inpay_old",
                "object": "invoice_payment",
                "status": "canceled",
                "created": 1738600000,
                "payment": {"type": "payment_intent", "payment_intent": "pi_old"},
            },
            {
                "id": "inpay_1",
                "object": "invoice_payment",
                "status": "open",
                "created": 1738600100,
                "payment": {"type": "payment_intent", "payment_intent": "pi_1"},
            },
        ],
    },
}

CURRENT_CHARGE: dict[str, Any] = {
    "id": "ch_1",
    "object": "charge",
    "amount": 36000,
    "amount_refunded": 1000,
    "currency": "eur",
    "customer": "cus_A",
    "created": 1738600100,
    "disputed": True,
    "paid": True,
    "refunded": False,
    "status": "succeeded",
    "payment_intent": "pi_1",
    "failure_message": None,
    "metadata": {},
    "refunds": {
        "object": "list",
        "data": [
            {
                "id": "re_1",
                "object": "refund",
                "amount": 1000,
                "charge": "ch_1",
                "currency": "eur",
                "created": 1738700000,
                "status": "succeeded",
                "metadata": {"billingops_issue": "acme/support#3", "billingops_step": "s1"},
            }
        ],
    },
}

# --- older API / localstripe ----------------------------------------------------------

OLD_SUBSCRIPTION: dict[str, Any] = {
    "id": "sub_old",
    "object": "subscription",
    "customer": "cus_B",
    "status": "past_due",
    "current_period_start": 1736000000,
    "current_period_end": 1738678400,
    "cancel_at_period_end": True,
    "created": 1736000000,
    "start_date": 1736000000,
    "quantity": 1,
    "latest_invoice": "in_old",
    "metadata": {},
    "plan": {
        "id": "pro-monthly",
        "object": "plan",
        "amount": 1500,
        "currency": "jpy",
        "interval": "month",
        "interval_count": 1,
        "product": "prod_pro",
    },
    "items": {
        "object": "list",
        "data": [
            {
                "id": "si_old",
                "quantity": 1,
                "plan": {
                    "id": "pro-monthly",
                    "amount": 1500,
                    "currency": "jpy",
                    "interval": "month",
                    "product": "prod_pro",
                },
            }
        ],
    },
}

OLD_INVOICE: dict[str, Any] = {
    "id": "in_old",
    "object": "invoice",
    "customer": "cus_B",
    "subscription": "sub_old",
    "status": "open",
    "amount_due": 1500,
    "amount_paid": 0,
    "currency": "jpy",
    "attempt_count": 1,
    "date": 1738600000,
    "created": 1738600000,
    "charge": {"id": "ch_old", "object": "charge", "status": "failed"},
    "payment_intent": "pi_old",
}


def test_subscription_current_shape() -> None:
    sub = to_subscription(CURRENT_SUBSCRIPTION)
    assert (sub.price_id, sub.product_id, sub.unit_amount, sub.currency) == (
        "price_1", "prod_pro", 12000, "eur"
    )  # fmt: skip
    assert (sub.interval, sub.quantity, sub.amount) == ("year", 3, 36000)
    assert sub.current_period_end == 1741000000  # from the item
    assert sub.current_period_start == 1738600000
    assert sub.metadata == {"team": "acme"}
    assert sub.latest_invoice_id == "in_1"
    assert sub.live


def test_subscription_old_shape() -> None:
    sub = to_subscription(OLD_SUBSCRIPTION)
    assert (sub.price_id, sub.unit_amount, sub.currency, sub.interval) == (
        "pro-monthly", 1500, "jpy", "month"
    )  # fmt: skip
    assert sub.current_period_end == 1738678400
    assert sub.cancel_at_period_end
    assert sub.status == "past_due"


def test_subscription_with_expanded_product_and_customer() -> None:
    d = {**CURRENT_SUBSCRIPTION, "customer": {"id": "cus_A", "object": "customer"}}
    d["items"] = {"data": [{**d["items"]["data"][0]}]}
    d["items"]["data"][0]["price"] = {
        **d["items"]["data"][0]["price"],
        "product": {"id": "prod_pro", "name": "Pro"},
    }
    sub = to_subscription(d)
    assert (sub.customer_id, sub.product_id, sub.product_name) == ("cus_A", "prod_pro", "Pro")


def test_subscription_minimal_dict_does_not_crash() -> None:
    sub = to_subscription({"id": "sub_x"})
    assert (sub.customer_id, sub.status, sub.quantity, sub.current_period_end) == (
        "", "incomplete", 1, None
    )  # fmt: skip


def test_invoice_current_shape_parent_and_payments() -> None:
    inv = to_invoice(CURRENT_INVOICE)
    assert inv.subscription_id == "sub_1QA"
    assert inv.payment_intent_id == "pi_1"  # latest attempt, not the canceled one
    assert inv.charge_id is None
    assert (inv.status, inv.attempt_count, inv.amount_due) == ("open", 2, 36000)


def test_invoice_paid_payment_wins() -> None:
    d = dict(CURRENT_INVOICE)
    d["payments"] = {"data": [
        {"status": "paid", "created": 1, "payment": {"type": "charge", "charge": "ch_paid"}},
        {"status": "open", "created": 2, "payment": {"payment_intent": "pi_2"}},
    ]}  # fmt: skip
    inv = to_invoice(d)
    assert inv.charge_id == "ch_paid"


def test_invoice_old_shape() -> None:
    inv = to_invoice(OLD_INVOICE)
    assert (inv.subscription_id, inv.charge_id, inv.payment_intent_id) == (
        "sub_old", "ch_old", "pi_old"
    )  # fmt: skip


def test_charge_with_refunds_and_dispute() -> None:
    ch = to_charge(CURRENT_CHARGE)
    assert ch.disputed and ch.refundable == 0
    assert ch.amount_refunded == 1000
    assert ch.refunds[0].metadata["billingops_issue"] == "acme/support#3"
    assert ch.invoice_id is None  # the current API has no charge.invoice


def test_charge_old_shape_with_invoice_and_unexpanded_refunds() -> None:
    d = {**CURRENT_CHARGE, "invoice": "in_old", "disputed": False}
    del d["refunds"]
    ch = to_charge(d)
    assert ch.invoice_id == "in_old"
    assert ch.refunds == [] and ch.amount_refunded == 1000
    assert ch.refundable == 35000


def test_link_charges_by_payment_intent() -> None:
    inv = to_invoice(CURRENT_INVOICE)
    (linked,) = link_charges([to_charge(CURRENT_CHARGE)], [inv])
    assert linked.invoice_id == "in_1"


def test_customer_payment_method_brand_and_last4_only() -> None:
    cus = to_customer(
        {
            "id": "cus_A",
            "email": "A@Example.com",
            "metadata": {"github_username": "octo"},
            "invoice_settings": {
                "default_payment_method": {
                    "id": "pm_1",
                    "object": "payment_method",
                    "type": "card",
                    "card": {
                        "brand": "mastercard",
                        "last4": "4444",
                        "exp_month": 1,
                        "exp_year": 2030,
                        "fingerprint": "secretish",
                    },
                }
            },
            "default_source": None,
        }
    )
    assert cus.default_payment_method is not None
    assert cus.default_payment_method.model_dump() == {"brand": "mastercard", "last4": "4444"}
    assert cus.email == "A@Example.com"


def test_customer_legacy_default_source_and_deleted() -> None:
    cus = to_customer(
        {"id": "cus_B", "invoice_settings": {"default_payment_method": "pm_unexpanded"},
         "default_source": {"id": "card_1", "object": "card", "brand": "Visa", "last4": "4242"}}
    )  # fmt: skip
    assert cus.default_payment_method is not None
    assert (cus.default_payment_method.brand, cus.default_payment_method.last4) == ("visa", "4242")
    gone = to_customer({"id": "cus_C", "object": "customer", "deleted": True})
    assert gone.deleted and gone.email is None


def test_portal_configuration() -> None:
    portal = to_portal(
        [
            {
                "id": "bpc_1",
                "active": True,
                "is_default": True,
                "features": {
                    "subscription_cancel": {"enabled": True},
                    "invoice_history": {"enabled": True},
                    "payment_method_update": {"enabled": False},
                },
                "login_page": {"enabled": True, "url": "https://billing.stripe.com/p/login/x"},
            }
        ]
    )
    assert portal.source == "stripe" and portal.active
    assert portal.allows_cancellation and portal.allows_invoice_history
    assert portal.allows_payment_method_update is False
    assert portal.login_url == "https://billing.stripe.com/p/login/x"
    assert to_portal([]).active is False


def test_redact_removes_keys() -> None:
    assert "sk_live" not in redact("Invalid API Key provided: sk_live_****abcd")
