"""Performing an `Outcome`: the only place a decided run writes, always in this order.

1. billingops' comment, when the outcome rewrites it (a triage, a changed plan);
2. the plan announcement (after the comment: its stamp, GitHub's clock, is when the plan
   became visible);
3. the notices (refusals, drift), then the label changes they go with;
4. each Stripe step in plan order: execute it, then record it on the issue (SPEC §5), and
   stop at the first failure: the record says exactly what was done, and the next run
   completes the rest;
5. the labels that wait for steps: `billing:done` first, then the approvals that are done.

Every edit of billingops' comment is merged with a fresh read of it just before writing,
so a run never drops an executed step another run recorded meanwhile (SPEC §5b). Nothing
here decides: what a Stripe answer means for its step is the core's (`core/record.py`).
"""

from __future__ import annotations

import logging
from concurrent.futures import Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from typing import Any

from billingops._billing.interface import BillingSource
from billingops._tracker.interface import IssueTracker
from billingops.config import Config
from billingops.core.backlog import revenue_at_risk
from billingops.core.gaps import GapKey
from billingops.core.record import render_comment, written
from billingops.desk.backlog import Backlog
from billingops.desk.thread import Writer
from billingops.errors import AlreadyCanceled, OperationalError, WriteRefused
from billingops.models.billing import Refund, Subscription
from billingops.models.decision import FINISHED, Executed, GapRef, StepKind
from billingops.models.issue import Comment, IssueSnapshot, Thread
from billingops.models.outcome import CommentDraft, Outcome, StepRun, finished_keys
from billingops.models.result import RunResult

_log = logging.getLogger(__name__)


class Partial(OperationalError):
    """A failure half-way: what was done is recorded; the result travels with the error."""

    def __init__(self, result: RunResult, cause: OperationalError) -> None:
        super().__init__(str(cause))
        self.result = result


@dataclass
class Record:
    """billingops' comment on one issue and the record of executed steps it holds."""

    writer: Writer
    config: Config
    number: int
    existing: Comment | None
    executed: list[Executed] = field(default_factory=list)

    def write(self, draft: CommentDraft) -> None:
        """Write the comment as `draft` says with the record, keeping every step another
        run recorded since our read (`Writer.record`: an edit is merged with a fresh read
        first; an unchanged comment costs no request)."""
        written, self.executed = self.writer.record(
            self.number,
            self.existing,
            self.executed,
            lambda executed: render_comment(draft, executed, self.config),
        )
        self.existing = written or self.existing

    def add(self, executed: Executed) -> None:
        """Record a step's result (in its place when the step was on record already)."""
        by_key = {e.key: e for e in self.executed}
        by_key[executed.key] = executed
        self.executed = list(by_key.values())


def perform(
    outcome: Outcome,
    thread: Thread,
    tracker: IssueTracker,
    billing: BillingSource,
    config: Config,
    *,
    dry_run: bool,
) -> RunResult:
    """Perform an apply's (or a refusal's) outcome; raise `Partial` at a failed step."""
    number = outcome.result.issue or 0
    writer = Writer(tracker, dry_run, me=thread.me)
    record = Record(writer, config, number, outcome.existing, list(outcome.record))
    if outcome.write_comment and outcome.draft is not None:
        record.write(outcome.draft)
    if outcome.announcement:
        writer.notice(number, thread.comments, outcome.announcement)
    for body in outcome.notices:
        writer.notice(number, thread.comments, body)
    writer.labels(number, list(outcome.labels.add), list(outcome.labels.remove))
    results: list[Executed] = []
    failure: OperationalError | None = None
    for run in outcome.steps:
        done, failure = execute(billing, run, dry_run=dry_run)
        results.append(done)
        if run.record and (done.status in FINISHED or done.status == "failed"):
            record.add(done)  # recorded on the issue as each step completes (SPEC §5)
            if outcome.draft is not None:
                record.write(outcome.draft)
        if failure is not None:
            break
    if outcome.after:
        finished = finished_keys(record.executed)
        holding = [c for c in outcome.after if c.holds(finished)]
        writer.labels(number, [x for c in holding for x in c.add], [])
        writer.labels(number, [], [x for c in holding for x in c.remove])
    update: dict[str, object] = {"would_write": writer.would_write}
    if outcome.result.action == "apply":
        update.update(executed=results, reason=outcome.reason_after(results))
    result = outcome.result.model_copy(update=update)
    if failure is not None:
        raise Partial(result, failure)
    return result


def perform_triage(
    outcome: Outcome,
    thread: Thread,
    tracker: IssueTracker,
    config: Config,
    backlog: Backlog,
    pool: ThreadPoolExecutor,
    *,
    dry_run: bool,
) -> RunResult:
    """Perform a triage's outcome: the labels, the product gaps (a new one filed, listing
    the ticket), the gap issues' ticket lists and the comment in one round trip (SPEC §8:
    3 in all), then the plan announcement."""
    number = outcome.result.issue or 0
    draft = outcome.draft
    assert draft is not None
    state = draft.assessment.state
    writer = Writer(tracker, dry_run, me=thread.me)
    record = Record(writer, config, number, outcome.existing, list(outcome.record))
    if draft.backlog_unread is not None:
        _log.warning("%s: product gaps not filed this run", draft.backlog_unread)
        listing: list[IssueSnapshot] = []
    else:
        listing = thread.listing if thread.listing is not None else backlog.prefetch()
    labels_f = pool.submit(writer.labels, number, outcome.labels.add, outcome.labels.remove)
    if backlog.public is None and thread.listing_visibility is not None:
        # GitHub's word on the backlog repository, read with its listing (no request).
        backlog.public = Backlog.visibility_known(thread.listing_visibility)
    revenue = {} if backlog.is_public() else revenue_at_risk(state)
    title = draft.assessment.ticket.title
    entry = backlog.entry(number, title, revenue)
    gap_refs = (
        draft.gap_refs
        if draft.gap_refs is not None
        else backlog.expected_refs(outcome.gaps, listing)
    )
    # One round trip: the labels, each new gap's issue (listing the ticket already), the
    # ticket lists of the gaps already filed, and the comment. A new gap's number is not
    # known yet: the comment names its label, and the next run writes the number in
    # (SPEC §8: 3 round trips). No listing after a create: two runs that filed the same
    # gap at once are settled by the next run that lists both (`link(settle=True)`).
    missing = backlog.missing(outcome.gaps, listing)
    filed = [g for g in outcome.gaps if GapKey(g.key).value not in missing]
    creates = {key: pool.submit(backlog.create_one, key, entry, dry_run=dry_run) for key in missing}
    link_f = pool.submit(
        backlog.link,
        number,
        title,
        filed,
        revenue,
        dry_run=dry_run,
        linked=outcome.linked,
        listing=listing,
        settle=True,
    )
    try:
        record.write(draft.model_copy(update={"gap_refs": gap_refs}))
    finally:
        # Never leave a write running behind a failure: a re-run would race it.
        pending: list[Future[Any]] = [labels_f, link_f, *creates.values()]
        wait(pending)
    labels_f.result()
    linked = {r.key: r for r in link_f.result()}
    created = {key: issue for key, f in creates.items() if (issue := f.result()) is not None}
    expected = {r.key: r for r in gap_refs}
    if any(expected.get(k) != r for k, r in linked.items()):
        # The backlog changed between the read and the link: link what was linked.
        gap_refs = [linked.get(r.key, r) for r in gap_refs]
        record.write(draft.model_copy(update={"gap_refs": gap_refs}))
    # What this run filed, by number (the comment has it from the next run on).
    result_refs = [
        GapRef(key=r.key, issue=created[r.key].number) if r.key in created else r for r in gap_refs
    ]
    if outcome.announcement:
        writer.notice(number, thread.comments, outcome.announcement)
    return outcome.result.model_copy(
        update={"gaps": result_refs, "would_write": [*backlog.would_write, *writer.would_write]}
    )


def execute(
    billing: BillingSource, run: StepRun, *, dry_run: bool
) -> tuple[Executed, OperationalError | None]:
    """One step: its settled record, or its Stripe write (none in a dry run)."""
    if run.settled is not None:
        return run.settled, None
    write = run.write
    assert write is not None
    step = write.step
    if dry_run:
        return Executed.of(step, "would_do"), None
    answer: Refund | Subscription
    try:
        if step.kind is StepKind.refund:
            answer = billing.refund(
                charge_id=step.target or "",
                amount=step.amount or 0,
                idempotency_key=write.idempotency_key,
                metadata=dict(write.metadata),
            )
        else:
            answer = billing.cancel_subscription(
                subscription_id=step.target or "",
                at_period_end=bool(step.at_period_end),
                idempotency_key=write.idempotency_key,
                metadata=dict(write.metadata),
            )
        return written(write, answer), None
    except AlreadyCanceled as exc:  # Stripe had it canceled already (a 404 on the DELETE)
        if exc.ours:
            return Executed.of(step, "already_done", exc.subscription_id, reason=str(exc)), None
        return Executed.of(step, "skipped", reason=str(exc)), None
    except WriteRefused as exc:  # a 400 from a race: not done, recorded with why (issue 15)
        return Executed.of(step, "failed", reason=str(exc)), None
    except OperationalError as exc:
        return Executed.of(step, "failed", reason=str(exc)), exc
