"""The private desk (SPEC §5b): one handoff issue per public ticket, triaged and applied there.

The handoff issue is where the full triage comment, its state, the plan announcements and
the approval labels live; the ordinary `Desk` runs on it with every §5 / §5a check. The
ticket itself (its words, and its author: the requester) is always the public issue, read
fresh. The outcome goes back to the public ticket through `PublicWriter` only.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from billingops._billing.interface import BillingSource
from billingops._tracker.interface import IssueTracker
from billingops.config import Config
from billingops.core.apply import refusal
from billingops.core.public import (
    HANDOFF_LABEL,
    handoff_is_current,
    handoff_of,
    handoff_title,
    render_handoff,
    report_back,
    ticket_version,
)
from billingops.desk.desk import Desk
from billingops.desk.public_writer import PublicWriter
from billingops.desk.thread import Writer
from billingops.errors import BadInput, NotFound
from billingops.models.decision import FINISHED, Approval
from billingops.models.issue import IssueSnapshot, same_login
from billingops.models.result import RunResult


class _NotAHandoff(BadInput):
    """An issue with a handoff marker that billingops did not file: not a handoff."""


def handoff_ref(repository: str, number: int) -> str:
    return f"{repository}#{number}"


@dataclass
class HandoffDesk:
    """The private desk: one handoff issue per public ticket, triaged and applied here."""

    billing: BillingSource
    tracker: IssueTracker  # on the private repository
    config: Config
    repository: str  # the private repository

    # -- finding and filing the handoff issue ---------------------------------------------

    def listing(self) -> list[IssueSnapshot]:
        """Every handoff issue of the desk, any state: one listing by label."""
        return self.tracker.list_issues(labels=[HANDOFF_LABEL], state="all")

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
    ) -> tuple[IssueSnapshot | None, list[str]]:
        """(the ticket's handoff issue, what a dry run would write). Filed once: a run that
        raced another one to file it keeps the lowest number and closes its own extra. The
        listing after a create is always fresh."""
        found = self.find(public_repository, public.number, me, listing)
        if not found:
            body = self._body(public, public_repository)
            title = handoff_title(public_repository, public.number)
            if dry_run:
                return None, [f"--- would file handoff issue in {self.repository} ---\n{title}"]
            self.tracker.create_issue(title=title, body=body, labels=[HANDOFF_LABEL])
            found = self.find(public_repository, public.number, me)
            if not found:
                raise NotFound(f"GitHub: the handoff issue just filed in {self.repository} is gone")
        keep, extra = found[0], found[1:]
        for dup in extra:
            if dup.state == "open" and not dry_run:
                self.tracker.edit_issue(dup.number, state="closed", state_reason="not_planned")
        return keep, []

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
    ) -> RunResult:
        """Triage the handoff issue from the public ticket as it is now.

        When the handoff was written from another version of the ticket (SPEC §5b), it is
        brought up to date first: its body is edited (GitHub's record of that edit is the
        ticket's version, so a verified-requester label applied before it no longer vouches)
        and the approval labels on it are removed with a notice: approvals given before
        count for nothing, whether the plan changed or not."""
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
        result = desk.triage(_payload(handoff, public, self.config), dry_run=dry_run)
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

    def triage(self, issue: Mapping[str, Any], *, dry_run: bool = False) -> RunResult:
        try:
            handoff, public_repository, public = self._open(issue)
        except _NotAHandoff as exc:
            return RunResult(action="ignored", issue=issue.get("number"), reason=str(exc))
        return self.sync(handoff, public, public_repository, dry_run=dry_run)

    # -- apply --------------------------------------------------------------------------

    def apply(self, number: int, *, dry_run: bool = False) -> RunResult:
        try:
            handoff, public_repository, public = self._open(self.tracker.get_issue(number))
        except _NotAHandoff as exc:
            return RunResult(action="ignored", issue=number, reason=str(exc))
        kept = self.find(public_repository, public.number, self.tracker.whoami())
        if kept and kept[0].number != handoff.number:
            return self._refuse_copy(
                handoff, kept[0].number, public_repository, public.number, dry_run
            )
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
        reply, labels = report_back(
            self.tracker.read_thread(number),
            result.plan,
            self.tracker.get_issue(number).labels,
            self.config,
        )
        public_tracker = self.tracker.for_repository(public_repository)
        thread = public_tracker.read_thread(public.number)
        writer = PublicWriter(public_tracker, thread.me, dry_run)
        writer.notice(public.number, thread.comments, reply, key=f"{self.repository}#{number}")
        if labels:
            writer.labels(public.number, public.labels, labels)
        return result

    # -- helpers ------------------------------------------------------------------------

    def _refuse_copy(
        self, handoff: IssueSnapshot, kept: int, public_repository: str, public: int, dry_run: bool
    ) -> RunResult:
        """Two runs raced to file the ticket's handoff; the loser closed its copy, yet it can
        still be triaged and labelled. Only the kept one (the lowest number) executes: a
        copy keeps its own record, and its approver may never have seen the other."""
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

        # Gap issues go to the backlog repository, by default this private desk; one that is
        # the public support repository gets tickets and counts only (SPEC §5b).
        backlog = (self.config.backlog_repository or self.repository).lower()
        public_backlog = backlog == public_repository.lower()
        return Desk(
            self.billing,
            self.tracker,
            self.config,
            self.repository,
            view=view,
            public_backlog=public_backlog,
        )


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
