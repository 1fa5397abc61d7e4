"""The record of executed steps on billingops' comment (SPEC §5, §5b): the comment
rendered with it, what a Stripe answer means for a step, and two reads of it merged. Pure.

Two runs can write the comment at once (the public repository's triage of a handoff and
the desk's apply: different repositories, so per-issue concurrency does not serialise them;
or two jobs of one repository). Each run renders the comment from what it read, so a run
that read before the other recorded a step would write the step out of the record. The
rule: a run that writes the comment reads it again just before the write and keeps every
executed step it did not see (`merge_executed`; the read and write are `Writer.record`).
"""

from __future__ import annotations

from collections.abc import Iterable

from billingops.config import Config
from billingops.core import effects
from billingops.core.ownership import find_bot_comment, trusted_state
from billingops.core.render import render_needs_info, render_triage
from billingops.models.billing import Refund, Subscription
from billingops.models.decision import FINISHED, Executed, StepKind
from billingops.models.issue import Comment, Thread
from billingops.models.outcome import CommentDraft, StripeWrite

__all__ = ["FINISHED", "merge_executed", "merged_with", "render_comment", "written"]


def render_comment(draft: CommentDraft, executed: list[Executed], config: Config) -> str:
    """billingops' comment: the handoff with what was done so far, or the request for an
    identifier. What billingops did stays on record, whatever the plan."""
    a = draft.assessment
    if a.plan is None or a.classification is None:
        return render_needs_info(a.ticket, config, resolution=a.resolution)
    return render_triage(
        a.ticket,
        a.resolution,
        a.state,
        a.classification,
        a.plan,
        config,
        gap_refs=draft.gap_refs,
        executed=executed,
        requester=a.requester,
        rev=draft.rev,
        backlog_unread=draft.backlog_unread,
    )


def written(write: StripeWrite, answer: Refund | Subscription) -> Executed:
    """What Stripe's answer to a write means for its step: a refund that Stripe created
    but that will not pay out is `failed` with Stripe's reason (issue 15)."""
    if write.step.kind is StepKind.refund and isinstance(answer, Refund):
        status, note = effects.refund_outcome(answer)
        return Executed.of(write.step, status, answer.id, reason=note)
    return Executed.of(write.step, "done", answer.id)


def merge_executed(mine: Iterable[Executed], seen: Iterable[Executed]) -> list[Executed]:
    """`mine` (what this run will write) with every step of `seen` (the record on the issue
    just before the write) that it lacks, one entry per (kind, target).

    A finished step on record stays as recorded (what happened, and when it first did); a
    step this run finished replaces a failure on record; otherwise this run's entry wins.
    Order: this run's entries, then the others in their order."""
    merged: dict[str, Executed] = {}
    for e in mine:
        merged[e.key] = e
    for e in seen:
        ours = merged.get(e.key)
        if ours is None or (e.status in FINISHED and ours != e):
            merged[e.key] = e
    return list(merged.values())


def merged_with(executed: list[Executed], fresh: Thread) -> tuple[Comment | None, list[Executed]]:
    """From a fresh read of the thread just before a write: (billingops' comment as it is
    now, `executed` merged with the record it holds). A comment someone else altered holds
    no record worth keeping (SPEC §5a)."""
    current = find_bot_comment(fresh.comments, fresh.me)
    on_record = trusted_state(current, fresh.me)
    return current, merge_executed(executed, on_record.executed if on_record else [])
