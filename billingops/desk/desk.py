"""Triage and apply for one issue, level-triggered (SPEC §5, §5a).

Round trips (SPEC §8): triage reads the GitHub thread while Stripe looks the customer
up (1), reads the billing state (2), then writes the comment and labels (3). A staff
author's role, and the roles behind a `verified-requester` label, are read first when
they matter (they decide whose login may identify a customer, and who is asking).

Trust (SPEC §5a): the ticket is anyone's text. billingops reads state only from comments
of its own account (GitHub's `viewer`), last edited by nobody else (GitHub's record), and
decides "applied after the plan was posted" on GitHub's clock alone.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from concurrent.futures import Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from typing import Any

from billingops._billing.interface import BillingSource
from billingops._tracker.interface import IssueTracker
from billingops.config import Config
from billingops.core import effects
from billingops.core.approval import labelers
from billingops.core.classify import classify
from billingops.core.gaps import detect_gaps, merge_portal
from billingops.core.intake import parse_issue
from billingops.core.markers import State
from billingops.core.ownership import (
    find_bot_comment,
    next_rev,
    plan_posted_at,
    trusted_state,
    untouched,
)
from billingops.core.plan import make_plan
from billingops.core.render import (
    render_needs_info,
    render_notice,
    render_plan_announcement,
    render_triage,
)
from billingops.core.requester import identify, is_staff, vouch_problem
from billingops.core.resolve import resolve
from billingops.desk.approvals import check_approvals, refuse
from billingops.desk.backlog import GAP_LABEL, Backlog, revenue_at_risk
from billingops.desk.execute import FINISHED, execute_step
from billingops.desk.thread import DONE_LABEL, Writer, case_labels
from billingops.errors import OperationalError
from billingops.models.billing import BillingState, Resolution
from billingops.models.decision import (
    Approval,
    Classification,
    Executed,
    GapRef,
    Plan,
)
from billingops.models.issue import Comment, IssueSnapshot, LabelEvent, Thread
from billingops.models.result import RunResult
from billingops.models.ticket import Requester, Ticket

_log = logging.getLogger(__name__)

MAX_LOOKUPS = 5  # Stripe ids, and emails, looked up per ticket (the first ones it names)
# GitHub's relation of an author to the repository; only these can hold a role worth a
# lookup (anyone else is a customer, and costs no request).
_MAYBE_STAFF = frozenset({"OWNER", "MEMBER", "COLLABORATOR", ""})


@dataclass(frozen=True)
class Asker:
    """What GitHub says about the ticket's author: their role, and the verified-requester
    label's standing (checked like an approval)."""

    login: str
    role: str | None = None
    label_present: bool = False
    label_problem: str | None = None


@dataclass
class Assessment:
    """What billingops makes of a ticket now: the pure core's output for one run."""

    ticket: Ticket
    resolution: Resolution
    state: BillingState  # as Stripe has it now (shown in the comment)
    classification: Classification | None = None
    plan: Plan | None = None
    requester: Requester | None = None

    @property
    def needs_info(self) -> bool:
        return self.plan is None


@dataclass
class Desk:
    billing: BillingSource
    tracker: IssueTracker
    config: Config
    repository: str
    _pool: ThreadPoolExecutor = field(default_factory=lambda: ThreadPoolExecutor(4))
    # The ticket an issue stands for: the issue itself, or for a handoff issue in the
    # private desk the public ticket's words and author (SPEC §5b, `desk/public.py`).
    view: Callable[[IssueSnapshot], IssueSnapshot] | None = None
    # The backlog repository is known to be public (the public support repository itself):
    # gap issues list tickets and counts, never revenue. Otherwise GitHub says (SPEC §5b).
    public_backlog: bool = False

    # -- reading ------------------------------------------------------------------------

    def assess(self, ticket: Ticket, asker: Asker | None = None) -> Assessment:
        """Resolve, read and decide. The plan is made on the state as it was before
        billingops' own writes on this issue, so executed steps never look like drift."""
        asker = asker or Asker(ticket.author)
        staff = is_staff(asker.role, self.config)
        if not ticket.has_identifier and ticket.author and not staff:
            # A customer filing for themselves: their own login, looked up in metadata.
            ticket = ticket.model_copy(update={"github_username": ticket.author})
        if not ticket.has_identifier:
            return Assessment(
                ticket, Resolution(), BillingState(), requester=self._who(ticket, asker)
            )
        # A ticket is anyone's text: it gets a few lookups, not one per identifier it lists.
        ticket = ticket.model_copy(
            update={
                "stripe_ids": ticket.stripe_ids[:MAX_LOOKUPS],
                "emails": ticket.emails[:MAX_LOOKUPS],
            }
        )
        lookups = self.billing.lookup(
            stripe_ids=list(ticket.stripe_ids),
            emails=list(ticket.emails),
            github_username=ticket.github_username,
            metadata_key=self.config.github_username_metadata_key,
        )
        resolution = resolve(
            stripe_ids=ticket.stripe_ids,
            emails=ticket.emails,
            github_username=ticket.github_username,
            lookups=lookups,
        )
        if not resolution.found:
            return Assessment(
                ticket, resolution, BillingState(), requester=self._who(ticket, asker)
            )
        # Several different people: decide nothing and show nobody's billing.
        state = (
            BillingState()
            if resolution.conflicting
            else self.billing.read_state(list(resolution.customer_ids))
        )
        before = effects.without_own_effects(state, self._ref(ticket.number))
        requester = self._who(ticket, asker, before)
        classification = classify(ticket, resolution, before, self.config)
        plan = make_plan(classification.case, ticket, resolution, before, self.config, requester)
        return Assessment(ticket, resolution, state, classification, plan, requester)

    def _who(self, ticket: Ticket, asker: Asker, state: BillingState | None = None) -> Requester:
        return identify(
            ticket.author,
            asker.role,
            state or BillingState(),
            self.config,
            label_present=asker.label_present,
            label_problem=asker.label_problem,
            author_id=ticket.author_id,
        )

    def _asker(
        self,
        ticket: Ticket,
        association: str,
        thread: Future[Thread] | None = None,
        events: list[LabelEvent] | None = None,
    ) -> Asker:
        """The author's role (only when GitHub says they may hold one) and the standing of
        the verified-requester label (only when it is on the issue)."""
        role_f = (
            self._pool.submit(self.tracker.role_of, ticket.author)
            if ticket.author and association.upper() in _MAYBE_STAFF
            else None
        )
        label = self.config.verified_requester_label
        if label not in ticket.labels:
            return Asker(ticket.author, role_f.result() if role_f else None)
        events = events if events is not None else self.tracker.label_events(ticket.number)
        roles = {
            login: self.tracker.role_of(login)
            for login in labelers(events, label)
            if not login.endswith("[bot]")
        }
        edited_at = thread.result().edited_at if thread is not None else 0
        renamed = [e.created_at for e in events if e.event == "renamed"]
        problem = vouch_problem(
            events,
            roles,
            self.config,
            author=ticket.author,
            ticket_version_at=max([edited_at, *renamed]),  # body or title, GitHub's clock
        )
        return Asker(ticket.author, role_f.result() if role_f else None, True, problem)

    def _ref(self, number: int) -> str:
        return effects.issue_ref(self.repository, number)

    def _render(
        self,
        a: Assessment,
        previous: State | None,
        executed: list[Executed],
        gap_refs: list[GapRef] | None = None,
        *,
        rev: int = 0,
        backlog_unread: str | None = None,
    ) -> str:
        if a.plan is None or a.classification is None:
            return render_needs_info(a.ticket, self.config, resolution=a.resolution)
        return render_triage(
            a.ticket,
            a.resolution,
            a.state,
            a.classification,
            a.plan,
            self.config,
            gap_refs=gap_refs
            if gap_refs is not None
            else (list(previous.gaps) if previous else None),
            executed=executed,  # what billingops did stays on record, whatever the plan
            requester=a.requester,
            rev=rev,
            backlog_unread=backlog_unread,
        )

    def _revision(
        self, thread: Thread, existing: Comment | None, previous: State | None, a: Assessment
    ) -> tuple[int, bool]:
        """(revision of the plan in the comment to write, whether to announce it).

        A new comment posts its plan itself (revision 0). A plan that differs from the one
        on record (or replaces state someone else altered) gets a fresh revision and a new
        short comment, because an edit notifies nobody (SPEC §5a)."""
        if a.plan is None or existing is None:
            return 0, False
        if previous is not None and previous.kind == "triage" and previous.plan_hash == a.plan.hash:
            announced = plan_posted_at(thread, existing, previous) is not None
            return previous.rev, not announced  # a lost announcement is posted now
        return next_rev(thread, previous), True

    def _announce(
        self,
        writer: Writer,
        number: int,
        thread: Thread,
        rev: int,
        plan: Plan,
        old_hash: str,
        labels_on: list[str],
    ) -> None:
        writer.notice(
            number,
            thread.comments,
            render_plan_announcement(rev, plan, old_hash, self.config, labels_on=labels_on),
        )

    # -- triage -------------------------------------------------------------------------

    def triage(self, issue: Mapping[str, Any], *, dry_run: bool = False) -> RunResult:
        ticket = parse_issue(issue, self.repository)
        if (not_ours := not_a_ticket(ticket, self.config)) is not None:
            return not_ours
        backlog = Backlog(
            self.tracker, self.config, self.repository, public=True if self.public_backlog else None
        )
        # The thread and the gap backlog in one request, with the Stripe lookup (SPEC §8).
        thread_f = self._pool.submit(
            self.tracker.read_thread, ticket.number, listing=(backlog.repository, GAP_LABEL)
        )
        association = str(issue.get("author_association") or "")
        asker = self._asker(ticket, association, thread_f)
        a = self.assess(ticket, asker)
        thread = thread_f.result()
        if backlog.public is None and thread.listing_visibility is not None:
            # GitHub's word on the backlog repository, read with its listing (no request).
            backlog.public = Backlog.visibility_known(thread.listing_visibility)
        existing = find_bot_comment(thread.comments, thread.me)
        previous = trusted_state(existing, thread.me)
        kept = list(previous.executed) if previous else []
        gaps = (
            detect_gaps(
                ticket, a.state, a.classification, merge_portal(a.state.portal, self.config)
            )
            if a.classification is not None and a.plan is not None
            else []
        )
        # A backlog the thread read could not list (the token cannot see it): triage goes on
        # without filing gaps and says so; the next run files them (SPEC §5c).
        unread = thread.listing_error
        if unread is not None:
            _log.warning("%s: product gaps not filed this run", unread)
            listing: list[IssueSnapshot] = []
        else:
            listing = thread.listing if thread.listing is not None else backlog.prefetch()
        rev, announce = self._revision(thread, existing, previous, a)
        writer = Writer(self.tracker, dry_run, me=thread.me)
        add, remove = case_labels(
            ticket.labels,
            a.classification.case if a.classification and not a.needs_info else None,
            needs_info=a.needs_info,
        )
        labels_f = self._pool.submit(writer.labels, ticket.number, add, remove)
        # A gap nobody filed yet gets its issue now, with the labels, so the comment links
        # to it when first written: 3 round trips, not 4 (SPEC §8).
        revenue = {} if backlog.is_public() else revenue_at_risk(a.state)
        entry = backlog.entry(ticket.number, ticket.title, revenue)
        try:
            created = (
                backlog.create_missing(gaps, entry, listing, dry_run=dry_run)
                if unread is None
                else {}
            )
        except BaseException:
            wait([labels_f])
            raise
        listing = [*listing, *created.values()]
        if unread is None:
            gap_refs = backlog.expected_refs(gaps, listing)
        else:
            gap_refs = list(previous.gaps) if previous else []
        # The comment, and the gap issues' ticket lists (with a check for a concurrent
        # creator of the same gap): one round trip.
        link_f = self._pool.submit(
            backlog.link,
            ticket.number,
            ticket.title,
            gaps if unread is None else [],
            revenue,
            dry_run=dry_run,
            linked=previous.gaps if previous else (),
            listing=listing,
            created=created,
        )
        try:
            # Keeping every step another run recorded since our read (SPEC §5b).
            written, kept = writer.record(
                ticket.number,
                existing,
                kept,
                lambda executed: self._render(
                    a, previous, executed, gap_refs, rev=rev, backlog_unread=unread
                ),
            )
        finally:
            # Never leave a write running behind a failure: a re-run would race it.
            pending: list[Future[Any]] = [labels_f, link_f]
            wait(pending)
        labels_f.result()
        linked = link_f.result() if gaps and unread is None else gap_refs
        if linked != gap_refs:
            # Another run created the same gap's issue at the same time: link the kept one.
            gap_refs = linked
            written, kept = writer.record(
                ticket.number,
                written,
                kept,
                lambda executed: self._render(
                    a, previous, executed, gap_refs, rev=rev, backlog_unread=unread
                ),
            )
        if announce and a.plan is not None:
            # After the edit, so its stamp (GitHub's clock) is when the new plan was visible.
            on = [x for x in self.config.labels.values() if x in ticket.labels]
            old = previous.plan_hash if previous else ""
            self._announce(writer, ticket.number, thread, rev, a.plan, old, on)
        return RunResult(
            action="needs_info" if a.needs_info else "triage",
            issue=ticket.number,
            resolution=a.resolution,
            classification=a.classification,
            plan=a.plan,
            gaps=gap_refs,
            requester=a.requester,
            reason=_triage_reason(a, tampered=_tampered(existing, thread))
            + (
                f"; product gaps not filed, the backlog could not be read: {unread}"
                if unread and gaps
                else ""
            ),
            would_write=[*backlog.would_write, *writer.would_write],
        )

    # -- apply --------------------------------------------------------------------------

    def apply(self, number: int, *, dry_run: bool = False) -> RunResult:
        """Execute what the approval labels on the issue authorise, exactly once."""
        issue_f = self._pool.submit(self.tracker.get_issue, number)
        thread_f = self._pool.submit(self.tracker.read_thread, number)
        events_f = self._pool.submit(self.tracker.label_events, number)
        issue, thread, events = issue_f.result(), thread_f.result(), events_f.result()
        if self.view is not None:
            issue = self.view(issue)
        comments = thread.comments
        writer = Writer(self.tracker, dry_run, me=thread.me)
        labels = self.config.labels
        present = [ap for ap in Approval if labels[ap] in issue.labels]
        if not present:
            return RunResult(
                action="ignored", issue=number, reason="ignored: no approval label on the issue"
            )
        existing = find_bot_comment(comments, thread.me)
        previous = trusted_state(existing, thread.me)
        if existing is None or (
            previous is not None and (previous.kind != "triage" or not previous.plan_hash)
        ):
            for ap in present:
                refuse(
                    self.config,
                    writer,
                    issue,
                    comments,
                    events,
                    ap,
                    "there is no billingops plan on this issue yet",
                )
            return RunResult(
                action="refused",
                issue=number,
                reason="refused: no plan to approve yet",
                would_write=writer.would_write,
            )

        roles_f = {
            login: self._pool.submit(self.tracker.role_of, login)
            for ap in present
            for login in labelers(events, labels[ap])
            if not login.endswith("[bot]")
        }
        ticket = parse_issue(_as_payload(issue), self.repository)
        asker = self._asker(ticket, issue.author_association, thread_f, events)
        a = self.assess(ticket, asker)
        roles = {login: f.result() for login, f in roles_f.items()}
        base = RunResult(
            action="apply",
            issue=number,
            resolution=a.resolution,
            classification=a.classification,
            plan=a.plan,
            gaps=list(previous.gaps) if previous else [],
            requester=a.requester,
        )

        if previous is None or a.plan is None or a.plan.hash != previous.plan_hash:
            # Drift, or state someone else altered (then nothing is trusted): post the plan
            # as it is now, announce it, and approve nothing on the old one.
            new_hash = a.plan.hash if a.plan else "none"
            old_hash = previous.plan_hash if previous else "untrusted"
            rev, _ = self._revision(thread, existing, previous, a)
            kept = list(previous.executed) if previous else []
            writer.record(number, existing, kept, lambda ex: self._render(a, previous, ex, rev=rev))
            if a.plan is not None:
                on = [labels[ap] for ap in present]
                self._announce(writer, number, thread, rev, a.plan, old_hash, on)
            why = (
                f"the billingops comment was edited by {existing.editor}; its state is not trusted"
                if previous is None
                else f"the plan changed ({old_hash} -> {new_hash})"
            )
            for ap in present:
                writer.notice(
                    number,
                    comments,
                    render_notice(
                        "drift",
                        key=f"drift:{labels[ap]}:{old_hash}:{new_hash}:{rev}",
                        label=labels[ap],
                        config=self.config,
                        reason=why,
                        old_hash=old_hash,
                        new_hash=new_hash,
                    ),
                )
            writer.labels(number, [], [labels[ap] for ap in present])
            return base.model_copy(
                update={
                    "action": "refused",
                    "reason": f"refused: drift, {why}; nothing executed",
                    "would_write": writer.would_write,
                }
            )

        plan = a.plan
        posted_at = plan_posted_at(thread, existing, previous)
        if posted_at is None and a.plan is not None:
            # The announcement of this plan was lost: post it; approvals wait for it.
            on = [labels[ap] for ap in present]
            self._announce(writer, number, thread, previous.rev, a.plan, "", on)
        granted, refusals = check_approvals(
            self.config, writer, issue, comments, events, present, plan, roles, posted_at,
            thread.me,
        )  # fmt: skip

        if not granted:
            return base.model_copy(
                update={
                    "action": "refused",
                    "reason": "refused: " + "; ".join(refusals),
                    "would_write": writer.would_write,
                }
            )

        executed = {(e.kind, e.target): e for e in previous.executed}
        results: list[Executed] = []
        failure: OperationalError | None = None
        for step in plan.steps:
            if step.needs not in granted:
                continue
            outcome = execute_step(
                self.billing,
                self._ref(number),
                step,
                a.state,
                previous.plan_hash,
                executed.get((step.kind, step.target)),
                dry_run,
            )
            if isinstance(outcome, OperationalError):
                failure = outcome
                outcome = Executed(
                    kind=step.kind, target=step.target, status="failed", reason=str(outcome)
                )
            results.append(outcome)
            record = executed.get((step.kind, step.target))
            already_recorded = record is not None and record.status in FINISHED
            # A record says what happened and when it first did: a rerun does not rewrite it.
            if (outcome.status in FINISHED or outcome.status == "failed") and not already_recorded:
                executed[(step.kind, step.target)] = outcome
                # Recorded on the issue as each step completes (SPEC §5), keeping what
                # another run recorded meanwhile (SPEC §5b).
                written, on_record = writer.record(
                    number,
                    existing,
                    list(executed.values()),
                    lambda ex: self._render(a, previous, ex, rev=previous.rev),
                )
                existing = written or existing
                executed = {(e.kind, e.target): e for e in on_record}
            if failure:
                break

        all_needed = [s for s in plan.steps if s.needs is not None]
        finished = {k for k, e in executed.items() if e.status in FINISHED}
        done_with = [
            ap
            for ap in granted
            if all((s.kind, s.target) in finished for s in plan.steps if s.needs is ap)
        ]
        add = (
            [DONE_LABEL]
            if all_needed and all((s.kind, s.target) in finished for s in all_needed)
            else []
        )
        # `billing:done` before the approvals go: were it lost after they had gone, the next
        # run would find no approval label and never add it (labels are written concurrently).
        writer.labels(number, add, [])
        writer.labels(number, [], [labels[ap] for ap in done_with])
        reason = _apply_reason(results, refusals)
        result = base.model_copy(
            update={"executed": results, "reason": reason, "would_write": writer.would_write}
        )
        if failure:
            raise _Partial(result, failure)
        return result


class _Partial(OperationalError):
    """A failure half-way: what was done is recorded; the result travels with the error."""

    def __init__(self, result: RunResult, cause: OperationalError) -> None:
        super().__init__(str(cause))
        self.result = result


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


def _tampered(existing: Comment | None, thread: Thread) -> str | None:
    """Who altered billingops' comment, when someone else did."""
    if existing is None or untouched(existing, thread.me):
        return None
    return existing.editor or "someone"


def _as_payload(issue: IssueSnapshot) -> dict[str, Any]:
    """The fresh issue in the shape of a webhook's `issue`, for intake."""
    return {
        "number": issue.number,
        "title": issue.title,
        "body": issue.body,
        "user": {"login": issue.author, "id": issue.author_id},
        "labels": [{"name": n} for n in issue.labels],
    }


def _triage_reason(a: Assessment, *, tampered: str | None = None) -> str:
    if tampered:
        note = f"; the billingops comment had been edited by {tampered}: state not trusted"
        return _triage_reason(a) + note
    if not a.ticket.has_identifier:
        return "the ticket has no billing email or Stripe id"
    if not a.resolution.found:
        return "no Stripe customer matches the ticket's identifiers"
    assert a.classification and a.plan
    return (
        f"{a.classification.case.value}: {len(a.plan.steps)} step(s) proposed, plan {a.plan.hash}"
    )


def _apply_reason(results: list[Executed], refusals: list[str]) -> str:
    counts: dict[str, int] = {}
    for e in results:
        counts[e.status] = counts.get(e.status, 0) + 1
    text = ", ".join(f"{n} {s}" for s, n in sorted(counts.items())) or "no step to execute"
    if refusals:
        text += "; refused: " + "; ".join(refusals)
    return text
