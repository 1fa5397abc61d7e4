"""What billingops needs from a billing provider. The Stripe gateway implements it."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Protocol

from pydantic import BaseModel, ConfigDict, Field

from billingops.models.billing import BillingState, Refund, Subscription


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


class BillingSource(Protocol):
    """Reads (triage, report) and the two writes (apply)."""

    def lookup(
        self,
        *,
        stripe_ids: list[str],
        emails: list[str],
        github_username: str | None,
        metadata_key: str,
    ) -> Lookups:
        """Follow every identifier to its customer(s), concurrently."""
        ...

    def read_state(self, customer_ids: list[str]) -> BillingState:
        """Everything about these customers, reads issued concurrently."""
        ...

    def refund(
        self, *, charge_id: str, amount: int, idempotency_key: str, metadata: dict[str, str]
    ) -> Refund: ...

    def cancel_subscription(
        self,
        *,
        subscription_id: str,
        at_period_end: bool,
        idempotency_key: str,
        metadata: dict[str, str],
    ) -> Subscription: ...

    def iter_subscriptions(
        self, *, created_gte: int | None = None, created_lt: int | None = None
    ) -> Iterator[Subscription]:
        """Every subscription of the account (all statuses), streamed page by page."""
        ...
