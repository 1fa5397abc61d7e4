"""The private desk (SPEC §5b): one handoff issue per public ticket, triaged and applied there.

The handoff issue is where the full triage comment, its state, the plan announcements and
the approval labels live; the ordinary `Desk` runs on it with every §5 / §5a check. The
ticket itself (its words, and its author: the requester) is always the public issue, read
fresh. The outcome goes back to the public ticket through `PublicWriter` only.
"""

from __future__ import annotations

from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from billingops._billing.interface import BillingSource
from billingops._tracker.interface import IssueTracker
from billingops.config import Config
from billingops.core.apply import refusal
from billingops.core.intake import parse_issue
from billingops.core.public import (
    HANDOFF_LABEL,
    handoff_is_current,
    handoff_of,
    handoff_title,
    render_handoff,
    render_handoff_duplicate,
    report_back,
    ticket_version,
)
from billingops.desk.backlog import Backlog
from billingops.desk.desk import Desk, gap_listing
from billingops.desk.public_writer import PublicWriter
from billingops.desk.read import BillingAhead, read_billing_ahead
from billingops.desk.thread import Writer
from billingops.errors import BadInput, NotFound, OperationalError
from billingops.models.decision import FINISHED, Approval
from billingops.models.issue import IssueSnapshot, Thread, same_login
from billingops.models.result import RunResult


class _NotAHandoff(BadInput):
    """An issue with a handoff marker that billingops did not file: not a handoff."""


def handoff_ref(repository: str, number: int) -> str:
    return f"{repository}#{number}"


@dataclass(frozen=True)
class Filed:
    """The ticket's handoff issue as `HandoffDesk.ensure` found or filed it."""

    handoff: IssueSnapshot | None  # None: a dry run that would file it
    would_write: list[str] = field(default_factory=list)
    created: bool = False  # filed by this run: its thread is known (empty)


@dataclass
class HandoffDesk:
    """The private desk: one handoff issue per public ticket, triaged and applied here."""

    billing: BillingSource
    tracker: IssueTracker  # on the private repository
    config: Config
    repository: str  # the private repository
    _pool: ThreadPoolExecutor = field(
        default_factory=lambda: ThreadPoolExecutor(3), repr=False, compare=False
    )

    # -- finding and filing the handoff issue ---------------------------------------------

    def listing(self) -> list[IssueSnapshot]:
        """Every handoff issue of the desk, any state: one listing by label."""
        return self.tracker.list_issues(labels=[HANDOFF_LABEL], state="all")

    def listings(self) -> dict[str, tuple[str, str]]:
        """What public mode lists with the public ticket's thread, in the same GraphQL
        request (issue 22): the gap backlog of the handoff's triage, and this desk's handoff
        issues (`read_thread(..., **listings())`, then `listed`)."""
        return {
            "listing": gap_listing(self.config, self.repository),
            "extra_listing": (self.repository, HANDOFF_LABEL),
        }

    def listed(self, thread: Thread) -> list[IssueSnapshot]:
        """The desk's handoff issues as `thread` listed them (`listings`): listed with REST
        when GitHub has more than one page of them; the error when GitHub could not list
        them (an unreachable desk is a configuration problem: `NotFound`)."""
        if thread.extra_listing_error is not None:
            if thread.extra_listing_unreachable:
                raise NotFound(thread.extra_listing_error)
            raise OperationalError(thread.extra_listing_error)
        return self.listing() if thread.extra_listing is None else thread.extra_listing

    def find(
        self,
        public_repository: str,
        number: int,
        me: str,
        listing: list[IssueSnapshot] | None = None,
    ) -> list[IssueSnapshot]:
        """Every handoff issue of the ticket billingops itself filed, lowest number first."""
        ref = (public_repository.lower(), number)
        return sorted(
            (
                i
                for i in (self.listing() if listing is None else listing)
                if same_login(i.author, me)
                and (h := handoff_of(i.body)) is not None
                and (h[0].lower(), h[1]) == ref
            ),
            key=lambda i: i.number,
        )

    def ensure(
        self,
        public: IssueSnapshot,
        public_repository: str,
        me: str,
        *,
        dry_run: bool,
        listing: list[IssueSnapshot] | None = None,
    ) -> Filed:
        """The ticket's handoff issue, found in `listing` by its marker or filed now.

        Filed once, and not listed again after the create (SPEC §8, issue 22: the run's
        first read lists the handoffs; a second listing would be a round trip of its own).
        Two runs that raced to file it each file one; the next run that lists both settles
        them (`settle`: the oldest is kept, the copy is closed naming it), and until then an
        approval on the copy never executes (`apply`)."""
        found = self.find(public_repository, public.number, me, listing)
        if not found:
            body = self._body(public, public_repository)
            title = handoff_title(public_repository, public.number)
            if dry_run:
                return Filed(
                    None, [f"--- would file handoff issue in {self.repository} ---\n{title}"]
                )
            created = self.tracker.create_issue(title=title, body=body, labels=[HANDOFF_LABEL])
            return Filed(created, [], created=True)
        keep, copies = found[0], found[1:]
        would = self.settle(keep, copies, public_repository, public.number, me, dry_run=dry_run)
        return Filed(keep, would)

    def settle(
        self,
        kept: IssueSnapshot,
        copies: list[IssueSnapshot],
        public_repository: str,
        public_number: int,
        me: str,
        *,
        dry_run: bool,
    ) -> list[str]:
        """Close each open copy of the ticket's handoff (two runs filed one each) with a note
        naming the kept one (posted once, found by its marker), and take it off the gap
        issues' ticket lists (each racing run triaged its own handoff: the copy was linked
        as a ticket of its own). What a dry run would write."""
        writer = Writer(self.tracker, dry_run, me=me)
        closed: list[int] = []
        for dup in copies:
            if dup.state != "open":
                continue
            note = render_handoff_duplicate(public_repository, public_number, kept.number)
            writer.notice(dup.number, self.tracker.list_comments(dup.number), note)
            if dry_run:
                writer.would_write.append(f"--- would close #{dup.number} (not_planned) ---")
            else:
                self.tracker.edit_issue(dup.number, state="closed", state_reason="not_planned")
            closed.append(dup.number)
        backlog = Backlog(
            self.tracker,
            self.config,
            self.repository,
            public=self._public_backlog(public_repository),
        )
        backlog.unlink(closed, dry_run=dry_run)
        return [*writer.would_write, *backlog.would_write]

    def _body(self, public: IssueSnapshot, public_repository: str) -> str:
        return render_handoff(
            public_repository,
            public.number,
            public.html_url or f"https://github.com/{public_repository}/issues/{public.number}",
            public.author,
            ticket_version(public.title, public.body),
        )

    # -- triage -------------------------------------------------------------------------

    def sync(
        self,
        handoff: IssueSnapshot,
        public: IssueSnapshot,
        public_repository: str,
        *,
        dry_run: bool = False,
        thread: Thread | None = None,
        ahead: BillingAhead | None = None,
    ) -> RunResult:
        """Triage the handoff issue from the public ticket as it is now.

        When the handoff was written from another version of the ticket (SPEC §5b), it is
        brought up to date first: its body is edited (GitHub's record of that edit is the
        ticket's version, so a verified-requester label applied before it no longer vouches)
        and the approval labels on it are removed with a notice: approvals given before
        count for nothing, whether the plan changed or not.

        `thread` and `ahead` (public mode, issue 22): the handoff's thread when the caller
        knows it (the handoff it just filed), and the Stripe read it started already."""
        body = self._body(public, public_repository)
        changed = handoff.body != body
        stale = not handoff_is_current(handoff.body, public.title, public.body)
        if changed and not dry_run:
            # The ticket changed: so does the handoff (and GitHub's record of its last edit).
            self.tracker.edit_issue(handoff.number, body=body)
        voided: list[str] = []
        if stale:
            handoff, voided = self._void_approvals(handoff, dry_run=dry_run)
        desk = self._desk(public, public_repository)
        result = desk.triage(
            _payload(handoff, public, self.config), dry_run=dry_run, thread=thread, ahead=ahead
        )
        shown = [f"--- would edit the handoff issue #{handoff.number} ---\n{body}"]
        would = [*(shown if changed and dry_run else []), *voided, *result.would_write]
        return result.model_copy(update={"would_write": would})

    def _void_approvals(
        self, handoff: IssueSnapshot, *, dry_run: bool
    ) -> tuple[IssueSnapshot, list[str]]:
        """Remove the approval labels on the handoff, each with a notice: they were given on
        an older version of the public ticket. (the handoff without them, would-writes)"""
        labels = self.config.labels
        present = [ap for ap in Approval if labels[ap] in handoff.labels]
        if not present:
            return handoff, []
        thread = self.tracker.read_thread(handoff.number)
        events = self.tracker.label_events(handoff.number)
        writer = Writer(self.tracker, dry_run, me=thread.me)
        for ap in present:
            reason = (
                f"the public ticket changed after {labels[ap]} was applied (the handoff now "
                "follows it): approvals given on an earlier version count for nothing"
            )
            writer.notice(handoff.number, thread.comments, refusal(self.config, events, ap, reason))
        writer.labels(handoff.number, [], [labels[ap] for ap in present])
        gone = {labels[ap] for ap in present}
        kept = [x for x in handoff.labels if x not in gone]
        return handoff.model_copy(update={"labels": kept}), writer.would_write

    def read_ahead(
        self, public: IssueSnapshot, public_repository: str, pool: ThreadPoolExecutor
    ) -> BillingAhead:
        """Start the Stripe read of the ticket's handoff triage (public mode, issue 22): it
        needs only the public ticket's words and author, so it runs with the run's first
        read, while the handoff issue is found or filed."""
        # Any number: the handoff may have none yet, and Stripe is read by the words alone.
        payload = _payload(IssueSnapshot(number=public.number), public, self.config)
        ticket = parse_issue(payload, self.repository)
        association = str(payload.get("author_association") or "")
        return read_billing_ahead(
            pool, self.tracker, self.billing, self.config, ticket, association
        )

    def triage(self, issue: Mapping[str, Any], *, dry_run: bool = False) -> RunResult:
        try:
            handoff, public_repository, public = self._open(issue)
        except _NotAHandoff as exc:
            return RunResult(action="ignored", issue=issue.get("number"), reason=str(exc))
        return self.sync(handoff, public, public_repository, dry_run=dry_run)

    # -- apply --------------------------------------------------------------------------

    def apply(self, number: int, *, dry_run: bool = False) -> RunResult:
        # The desk's handoffs (is this one a copy?) are listed while the issue is read.
        listing_f = self._pool.submit(self.listing)
        try:
            handoff, public_repository, public = self._open(self.tracker.get_issue(number))
        except _NotAHandoff as exc:
            return RunResult(action="ignored", issue=number, reason=str(exc))
        me = self.tracker.whoami()
        kept = self.find(public_repository, public.number, me, listing_f.result())
        if kept and kept[0].number != handoff.number:
            copy = next((i for i in kept if i.number == handoff.number), handoff)
            would = self.settle(
                kept[0], [copy], public_repository, public.number, me, dry_run=dry_run
            )
            refused = self._refuse_copy(
                handoff, kept[0].number, public_repository, public.number, dry_run
            )
            return refused.model_copy(update={"would_write": would})
        if not handoff_is_current(handoff.body, public.title, public.body):
            # The public ticket changed and its run has not brought the handoff up to date
            # yet: the desk does it now, and acts on nothing approved before (SPEC §5b).
            synced = self.sync(handoff, public, public_repository, dry_run=dry_run)
            if not any(self.config.labels[ap] in handoff.labels for ap in Approval):
                return synced
            return synced.model_copy(
                update={
                    "action": "refused",
                    "executed": [],
                    "reason": "refused: the public ticket changed since the handoff was "
                    "written; the handoff is brought up to date and approvals given before "
                    "count for nothing; nothing executed",
                }
            )
        result = self._desk(public, public_repository).apply(handoff.number, dry_run=dry_run)
        if dry_run or result.waiting or not any(e.status in FINISHED for e in result.executed):
            return result  # (steps wait for the apply job, which reports back once they ran)
        # Everything done so far, as recorded on the handoff (this run's and earlier ones'),
        # told as the customer must hear it: posted once per outcome, re-posted if lost.
        # Three independent reads, together: the handoff's record and labels, the public
        # thread (where the outcome goes).
        public_tracker = self.tracker.for_repository(public_repository)
        record_f = self._pool.submit(self.tracker.read_thread, number)
        labels_f = self._pool.submit(self.tracker.get_issue, number)
        thread_f = self._pool.submit(public_tracker.read_thread, public.number)
        reply, labels = report_back(
            record_f.result(), result.plan, labels_f.result().labels, self.config
        )
        thread = thread_f.result()
        writer = PublicWriter(public_tracker, thread.me, dry_run)
        writer.notice(public.number, thread.comments, reply, key=f"{self.repository}#{number}")
        if labels:
            writer.labels(public.number, public.labels, labels)
        return result

    # -- helpers ------------------------------------------------------------------------

    def _refuse_copy(
        self, handoff: IssueSnapshot, kept: int, public_repository: str, public: int, dry_run: bool
    ) -> RunResult:
        """Two runs raced to file the ticket's handoff, and each triaged its own (`ensure`);
        a copy can be labelled before or after it is settled (closed). Only the kept one
        (the lowest number) executes: a copy keeps its own record, and its approver may
        never have seen the other."""
        approvals = [x for x in self.config.labels.values() if x in handoff.labels]
        if not dry_run:
            for label in approvals:
                self.tracker.remove_label(handoff.number, label)
        return RunResult(
            action="refused",
            issue=handoff.number,
            reason=f"refused: #{handoff.number} is a copy of #{kept}, the handoff of "
            f"{public_repository}#{public} (two runs filed one each); approve on #{kept}; "
            "nothing executed",
        )

    def _open(
        self, issue: Mapping[str, Any] | IssueSnapshot
    ) -> tuple[IssueSnapshot, str, IssueSnapshot]:
        """(the handoff issue, the public repository, the public ticket, read fresh)."""
        snap = (
            issue
            if isinstance(issue, IssueSnapshot)
            else IssueSnapshot(
                number=int(issue.get("number") or 0),
                title=str(issue.get("title") or ""),
                body=str(issue.get("body") or ""),
                author=str((issue.get("user") or {}).get("login") or ""),
                labels=[
                    str(x.get("name") if isinstance(x, Mapping) else x)
                    for x in issue.get("labels") or []
                ],
            )
        )
        ref = handoff_of(snap.body)
        if ref is None:
            raise BadInput(f"issue #{snap.number} of {self.repository} is not a handoff issue")
        me = self.tracker.whoami()
        if not same_login(snap.author, me):
            # Only a handoff billingops filed names the ticket it stands for.
            raise _NotAHandoff(
                f"ignored: issue #{snap.number} of {self.repository} carries a handoff marker "
                f"but was filed by {snap.author or 'someone else'}, not billingops ({me})"
            )
        public_repository, public_number = ref
        public = self.tracker.for_repository(public_repository).get_issue(public_number)
        return snap, public_repository, public

    def _desk(self, public: IssueSnapshot, public_repository: str) -> Desk:
        intake = self.config.intake_label

        def view(handoff: IssueSnapshot) -> IssueSnapshot:
            return _merged(handoff, public, intake)

        return Desk(
            self.billing,
            self.tracker,
            self.config,
            self.repository,
            view=view,
            public_backlog=self._public_backlog(public_repository) or False,
        )

    def _public_backlog(self, public_repository: str) -> bool | None:
        """True when the gap backlog is the public support repository (tickets and counts
        only, SPEC §5b); None: GitHub says (`Backlog.is_public`)."""
        # Gap issues go to the backlog repository, by default this private desk.
        backlog = (self.config.backlog_repository or self.repository).lower()
        return True if backlog == public_repository.lower() else None


def _merged(handoff: IssueSnapshot, public: IssueSnapshot, intake: str) -> IssueSnapshot:
    """The handoff issue as the desk sees it: the public ticket's words and author, the
    handoff's own labels (approvals, verified-requester) and number."""
    labels = list(handoff.labels)
    if intake in public.labels and intake not in labels:
        labels.append(intake)
    return handoff.model_copy(
        update={
            "title": public.title,
            "body": public.body,
            "author": public.author,
            "author_id": public.author_id,
            "author_association": public.author_association,
            "labels": labels,
        }
    )


def _payload(handoff: IssueSnapshot, public: IssueSnapshot, config: Config) -> dict[str, Any]:
    merged = _merged(handoff, public, config.intake_label)
    return {
        "number": merged.number,
        "title": merged.title,
        "body": merged.body,
        "user": {"login": merged.author, "id": merged.author_id},
        "labels": [{"name": n} for n in merged.labels],
        "author_association": merged.author_association,
        "html_url": merged.html_url,
    }
