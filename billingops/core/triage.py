"""What a triage run does (SPEC §4, §5a, §6, §7), decided from what it read. Pure.

The ticket is assessed (who is asking, who it is about, the case and the plan); the
outcome is billingops' comment (written with the executed steps on record, whatever the
plan), the case labels, the product gaps to file or link, and, when the plan differs from
the one posted, its announcement (an edit notifies nobody). The desk performs it.
"""

from __future__ import annotations

from billingops.config import Config
from billingops.core import effects
from billingops.core.assess import asker_of, assess
from billingops.core.gaps import detect_gaps, merge_portal
from billingops.core.labels import case_labels
from billingops.core.ownership import find_bot_comment, revision, trusted_state, untouched
from billingops.core.render import render_plan_announcement
from billingops.models.issue import Comment, Thread
from billingops.models.outcome import Assessment, CommentDraft, LabelChange, Outcome, Reading
from billingops.models.result import RunResult
from billingops.models.ticket import Ticket


def decide_triage(reading: Reading, config: Config, repository: str) -> Outcome:
    """Everything a triage run will do, from what it read."""
    if reading.billing is None:
        raise ValueError("a triage decides on what Stripe said")
    ticket, thread = reading.ticket, reading.thread
    asker = asker_of(
        ticket,
        reading.author_role,
        reading.events,
        reading.roles,
        config,
        edited_at=thread.edited_at,
    )
    a = assess(reading.billing, asker, config, effects.issue_ref(repository, ticket.number))
    existing = find_bot_comment(thread.comments, thread.me)
    previous = trusted_state(existing, thread.me)
    gaps = (
        detect_gaps(ticket, a.state, a.classification, merge_portal(a.state.portal, config))
        if a.classification is not None and a.plan is not None
        else []
    )
    # A backlog the thread read could not list (the token cannot see it): triage goes on
    # without filing gaps and says so; the next run files them (SPEC §5c).
    unread = thread.listing_error
    linked = list(previous.gaps) if previous else []
    rev, announce = revision(thread, existing, previous, a.plan)
    add, remove = case_labels(
        ticket.labels,
        a.classification.case if a.classification and not a.needs_info else None,
        needs_info=a.needs_info,
    )
    announcement = None
    if announce and a.plan is not None:
        # Posted after the edit, so its stamp (GitHub's clock) is when the plan was visible.
        on = [x for x in config.labels.values() if x in ticket.labels]
        old = previous.plan_hash if previous else ""
        announcement = render_plan_announcement(rev, a.plan, old, config, labels_on=on)
    return Outcome(
        result=RunResult(
            action="needs_info" if a.needs_info else "triage",
            issue=ticket.number,
            resolution=a.resolution,
            classification=a.classification,
            plan=a.plan,
            requester=a.requester,
            reason=triage_reason(a, tampered=tampered(existing, thread))
            + (
                f"; product gaps not filed, the backlog could not be read: {unread}"
                if unread and gaps
                else ""
            ),
        ),
        existing=existing,
        draft=CommentDraft(
            assessment=a,
            rev=rev,
            # Unread: the comment keeps the gaps it linked before.
            gap_refs=linked if unread is not None else None,
            backlog_unread=unread,
        ),
        write_comment=True,
        record=list(previous.executed) if previous else [],
        announcement=announcement,
        labels=LabelChange(add=add, remove=remove),
        gaps=gaps if unread is None else [],
        linked=linked,
    )


def not_a_ticket(ticket: Ticket, config: Config) -> RunResult | None:
    """`ignored` for an issue without the intake label (SPEC §5a): it is not a billing
    ticket, and its triage makes no Stripe and no GitHub request at all."""
    if config.intake_label in ticket.labels:
        return None
    return RunResult(
        action="ignored",
        issue=ticket.number,
        reason=f"ignored: the issue has no {config.intake_label} label",
    )


def tampered(existing: Comment | None, thread: Thread) -> str | None:
    """Who altered billingops' comment, when someone else did."""
    if existing is None or untouched(existing, thread.me):
        return None
    return existing.editor or "someone"


def triage_reason(a: Assessment, *, tampered: str | None = None) -> str:
    if tampered:
        note = f"; the billingops comment had been edited by {tampered}: state not trusted"
        return triage_reason(a) + note
    if not a.ticket.has_identifier:
        return "the ticket has no billing email or Stripe id"
    if not a.resolution.found:
        return "no Stripe customer matches the ticket's identifiers"
    assert a.classification and a.plan
    return (
        f"{a.classification.case.value}: {len(a.plan.steps)} step(s) proposed, plan {a.plan.hash}"
    )
