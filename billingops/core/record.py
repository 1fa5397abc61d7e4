"""The record of executed steps on the issue (SPEC §5, §5b): billingops' comment rendered
with it, two reads of it merged, and what a Stripe answer means for a step. Pure.
"""

from __future__ import annotations

from billingops.config import Config
from billingops.core import effects
from billingops.core.ownership import find_bot_comment, trusted_state
from billingops.core.render import render_needs_info, render_triage
from billingops.models.billing import Refund, Subscription
from billingops.models.decision import FINISHED, Executed, StepKind
from billingops.models.issue import Comment, Thread
from billingops.models.outcome import CommentDraft, StripeWrite


def render_comment(
    draft: CommentDraft,
    executed: list[Executed],
    config: Config,
) -> str:
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
    )


def merge(ours: list[Executed], theirs: list[Executed]) -> list[Executed]:
    """Our record with every step another run recorded that we did not see (two runs in
    two repositories, or two jobs, can race; SPEC §5b). A step either run finished stays
    finished: a finished record is never replaced by a failed or missing one."""
    merged = {e.key: e for e in ours}
    for e in theirs:
        mine = merged.get(e.key)
        if mine is None or (mine.status not in FINISHED and e.status in FINISHED):
            merged[e.key] = e
    return list(merged.values())


def written(write: StripeWrite, answer: Refund | Subscription) -> Executed:
    """What Stripe's answer to a write means for its step: a refund that Stripe created
    but that will not pay out is `failed` with Stripe's reason (issue 15)."""
    if write.step.kind is StepKind.refund and isinstance(answer, Refund):
        status, note = effects.refund_outcome(answer)
        return Executed.of(write.step, status, answer.id, reason=note)
    return Executed.of(write.step, "done", answer.id)


def reread(
    draft: CommentDraft, ours: list[Executed], thread: Thread, config: Config
) -> tuple[Comment | None, list[Executed], str]:
    """Before an edit of billingops' comment, from a fresh read of the thread: (the
    comment, our record merged with the one it holds now, the body to write)."""
    existing = find_bot_comment(thread.comments, thread.me)
    state = trusted_state(existing, thread.me)
    merged = merge(ours, list(state.executed) if state else [])
    return existing, merged, render_comment(draft, merged, config)
