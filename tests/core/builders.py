"""Small billing states from plain values, for the pure-core tests.

Every builder takes keyword arguments with sensible defaults, so a test states only what
matters to it: `sub("sub_2", started=NOW - 5 * MIN)`.
"""

from __future__ import annotations

from typing import Any

from billingops.config import Config
from billingops.models.billing import (
    BillingState,
    Charge,
    Customer,
    Invoice,
    PaymentMethodSummary,
    PortalCapabilities,
    Resolution,
    ResolvedBy,
    Subscription,
)
from billingops.models.ticket import RequestKind, SensitiveKind, Ticket

NOW = 1_714_521_600  # 2024-05-01 00:00:00 UTC
MIN = 60
HOUR = 3600
DAY = 86400
MONTH = 30 * DAY


def customer(
    id: str = "cus_1",
    email: str | None = "jane@example.com",
    *,
    card: tuple[str, str] | None = ("visa", "4242"),
    **kw: Any,
) -> Customer:
    pm = PaymentMethodSummary(brand=card[0], last4=card[1]) if card else None
    return Customer(
        id=id,
        email=email,
        created=kw.pop("created", NOW - 90 * DAY),
        default_payment_method=pm,
        **kw,
    )


def sub(
    id: str = "sub_1",
    customer: str = "cus_1",
    *,
    status: str = "active",
    product: str = "prod_pro",
    amount: int = 2000,
    currency: str = "usd",
    interval: str = "month",
    quantity: int = 1,
    started: int = NOW - 10 * DAY,
    **kw: Any,
) -> Subscription:
    return Subscription(
        id=id,
        customer_id=customer,
        status=status,
        product_id=product,
        product_name=kw.pop("product_name", "Pro"),
        price_id=kw.pop("price_id", f"price_{product}"),
        unit_amount=amount,
        currency=currency,
        interval=interval,
        quantity=quantity,
        created=started,
        start_date=started,
        current_period_start=kw.pop("current_period_start", started),
        current_period_end=kw.pop("current_period_end", started + MONTH),
        latest_invoice_id=kw.pop("latest_invoice_id", f"in_{id[4:]}"),
        **kw,
    )


def invoice(
    id: str,
    *,
    customer: str = "cus_1",
    subscription: str | None = None,
    charge: str | None = None,
    status: str = "paid",
    amount: int = 2000,
    currency: str = "usd",
    created: int = NOW - 10 * DAY,
    **kw: Any,
) -> Invoice:
    return Invoice(
        id=id,
        customer_id=customer,
        subscription_id=subscription,
        charge_id=charge,
        status=status,
        amount_due=amount,
        amount_paid=amount if status == "paid" else 0,
        currency=currency,
        created=created,
        **kw,
    )


def charge(
    id: str,
    *,
    customer: str = "cus_1",
    amount: int = 2000,
    currency: str = "usd",
    created: int = NOW - 10 * DAY,
    invoice: str | None = None,
    refunded: int = 0,
    disputed: bool = False,
    status: str = "succeeded",
    **kw: Any,
) -> Charge:
    return Charge(
        id=id,
        customer_id=customer,
        amount=amount,
        amount_refunded=refunded,
        refunded=refunded >= amount,
        currency=currency,
        status=status,
        paid=status == "succeeded",
        disputed=disputed,
        created=created,
        invoice_id=invoice,
        **kw,
    )


def paid_sub(
    n: int | str,
    *,
    customer: str = "cus_1",
    started: int = NOW - 10 * DAY,
    amount: int = 2000,
    currency: str = "usd",
    refunded: int = 0,
    disputed: bool = False,
    **kw: Any,
) -> tuple[Subscription, Invoice, Charge]:
    """A subscription with its first invoice and the charge that paid it (ids by `n`)."""
    s = sub(
        f"sub_{n}", customer, started=started, amount=amount, currency=currency,
        latest_invoice_id=f"in_{n}", **kw,
    )  # fmt: skip
    total = amount * s.quantity
    i = invoice(
        f"in_{n}", customer=customer, subscription=s.id, charge=f"ch_{n}", amount=total,
        currency=currency, created=started,
    )  # fmt: skip
    c = charge(
        f"ch_{n}", customer=customer, amount=total, currency=currency, created=started,
        invoice=i.id, refunded=refunded, disputed=disputed,
    )  # fmt: skip
    return s, i, c


def state(
    *parts: Any,
    customers: list[Customer] | None = None,
    portal: PortalCapabilities | None = None,
    as_of: int = NOW,
) -> BillingState:
    """Assemble a state from subscriptions, invoices, charges or `paid_sub` tuples."""
    subs: list[Subscription] = []
    invs: list[Invoice] = []
    chs: list[Charge] = []
    for p in parts:
        for obj in p if isinstance(p, tuple) else (p,):
            if isinstance(obj, Subscription):
                subs.append(obj)
            elif isinstance(obj, Invoice):
                invs.append(obj)
            elif isinstance(obj, Charge):
                chs.append(obj)
            else:
                raise TypeError(obj)
    if customers is None:
        ids = sorted({s.customer_id for s in subs} | {c.customer_id or "cus_1" for c in chs})
        customers = [customer(i) for i in ids or ["cus_1"]]
    return BillingState(
        customers=customers,
        subscriptions=subs,
        invoices=invs,
        charges=chs,
        portal=portal or PortalCapabilities(),
        as_of=as_of,
    )


def ticket(
    description: str = "",
    *,
    title: str = "Billing question",
    request: RequestKind | None = None,
    emails: list[str] | None = None,
    stripe_ids: list[str] | None = None,
    sensitive: list[SensitiveKind] | None = None,
    **kw: Any,
) -> Ticket:
    return Ticket(
        repository="acme/support",
        number=kw.pop("number", 42),
        title=title,
        description=description,
        request=request,
        emails=["jane@example.com"] if emails is None else emails,
        stripe_ids=stripe_ids or [],
        sensitive=sensitive or [],
        **kw,
    )


def resolved(*ids: str, by: ResolvedBy = ResolvedBy.email, **kw: Any) -> Resolution:
    return Resolution(customer_ids=list(ids or ("cus_1",)), resolved_by=by, **kw)


def config(**kw: Any) -> Config:
    return Config.model_validate(kw)
