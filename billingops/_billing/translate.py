"""Pure translation of Stripe JSON into billingops' models: no I/O, no SDK, no clock.

The translators accept both shapes the API has had: the current one (API 2026-10-28.endive,
stripe-python 16.1: period on subscription items, `price`, invoice → subscription under
`parent.subscription_details`, invoice payments under `payments`, discounts under
`source.coupon`) and the older one that localstripe returns (`current_period_end` on the
subscription, `plan`, `invoice.subscription`, `invoice.charge`, `discount.coupon`)."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import Any

from billingops.core.report import Listed
from billingops.models.billing import (
    Charge,
    Customer,
    Discount,
    Invoice,
    PaymentMethodSummary,
    PortalCapabilities,
    PriceTier,
    Refund,
    Subscription,
    SubscriptionItem,
)
from billingops.models.text import ascii_lower

_SECRET = re.compile(r"\b(sk|rk|pk)_(live|test)_[A-Za-z0-9*]+")
Json = Mapping[str, Any]


def _get(d: Any, *path: str | int) -> Any:
    """Nested access that tolerates missing keys, None and unexpanded ids."""
    for key in path:
        if isinstance(key, int):
            if not isinstance(d, list) or len(d) <= key:
                return None
        elif not isinstance(d, Mapping):
            return None
        d = d[key] if isinstance(key, int) else d.get(key)
    return d


def _id(value: Any) -> str | None:
    """An expandable field: an id string or the expanded object."""
    if isinstance(value, str):
        return value or None
    if isinstance(value, Mapping) and isinstance(value.get("id"), str):
        return str(value["id"])
    return None


def _int(value: Any, default: int = 0) -> int:
    return int(value) if isinstance(value, int | float) and not isinstance(value, bool) else default


def _opt_int(value: Any) -> int | None:
    return int(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def _meta(value: Any) -> dict[str, str]:
    if not isinstance(value, Mapping):
        return {}
    return {str(k): str(v) for k, v in value.items() if v is not None}


def _data(value: Any) -> list[Any]:
    """A list object (`{"data": [...]}`) or a bare list."""
    if isinstance(value, Mapping):
        value = value.get("data")
    return list(value) if isinstance(value, list) else []


def to_payment_method(customer: Json) -> PaymentMethodSummary | None:
    """Brand and last four of the default payment method (invoice settings first, then the
    legacy default source). Only when expanded; never more of the card."""
    for pm in (
        _get(customer, "invoice_settings", "default_payment_method"),
        customer.get("default_source"),
    ):
        if (found := _payment_method(pm)) is not None:
            return found
    return None


def to_customer(d: Json) -> Customer:
    if d.get("deleted"):
        return Customer(id=str(d["id"]), deleted=True)
    return Customer(
        id=str(d["id"]),
        email=d.get("email"),
        name=d.get("name"),
        created=_int(d.get("created")),
        metadata=_meta(d.get("metadata")),
        default_payment_method=to_payment_method(d),
    )


def _decimal(value: Any, fallback: Any = None) -> str | None:
    """Stripe's exact decimal (`unit_amount_decimal`: a string on the wire, a `Decimal`
    once stripe-python 16 has parsed it), else the integer amount."""
    if isinstance(value, str) and value:
        return value
    if isinstance(value, Decimal) and value.is_finite():
        return str(value)
    if isinstance(fallback, int | float) and not isinstance(fallback, bool):
        return str(fallback)
    return None


def _tiers(raw: Any) -> list[PriceTier]:
    out = []
    for t in raw if isinstance(raw, list) else []:
        if isinstance(t, Mapping):
            out.append(
                PriceTier(
                    up_to=_opt_int(t.get("up_to")),
                    unit_amount_decimal=_decimal(
                        t.get("unit_amount_decimal"), t.get("unit_amount")
                    ),
                    flat_amount_decimal=_decimal(
                        t.get("flat_amount_decimal"), t.get("flat_amount")
                    ),
                )
            )
    return out


def to_item(d: Json, sub_currency: str | None = None) -> SubscriptionItem:
    """One subscription item with its price's shape. Current API: `price` (with
    `recurring`, `transform_quantity`, `currency_options`); older API / localstripe: `plan`
    (`amount`, `interval`, `transform_usage`). Amounts are taken in the subscription's
    currency when the price has an option for it."""
    raw_price = d.get("price") or d.get("plan") or {}
    price: Json = raw_price if isinstance(raw_price, Mapping) else {"id": raw_price}
    raw_recurring = price.get("recurring")
    recurring: Json = raw_recurring if isinstance(raw_recurring, Mapping) else {}
    interval = recurring.get("interval") or price.get("interval") or "month"
    interval_count = recurring.get("interval_count") or price.get("interval_count") or 1
    usage_type = recurring.get("usage_type") or price.get("usage_type") or "licensed"
    product = price.get("product")
    currency = str(price.get("currency") or sub_currency or "usd").lower()
    terms: Json = price
    options = price.get("currency_options")
    if sub_currency and sub_currency != currency and isinstance(options, Mapping):
        option = options.get(sub_currency)
        if isinstance(option, Mapping):
            terms, currency = option, sub_currency
    transform = price.get("transform_quantity") or price.get("transform_usage")
    divide_by = _opt_int(transform.get("divide_by")) if isinstance(transform, Mapping) else None
    rounding = transform.get("round") if isinstance(transform, Mapping) else None
    scheme = str(price.get("billing_scheme") or "per_unit")
    tiers = _tiers(terms.get("tiers"))
    unknown = None
    if scheme == "tiered" and not tiers:
        unknown = f"tiered price {_id(price)} came without its tiers"
    return SubscriptionItem(
        id=str(d.get("id") or ""),
        price_id=_id(price),
        product_id=_id(product),
        product_name=product.get("name") if isinstance(product, Mapping) else None,
        nickname=price.get("nickname") if isinstance(price.get("nickname"), str) else None,
        currency=currency,
        interval=interval if interval in ("day", "week", "month", "year") else "month",
        interval_count=_int(interval_count, 1),
        quantity=_int(d.get("quantity"), 1),
        usage_type=str(usage_type),
        billing_scheme=scheme,
        tiers_mode=terms.get("tiers_mode") or price.get("tiers_mode"),
        tiers=tiers,
        unit_amount_decimal=_decimal(
            terms.get("unit_amount_decimal"),
            terms.get("unit_amount")
            if terms.get("unit_amount") is not None
            else price.get("amount"),
        ),
        divide_by=divide_by if divide_by and divide_by > 0 else None,
        round="down" if rounding == "down" else "up",
        unknown=unknown,
    )


def to_discount(d: Any) -> Discount:
    """A discount (current API: coupon under `source.coupon`; older: `coupon`); an
    unexpanded one has no terms, so its effect is unknown."""
    if not isinstance(d, Mapping):
        return Discount()
    coupon = _get(d, "source", "coupon") or d.get("coupon")
    if not isinstance(coupon, Mapping):
        return Discount(end=_opt_int(d.get("end")))
    pct = coupon.get("percent_off")
    return Discount(
        percent_off=float(pct) if isinstance(pct, int | float | Decimal) else None,
        amount_off=_opt_int(coupon.get("amount_off")),
        currency=str(coupon["currency"]).lower() if coupon.get("currency") else None,
        end=_opt_int(d.get("end")),
    )


def _payment_method(pm: Any) -> PaymentMethodSummary | None:
    if not isinstance(pm, Mapping):
        return None
    card = pm.get("card") if pm.get("object") == "payment_method" else pm
    if isinstance(card, Mapping) and card.get("last4"):
        brand = str(card.get("brand") or card.get("display_brand") or "card")
        return PaymentMethodSummary(brand=brand.lower(), last4=str(card["last4"])[-4:])
    sepa = pm.get("sepa_debit")
    if isinstance(sepa, Mapping) and sepa.get("last4"):
        return PaymentMethodSummary(brand="sepa_debit", last4=str(sepa["last4"])[-4:])
    return None


def prices_to_complete(d: Json) -> list[str]:
    """Prices of a subscription whose amounts a list does not carry: tiers (Stripe returns
    them only when expanded, beyond list expansion depth) and the subscription's currency
    option of a price in another currency."""
    sub_currency = str(d.get("currency") or "").lower()
    out = []
    for i in _data(d.get("items")):
        price = i.get("price") if isinstance(i, Mapping) else None
        if not isinstance(price, Mapping) or not price.get("id"):
            continue
        tiers_missing = price.get("billing_scheme") == "tiered" and not price.get("tiers")
        other_currency = (
            sub_currency
            and str(price.get("currency") or "").lower() != sub_currency
            and not isinstance(price.get("currency_options"), Mapping)
        )
        if tiers_missing or other_currency:
            out.append(str(price["id"]))
    return out


def complete_prices(d: Json, prices: Mapping[str, Json]) -> dict[str, Any]:
    """The subscription with its items' prices replaced by the fuller ones read."""
    out = dict(d)
    items = out.get("items")
    if isinstance(items, Mapping) and isinstance(items.get("data"), list):
        data = []
        for i in items["data"]:
            price = i.get("price") if isinstance(i, Mapping) else None
            pid = _id(price)
            if pid is not None and pid in prices and isinstance(price, Mapping):
                i = {**i, "price": {**price, **prices[pid]}}
            data.append(i)
        out["items"] = {**items, "data": data}
    return out


def _charged_card(customer: Customer, subs: Iterable[Subscription]) -> Customer:
    """The card renewals are charged to: a live subscription's own default payment method
    takes precedence over the customer's (the newest live subscription that has one)."""
    own = [s for s in subs if s.customer_id == customer.id and s.live and s.default_payment_method]
    if not own:
        return customer
    newest = max(own, key=lambda s: (s.created, s.id))
    return customer.model_copy(update={"default_payment_method": newest.default_payment_method})


def to_subscription(d: Json) -> Subscription:
    raw_items = [i for i in _data(d.get("items")) if isinstance(i, Mapping)]
    sub_currency = str(d["currency"]).lower() if d.get("currency") else None
    # localstripe: a `plan` at the top level and maybe no items.
    items = [to_item(i, sub_currency) for i in raw_items] or (
        [to_item({"plan": d.get("plan"), "quantity": d.get("quantity")}, sub_currency)]
        if d.get("plan")
        else []
    )
    first = items[0] if items else SubscriptionItem()
    raw_discounts = d.get("discounts")
    discounts = [to_discount(x) for x in raw_discounts] if isinstance(raw_discounts, list) else []
    if not discounts and isinstance(d.get("discount"), Mapping):  # older API
        discounts = [to_discount(d["discount"])]
    # Current API: each item has its own period; the subscription renews at the earliest.
    ends = [_opt_int(i.get("current_period_end")) for i in raw_items]
    starts = [_opt_int(i.get("current_period_start")) for i in raw_items]
    period_end = _opt_int(d.get("current_period_end"))
    if period_end is None and any(e is not None for e in ends):
        period_end = min(e for e in ends if e is not None)
    period_start = _opt_int(d.get("current_period_start"))
    if period_start is None and any(s is not None for s in starts):
        period_start = min(s for s in starts if s is not None)
    unit = first.unit_amount_decimal
    try:
        unit_amount = int(float(unit)) if unit is not None else 0
    except ValueError:
        unit_amount = 0
    return Subscription(
        id=str(d["id"]),
        customer_id=_id(d.get("customer")) or "",
        status=str(d.get("status") or "incomplete"),
        product_id=first.product_id,
        product_name=first.product_name,
        price_id=first.price_id,
        unit_amount=unit_amount,
        currency=sub_currency or first.currency,
        interval=first.interval,
        interval_count=first.interval_count,
        quantity=first.quantity if items else _int(d.get("quantity"), 1),
        item_count=max(len(items), 1),
        metadata=_meta(d.get("metadata")),
        created=_int(d.get("created")),
        start_date=_int(d.get("start_date"), _int(d.get("created"))),
        current_period_start=period_start,
        current_period_end=period_end,
        cancel_at_period_end=bool(d.get("cancel_at_period_end")),
        cancel_at=_opt_int(d.get("cancel_at")),
        canceled_at=_opt_int(d.get("canceled_at")),
        ended_at=_opt_int(d.get("ended_at")),
        trial_end=_opt_int(d.get("trial_end")),
        latest_invoice_id=_id(d.get("latest_invoice")),
        items=items,
        discounts=discounts,
        collection_paused=isinstance(d.get("pause_collection"), Mapping),
        schedule_id=_id(d.get("schedule")),
        default_payment_method=_payment_method(d.get("default_payment_method")),
    )


def _invoice_payment(d: Json) -> tuple[str | None, str | None]:
    """(charge id, payment intent id) of an invoice, from either shape."""
    charge, intent = _id(d.get("charge")), _id(d.get("payment_intent"))
    payments = [p for p in _data(d.get("payments")) if isinstance(p, Mapping)]
    # Prefer the payment that paid the invoice, then the most recent attempt.
    payments.sort(key=lambda p: (p.get("status") == "paid", _int(p.get("created"))), reverse=True)
    for p in payments:
        raw = p.get("payment")
        payment: Json = raw if isinstance(raw, Mapping) else {}
        charge = charge or _id(payment.get("charge"))
        intent = intent or _id(payment.get("payment_intent"))
        if charge or intent:
            break
    return charge, intent


def to_invoice(d: Json) -> Invoice:
    subscription = _id(d.get("subscription")) or _id(
        _get(d, "parent", "subscription_details", "subscription")
    )
    charge, intent = _invoice_payment(d)
    return Invoice(
        id=str(d["id"]),
        customer_id=_id(d.get("customer")),
        subscription_id=subscription,
        status=str(d.get("status") or "draft"),
        amount_due=_int(d.get("amount_due")),
        amount_paid=_int(d.get("amount_paid")),
        currency=str(d.get("currency") or "usd").lower(),
        attempt_count=_int(d.get("attempt_count")),
        created=_int(d.get("created")),
        charge_id=charge,
        payment_intent_id=intent,
        billing_reason=d.get("billing_reason"),
        hosted_invoice_url=d.get("hosted_invoice_url"),
        total=_opt_int(d.get("total")),
        starting_balance=_int(d.get("starting_balance")),
        credit_notes_amount=_int(d.get("pre_payment_credit_notes_amount"))
        + _int(d.get("post_payment_credit_notes_amount")),
        paid_off_stripe=_int(d.get("amount_paid_off_stripe"))
        or (_int(d.get("amount_paid")) if d.get("paid_out_of_band") else 0),
    )


def to_refund(d: Json) -> Refund:
    return Refund(
        id=str(d["id"]),
        charge_id=_id(d.get("charge")) or "",
        amount=_int(d.get("amount")),
        currency=str(d.get("currency") or "usd").lower(),
        status=str(d.get("status") or "succeeded"),
        failure_reason=d.get("failure_reason")
        if isinstance(d.get("failure_reason"), str)
        else None,
        created=_int(d.get("created")),
        metadata=_meta(d.get("metadata")),
    )


def to_charge(d: Json) -> Charge:
    refunds = [to_refund(r) for r in _data(d.get("refunds")) if isinstance(r, Mapping)]
    amount = _int(d.get("amount"))
    refunded_amount = _int(d.get("amount_refunded"), sum(r.amount for r in refunds))
    return Charge(
        id=str(d["id"]),
        customer_id=_id(d.get("customer")),
        amount=amount,
        amount_captured=_opt_int(d.get("amount_captured")),
        amount_refunded=refunded_amount,
        currency=str(d.get("currency") or "usd").lower(),
        status=str(d.get("status") or "succeeded"),
        paid=bool(d.get("paid", d.get("status") == "succeeded")),
        refunded=bool(d.get("refunded", amount > 0 and refunded_amount >= amount)),
        disputed=bool(d.get("disputed")),
        created=_int(d.get("created")),
        invoice_id=_id(d.get("invoice")),  # older API and localstripe only
        payment_intent_id=_id(d.get("payment_intent")),
        failure_message=d.get("failure_message"),
        refunds=refunds,
        metadata=_meta(d.get("metadata")),
    )


def link_charges(charges: Iterable[Charge], invoices: Iterable[Invoice]) -> list[Charge]:
    """Fill `Charge.invoice_id` from the invoices (the current API has no `charge.invoice`:
    the link is the invoice's payment, by charge or payment intent)."""
    by_charge: dict[str, str] = {}
    by_intent: dict[str, str] = {}
    for inv in invoices:
        if inv.charge_id:
            by_charge[inv.charge_id] = inv.id
        if inv.payment_intent_id:
            by_intent[inv.payment_intent_id] = inv.id
    out = []
    for ch in charges:
        if ch.invoice_id is None:
            found = by_charge.get(ch.id) or by_intent.get(ch.payment_intent_id or "")
            if found:
                ch = ch.model_copy(update={"invoice_id": found})
        out.append(ch)
    return out


def to_portal(configurations: Iterable[Json]) -> PortalCapabilities:
    """What the account's active portal configuration lets a customer do alone."""
    configs = [c for c in configurations if isinstance(c, Mapping) and c.get("active", True)]
    if not configs:
        return PortalCapabilities(source="stripe", active=False)
    config = next((c for c in configs if c.get("is_default")), configs[0])

    def enabled(feature: str) -> bool:
        return bool(_get(config, "features", feature, "enabled"))

    login_url = None
    if _get(config, "login_page", "enabled"):
        login_url = _get(config, "login_page", "url")
    return PortalCapabilities(
        source="stripe",
        active=True,
        allows_cancellation=enabled("subscription_cancel"),
        allows_invoice_history=enabled("invoice_history"),
        allows_payment_method_update=enabled("payment_method_update"),
        login_url=login_url,
    )


def _username_of(customer: Json, key: str) -> str:
    return ascii_lower(str(_meta(customer.get("metadata")).get(key, "")))


def _dedupe(values: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(values))


def _quote(value: str) -> str:
    """A Search API string literal."""
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _message(exc: Any) -> str:
    return redact(str(getattr(exc, "user_message", "") or exc))[:200]


def _keyed(key: str, params: Mapping[str, Any]) -> str:
    """An idempotency key bound to the request's parameters."""
    import hashlib
    import json

    digest = hashlib.sha256(json.dumps(params, sort_keys=True).encode()).hexdigest()[:12]
    return f"{key}:{digest}"


def _cancel_comment(metadata: Mapping[str, str]) -> str:
    ref = metadata.get("billingops_issue", "")
    return f"billingops: approved on {ref}".strip()


def redact(message: str) -> str:
    """No key, even a masked one, in an operator message."""
    return _SECRET.sub("[key]", message)


def to_listed(d: Json, emails: Mapping[str, str] | None = None) -> Listed:
    """A subscription of the report listing, with its (expanded) customer's email and
    latest invoice reduced to what the report keeps. `emails`: customer id → email, where
    the customer is not expanded (compat)."""
    customer = d.get("customer")
    email = emails.get(_id(customer) or "") if emails is not None else None
    if isinstance(customer, Mapping) and not customer.get("deleted"):
        email = customer.get("email") if isinstance(customer.get("email"), str) else None
    invoice = d.get("latest_invoice")
    failed = (
        isinstance(invoice, Mapping)
        and invoice.get("status") == "open"
        and _int(invoice.get("attempt_count")) > 0
    )
    first = _get(d, "items", "data", 0) or {}
    price = first.get("price") or first.get("plan") or d.get("plan")
    nickname = price.get("nickname") if isinstance(price, Mapping) else None
    return Listed(
        sub=to_subscription(d),
        email=email,
        plan_name=nickname if isinstance(nickname, str) and nickname else None,
        latest_invoice_failed=bool(failed),
    )
