"""Joins over the report's per-subscription keys (`core/report_keys.KeyStore`): several
subscriptions to one product by one person (classified as the triage classifies a
duplicate), one email over several customers, and monthly → yearly conversions."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

from billingops.core.anomalies import DAY, DUPLICATE_WINDOW
from billingops.core.report.aggregation import Top
from billingops.core.report.rows import Conversion, EmailGroup, GroupKind, MultiGroup, Several
from billingops.core.report_keys import KeyStore, Member

# Compact per-subscription facts kept for the joins: (sub id, customer id, started,
# quantity, flags), a `report_keys.Member`. Flags: bit 0 team metadata, bit 1 annual,
# bit 2 several items.
_Member = tuple[str, str, int, int, int]
TEAM, ANNUAL, ITEMS = 1, 2, 4
_GROUP_ORDER: dict[str, int] = {"duplicate_candidate": 0, "needs_human": 1, "team": 2}


def classify_group(members: Sequence[_Member]) -> tuple[GroupKind, list[str]]:
    """The triage rules of `classify._duplicates`, on one group (no ticket text here):
    quantity > 1, seat/team metadata or started more than 48 h apart → team; otherwise an
    annual or multi-item extra needs a human; otherwise a duplicate candidate."""
    ordered = sorted(members, key=lambda m: (m[2], m[0]))
    span = ordered[-1][2] - ordered[0][2]
    team = [f"quantity {m[3]} on {m[0]}" for m in ordered if m[3] > 1]
    team += [f"seat/team metadata on {m[0]}" for m in ordered if m[4] & TEAM]
    if span > DUPLICATE_WINDOW:
        team.append(f"started {span // DAY} days apart (more than 48 h)")
    if team:
        return "team", team
    shapes = [f"{m[0]} is annual" for m in ordered[1:] if m[4] & ANNUAL]
    shapes += [f"{m[0]} has several items" for m in ordered[1:] if m[4] & ITEMS]
    if shapes:
        return "needs_human", shapes
    return "duplicate_candidate", ["quantity 1 each, no seat or team metadata, within 48 h"]


def several(keys: KeyStore, top_n: int) -> Several:
    """Customers holding several live subscriptions, and the groups of one person's
    subscriptions to one product: duplicate candidates, team, or a human's call."""
    per_customer: Counter[str] = Counter()
    for n, holders in keys.customers_by_live_count().items():
        if n > 1:
            per_customer["4+" if n >= 4 else str(n)] += holders
    kinds: Counter[GroupKind] = Counter()
    cross = 0
    top: Top[tuple[GroupKind, str, list[Member], list[str], list[str]]] = Top(top_n)
    for product, held in keys.groups():
        kind, reasons = classify_group(held)
        kinds[kind] += 1
        members = sorted(held, key=lambda m: (m[2], m[0]))
        customers = sorted({m[1] for m in members})
        cross += len(customers) > 1
        top.add((_GROUP_ORDER[kind], members[0][0]), (kind, product, members, customers, reasons))
    shown = [
        MultiGroup(
            kind=kind,
            product=product,
            customer_ids=customers,
            subscription_ids=[m[0] for m in members],
            span_seconds=members[-1][2] - members[0][2],
            reasons=reasons,
        )
        for kind, product, members, customers, reasons in top.items()
    ]
    return Several(
        customers=sum(per_customer.values()),
        by_count={k: per_customer[k] for k in ("2", "3", "4+") if per_customer[k]},
        groups=sum(kinds.values()),
        duplicate_candidates=kinds["duplicate_candidate"],
        team=kinds["team"],
        needs_human=kinds["needs_human"],
        cross_customer_groups=cross,
        shown=shown,
    )


def email_groups(keys: KeyStore, top_n: int) -> tuple[int, list[EmailGroup]]:
    """One email over several customers: (how many, the first `top_n`)."""
    count = 0
    top: Top[list[str]] = Top(top_n)
    for ids in keys.email_groups():
        count += 1
        top.add(tuple(ids), ids)
    shown = top.items()
    live = keys.live_counts({c for ids in shown for c in ids})
    return count, [
        EmailGroup(customer_ids=ids, live_subscriptions=sum(live.get(c, 0) for c in ids))
        for ids in shown
    ]


def conversions(keys: KeyStore, window_days: int, top_n: int) -> tuple[int, int, list[Conversion]]:
    """(conversions, of which pending, the first `top` newest first)."""
    window = window_days * DAY
    count = pending = 0
    top: Top[Conversion] = Top(top_n)
    for product, yearly, ends in keys.conversion_candidates():
        used: set[str] = set()
        for y in sorted(yearly, key=lambda y: (y.start, y.sub_id)):
            best = min(
                (e for e in ends if e.sub_id not in used and abs(y.start - e.end) <= window),
                key=lambda e: (abs(y.start - e.end), e.sub_id),
                default=None,
            )
            if best is None:
                continue
            used.add(best.sub_id)
            count += 1
            pending += best.pending
            top.add(
                (-y.start, y.sub_id),
                Conversion(
                    customer_ids=sorted({y.customer_id, best.customer_id}),
                    product=product,
                    monthly_id=best.sub_id,
                    yearly_id=y.sub_id,
                    monthly_end=best.end,
                    yearly_start=y.start,
                    pending=best.pending,
                ),
            )
    return count, pending, top.items()
