"""A customer's billing state, independent of the Stripe API version that produced it.

Amounts are integers in the currency's minor unit, as Stripe has them; currencies are
lower-case ISO codes. Times are Unix seconds (UTC).
"""

from __future__ import annotations

from enum import StrEnum
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

LIVE_STATUSES = frozenset({"active", "trialing", "past_due", "unpaid", "incomplete"})
# Gone for good. `paused` is in neither set: the subscription is held (no invoices), it
# can be resumed or canceled, and it is never treated as ended (SPEC §5c).
ENDED_STATUSES = frozenset({"canceled", "incomplete_expired"})
FAILED_STATUSES = frozenset({"past_due", "unpaid", "incomplete", "incomplete_expired"})


class ResolvedBy(StrEnum):
    customer_id = "customer_id"
    subscription_id = "subscription_id"
    invoice_id = "invoice_id"
    charge_id = "charge_id"
    payment_intent_id = "payment_intent_id"
    email = "email"
    github_username = "github_username"


class PaymentMethodSummary(BaseModel):
    """Brand and last four digits only: never more of a card."""

    model_config = ConfigDict(frozen=True)

    brand: str
    last4: str


class Customer(BaseModel):
    model_config = ConfigDict(frozen=True)

    id: str
    email: str | None = None
    name: str | None = None
    created: int = 0
    deleted: bool = False
    metadata: dict[str, str] = Field(default_factory=dict)
    default_payment_method: PaymentMethodSummary | None = None


class PriceTier(BaseModel):
    """One tier of a tiered price; amounts as Stripe's exact decimal strings (minor units)."""

    model_config = ConfigDict(frozen=True)

    up_to: int | None = None  # None: infinity
    unit_amount_decimal: str | None = None
    flat_amount_decimal: str | None = None


class SubscriptionItem(BaseModel):
    """One item of a subscription with its price's shape, in the subscription's currency
    where the price has an option for it (`currency` says which one the amounts are in)."""

    model_config = ConfigDict(frozen=True)

    id: str = ""
    price_id: str | None = None
    product_id: str | None = None
    product_name: str | None = None
    nickname: str | None = None
    currency: str = "usd"
    interval: Literal["day", "week", "month", "year"] = "month"
    interval_count: int = 1
    quantity: int = 1
    usage_type: str = "licensed"  # licensed | metered
    billing_scheme: str = "per_unit"  # per_unit | tiered
    tiers_mode: str | None = None  # volume | graduated
    tiers: list[PriceTier] = Field(default_factory=list)
    # Exact amount per unit in minor units, possibly fractional ("0.5"); None when unknown.
    unit_amount_decimal: str | None = None
    # Package pricing (`transform_quantity`): units are bundled by `divide_by`, rounded.
    divide_by: int | None = None
    round: Literal["up", "down"] = "up"
    # Why this item's amount cannot be known from what Stripe returned, if so.
    unknown: str | None = None


class Discount(BaseModel):
    """A discount on the whole subscription (its coupon's terms)."""

    model_config = ConfigDict(frozen=True)

    percent_off: float | None = None
    amount_off: int | None = None
    currency: str | None = None
    end: int | None = None  # when it stops applying (None: forever)


class Subscription(BaseModel):
    """A subscription: every item (`items`) and, for the rules that look at one plan, its
    main (first) item flattened: plan, price and quantity."""

    model_config = ConfigDict(frozen=True)

    id: str
    customer_id: str
    # active, trialing, past_due, unpaid, incomplete, incomplete_expired, canceled, paused
    status: str
    product_id: str | None = None
    product_name: str | None = None
    price_id: str | None = None  # price or (older API / localstripe) plan id
    unit_amount: int = 0
    currency: str = "usd"
    interval: Literal["day", "week", "month", "year"] = "month"
    interval_count: int = 1
    quantity: int = 1
    item_count: int = 1
    metadata: dict[str, str] = Field(default_factory=dict)
    created: int = 0
    start_date: int = 0
    current_period_start: int | None = None
    current_period_end: int | None = None
    cancel_at_period_end: bool = False
    cancel_at: int | None = None
    canceled_at: int | None = None
    ended_at: int | None = None
    trial_end: int | None = None
    latest_invoice_id: str | None = None
    items: list[SubscriptionItem] = Field(default_factory=list)
    discounts: list[Discount] = Field(default_factory=list)
    # The subscription schedule managing it, if any: Stripe then refuses
    # `cancel_at_period_end` (the schedule decides how it ends).
    schedule_id: str | None = None
    # `pause_collection` is set: the subscription stays, but no invoice is collected.
    collection_paused: bool = False
    # The subscription's own default payment method: it takes precedence over the customer's.
    default_payment_method: PaymentMethodSummary | None = None

    @property
    def live(self) -> bool:
        return self.status in LIVE_STATUSES

    @property
    def ended(self) -> bool:
        """Canceled or expired: gone. A paused subscription is neither live nor ended."""
        return self.status in ENDED_STATUSES

    @property
    def amount(self) -> int:
        """The main item's unit amount times quantity (the period amount of every item,
        after discounts, is `core.revenue.period_amount`)."""
        return self.unit_amount * self.quantity

    @property
    def ending(self) -> bool:
        """Set to end: at period end, or at a date (`cancel_at`)."""
        return self.cancel_at_period_end or self.cancel_at is not None


class Refund(BaseModel):
    model_config = ConfigDict(frozen=True)

    id: str
    charge_id: str
    amount: int
    currency: str
    # succeeded, pending, requires_action, failed, canceled
    status: str = "succeeded"
    failure_reason: str | None = None
    created: int = 0
    metadata: dict[str, str] = Field(default_factory=dict)


class Charge(BaseModel):
    model_config = ConfigDict(frozen=True)

    id: str
    customer_id: str | None = None
    amount: int
    # What was captured (a partial capture leaves less than `amount` to refund).
    amount_captured: int | None = None
    amount_refunded: int = 0
    currency: str = "usd"
    status: str = "succeeded"  # succeeded, pending, failed
    paid: bool = True
    refunded: bool = False
    disputed: bool = False
    created: int = 0
    invoice_id: str | None = None
    payment_intent_id: str | None = None
    failure_message: str | None = None
    refunds: list[Refund] = Field(default_factory=list)
    metadata: dict[str, str] = Field(default_factory=dict)

    @property
    def refundable(self) -> int:
        """What is left to refund; zero for failed, disputed or fully refunded charges."""
        if self.status != "succeeded" or self.disputed or self.refunded:
            return 0
        captured = self.amount if self.amount_captured is None else self.amount_captured
        return max(captured - self.amount_refunded, 0)


class Invoice(BaseModel):
    model_config = ConfigDict(frozen=True)

    id: str
    customer_id: str | None = None
    subscription_id: str | None = None
    status: str = "paid"  # draft, open, paid, uncollectible, void
    amount_due: int = 0
    amount_paid: int = 0
    currency: str = "usd"
    attempt_count: int = 0
    created: int = 0
    charge_id: str | None = None
    payment_intent_id: str | None = None
    billing_reason: str | None = None
    hosted_invoice_url: str | None = None
    total: int | None = None
    # Negative: customer credit applied to this invoice (paid partly from balance).
    starting_balance: int = 0
    # Credited by credit notes, before and after payment.
    credit_notes_amount: int = 0
    # Paid outside Stripe (`amount_paid_off_stripe`; older API: `paid_out_of_band`).
    paid_off_stripe: int = 0


class PortalCapabilities(BaseModel):
    """What the customer can do alone. `source` says where we learned it."""

    model_config = ConfigDict(frozen=True)

    source: Literal["stripe", "config", "unknown"] = "unknown"
    active: bool | None = None
    allows_cancellation: bool | None = None
    allows_invoice_history: bool | None = None
    allows_payment_method_update: bool | None = None
    login_url: str | None = None


class BillingState(BaseModel):
    """Everything billingops read about the customer(s) behind one ticket."""

    model_config = ConfigDict(frozen=True)

    customers: list[Customer] = Field(default_factory=list)
    subscriptions: list[Subscription] = Field(default_factory=list)
    invoices: list[Invoice] = Field(default_factory=list)
    charges: list[Charge] = Field(default_factory=list)
    portal: PortalCapabilities = Field(default_factory=PortalCapabilities)
    # When the state was read (Unix seconds); the core's notion of "now".
    as_of: int = 0
    # Lists that were not read back far enough (page cap), e.g. "charges of cus_…".
    history_truncated: list[str] = Field(default_factory=list)


class Lookups(BaseModel):
    """Where each identifier of a ticket led: identifier -> customer ids (empty: not found).

    Pure resolution rules (`core.resolve`) turn this into a `Resolution`.
    """

    model_config = ConfigDict(frozen=True)

    by_id: dict[str, list[str]] = Field(default_factory=dict)  # cus_/sub_/in_/ch_/pi_ -> customers
    by_email: dict[str, list[str]] = Field(default_factory=dict)  # email (as given) -> customers
    by_github_username: dict[str, list[str]] = Field(default_factory=dict)
    deleted: list[str] = Field(default_factory=list)  # customer ids that exist but are deleted
    # Customer id -> email as Stripe has it, to tell one person over two customers apart
    # from two different people.
    emails: dict[str, str | None] = Field(default_factory=dict)


class Resolution(BaseModel):
    """Who the ticket is about, and how we know."""

    model_config = ConfigDict(frozen=True)

    customer_ids: list[str] = Field(default_factory=list)
    resolved_by: ResolvedBy | None = None
    # Identifiers that pointed nowhere or at someone else, as one-line notes.
    problems: list[str] = Field(default_factory=list)
    # True when identifiers point at different people (not one email over two customers).
    conflicting: bool = False

    @property
    def found(self) -> bool:
        return bool(self.customer_ids)
