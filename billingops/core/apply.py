"""What an apply run does (SPEC §5, §5a), decided from what it read. Pure.

The approval labels on the issue authorise steps of the plan on record. `decide_apply`
checks each label (who applied it, their role name, when on GitHub's clock, a second
approver), re-plans on the billing state as read and compares the plan with the one on
record (drift), and says for each approved step whether Stripe already shows it done (our
metadata survives the 24 h idempotency window), whether it is moot now, or which write to
make, with its idempotency key and metadata. The desk performs the `Outcome`.

A run that cannot write Stripe (the read-only job, `billingops handle --read-only`) decides
the same, then holds an outcome with approved Stripe writes for the apply job (`held`): it
writes nothing at all, and says which steps wait. An outcome with no Stripe write (a
refusal, drift, labels whose steps are done) is the read-only job's to perform.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from billingops.config import Config
from billingops.core import effects
from billingops.core.approval import Verdict, check_approval, needs_second_approver
from billingops.core.assess import asker_of, assess, may_hold_a_role, roles_wanted
from billingops.core.backlog import numbered
from billingops.core.intake import parse_issue
from billingops.core.labels import DONE_LABEL
from billingops.core.money import format_money
from billingops.core.ownership import find_bot_comment, plan_posted_at, revision, trusted_state
from billingops.core.render import render_notice, render_plan_announcement
from billingops.models.billing import BillingState
from billingops.models.decision import FINISHED, Approval, Executed, Plan, Step, StepKind
from billingops.models.issue import IssueSnapshot, LabelEvent, Thread
from billingops.models.outcome import (
    CommentDraft,
    LabelChange,
    Outcome,
    Reading,
    ReadPlan,
    StepRun,
    StripeWrite,
)
from billingops.models.result import RunResult


def approvals_on(issue: IssueSnapshot, config: Config) -> list[Approval]:
    return [ap for ap in Approval if config.labels[ap] in issue.labels]


def has_plan(thread: Thread) -> bool:
    """Whether billingops' comment is on the issue with a plan to approve (or was altered
    by someone else: then the plan is re-posted as drift)."""
    existing = find_bot_comment(thread.comments, thread.me)
    previous = trusted_state(existing, thread.me)
    return existing is not None and (
        previous is None or (previous.kind == "triage" and bool(previous.plan_hash))
    )


def wants_billing(issue: IssueSnapshot, thread: Thread, config: Config) -> bool:
    """Whether deciding needs Stripe: an approval label is on the issue and a plan is."""
    return bool(approvals_on(issue, config)) and has_plan(thread)


def reads_for(
    issue: IssueSnapshot,
    thread: Thread,
    events: list[LabelEvent],
    config: Config,
    repository: str,
) -> ReadPlan:
    """What an apply reads after the issue, its thread and its events: nothing more when
    no approval label or no plan is on the issue; else the roles of everyone whose word
    counts, and the billing state."""
    ticket = parse_issue(payload_of(issue), repository)
    if not wants_billing(issue, thread, config):
        return ReadPlan(ticket=ticket, billing=False)
    on = [x for x in (*config.labels.values(), config.verified_requester_label)]
    labels = [x for x in on if x in issue.labels]
    association = issue.author_association
    return ReadPlan(
        ticket=ticket,
        roles=roles_wanted(events, labels, ticket.author, association),
        author=ticket.author if may_hold_a_role(ticket.author, association) else "",
    )


def payload_of(issue: IssueSnapshot) -> dict[str, Any]:
    """The issue as read in the shape of a webhook's `issue`, for intake."""
    return {
        "number": issue.number,
        "title": issue.title,
        "body": issue.body,
        "user": {"login": issue.author, "id": issue.author_id},
        "labels": [{"name": n} for n in issue.labels],
    }


def decide_apply(
    reading: Reading, config: Config, repository: str, *, stripe_writes: bool = True
) -> Outcome:
    """Everything an apply run will do, from what it read. `stripe_writes`: the run holds
    the write key (false: approved Stripe writes are `held` for the apply job)."""
    issue, thread = reading.issue, reading.thread
    if issue is None:
        raise ValueError("an apply decides on the issue as read now")
    number = issue.number
    labels = config.labels
    events = list(reading.events or [])
    present = approvals_on(issue, config)
    if not present:
        return Outcome(
            result=RunResult(
                action="ignored", issue=number, reason="ignored: no approval label on the issue"
            )
        )
    existing = find_bot_comment(thread.comments, thread.me)
    previous = trusted_state(existing, thread.me)
    if not has_plan(thread) or reading.billing is None:
        why = "there is no billingops plan on this issue yet"
        return Outcome(
            result=RunResult(
                action="refused", issue=number, reason="refused: no plan to approve yet"
            ),
            notices=[refusal(config, events, ap, why) for ap in present],
            labels=LabelChange(remove=[labels[ap] for ap in present]),
        )
    assert existing is not None
    ticket = reading.billing.ticket
    asker = asker_of(
        ticket, reading.author_role, events, reading.roles, config, edited_at=thread.edited_at
    )
    ref = effects.issue_ref(repository, number)
    a = assess(reading.billing, asker, config, ref)
    # A gap the triage filed in its last round gets its number from the listing read with
    # the thread (no request of its own).
    gap_refs = numbered(previous.gaps, thread.listing or []) if previous is not None else None
    base = RunResult(
        action="apply",
        issue=number,
        resolution=a.resolution,
        classification=a.classification,
        plan=a.plan,
        gaps=gap_refs or [],
        requester=a.requester,
    )
    on = [labels[ap] for ap in present]
    if previous is None or a.plan is None or a.plan.hash != previous.plan_hash:
        # Drift, or state someone else altered (then nothing is trusted): post the plan as
        # it is now, announce it, and approve nothing on the old one.
        new_hash = a.plan.hash if a.plan else "none"
        old_hash = previous.plan_hash if previous else "untrusted"
        rev, _ = revision(thread, existing, previous, a.plan)
        why = (
            f"the billingops comment was edited by {existing.editor}; its state is not trusted"
            if previous is None
            else f"the plan changed ({old_hash} -> {new_hash})"
        )
        return Outcome(
            result=base.model_copy(
                update={"action": "refused", "reason": f"refused: drift, {why}; nothing executed"}
            ),
            existing=existing,
            draft=CommentDraft(assessment=a, gap_refs=gap_refs, rev=rev),
            write_comment=True,
            record=list(previous.executed) if previous else [],
            announcement=(
                render_plan_announcement(rev, a.plan, old_hash, config, labels_on=on)
                if a.plan is not None
                else None
            ),
            notices=[
                render_notice(
                    "drift",
                    key=f"drift:{labels[ap]}:{old_hash}:{new_hash}:{rev}",
                    label=labels[ap],
                    config=config,
                    reason=why,
                    old_hash=old_hash,
                    new_hash=new_hash,
                )
                for ap in present
            ],
            labels=LabelChange(remove=on),
        )

    plan = a.plan
    posted_at = plan_posted_at(thread, existing, previous)
    # The announcement of this plan was lost: post it now; approvals wait for it.
    announcement = (
        render_plan_announcement(previous.rev, plan, "", config, labels_on=on)
        if posted_at is None
        else None
    )
    granted, refusals, notices = judge_approvals(
        config, issue, events, present, plan, reading.roles, posted_at, thread.me
    )
    refused_labels = [labels[ap] for ap in present if ap not in granted]
    draft = CommentDraft(assessment=a, gap_refs=gap_refs, rev=previous.rev)
    common = {
        "existing": existing,
        "draft": draft,
        "record": list(previous.executed),
        "announcement": announcement,
        "notices": notices,
        "labels": LabelChange(remove=refused_labels),
        "refusals": refusals,
    }
    if not granted:
        reason = "refused: " + "; ".join(refusals)
        return Outcome(
            result=base.model_copy(update={"action": "refused", "reason": reason}), **common
        )
    recorded = {e.key: e for e in previous.executed}
    steps = [
        step_run(step, a.state, ref, previous.plan_hash, recorded.get(step.key))
        for step in plan.steps
        if step.needs in granted
    ]
    outcome = Outcome(result=base, steps=steps, after=release(plan, granted, config), **common)
    return outcome if stripe_writes else held(outcome)


def held(outcome: Outcome) -> Outcome:
    """The outcome for a run without the write key. With approved Stripe writes in it, the
    run writes nothing, on GitHub either: the apply job performs the whole outcome (its
    refusals, record and labels go with its steps), and the result says which steps wait
    (`would_do`, reason `pending: ...`). Without one, the outcome is the run's to perform."""
    waiting = [r.step for r in outcome.steps if r.write is not None]
    if not waiting:
        return outcome
    names = ", ".join(f"{s.kind.value} {s.target}" for s in waiting)
    reason = f"pending: {len(waiting)} approved step(s) for the apply job ({names})"
    steps = [
        StepRun(step=r.step, settled=r.settled or Executed.of(r.step, "would_do"), record=False)
        for r in outcome.steps
    ]
    return Outcome(
        result=outcome.result.model_copy(update={"reason": reason}), steps=steps, held=True
    )


def release(plan: Plan, granted: list[Approval], config: Config) -> list[LabelChange]:
    """The labels once steps are done: `billing:done` when every step that needs an
    approval is, and each granted approval label when all its steps are. `billing:done`
    goes on before the approvals go: were it lost after they had gone, the next run would
    find no approval label and never add it."""
    needed = [s.key for s in plan.steps if s.needs is not None]
    out = [LabelChange(add=[DONE_LABEL], when=needed)] if needed else []
    for ap in granted:
        mine = [s.key for s in plan.steps if s.needs is ap]
        out.append(LabelChange(remove=[config.labels[ap]], when=mine))
    return out


def judge_approvals(
    config: Config,
    issue: IssueSnapshot,
    events: list[LabelEvent],
    present: list[Approval],
    plan: Plan,
    roles: Mapping[str, str | None],
    posted_at: int | None,
    me: str = "",
) -> tuple[list[Approval], list[str], list[str]]:
    """(approvals granted, refusal reasons, notices). Each label not granted is removed,
    with a notice that says why."""
    labels = config.labels
    granted: list[Approval] = []
    refusals: list[str] = []
    notices: list[str] = []
    for ap in present:
        steps = [s for s in plan.steps if s.needs is ap]
        if not steps:
            reason = f"the plan has no step that {labels[ap]} approves"
            notices.append(refusal(config, events, ap, reason))
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
            notices.append(
                render_notice(
                    "needs_second",
                    key=f"second:{labels[ap]}:{latest_label_id(events, labels[ap])}",
                    label=labels[ap],
                    reason=check.reason,
                    config=config,
                    threshold=format_money(config.refund.threshold(currency), currency),
                )
            )
        else:
            notices.append(refusal(config, events, ap, check.reason))
        refusals.append(check.reason)
    return granted, refusals, notices


def refusal(config: Config, events: list[LabelEvent], approval: Approval, reason: str) -> str:
    """The notice for an approval label that is removed, not acted on."""
    label = config.labels[approval]
    return render_notice(
        "refused",
        key=f"refused:{label}:{latest_label_id(events, label)}",
        label=label,
        reason=reason,
        config=config,
    )


def latest_label_id(events: list[LabelEvent], label: str) -> int:
    ids = [e.id for e in events if e.event == "labeled" and e.label == label]
    return max(ids, default=0)


def step_run(
    step: Step, state: BillingState, ref: str, plan_hash: str, recorded: Executed | None
) -> StepRun:
    """One approved step against the billing state as read: settled without a write
    (already done, or moot now), or the write to make."""
    if recorded is not None and recorded.status in FINISHED:
        # A record says what happened and when it first did: a rerun does not rewrite it.
        if step.kind is StepKind.refund:  # Stripe may have failed it since (issue 15)
            status, note, rid = effects.recheck_refund(state, ref, step)
            update = {"status": status, "reason": note, "stripe_id": rid or recorded.stripe_id}
            return StepRun(step=step, settled=recorded.model_copy(update=update), record=False)
        settled = recorded.model_copy(update={"status": "already_done"})
        return StepRun(step=step, settled=settled, record=False)
    moot = _settled(step, state, ref)
    if moot is not None:
        return StepRun(step=step, settled=moot)
    metadata = effects.step_metadata(ref, step)
    if step.kind is StepKind.cancel_subscription:
        prior = next(s.status for s in state.subscriptions if s.id == step.target)
        metadata[effects.PRIOR_STATUS_KEY] = prior
        if step.at_period_end:
            metadata[effects.PERIOD_END_KEY] = "true"
    write = StripeWrite(
        step=step,
        idempotency_key=effects.idempotency_key(ref, plan_hash, step),
        metadata=metadata,
    )
    return StepRun(step=step, write=write)


def _settled(step: Step, state: BillingState, ref: str) -> Executed | None:
    """A step Stripe already shows done by billingops (its metadata), or that is moot now."""
    if step.kind is StepKind.refund:
        own = effects.find_own_refund(state, ref, step)
        if own:
            return Executed.of(step, "already_done", own)
        charge = next((c for c in state.charges if c.id == step.target), None)
        if charge is None:
            return Executed.of(step, "skipped", reason="the charge is no longer on the customer")
        if charge.disputed:
            return Executed.of(step, "skipped", reason="the charge is disputed now")
        if charge.refundable < (step.amount or 0):
            left = format_money(charge.refundable, charge.currency)
            return Executed.of(step, "skipped", reason=f"only {left} is left")
        return None
    if step.kind is StepKind.cancel_subscription:
        if effects.own_cancellation_done(state, ref, step):
            return Executed.of(step, "already_done", step.target)
        sub = next((s for s in state.subscriptions if s.id == step.target), None)
        if sub is None or sub.ended:  # a paused subscription is not gone (SPEC §5c)
            return Executed.of(step, "skipped", reason="the subscription is no longer live")
        if step.at_period_end and sub.cancel_at_period_end:
            return Executed.of(step, "skipped", reason="it is already set to cancel at period end")
        return None
    return Executed.of(step, "skipped", reason="nothing to execute in Stripe")
