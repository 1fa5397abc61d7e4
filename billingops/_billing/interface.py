"""What billingops needs from a billing provider. The Stripe gateway implements it."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Protocol

from billingops.models.billing import BillingState, Lookups, Refund, Subscription

__all__ = ["BillingSource", "Lookups"]  # Lookups lives in models (issue 15)


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
