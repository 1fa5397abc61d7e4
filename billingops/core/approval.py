"""Who approved, and may they (SPEC §5). Pure: the desk fetches events and roles.

The approver is the actor of the latest `labeled` event for the label in the issue's
events, never the triggering event's sender: a label can arrive with the issue itself and
a run can be dropped. An approval given before the current plan was posted approves
nothing: the approver cannot have seen what they approved. "Before" is decided on GitHub's
clock alone (the label event's stamp against the stamp of the comment that posted the
plan), never the runner's; GitHub stamps whole seconds, so a tie is not "after".
The ticket's author never approves their own ticket (`forbid_self_approval`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum

from billingops.config import Config
from billingops.models.issue import LabelEvent, same_login


class Verdict(StrEnum):
    granted = "granted"
    refused = "refused"
    needs_second = "needs_second"  # one allowed approver so far; the policy wants two


@dataclass(frozen=True)
class ApprovalCheck:
    label: str
    verdict: Verdict
    reason: str
    approvers: list[str] = field(default_factory=list)


def is_bot(event: LabelEvent) -> bool:
    return event.actor_type.lower() == "bot" or event.actor.endswith("[bot]")


def approver_problem(
    event: LabelEvent, roles: Mapping[str, str | None], config: Config
) -> str | None:
    """None when this labeler may approve, else why not (one line, no PII beyond the login)."""
    if is_bot(event):
        if event.actor in config.bot_approvers:
            return None
        return f"{event.actor} is a bot that is not in bot_approvers"
    role = roles.get(event.actor)
    if role is None:
        return f"{event.actor} is not a collaborator of this repository"
    if role.lower() not in config.allowed_roles:
        allowed = ", ".join(config.allowed_roles)
        return f"{event.actor} has the {role} role; approving needs one of: {allowed}"
    return None


def labelers(events: Sequence[LabelEvent], label: str) -> list[str]:
    """Every actor who applied the label, for fetching their roles."""
    return sorted({e.actor for e in events if e.event == "labeled" and e.label == label})


def check_approval(
    label: str,
    events: Sequence[LabelEvent],
    roles: Mapping[str, str | None],
    config: Config,
    *,
    plan_posted_at: int | None,
    author: str = "",
    needs_two: bool = False,
    me: str = "",
) -> ApprovalCheck:
    """`plan_posted_at`: GitHub's stamp of the comment that posted the current plan; None
    when it has not been posted (announced) yet."""
    applied = sorted(
        (e for e in events if e.event == "labeled" and e.label == label),
        key=lambda e: (e.created_at, e.id),
    )
    if not applied:
        return ApprovalCheck(label, Verdict.refused, f"no record of who applied {label}")
    latest = applied[-1]
    if plan_posted_at is None:
        return ApprovalCheck(
            label,
            Verdict.refused,
            "the current plan has not been posted yet; re-apply the label after reading it",
        )
    if latest.created_at <= plan_posted_at:
        return ApprovalCheck(
            label,
            Verdict.refused,
            f"{label} was applied before the current plan was posted; "
            "re-apply it after reading the plan",
        )

    def problem(e: LabelEvent) -> str | None:
        if config.forbid_self_approval and author and same_login(e.actor, author):
            return f"{e.actor} opened this ticket and cannot approve it"
        return approver_problem(e, roles, config)

    why = problem(latest)
    if why:
        return ApprovalCheck(label, Verdict.refused, why)
    if not needs_two:
        return ApprovalCheck(label, Verdict.granted, f"approved by {latest.actor}", [latest.actor])
    # Two different allowed people, each after the plan was posted, and no person has taken
    # the label off since (a withdrawal). billingops' own removal (`me`), made to ask for
    # the second person, withdraws nothing.
    withdrawn = max(
        (
            e.created_at
            for e in events
            if e.event == "unlabeled" and e.label == label and not (me and same_login(e.actor, me))
        ),
        default=-1,
    )
    allowed: list[str] = []
    for e in applied:
        ok = e.created_at > plan_posted_at and problem(e) is None and e.created_at > withdrawn
        if ok and not any(same_login(e.actor, a) for a in allowed):
            allowed.append(e.actor)
    if len(allowed) >= 2:
        return ApprovalCheck(
            label, Verdict.granted, f"approved by {allowed[-2]} and {allowed[-1]}", allowed[-2:]
        )
    return ApprovalCheck(
        label,
        Verdict.needs_second,
        f"approved by {latest.actor}; the plan's refunds need a second approver: "
        f"another maintainer must apply {label}",
        [latest.actor],
    )


def needs_second_approver(refunds: Sequence[tuple[str, int]], config: Config) -> list[str]:
    """Currencies in which the plan's refunds together exceed that currency's threshold
    (SPEC §5a): the whole plan, not step by step. `refunds`: (currency, minor units)."""
    totals: dict[str, int] = {}
    for currency, amount in refunds:
        cur = currency.lower()
        totals[cur] = totals.get(cur, 0) + amount
    return sorted(c for c, total in totals.items() if total > config.refund.threshold(c))
