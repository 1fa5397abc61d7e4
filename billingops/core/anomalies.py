"""Anomalies in a billing state, and the small facts about it that classify and plan share.

Everything here is a pure function of `BillingState`; "now" is `state.as_of`. Results are
sorted so the same state always gives the same list (the comment is byte-for-byte stable).
"""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum

from pydantic import BaseModel, ConfigDict

from billingops.models.billing import FAILED_STATUSES, BillingState, Charge, Subscription
from billingops.models.text import email_key

HOUR = 3600
DAY = 24 * HOUR
# Two checkouts of one product this close together look like a retried checkout.
DUPLICATE_WINDOW = 48 * HOUR
TRIAL_WARNING = 7 * DAY
# Metadata keys or values that say "these seats are on purpose".
TEAM_METADATA_WORDS = ("seat", "team", "member", "workspace", "org")


class AnomalyKind(StrEnum):
    duplicate_subscription = "duplicate_subscription"
    failed_status = "failed_status"
    failed_invoice = "failed_invoice"
    cancel_at_period_end = "cancel_at_period_end"
    trial_ending = "trial_ending"
    disputed_charge = "disputed_charge"
    refunded_charge = "refunded_charge"
    charge_after_cancel = "charge_after_cancel"


class Anomaly(BaseModel):
    """One thing worth an operator's attention: ids only, never names or emails."""

    model_config = ConfigDict(frozen=True)

    kind: AnomalyKind
    text: str
    ids: tuple[str, ...] = ()


# --- shared facts -------------------------------------------------------------------------


def person_key(state: BillingState, customer_id: str) -> str:
    """One person may be two Stripe customers with one email (checkout retried)."""
    for c in state.customers:
        if c.id == customer_id and c.email:
            return "email:" + email_key(c.email)
    return "customer:" + customer_id


def product_key(sub: Subscription) -> str:
    return sub.product_id or sub.price_id or f"sub:{sub.id}"


def started(sub: Subscription) -> int:
    return sub.start_date or sub.created


def by_age(subs: Iterable[Subscription]) -> list[Subscription]:
    """Oldest first; ties broken by id so the order never depends on input order."""
    return sorted(subs, key=lambda s: (started(s), s.created, s.id))


def live_groups(state: BillingState) -> list[list[Subscription]]:
    """Live subscriptions of one person to one product, groups of two or more, oldest first."""
    groups: dict[tuple[str, str], list[Subscription]] = {}
    for sub in state.subscriptions:
        if sub.live:
            groups.setdefault((person_key(state, sub.customer_id), product_key(sub)), []).append(
                sub
            )
    out = [by_age(g) for g in groups.values() if len(g) > 1]
    return sorted(out, key=lambda g: g[0].id)


def has_team_metadata(sub: Subscription) -> bool:
    for k, v in sub.metadata.items():
        text = f"{k} {v}".lower()
        if any(w in text for w in TEAM_METADATA_WORDS):
            return True
    return False


def charges_of(state: BillingState, sub: Subscription) -> list[Charge]:
    """Charges paid for this subscription, through its invoices (oldest first)."""
    invoice_ids = {i.id for i in state.invoices if i.subscription_id == sub.id}
    charge_ids = {i.charge_id for i in state.invoices if i.subscription_id == sub.id}
    if sub.latest_invoice_id:
        invoice_ids.add(sub.latest_invoice_id)
    out = [
        c
        for c in state.charges
        if c.id in charge_ids or (c.invoice_id is not None and c.invoice_id in invoice_ids)
    ]
    return sorted(out, key=lambda c: (c.created, c.id))


def subscription_of(state: BillingState, charge: Charge) -> Subscription | None:
    inv_sub = {i.id: i.subscription_id for i in state.invoices}
    by_charge = {i.charge_id: i.subscription_id for i in state.invoices if i.charge_id}
    sub_id = by_charge.get(charge.id) or (inv_sub.get(charge.invoice_id or "") or None)
    if sub_id is None and charge.invoice_id:
        sub_id = next(
            (s.id for s in state.subscriptions if s.latest_invoice_id == charge.invoice_id), None
        )
    return next((s for s in state.subscriptions if s.id == sub_id), None)


def is_prorated(state: BillingState, sub: Subscription) -> bool:
    """A proration invoice, or several items: the amounts are not one clean period."""
    if sub.item_count > 1:
        return True
    return any(
        i.subscription_id == sub.id and i.billing_reason == "subscription_update"
        for i in state.invoices
    )


def contract_shape(state: BillingState, sub: Subscription) -> str | None:
    """Why a rule must not cancel this subscription now and refund it in full, or None."""
    if sub.interval == "year":
        return "annual"
    if sub.quantity > 1 or has_team_metadata(sub):
        return "team"
    if is_prorated(state, sub):
        return "prorated"
    return None


def ago(seconds: int) -> str:
    """A coarse, deterministic duration for evidence lines."""
    s = abs(seconds)
    if s < HOUR:
        return f"{s // 60} min"
    if s < 2 * DAY:
        return f"{s // HOUR} h"
    return f"{s // DAY} days"


# --- anomalies ----------------------------------------------------------------------------


def find_anomalies(state: BillingState, *, trial_warning: int = TRIAL_WARNING) -> list[Anomaly]:
    """Every anomaly of the state, in a fixed order (kind, then ids)."""
    found: list[Anomaly] = []
    for group in live_groups(state):
        ids = tuple(s.id for s in group)
        span = started(group[-1]) - started(group[0])
        found.append(
            Anomaly(
                kind=AnomalyKind.duplicate_subscription,
                text=f"{len(group)} live subscriptions to {product_key(group[0])}, "
                f"started {ago(span)} apart",
                ids=ids,
            )
        )
    for sub in state.subscriptions:
        if sub.status in FAILED_STATUSES:
            found.append(
                Anomaly(
                    kind=AnomalyKind.failed_status,
                    text=f"subscription {sub.id} is {sub.status}",
                    ids=(sub.id,),
                )
            )
        if sub.live and sub.ending:  # at period end, or at a date (`cancel_at`)
            found.append(
                Anomaly(
                    kind=AnomalyKind.cancel_at_period_end,
                    text=f"subscription {sub.id} is set to cancel at period end",
                    ids=(sub.id,),
                )
            )
        if (
            sub.status == "trialing"
            and sub.trial_end is not None
            and state.as_of <= sub.trial_end <= state.as_of + trial_warning
        ):
            found.append(
                Anomaly(
                    kind=AnomalyKind.trial_ending,
                    text=f"trial of {sub.id} ends in {ago(sub.trial_end - state.as_of)}",
                    ids=(sub.id,),
                )
            )
    for inv in state.invoices:
        if inv.status == "open" and inv.attempt_count > 0:
            found.append(
                Anomaly(
                    kind=AnomalyKind.failed_invoice,
                    text=f"invoice {inv.id} is open after {inv.attempt_count} failed attempt(s)",
                    ids=(inv.id,),
                )
            )
    for ch in state.charges:
        if ch.disputed:
            found.append(
                Anomaly(
                    kind=AnomalyKind.disputed_charge,
                    text=f"charge {ch.id} is disputed",
                    ids=(ch.id,),
                )
            )
        if ch.refunded or ch.amount_refunded > 0:
            how = "fully" if ch.refunded or ch.amount_refunded >= ch.amount else "partly"
            found.append(
                Anomaly(
                    kind=AnomalyKind.refunded_charge,
                    text=f"charge {ch.id} is already {how} refunded",
                    ids=(ch.id,),
                )
            )
    found.extend(
        Anomaly(
            kind=AnomalyKind.charge_after_cancel,
            text=f"charge {ch.id} was made after {sub.id} was canceled",
            ids=(ch.id, sub.id),
        )
        for ch, sub in charges_after_cancel(state)
    )
    order = list(AnomalyKind)
    return sorted(found, key=lambda a: (order.index(a.kind), a.ids))


def charges_after_cancel(state: BillingState) -> list[tuple[Charge, Subscription]]:
    """Paid charges made after their subscription's cancellation was requested.

    Stripe sets `canceled_at` when a cancellation is requested (also at period end), so a
    later successful charge on that subscription is one the customer did not expect.
    """
    out: list[tuple[Charge, Subscription]] = []
    for ch in state.charges:
        if ch.status != "succeeded":
            continue
        sub = subscription_of(state, ch)
        if sub is not None and sub.canceled_at is not None and ch.created > sub.canceled_at:
            out.append((ch, sub))
    return sorted(out, key=lambda p: (p[0].created, p[0].id))
