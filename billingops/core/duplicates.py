"""What billing alone says about live subscriptions of one person to one product.

Pure: a function of the `BillingState` only (no ticket words), so the triage rules
(`classify`) and any other reader of billing (a report) can share one definition of a
textbook duplicate.
"""

from __future__ import annotations

from dataclasses import dataclass

from billingops.core.anomalies import (
    DAY,
    DUPLICATE_WINDOW,
    ago,
    has_team_metadata,
    product_key,
    started,
)
from billingops.models.billing import BillingState, Subscription

# Two subscriptions this far apart are a second purchase, not a retried checkout. Between
# DUPLICATE_WINDOW (48 h) and this, the dates alone do not say which.
TEAM_APART = 14 * DAY


@dataclass(frozen=True)
class GroupEvidence:
    """What billing says about one group of live subscriptions to one product.

    `kind` is `duplicate` (quantity 1 each, no seat/team metadata, started within 48 h,
    paid with one card), `team` (quantity > 1, seat/team metadata, or weeks apart) or
    `ambiguous` (looks like a duplicate but the dates or the cards do not settle it).
    """

    subs: tuple[Subscription, ...]
    kind: str
    facts: tuple[str, ...]
    team_facts: tuple[str, ...]
    doubts: tuple[str, ...]


def group_evidence(state: BillingState, group: list[Subscription]) -> GroupEvidence:
    span = started(group[-1]) - started(group[0])
    ids = ", ".join(s.id for s in group)
    facts = [
        f"{len(group)} live subscriptions to {product_key(group[0])} ({ids})",
        f"started {ago(span)} apart",
    ]
    customers = sorted({s.customer_id for s in group})
    if len(customers) > 1:
        facts.append(f"one email across {len(customers)} customers ({', '.join(customers)})")
    team = [f"quantity {s.quantity} on {s.id}" for s in group if s.quantity > 1]
    team += [f"seat/team metadata on {s.id}" for s in group if has_team_metadata(s)]
    if span > TEAM_APART:
        team.append(f"started {ago(span)} apart (weeks, not a retried checkout)")
    doubts: list[str] = []
    if DUPLICATE_WINDOW < span <= TEAM_APART:
        doubts.append(f"started {ago(span)} apart: later than a retried checkout")
    cards = {
        (c.default_payment_method.brand, c.default_payment_method.last4)
        for c in state.customers
        if c.id in customers and c.default_payment_method is not None
    }
    if len(cards) > 1:
        doubts.append(f"paid with {len(cards)} different cards")
    if team:
        kind = "team"
    elif doubts:
        kind = "ambiguous"
    else:
        kind = "duplicate"
        card = "one card" if cards else "no card difference"
        facts.append(f"quantity 1 each, no seat or team metadata, {card}")
    return GroupEvidence(tuple(group), kind, tuple(facts), tuple(team), tuple(doubts))
