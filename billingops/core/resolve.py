"""Who a ticket is about: pure rules over where each identifier led (`Lookups`).

Strength: customer ID > subscription / invoice / charge / payment-intent ID > email >
GitHub username. The strongest identifier that reaches a live (not deleted) customer
decides *who*; every customer of that same person found by any identifier is included
(one person often has two Stripe customers with one email). A "person" is the customer's
email, compared case-insensitively; a customer without an email is a person of its own.

Identifiers that reach someone else are a conflict (the caller makes it `needs_human`);
nothing found is an empty resolution (`needs_info` / `needs_human`, by the caller).
Problems are one-line notes that never repeat an email address (the comment masks them).
"""

from __future__ import annotations

from collections.abc import Sequence

from billingops.models.billing import Lookups, Resolution, ResolvedBy
from billingops.models.text import email_key

# Id prefixes in order of strength within the "object id" tier.
_ID_KINDS: tuple[tuple[str, ResolvedBy], ...] = (
    ("cus_", ResolvedBy.customer_id),
    ("sub_", ResolvedBy.subscription_id),
    ("in_", ResolvedBy.invoice_id),
    ("ch_", ResolvedBy.charge_id),
    ("py_", ResolvedBy.charge_id),
    ("pi_", ResolvedBy.payment_intent_id),
)
_STRENGTH = {
    ResolvedBy.customer_id: 0,
    ResolvedBy.subscription_id: 1,
    ResolvedBy.invoice_id: 1,
    ResolvedBy.charge_id: 1,
    ResolvedBy.payment_intent_id: 1,
    ResolvedBy.email: 2,
    ResolvedBy.github_username: 3,
}
_ORDER = {kind: i for i, kind in enumerate(ResolvedBy)}


def id_kind(stripe_id: str) -> ResolvedBy | None:
    return next((kind for prefix, kind in _ID_KINDS if stripe_id.startswith(prefix)), None)


def _ordinal(n: int) -> str:
    return {1: "1st", 2: "2nd", 3: "3rd"}.get(n, f"{n}th")


def resolve(
    *,
    stripe_ids: Sequence[str] = (),
    emails: Sequence[str] = (),
    github_username: str | None = None,
    lookups: Lookups,
) -> Resolution:
    deleted = set(lookups.deleted)
    problems: list[str] = []
    # (kind, customers found) per identifier, in the order given.
    hits: list[tuple[ResolvedBy, list[str]]] = []

    def live(label: str, found: list[str]) -> list[str]:
        gone = [c for c in found if c in deleted]
        problems.extend(f"{label}: customer {c} is deleted" for c in gone)
        return [c for c in dict.fromkeys(found) if c not in deleted]

    for sid in dict.fromkeys(stripe_ids):
        kind = id_kind(sid)
        if kind is None:
            problems.append(f"{sid}: not a customer, subscription, invoice or charge ID")
            continue
        found = lookups.by_id.get(sid, [])
        if not found:
            problems.append(f"{sid}: not found in Stripe")
            continue
        hits.append((kind, live(sid, found)))

    email_list = list(dict.fromkeys(e for e in emails if e))
    for n, email in enumerate(email_list, 1):
        label = "the billing email" if len(email_list) == 1 else f"the {_ordinal(n)} email"
        found = _by_email(lookups, email)
        if not found:
            problems.append(f"{label}: no Stripe customer has it")
            continue
        hits.append((ResolvedBy.email, live(label, found)))

    if github_username:
        found = lookups.by_github_username.get(github_username, [])
        if not found:
            problems.append(f"GitHub user {github_username}: not mapped to a Stripe customer")
        else:
            hits.append((ResolvedBy.github_username, live(f"GitHub user {github_username}", found)))

    hits = [(kind, found) for kind, found in hits if found]
    if not hits:
        return Resolution(problems=problems)

    # Whose email each customer has; customers found by an email carry that email even
    # when the lookup could not tell (so one email never looks like two people).
    known = {c: e for c, e in lookups.emails.items() if e}
    for email in email_list:
        for cid in _by_email(lookups, email):
            known.setdefault(cid, email)

    # Stable: strongest tier first, then the kind order, then the order given.
    hits.sort(key=lambda h: (_STRENGTH[h[0]], _ORDER[h[0]]))
    resolved_by, strongest = hits[0]
    people = {_person(known, c) for c in strongest}
    customers: list[str] = []
    others: list[str] = []
    for _, found in hits:
        for cid in found:
            target = customers if _person(known, cid) in people else others
            if cid not in target:
                target.append(cid)
    conflicting = len(people) > 1 or bool(others)
    if others:
        problems.append(
            "identifiers point at different customers: " + ", ".join(customers + others)
        )
    elif len(people) > 1:
        problems.append(
            f"the {resolved_by.value.replace('_', ' ')} matches customers with different "
            "emails: " + ", ".join(customers)
        )
    return Resolution(
        customer_ids=customers,
        resolved_by=resolved_by,
        problems=problems,
        conflicting=conflicting,
    )


def _by_email(lookups: Lookups, email: str) -> list[str]:
    """Customers for an email: the gateway keys by the email as given; accept any case."""
    if email in lookups.by_email:
        return list(lookups.by_email[email])
    wanted = email_key(email)
    out: list[str] = []
    for key, ids in lookups.by_email.items():
        if email_key(key) == wanted:
            out += [c for c in ids if c not in out]
    return out


def _person(known: dict[str, str], customer_id: str) -> str:
    email = known.get(customer_id)
    return "email:" + email_key(email) if email else "id:" + customer_id
