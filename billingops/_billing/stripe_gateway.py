"""The Stripe adapter: the only module that imports `stripe` (lazily, so `billingops --help`
stays fast).

Two halves:

1. Pure translators (`to_customer`, `to_subscription`, `to_invoice`, `to_charge`,
   `to_refund`, `to_portal`) from Stripe JSON dicts to our models. They accept both
   shapes the API has had: the current one (period on subscription items, `price`,
   invoice → subscription under `parent.subscription_details`, invoice payments under
   `payments`) and the older one that localstripe returns (`current_period_end` on the
   subscription, `plan`, `invoice.subscription`, `invoice.charge`).
2. `StripeGateway`, the `BillingSource` over a `stripe.StripeClient`.

Request budget (SPEC §8: at most 6 Stripe requests per triage, 2 rounds here):

- lookup round, all identifiers concurrently:
  cus_ → 1 retrieve (default payment method expanded, so the state round does not
  re-read the customer); sub_/in_/ch_/pi_ → 1 retrieve with `customer` expanded;
  email → `customers.list(email=…)` for the email as given and lower-cased when that
  differs (Stripe's filter is exact and case-sensitive) + 1 Search API query
  (`email:"…"`, finds any letter case; it lags up to a minute, hence the fresh lists;
  skipped silently where search is absent): 2 or 3 requests;
  GitHub username → 1 search on `metadata[key]` (fallback when search is absent:
  one page of 100 customers filtered locally).
- state round, all customers concurrently: per customer `subscriptions.list(status=all)`
  with each `latest_invoice` (and its `payments`) expanded and `charges.list` with
  `refunds` expanded: 2 requests; the customer itself only if the lookup did not read it;
  plus 1 `billing_portal.configurations.list` for the account.
  Invoices are therefore the latest invoice of each subscription (where an open,
  failed renewal lives), not the whole invoice history.

One customer found by ID: 1 + 3 = 4 requests; by email: 2-3 + 3 = 5-6.

`compat` mode (only when asked for: `BILLINGOPS_SANDBOX=localstripe`; `api_base` alone
changes only the address, so a proxy or a fixture server gets Stripe's real requests): no
Search API, no billing portal read (localstripe has neither), no
`payments` expansion, no server-side `created` filter; emails and GitHub usernames are
matched, case-insensitively, in one shared page of 100 customers (a sandbox is small).
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from decimal import Decimal
from functools import partial
from typing import Any, NamedTuple, TypeVar

from billingops._billing.interface import Lookups
from billingops.core.effects import REFUND_UNDONE
from billingops.core.report import Listed
from billingops.errors import BadInput, ExitStatus, NotFound, OperationalError, WriteRefused
from billingops.models.billing import (
    BillingState,
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

# Pinned: responses are parsed for this version's shapes (plus the older ones above);
# a new account default must not change what we read. 2026-10-28.endive is the
# version stripe-python 16.1 was generated for.
API_VERSION = "2026-10-28.endive"
MAX_NETWORK_RETRIES = 2
TIMEOUT_SECONDS = 20.0
# History per customer: pages of 100 (charges, invoices, subscriptions), newest first; further
# pages only back to the oldest live subscription's start, and at most this many pages.
HISTORY_PAGE_SIZE = 100
HISTORY_PAGES = 10
# What a price must carry for its amount to be known (not in lists: beyond expansion depth).
PRICE_EXPAND = ["tiers", "currency_options"]
# The local fallback for matching emails / usernames without the Search API: pages of 100
# customers, newest first, at most SCAN_PAGES of them.
SCAN_LIMIT = 100
SCAN_PAGES = 10
# Search lags new customers by up to a minute (Stripe's docs); margin included.
SEARCH_LAG = 120
# Every refund says why (Stripe shows it on the dashboard and to the card network).
REFUND_REASON = "requested_by_customer"
_MARK_KEYS = ("billingops_issue", "billingops_step")

_ID_PREFIXES = {"cus_": "customer", "sub_": "subscription", "in_": "invoice"}
_ID_PREFIXES.update({"ch_": "charge", "py_": "charge", "pi_": "payment_intent"})
_SECRET = re.compile(r"\b(sk|rk|pk)_(live|test)_[A-Za-z0-9*]+")

T = TypeVar("T")
Json = Mapping[str, Any]


# ---------------------------------------------------------------------------------------
# Pure translators


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
    return str(_meta(customer.get("metadata")).get(key, "")).casefold()


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


# ---------------------------------------------------------------------------------------
# The gateway


class _Refused(Exception):
    """A 4xx answer to a write, before reconciliation (never leaves the gateway)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


class _Page:
    """One list of one customer as read so far (newest first)."""

    def __init__(self, kind: str, data: list[dict[str, Any]], has_more: bool) -> None:
        self.kind = kind
        self.data = data
        self.has_more = has_more
        self.truncated = False

    def oldest(self) -> int:
        return _int(self.data[-1].get("created")) if self.data else 0


class _RateLimited(OperationalError):
    """A 429: the request was not processed, so `_call` may send it again."""

    def __init__(self, message: str, cause: Exception) -> None:
        super().__init__(message)
        self.cause = cause


class StripeGateway:
    """`BillingSource` over the Stripe API (or a sandbox at `api_base`)."""

    def __init__(
        self,
        api_key: str,
        api_base: str | None = None,
        *,
        compat: bool = False,
        timeout: float = TIMEOUT_SECONDS,
        max_network_retries: int = MAX_NETWORK_RETRIES,
        max_workers: int = 8,
        clock: Callable[[], float] = time.time,
        http_client: Any = None,
        rate_limit_retries: int = 2,
        max_retry_after: float = 10.0,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if not api_key:
            raise BadInput("STRIPE_API_KEY is not set")
        import stripe  # lazy: the SDK is heavy to import

        self._stripe: Any = stripe
        # The SDK does not retry 429s. A rate-limited request was not processed, so it is
        # safe to send again (our writes carry their own idempotency key either way).
        self._rate_limit_retries = rate_limit_retries
        self._max_retry_after = max_retry_after
        self._sleep = sleep
        if http_client is None:
            http_client = stripe.new_default_http_client(timeout=timeout)
        self._http = http_client
        # Every HTTP attempt the SDK makes, as "METHOD /path" (retries included).
        self.requests: list[str] = []
        original = http_client.request

        def counted(method: str, url: str, headers: Any, post_data: Any = None, **kw: Any) -> Any:
            self.requests.append(f"{method.upper()} {url.split('://', 1)[-1].split('/', 1)[-1]}")
            return original(method, url, headers, post_data, **kw)

        http_client.request = counted
        base_addresses: dict[str, str] = {"api": api_base} if api_base else {}
        # Typed as Any: the SDK's params TypedDicts add nothing over the shapes we test.
        self._client: Any = stripe.StripeClient(
            api_key,
            stripe_version=API_VERSION,
            base_addresses=base_addresses,  # type: ignore[arg-type]
            max_network_retries=max_network_retries,
            http_client=http_client,
        )
        self.compat = compat
        self._search = not self.compat  # turned off for good on the first 404
        self._workers = max_workers
        self._clock = clock
        self._lock = threading.Lock()
        self._customers: dict[str, dict[str, Any]] = {}  # read in lookup, reused by state
        self._prices: dict[str, dict[str, Any]] = {}  # price id -> with tiers, currency options

    # -- plumbing -----------------------------------------------------------------------

    def _call(self, what: str, fn: Callable[[], Any]) -> Any:
        """Run one SDK call; map its errors to ours with one clear line (never the key)."""
        for attempt in range(self._rate_limit_retries + 1):
            try:
                return self._mapped(what, fn)
            except _RateLimited as exc:
                wait = _retry_after(exc.cause, attempt)
                if attempt == self._rate_limit_retries or wait > self._max_retry_after:
                    raise OperationalError(str(exc)) from None
                self._sleep(wait)
        raise AssertionError("unreachable")

    def _mapped(self, what: str, fn: Callable[[], Any]) -> Any:
        s = self._stripe
        try:
            return fn()
        except s.AuthenticationError:
            raise BadInput("Stripe rejected the API key (check STRIPE_API_KEY)") from None
        except s.PermissionError:
            raise BadInput(
                f"the Stripe key may not {what} (a restricted key needs read access to "
                "customers, subscriptions, invoices and charges; writes need refunds and "
                "subscriptions)"
            ) from None
        except s.RateLimitError as exc:
            raise _RateLimited(f"Stripe rate limit while trying to {what}", exc) from None
        except s.APIConnectionError:
            raise OperationalError(f"cannot reach Stripe to {what} (after retries)") from None
        except s.InvalidRequestError as exc:
            message = redact(str(getattr(exc, "user_message", "") or exc))[:200]
            if exc.http_status == 404:
                raise NotFound(f"Stripe: not found while trying to {what}") from None
            raise BadInput(f"Stripe refused to {what}: {message}") from None
        except s.StripeError as exc:
            status = getattr(exc, "http_status", None) or "?"
            if status == 404:  # e.g. an endpoint a sandbox does not have (non-JSON 404)
                raise NotFound(f"Stripe: not found while trying to {what}") from None
            if status == 200:  # the body was not valid JSON
                raise OperationalError(f"Stripe sent an unreadable answer to {what}") from None
            raise OperationalError(
                f"Stripe failed to {what} (HTTP {status}, after retries)"
            ) from None

    def _concurrently(self, tasks: list[Callable[[], T]]) -> list[T]:
        """Run tasks in threads; the first error (in task order) is raised after all end."""
        if len(tasks) <= 1:
            return [t() for t in tasks]
        with ThreadPoolExecutor(max_workers=min(self._workers, len(tasks))) as pool:
            futures: list[Future[T]] = [pool.submit(t) for t in tasks]
        return [f.result() for f in futures]

    def _remember(self, customer: Any) -> str | None:
        if not isinstance(customer, Mapping) or not customer.get("id"):
            return _id(customer)
        with self._lock:
            self._customers[str(customer["id"])] = dict(customer)
        return str(customer["id"])

    def _customer_expand(self, prefix: str = "") -> list[str]:
        return [f"{prefix}invoice_settings.default_payment_method", f"{prefix}default_source"]

    # -- lookup -------------------------------------------------------------------------

    def lookup(
        self,
        *,
        stripe_ids: list[str],
        emails: list[str],
        github_username: str | None,
        metadata_key: str,
    ) -> Lookups:
        by_id: dict[str, list[str]] = {}
        by_email: dict[str, list[str]] = {}
        by_user: dict[str, list[str]] = {}
        tasks: list[Callable[[], None]] = []

        for sid in _dedupe(stripe_ids):
            kind = next((k for p, k in _ID_PREFIXES.items() if sid.startswith(p)), None)
            if kind is None:
                by_id[sid] = []
                continue
            tasks.append(partial(self._owner_into, by_id, kind, sid))

        emails = _dedupe(e.strip() for e in emails if e and e.strip())
        if self.compat and (emails or github_username):
            tasks.append(
                partial(self._scan, emails, github_username, metadata_key, by_email, by_user)
            )
        else:
            for email in emails:
                tasks.append(partial(self._by_email_into, by_email, email))
            if github_username:
                tasks.append(
                    partial(self._by_username_into, by_user, github_username, metadata_key)
                )
        self._concurrently(tasks)

        with self._lock:
            every = [*by_id.values(), *by_email.values(), *by_user.values()]
            seen = {c for ids in every for c in ids}
            known = {cid: self._customers[cid] for cid in seen if cid in self._customers}
        deleted = sorted(cid for cid in seen if cid in known and known[cid].get("deleted"))
        return Lookups(
            by_id=by_id,
            by_email=by_email,
            by_github_username=by_user,
            deleted=deleted,
            emails={cid: known[cid].get("email") if cid in known else None for cid in sorted(seen)},
        )

    def _owner_into(self, out: dict[str, list[str]], kind: str, object_id: str) -> None:
        out[object_id] = self._owner(kind, object_id)

    def _by_email_into(self, out: dict[str, list[str]], email: str) -> None:
        out[email] = self._by_email(email)

    def _by_username_into(self, out: dict[str, list[str]], username: str, key: str) -> None:
        out[username] = self._by_username(username, key)

    def _owner(self, kind: str, object_id: str) -> list[str]:
        """The customer behind one Stripe id, read with its customer in one request."""
        v1 = self._client.v1
        if kind == "customer":
            try:
                cus = self._call(
                    "read a customer",
                    lambda: v1.customers.retrieve(
                        object_id, params={"expand": self._customer_expand()}
                    ),
                )
            except NotFound:
                return []
            return [cid] if (cid := self._remember(cus.to_dict())) else []
        service = {
            "subscription": v1.subscriptions,
            "invoice": v1.invoices,
            "charge": v1.charges,
            "payment_intent": v1.payment_intents,
        }[kind]
        expand = ["customer", *self._customer_expand("customer.")]
        try:
            obj = self._call(
                f"read a {kind}",
                lambda: service.retrieve(object_id, params={"expand": expand}),
            )
        except NotFound:
            # localstripe 404s the whole request when the expanded customer was deleted
            # (Stripe returns a `deleted` stub instead): read the object alone.
            try:
                obj = self._call(f"read a {kind}", lambda: service.retrieve(object_id))
            except NotFound:
                return []
            cid = _id(obj.to_dict().get("customer"))
            if cid:
                with self._lock:
                    self._customers.setdefault(cid, {"id": cid, "deleted": True})
            return [cid] if cid else []
        cid = self._remember(obj.to_dict().get("customer"))
        return [cid] if cid else []

    def _list_customers(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        params = {**params, "expand": self._customer_expand("data.")}
        page = self._call("list customers", lambda: self._client.v1.customers.list(params=params))
        return [c.to_dict() for c in page.data]

    def _search_customers(self, query: str) -> list[dict[str, Any]]:
        """Search API; [] (and no more searches) where the endpoint does not exist."""
        if not self._search:
            return []
        params = {"query": query, "limit": 100, "expand": self._customer_expand("data.")}
        try:
            page = self._call(
                "search customers", lambda: self._client.v1.customers.search(params=params)
            )
        except (NotFound, BadInput):
            # No Search API here (404), or not for this account or key (Stripe offers no
            # search to some regions; a 400 / 403): lists from now on.
            self._search = False
            return []
        return [c.to_dict() for c in page.data]

    def _by_email(self, email: str) -> list[str]:
        # The list filter is exact and case-sensitive; search is not, but lags about a
        # minute. So: the email as given (fresh customers) and search (any letter case);
        # the lower-cased list only where the account has no Search API.
        found: list[dict[str, Any]] = []
        tasks: list[Callable[[], list[dict[str, Any]]]] = [
            partial(self._list_customers, {"email": email, "limit": 100}),
            partial(self._search_customers, f"email:{_quote(email)}"),
        ]
        for batch in self._concurrently(tasks):
            found += batch
        if not self._search and email.lower() != email:
            found += self._list_customers({"email": email.lower(), "limit": 100})
        wanted = email.casefold()
        ids = [
            self._remember(c)
            for c in found
            if str(c.get("email") or "").casefold() == wanted and not c.get("deleted")
        ]
        return _dedupe(i for i in ids if i)

    def _by_username(self, username: str, key: str) -> list[str]:
        found = self._search_customers(f"metadata[{_quote(key)}]:{_quote(username)}")
        wanted = username.casefold()
        if self._search and not any(_username_of(c, key) == wanted for c in found):
            # Search lags new customers by up to a minute: the customers created since.
            since = int(self._clock()) - SEARCH_LAG
            found += self._list_customers({"limit": SCAN_LIMIT, "created": {"gte": since}})
        if not self._search:  # no Search API: the newest customers, a bounded scan
            found = self._scan_customers(SCAN_PAGES)
        ids = [
            self._remember(c)
            for c in found
            if str(_meta(c.get("metadata")).get(key, "")).casefold() == wanted
        ]
        return _dedupe(i for i in ids if i)

    def _scan_customers(self, pages: int) -> list[dict[str, Any]]:
        """Up to `pages` pages of 100 customers, newest first."""
        out: list[dict[str, Any]] = []
        params: dict[str, Any] = {"limit": SCAN_LIMIT}
        for _ in range(pages):
            listed = {**params, "expand": self._customer_expand("data.")}
            batch, has_more = self._list_page("customers", listed)
            out += batch
            if not has_more or not batch:
                break
            params = {"limit": SCAN_LIMIT, "starting_after": batch[-1]["id"]}
        return out

    def _scan(
        self,
        emails: list[str],
        username: str | None,
        key: str,
        by_email: dict[str, list[str]],
        by_user: dict[str, list[str]],
    ) -> None:
        """compat: one page of customers, matched here case-insensitively."""
        customers = [c for c in self._list_customers({"limit": SCAN_LIMIT}) if not c.get("deleted")]
        for email in emails:
            wanted = email.casefold()
            by_email[email] = [
                str(c["id"]) for c in customers if str(c.get("email") or "").casefold() == wanted
            ]
        if username:
            wanted = username.casefold()
            by_user[username] = [
                str(c["id"])
                for c in customers
                if _meta(c.get("metadata")).get(key, "").casefold() == wanted
            ]
        for c in customers:
            self._remember(c)

    # -- state --------------------------------------------------------------------------

    def read_state(self, customer_ids: list[str]) -> BillingState:
        """Round 1, concurrently: per customer its subscriptions, a page of 100 charges
        (refunds expanded) and a page of 100 invoices (payments expanded), plus the portal.
        Round 2, only where round 1 did not reach far enough: further pages of charges back
        to the start of the customer's oldest live subscription (a past-due customer's
        failed retries must not push a paid or disputed charge out of view), and the rest of
        the subscriptions, up to HISTORY_PAGES pages each."""
        ids = _dedupe(customer_ids)
        tasks: list[Callable[[], Any]] = []
        for cid in ids:
            tasks += [
                partial(self._customer, cid),
                partial(self._first_page, "subscriptions", cid),
                partial(self._first_page, "charges", cid),
                partial(self._first_page, "invoices", cid),
            ]
        tasks.append(self.portal_capabilities)
        results = self._concurrently(tasks)
        portal: PortalCapabilities = results[-1]
        customers: list[Customer] = []
        pages: dict[tuple[str, str], _Page] = {}
        for i, cid in enumerate(ids):
            customer, subs_page, charges_page, invoices_page = results[4 * i : 4 * i + 4]
            customers.append(customer)
            pages[(cid, "subscriptions")] = subs_page
            pages[(cid, "charges")] = charges_page
            pages[(cid, "invoices")] = invoices_page
        more: list[Callable[[], None]] = []
        for cid in ids:
            if pages[(cid, "subscriptions")].has_more:
                more.append(partial(self._more, pages[(cid, "subscriptions")], cid, None))
        self._concurrently(more)
        if not self.compat:
            raw_subs = [d for cid in ids for d in pages[(cid, "subscriptions")].data]
            wanted = _dedupe(pid for d in raw_subs for pid in prices_to_complete(d))
            self._concurrently([partial(self._price, pid) for pid in wanted])
            for cid in ids:
                page = pages[(cid, "subscriptions")]
                page.data = [complete_prices(d, self._prices) for d in page.data]
        subs = [to_subscription(d) for cid in ids for d in pages[(cid, "subscriptions")].data]
        more = []
        for cid in ids:
            horizon = min((s.start_date for s in subs if s.customer_id == cid and s.live),
                          default=None)  # fmt: skip
            for kind in ("charges", "invoices"):
                page = pages[(cid, kind)]
                if page.has_more and horizon is not None and page.oldest() >= horizon:
                    more.append(partial(self._more, page, cid, horizon))
        self._concurrently(more)
        invoices: dict[str, Invoice] = {}
        for cid in ids:
            for d in pages[(cid, "subscriptions")].data:
                if isinstance(d.get("latest_invoice"), Mapping):
                    inv = to_invoice(d["latest_invoice"])
                    invoices[inv.id] = inv
            for d in pages[(cid, "invoices")].data:
                inv = to_invoice(d)
                invoices[inv.id] = inv
        charges = [to_charge(d) for cid in ids for d in pages[(cid, "charges")].data]
        customers = [_charged_card(c, subs) for c in customers]
        invoice_list = sorted(invoices.values(), key=lambda x: (-x.created, x.id))
        truncated = sorted(
            f"{kind} of {cid}" for (cid, kind), page in pages.items() if page.truncated
        )
        return BillingState(
            customers=customers,
            subscriptions=sorted(subs, key=lambda s: (s.created, s.id)),
            invoices=invoice_list,
            charges=sorted(link_charges(charges, invoice_list), key=lambda c: (-c.created, c.id)),
            portal=portal,
            as_of=int(self._clock()),
            history_truncated=truncated,
        )

    def _customer(self, cid: str) -> Customer:
        with self._lock:
            cached = self._customers.get(cid)
        if cached is None:
            try:
                cached = self._call(
                    "read a customer",
                    lambda: self._client.v1.customers.retrieve(
                        cid, params={"expand": self._customer_expand()}
                    ),
                ).to_dict()
            except NotFound:
                cached = {"id": cid, "deleted": True}
        assert cached is not None
        return to_customer(cached)

    def _price(self, price_id: str) -> dict[str, Any]:
        """One price with its tiers and currency options, read once per gateway."""
        with self._lock:
            if price_id in self._prices:
                return self._prices[price_id]
        try:
            obj = self._call(
                "read a price",
                lambda: self._client.v1.prices.retrieve(price_id, params={"expand": PRICE_EXPAND}),
            ).to_dict()
        except (NotFound, BadInput):
            obj = {}
        with self._lock:
            self._prices[price_id] = obj
        return dict(obj)

    def _list_params(self, kind: str, cid: str) -> dict[str, Any]:
        params: dict[str, Any] = {"customer": cid, "limit": HISTORY_PAGE_SIZE}
        if kind == "subscriptions":
            params["status"] = "all"
            params["expand"] = (
                ["data.latest_invoice"]
                if self.compat
                else [
                    "data.latest_invoice.payments",
                    "data.default_payment_method",
                    "data.discounts.source.coupon",
                ]
            )
        elif kind == "charges":
            params["expand"] = ["data.refunds"]
        elif kind == "invoices" and not self.compat:
            params["expand"] = ["data.payments"]
        return params

    def _list_page(self, kind: str, params: dict[str, Any]) -> tuple[list[dict[str, Any]], bool]:
        service = getattr(self._client.v1, kind)
        page = self._call(f"list {kind}", lambda: service.list(params=params))
        return [o.to_dict() for o in page.data], bool(page.has_more)

    def _first_page(self, kind: str, cid: str) -> _Page:
        try:
            data, has_more = self._list_page(kind, self._list_params(kind, cid))
        except NotFound:  # localstripe: the customer is gone
            return _Page(kind, [], False)
        return _Page(kind, data, has_more)

    def _more(self, page: _Page, cid: str, horizon: int | None) -> None:
        """Further pages (newest first) until the horizon is passed or the list ends."""
        pages = 1
        while page.has_more and (horizon is None or page.oldest() >= horizon):
            if pages >= HISTORY_PAGES:
                page.truncated = True
                return
            params = {**self._list_params(page.kind, cid), "starting_after": page.data[-1]["id"]}
            data, page.has_more = self._list_page(page.kind, params)
            page.data += data
            pages += 1
            if not data:
                return

    def portal_capabilities(self) -> PortalCapabilities:
        """The active billing portal configuration; `unknown` where it cannot be read
        (localstripe, or a restricted key without portal access): the caller uses config."""
        if self.compat:
            return PortalCapabilities(source="unknown")
        try:
            page = self._call(
                "read the billing portal configuration",
                lambda: self._client.v1.billing_portal.configurations.list(
                    params={"active": True, "limit": 10}
                ),
            )
        except (NotFound, BadInput):
            return PortalCapabilities(source="unknown")
        return to_portal(c.to_dict() for c in page.data)

    # -- writes -------------------------------------------------------------------------
    #
    # Stripe keeps an idempotency key 24 hours and replays its first answer, errors included,
    # and a key sent again with other parameters is a 400 `idempotency_error`; DELETE ignores
    # keys. So every write reconciles with what Stripe holds (our metadata on the object)
    # before it is sent again, and a 400 that a race explains (the charge was refunded or
    # disputed meanwhile, the subscription canceled) becomes a `WriteRefused` with Stripe's
    # code: the step is recorded as not done, with the reason, and the run goes on.

    def refund(
        self,
        *,
        charge_id: str,
        amount: int,
        idempotency_key: str,
        metadata: dict[str, str],
        reason: str = REFUND_REASON,
    ) -> Refund:
        params: dict[str, Any] = {"charge": charge_id, "amount": amount, "metadata": metadata}
        if not self.compat:  # localstripe rejects `reason`
            params["reason"] = reason
        what = f"refund {charge_id}"

        def create(key: str) -> Any:
            return self._write(
                what,
                lambda: self._client.v1.refunds.create(
                    params=params, options={"idempotency_key": key}
                ),
            )

        try:
            obj = create(idempotency_key)
        except _Refused as exc:
            own = self._own_refund(charge_id, metadata)
            if own is not None:  # an earlier attempt of this step did it
                return own
            if exc.code != "idempotency_error":
                raise WriteRefused(exc.code, f"Stripe refused to {what}: {exc.message}") from None
            # The key was first used with other parameters and no refund of ours exists:
            # send again under a key bound to these parameters.
            try:
                obj = create(_keyed(idempotency_key, params))
            except _Refused as again:
                raise WriteRefused(
                    again.code, f"Stripe refused to {what}: {again.message}"
                ) from None
        return to_refund(obj.to_dict())

    def _own_refund(self, charge_id: str, metadata: Mapping[str, str]) -> Refund | None:
        """The refund of this charge that carries this step's metadata, if Stripe has one
        (a failed or canceled one does not count)."""
        for r in self.find_refunds_for(charge_id):
            mine = all(r.metadata.get(k) == v for k, v in metadata.items() if k in _MARK_KEYS)
            if mine and r.status not in REFUND_UNDONE:
                return r
        return None

    def retrieve_refund(self, refund_id: str) -> Refund:
        """One refund as Stripe has it now (re-checking a pending refund)."""
        obj = self._call(
            f"read refund {refund_id}", lambda: self._client.v1.refunds.retrieve(refund_id)
        )
        return to_refund(obj.to_dict())

    def cancel_subscription(
        self,
        *,
        subscription_id: str,
        at_period_end: bool,
        idempotency_key: str,
        metadata: dict[str, str],
    ) -> Subscription:
        subs = self._client.v1.subscriptions
        what = f"cancel {subscription_id}"
        # localstripe rejects `cancellation_details`; Stripe records it on the subscription.
        details = (
            {} if self.compat else {"cancellation_details": {"comment": _cancel_comment(metadata)}}
        )
        if at_period_end:
            params: dict[str, Any] = {"cancel_at_period_end": True, "metadata": metadata, **details}
        else:
            # Cancel takes no metadata: mark the subscription first, then cancel.
            params = {"metadata": metadata}
        # The metadata holds the live prior status, so the parameters of a retried step can
        # differ from the first attempt's: the key is bound to them (setting the same
        # metadata or flag twice is harmless; the desk's metadata check guards the step).
        key = _keyed(idempotency_key + ("" if at_period_end else ":metadata"), params)
        try:
            obj = self._write(
                what,
                lambda: subs.update(
                    subscription_id, params=params, options={"idempotency_key": key}
                ),
            )
        except _Refused as exc:
            return self._settled_cancel(subscription_id, at_period_end, exc, what)
        if at_period_end:
            return to_subscription(obj.to_dict())
        try:
            obj = self._write(
                what,
                lambda: subs.cancel(
                    subscription_id,
                    params=details,
                    options={"idempotency_key": idempotency_key},
                ),
            )
        except _Refused as exc:
            return self._settled_cancel(subscription_id, at_period_end, exc, what)
        return to_subscription(obj.to_dict())

    def _settled_cancel(
        self, subscription_id: str, at_period_end: bool, exc: _Refused, what: str
    ) -> Subscription:
        """A 400 on a cancel: if the subscription already is as asked (a race, or our own
        earlier attempt), that is the result; otherwise the refusal, with Stripe's code."""
        obj = self._call(
            f"read {subscription_id}",
            lambda: self._client.v1.subscriptions.retrieve(subscription_id),
        )
        sub = to_subscription(obj.to_dict())
        if (sub.cancel_at_period_end or not sub.live) if at_period_end else not sub.live:
            return sub
        raise WriteRefused(exc.code, f"Stripe refused to {what}: {exc.message}") from None

    def _write(self, what: str, fn: Callable[[], Any]) -> Any:
        """One write; a 4xx that is not about the key or permissions becomes `_Refused`
        (with Stripe's error code) for the caller to reconcile."""
        s = self._stripe

        def guarded() -> Any:
            try:
                return fn()
            except s.IdempotencyError as exc:
                raise _Refused("idempotency_error", _message(exc)) from None
            except s.InvalidRequestError as exc:
                if exc.http_status == 404:
                    raise
                raise _Refused(str(exc.code or "invalid_request"), _message(exc)) from None

        return self._call(what, guarded)

    def find_refunds_for(self, charge_id: str) -> list[Refund]:
        """Refunds of one charge with their metadata (the exactly-once check before writing)."""
        page = self._call(
            f"list refunds of {charge_id}",
            lambda: self._client.v1.refunds.list(params={"charge": charge_id, "limit": 100}),
        )
        return [to_refund(r.to_dict()) for r in page.data]

    # -- report -------------------------------------------------------------------------

    def iter_subscriptions(
        self, *, created_gte: int | None = None, created_lt: int | None = None
    ) -> Iterator[Subscription]:
        """Every subscription (all statuses), 100 per page, newest first. The `created`
        bounds go to Stripe and are also applied here (compat: only here)."""
        params: dict[str, Any] = {"status": "all", "limit": 100}
        created = {k: v for k, v in (("gte", created_gte), ("lt", created_lt)) if v is not None}
        if created and not self.compat:
            params["created"] = created
        page = self._call(
            "list subscriptions", lambda: self._client.v1.subscriptions.list(params=params)
        )
        pages = page.auto_paging_iter()
        while True:
            obj = self._call("list subscriptions", lambda: next(pages, None))
            if obj is None:
                return
            sub = to_subscription(obj.to_dict())
            if created_gte is not None and sub.created < created_gte:
                continue
            if created_lt is not None and sub.created >= created_lt:
                continue
            yield sub

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


# ---------------------------------------------------------------------------------------
# Report listing (`billingops report`, issue 6): every subscription of the account, split
# into `created` ranges fetched concurrently within a rate limit, with backoff on 429.
# Module-level functions over a `StripeGateway`; nothing above depends on this section.
#
# How the ranges are split: one range [since, now] to start; each page (newest first,
# 100 objects) that says `has_more` leaves the objects created in [lo, last.created]. While
# fewer ranges are queued than there are workers and the rest looks like several pages
# (estimated from the page's density), that rest is cut in two: [lo, mid) from
# scratch and [mid, hi) continued after the page's last object (`starting_after`), so ties
# on `created` are neither lost nor repeated. Every object is in exactly one range; the
# upper bound is fixed at the start, so subscriptions created meanwhile are not listed.
# compat (localstripe): no server-side `created` filter, so one range, paged in sequence.

REPORT_PAGE_SIZE = 100
REPORT_EXPAND = ("data.customer", "data.latest_invoice", "data.discounts.source.coupon")
STRIPE_EPOCH = 1_293_840_000  # 2011-01-01: no Stripe object is older
REPORT_MAX_ATTEMPTS = 8  # per page, 429s and transient failures together
REPORT_MAX_BACKOFF = 30.0
REPORT_HEADROOM = 0.95  # pace at this share of the configured rate limit
REPORT_QUEUED_PAGES = 2  # pages read but not yet aggregated (+1 per worker in flight)
REPORT_SPLIT_PAGES = 4  # split a range only when its rest looks like this many pages


class RateLimiter:
    """Paces requests shared by threads: at most `rate` per second, evenly spaced (a token
    bucket holding one token), so no one-second window ever sees more than `rate` sent.

    The pace is `headroom` (95%) of the limit: a thread that wakes late lands its request
    in the next second, next to punctual ones, and the margin absorbs that instead of a 429.
    After a 429 the pace drops by a quarter (`throttled`); each accepted request wins back
    1% of the ceiling (`accepted`). Another client on the same account then pushes us down
    to what is left instead of into a storm of 429s.
    """

    def __init__(
        self,
        rate: float,
        *,
        headroom: float = REPORT_HEADROOM,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if rate <= 0 or not 0 < headroom <= 1:
            raise ValueError("rate and headroom must be positive, headroom at most 1")
        self.ceiling = float(rate) * headroom
        self.rate = self.ceiling
        self._clock = clock
        self._sleep = sleep
        self._next = float("-inf")
        self._lock = threading.Lock()

    def acquire(self) -> None:
        """Wait for this request's slot."""
        with self._lock:
            now = self._clock()
            at = max(now, self._next)
            self._next = at + 1.0 / self.rate
        if at > now:
            self._sleep(at - now)

    def throttled(self) -> None:
        with self._lock:
            self.rate = max(self.rate * 0.75, self.ceiling * 0.05)

    def accepted(self) -> None:
        with self._lock:
            if self.rate < self.ceiling:
                self.rate = min(self.ceiling, self.rate + self.ceiling * 0.01)


class ListingStats:
    """Counters of one listing, updated by the workers (read them for progress)."""

    def __init__(self) -> None:
        self.pages = 0
        self.objects = 0
        self.requests = 0
        self.throttled = 0  # 429 answers
        self.retries = 0  # transient failures retried (5xx, connection)
        self.ranges = 1
        self._lock = threading.Lock()

    def add(self, **counts: int) -> None:
        with self._lock:
            for name, n in counts.items():
                setattr(self, name, getattr(self, name) + n)

    def as_dict(self) -> dict[str, int]:
        with self._lock:
            return {
                "pages": self.pages,
                "objects": self.objects,
                "requests": self.requests,
                "throttled": self.throttled,
                "retries": self.retries,
                "ranges": self.ranges,
            }


def default_report_workers(rate_per_second: float) -> int:
    """Enough requests in flight to use the rate with ~0.5 s per page, within 4..32."""
    return max(4, min(32, int(rate_per_second * 0.5 + 0.999)))


def _retry_after(exc: Any, attempt: int) -> float:
    """The server's Retry-After, else exponential backoff with jitter."""
    import random

    headers = getattr(exc, "headers", None) or {}
    raw = None
    for k, v in dict(headers).items():
        if str(k).lower() == "retry-after":
            raw = v
    try:
        if raw is not None:
            return min(max(float(str(raw)), 0.0), REPORT_MAX_BACKOFF)
    except (TypeError, ValueError):
        pass
    return min(0.25 * 2.0**attempt, REPORT_MAX_BACKOFF) * (0.5 + random.random() / 2)


def _get_list(
    gateway: StripeGateway,
    path: str,
    params: dict[str, Any],
    limiter: RateLimiter,
    stats: ListingStats,
    sleep: Callable[[float], None] = time.sleep,
) -> dict[str, Any]:
    """One GET through the limiter; 429 and transient failures retried here (the SDK's own
    retries are off, so every attempt is paced)."""
    s = gateway._stripe

    def attempt_all() -> dict[str, Any]:
        attempt = 0
        while True:
            limiter.acquire()
            stats.add(requests=1)
            try:
                resp = gateway._client.raw_request("get", path, **params, max_network_retries=0)
            except s.RateLimitError as exc:
                attempt += 1
                stats.add(throttled=1)
                limiter.throttled()
                if attempt >= REPORT_MAX_ATTEMPTS:
                    raise
                sleep(_retry_after(exc, attempt))
                continue
            except (s.APIConnectionError, s.APIError) as exc:
                attempt += 1
                if attempt >= REPORT_MAX_ATTEMPTS:
                    raise
                stats.add(retries=1)
                sleep(_retry_after(exc, attempt))
                continue
            limiter.accepted()
            body: dict[str, Any] = resp.data  # parsed once, by the SDK
            return body

    result: dict[str, Any] = gateway._call(f"list {path.rsplit('/', 1)[-1]}", attempt_all)
    return result


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


def report_products(
    gateway: StripeGateway, limiter: RateLimiter, stats: ListingStats | None = None
) -> dict[str, str]:
    """Product id → name for every product (a few pages at most); {} where unreadable."""
    stats = stats or ListingStats()
    names: dict[str, str] = {}
    params: dict[str, Any] = {"limit": REPORT_PAGE_SIZE}
    while True:
        try:
            page = _get_list(gateway, "/v1/products", params, limiter, stats)
        except (NotFound, BadInput):
            return names
        data = [p for p in _data(page) if isinstance(p, Mapping) and p.get("id")]
        for p in data:
            names[str(p["id"])] = str(p.get("name") or p["id"])
        if not page.get("has_more") or not data:
            return names
        params = {**params, "starting_after": str(data[-1]["id"])}


def report_customer_emails(
    gateway: StripeGateway, limiter: RateLimiter, stats: ListingStats
) -> dict[str, str]:
    """compat only (a small sandbox): customer id → email, for every customer. localstripe
    404s a whole list whose expanded customer was deleted, so it is not expanded there."""
    emails: dict[str, str] = {}
    params: dict[str, Any] = {"limit": REPORT_PAGE_SIZE}
    while True:
        try:
            page = _get_list(gateway, "/v1/customers", params, limiter, stats)
        except NotFound:
            return emails
        data = [c for c in _data(page) if isinstance(c, Mapping) and c.get("id")]
        for c in data:
            if isinstance(c.get("email"), str) and not c.get("deleted"):
                emails[str(c["id"])] = str(c["email"])
        if not page.get("has_more") or not data:
            return emails
        params = {**params, "starting_after": str(data[-1]["id"])}


def iter_report_subscriptions(
    gateway: StripeGateway,
    *,
    rate_per_second: float,
    workers: int | None = None,
    since: int | None = None,
    until: int | None = None,
    stats: ListingStats | None = None,
    limiter: RateLimiter | None = None,
    on_page: Callable[[ListingStats], None] | None = None,
) -> Iterator[Listed]:
    """Every subscription (all statuses) created in [since, until), in no particular
    order, each exactly once. Memory is bounded: one page per worker plus
    REPORT_QUEUED_PAGES wait to be aggregated."""
    import queue

    stats = stats or ListingStats()
    limiter = limiter or RateLimiter(rate_per_second)
    workers = max(1, workers or default_report_workers(rate_per_second))
    lo = since if since is not None else STRIPE_EPOCH
    hi = until if until is not None else int(gateway._clock()) + 1
    compat = gateway.compat
    tasks: queue.Queue[tuple[int, int, str | None] | None] = queue.Queue()
    out: queue.Queue[Any] = queue.Queue(maxsize=REPORT_QUEUED_PAGES)
    stop = threading.Event()
    done = object()
    lock = threading.Lock()
    outstanding = [1]
    tasks.put((lo, hi, None))
    emails = report_customer_emails(gateway, limiter, stats) if compat else None
    expand = [e for e in REPORT_EXPAND if not compat or e == "data.latest_invoice"]

    def put(item: Any) -> None:
        while not stop.is_set():
            try:
                out.put(item, timeout=0.1)
                return
            except queue.Full:
                continue

    def fetch(lo: int, hi: int, cursor: str | None) -> None:
        params: dict[str, Any] = {
            "status": "all",
            "limit": REPORT_PAGE_SIZE,
            "expand": expand,
        }
        if not compat:
            params["created"] = {"gte": lo, "lt": hi}
        if cursor:
            params["starting_after"] = cursor
        page = _get_list(gateway, "/v1/subscriptions", params, limiter, stats)
        raw = [d for d in _data(page) if isinstance(d, Mapping) and d.get("id")]
        if page.get("has_more") and raw:
            last_id = str(raw[-1]["id"])
            last_created = _int(raw[-1].get("created"))
            new: list[tuple[int, int, str | None]]
            # Objects left in [lo, last.created], estimated from this page's density:
            # a rest of less than a few pages is not worth a range of its own.
            span = max(_int(raw[0].get("created")) - last_created, 1)
            rest = len(raw) * (last_created - lo) / span
            if (
                not compat
                and tasks.qsize() < workers
                and lo < last_created <= hi
                and rest >= REPORT_SPLIT_PAGES * REPORT_PAGE_SIZE
            ):
                mid = (lo + last_created + 1) // 2
                new = [(lo, mid, None), (mid, hi, last_id)]
            else:
                new = [(lo, hi, last_id)]
            with lock:
                outstanding[0] += len(new)
            stats.add(ranges=len(new) - 1)
            for t in new:
                tasks.put(t)
        if not compat:
            for pid in _dedupe(p for d in raw for p in prices_to_complete(d)):
                with gateway._lock:
                    known = pid in gateway._prices
                if not known:
                    try:
                        got = _get_list(gateway, f"/v1/prices/{pid}",
                                        {"expand": PRICE_EXPAND}, limiter, stats)  # fmt: skip
                    except (NotFound, BadInput):
                        got = {}
                    with gateway._lock:
                        gateway._prices[pid] = got
            raw = [complete_prices(d, gateway._prices) for d in raw]
        items = [to_listed(d, emails) for d in raw]
        if compat:  # no server-side filter: apply the bounds here
            items = [i for i in items if lo <= i.sub.created < hi]
        stats.add(pages=1, objects=len(raw))
        put(items)

    def work() -> None:
        while not stop.is_set():
            task = tasks.get()
            if task is None:
                return
            try:
                fetch(*task)
            except BaseException as exc:
                put(exc)
            finally:
                with lock:
                    outstanding[0] -= 1
                    last = outstanding[0] == 0
                if last:
                    put(done)

    threads = [
        threading.Thread(target=work, name=f"report-list-{n}", daemon=True) for n in range(workers)
    ]
    for t in threads:
        t.start()
    try:
        while True:
            item = out.get()
            if item is done:
                return
            if isinstance(item, BaseException):
                raise item
            if on_page is not None:
                on_page(stats)
            yield from item
    finally:
        stop.set()
        for _ in threads:
            tasks.put(None)
        for t in threads:
            t.join(timeout=5)
