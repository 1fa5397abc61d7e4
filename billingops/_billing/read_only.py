"""The billing port as the read-only job holds it (`billingops handle --read-only`): the
reads pass through, the two writes fail before any request.

A run on this port decides as a run that cannot write Stripe (`writes_stripe`: the core
leaves approved Stripe steps to the apply job, `core/apply.py:held`), and the port is the
guard behind that decision: were a write ever attempted, it fails here, and Stripe never
sees it."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from billingops._billing.interface import BillingSource
from billingops.errors import OperationalError
from billingops.models.billing import BillingState, Lookups, Refund, Subscription

DEFERRED = "this job holds the read-only Stripe key; the apply job executes approved steps"


class ReadOnlyBilling:
    """A `BillingSource` with its two writes taken away."""

    def __init__(self, inner: BillingSource) -> None:
        self._inner = inner

    def __getattr__(self, name: str) -> Any:  # the gateway's other reads (tools, tests)
        return getattr(self._inner, name)

    def lookup(
        self,
        *,
        stripe_ids: list[str],
        emails: list[str],
        github_username: str | None,
        metadata_key: str,
    ) -> Lookups:
        return self._inner.lookup(
            stripe_ids=stripe_ids,
            emails=emails,
            github_username=github_username,
            metadata_key=metadata_key,
        )

    def read_state(self, customer_ids: list[str]) -> BillingState:
        return self._inner.read_state(customer_ids)

    def iter_subscriptions(
        self, *, created_gte: int | None = None, created_lt: int | None = None
    ) -> Iterator[Subscription]:
        return self._inner.iter_subscriptions(created_gte=created_gte, created_lt=created_lt)

    def refund(self, **_: Any) -> Refund:
        raise OperationalError(DEFERRED)

    def cancel_subscription(self, **_: Any) -> Subscription:
        raise OperationalError(DEFERRED)


def writes_stripe(billing: BillingSource) -> bool:
    """Whether a run on this port may write Stripe (holds the write key)."""
    return not isinstance(billing, ReadOnlyBilling)
