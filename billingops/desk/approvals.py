"""Approval labels on an issue: which count, and the notices for those that do not
(SPEC §5, §5a). The rules are the pure core's (`core/approval.py`); this writes their
outcome through the issue's `Writer`."""

from __future__ import annotations

from collections.abc import Mapping

from billingops.config import Config
from billingops.core.approval import Verdict, check_approval, needs_second_approver
from billingops.core.money import format_money
from billingops.core.render import render_notice
from billingops.desk.thread import Writer
from billingops.models.decision import Approval, Plan
from billingops.models.issue import Comment, IssueSnapshot, LabelEvent


def check_approvals(
    config: Config,
    writer: Writer,
    issue: IssueSnapshot,
    comments: list[Comment],
    events: list[LabelEvent],
    present: list[Approval],
    plan: Plan,
    roles: Mapping[str, str | None],
    posted_at: int | None,
    me: str = "",
) -> tuple[list[Approval], list[str]]:
    """(approvals granted, refusal reasons). Each refused label is removed with a notice."""
    labels = config.labels
    number = issue.number
    granted: list[Approval] = []
    refusals: list[str] = []
    for ap in present:
        steps = [s for s in plan.steps if s.needs is ap]
        if not steps:
            refuse(
                config, writer, issue, comments, events, ap,
                f"the plan has no step that {labels[ap]} approves",
            )  # fmt: skip
            refusals.append(f"no step for {labels[ap]}")
            continue
        # The whole plan's refunds per currency, not step by step (SPEC §5a).
        over = (
            needs_second_approver([(s.currency or "", s.amount or 0) for s in steps], config)
            if ap is Approval.refund
            else []
        )
        check = check_approval(
            labels[ap], events, roles, config, plan_posted_at=posted_at,
            author=issue.author, needs_two=bool(over), me=me,
        )  # fmt: skip
        if check.verdict is Verdict.granted:
            granted.append(ap)
            continue
        if check.verdict is Verdict.needs_second:
            currency = over[0]
            limit = config.refund.threshold(currency)
            writer.notice(
                number,
                comments,
                render_notice(
                    "needs_second",
                    key=f"second:{labels[ap]}:{latest_label_id(events, labels[ap])}",
                    label=labels[ap],
                    reason=check.reason,
                    config=config,
                    threshold=format_money(limit, currency),
                ),
            )
            writer.labels(number, [], [labels[ap]])
        else:
            refuse(config, writer, issue, comments, events, ap, check.reason)
        refusals.append(check.reason)
    return granted, refusals


def refuse(
    config: Config,
    writer: Writer,
    issue: IssueSnapshot,
    comments: list[Comment],
    events: list[LabelEvent],
    approval: Approval,
    reason: str,
) -> None:
    label = config.labels[approval]
    writer.notice(
        issue.number,
        comments,
        render_notice(
            "refused",
            key=f"refused:{label}:{latest_label_id(events, label)}",
            label=label,
            reason=reason,
            config=config,
        ),
    )
    writer.labels(issue.number, [], [label])


def latest_label_id(events: list[LabelEvent], label: str) -> int:
    ids = [e.id for e in events if e.event == "labeled" and e.label == label]
    return max(ids, default=0)
