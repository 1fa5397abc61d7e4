"""Public support repositories (SPEC §5b): a neutral public reply, the handoff in a private desk.

A ticket in a public (or internal) repository is read by everyone. billingops writes there
only through `PublicWriter`, which accepts a `PublicReply` (no field can carry billing data)
and the labels of `PublicLabel` (none names a case). Everything else — the full triage
comment, its state, the plan announcements, the approval labels, the refusals — lives on
one handoff issue per ticket in the private desk (`private_repository`), which the ordinary
`Desk` triages and applies with every §5 / §5a check. The ticket itself (its text, its
author: the requester) is always the public issue, read fresh.

- `PublicDesk` runs on the public repository's events: acknowledge, find or file the handoff
  issue (hidden marker, never twice), triage it; an approval label on the public ticket is
  removed and never acted on.
- `HandoffDesk` runs on the private desk's events (a handoff issue opened, edited or
  labeled): re-triage from the public ticket, or apply there and post the outcome back.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from typing import Any

from billingops._billing.interface import BillingSource
from billingops._tracker.interface import IssueTracker
from billingops.config import Config
from billingops.core.audience import Audience, audience_of
from billingops.core.intake import parse_issue
from billingops.core.markers import is_bot_comment
from billingops.core.public import (
    HANDOFF_LABEL,
    handoff_of,
    handoff_title,
    is_public_reply,
    render_handoff,
    render_public,
    ticket_version,
)
from billingops.desk.desk import FINISHED, Desk
from billingops.desk.thread import DONE_LABEL, Writer, find_bot_comment, trusted_state
from billingops.errors import BadInput, BillingopsError, ConfigError, NotFound
from billingops.models.decision import StepKind
from billingops.models.issue import Comment, IssueSnapshot, same_login
from billingops.models.public import Done, PublicKind, PublicLabel, PublicReply
from billingops.models.result import RunResult

_CASE_PREFIX = "billing:"
_PUBLIC_LABELS = frozenset(x.value for x in PublicLabel)


@dataclass
class PublicWriter:
    """The only way billingops writes to a public repository."""

    tracker: IssueTracker
    me: str
    dry_run: bool = False
    _writer: Writer = field(init=False)

    def __post_init__(self) -> None:
        self._writer = Writer(self.tracker, self.dry_run, me=self.me)

    @property
    def would_write(self) -> list[str]:
        return self._writer.would_write

    def reply(self, number: int, comments: Iterable[Comment], reply: PublicReply) -> None:
        """The acknowledgement: one comment, found by its marker, edited in place."""
        if reply.kind not in (PublicKind.received, PublicKind.needs_info):
            raise ValueError("reply() writes the acknowledgement; use notice()")
        # A triage comment left from before the repository went public is taken over:
        # its billing data is replaced by the reply (GitHub keeps its edit history).
        ours = [
            c
            for c in comments
            if same_login(c.author, self.me) and (is_public_reply(c.body) or is_bot_comment(c.body))
        ]
        existing = min(ours, key=lambda c: (c.created_at, c.id)) if ours else None
        self._writer.comment(number, existing, render_public(reply))

    def notice(
        self, number: int, comments: Iterable[Comment], reply: PublicReply, key: str
    ) -> None:
        """A one-off public comment (an outcome), posted once per `key` and outcome."""
        self._writer.notice(number, comments, render_public(reply, key=key))

    def labels(self, number: int, current: Iterable[str], want: Iterable[PublicLabel]) -> None:
        """Add `want`; remove any other `billing:<case>` label (a case must not show) and a
        `needs-info` that is no longer wanted. `billing:done` is never removed."""
        wanted = {w.value for w in want}
        have = list(current)
        add = [w for w in wanted if w not in have]
        remove = [
            n
            for n in have
            if n not in wanted
            and n != PublicLabel.done.value
            and (n == PublicLabel.needs_info.value or n.startswith(_CASE_PREFIX))
            and (n not in _PUBLIC_LABELS or n == PublicLabel.needs_info.value)
        ]
        self._writer.labels(number, sorted(add), remove)

    def remove_label(self, number: int, label: str) -> None:
        self._writer.labels(number, [], [label])


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
        """Triage the handoff issue from the public ticket as it is now."""
        body = self._body(public, public_repository)
        changed = handoff.body != body
        if changed and not dry_run:
            # The ticket changed: so does the handoff (and GitHub's record of its last edit).
            self.tracker.edit_issue(handoff.number, body=body)
        desk = self._desk(public, public_repository)
        result = desk.triage(_payload(handoff, public, self.config), dry_run=dry_run)
        if changed and dry_run:
            shown = f"--- would edit the handoff issue #{handoff.number} ---\n{body}"
            result = result.model_copy(update={"would_write": [shown, *result.would_write]})
        return result

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
        result = self._desk(public, public_repository).apply(handoff.number, dry_run=dry_run)
        if dry_run or not any(e.status in FINISHED for e in result.executed):
            return result
        # Everything done so far, as recorded on the handoff (this run's and earlier ones'),
        # told as the customer must hear it: posted once per outcome, re-posted if lost.
        after = self.tracker.read_thread(number)
        record = trusted_state(find_bot_comment(after.comments, after.me), after.me)
        finished = [e for e in (record.executed if record else []) if e.status in FINISHED]
        steps = {(s.kind, s.target): s for s in (result.plan.steps if result.plan else [])}
        done: set[Done] = set()
        for e in finished:
            step = steps.get((e.kind, e.target))
            if e.kind is StepKind.refund:
                done.add(Done.refund)
            elif e.kind is StepKind.cancel_subscription:
                later = bool(step and step.at_period_end)
                done.add(Done.cancels_at_period_end if later else Done.cancelled)
        complete = DONE_LABEL in self.tracker.get_issue(number).labels
        public_tracker = self.tracker.for_repository(public_repository)
        thread = public_tracker.read_thread(public.number)
        writer = PublicWriter(public_tracker, thread.me, dry_run)
        reply = PublicReply(
            kind=PublicKind.outcome,
            done=sorted(done),
            complete=complete,
            login_url=self.config.portal.login_url,
        )
        writer.notice(public.number, thread.comments, reply, key=f"{self.repository}#{number}")
        if complete:
            writer.labels(public.number, public.labels, [PublicLabel.received, PublicLabel.done])
        return result

    # -- helpers ------------------------------------------------------------------------

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
        "user": {"login": merged.author},
        "labels": [{"name": n} for n in merged.labels],
        "author_association": merged.author_association,
    }


@dataclass
class PublicDesk:
    """The public repository's side: nothing about a customer's billing is written here."""

    billing: BillingSource
    tracker: IssueTracker  # on the public repository
    config: Config
    repository: str
    _pool: ThreadPoolExecutor = field(default_factory=lambda: ThreadPoolExecutor(3))

    def _handoff_desk(self) -> HandoffDesk | None:
        private = self.config.private_repository
        if private is None:
            return None
        return HandoffDesk(self.billing, self.tracker.for_repository(private), self.config, private)

    def triage(self, issue: Mapping[str, Any], *, dry_run: bool = False) -> RunResult:
        ticket = parse_issue(issue, self.repository)
        intake = self.config.intake_label
        if intake not in ticket.labels:
            return RunResult(
                action="ignored",
                issue=ticket.number,
                reason=f"ignored: the issue has no {intake} label",
            )
        public = _snapshot(issue)
        desk = self._handoff_desk()
        # The public thread and the desk's handoff listing are independent reads: together.
        listing_f = self._pool.submit(desk.listing) if desk is not None else None
        try:
            thread = self.tracker.read_thread(ticket.number)
        finally:
            if listing_f is not None:
                wait([listing_f])
        writer = PublicWriter(self.tracker, thread.me, dry_run)
        # What they wrote, not what billingops found: a login lookup's outcome must not show.
        kind = PublicKind.received if ticket.has_identifier else PublicKind.needs_info
        labels = [PublicLabel.received]
        if kind is PublicKind.needs_info:
            labels.append(PublicLabel.needs_info)
        handoff: IssueSnapshot | None = None
        problem: BillingopsError | None = None
        private_writes: list[str] = []
        if desk is not None and listing_f is not None:
            try:
                handoff, private_writes = desk.ensure(
                    public, self.repository, thread.me, dry_run=dry_run, listing=listing_f.result()
                )
            except BillingopsError as exc:
                problem = _desk_problem(desk.repository, exc)
        reply = PublicReply(
            kind=kind,
            handoff_url=handoff.html_url or None if handoff else None,
            login_url=self.config.portal.login_url,
            sensitive=list(ticket.sensitive),
        )
        # The acknowledgement is written whatever the private desk does (the customer hears
        # back); with the handoff's triage in the same round trips, and waited for.
        acks = [
            self._pool.submit(writer.reply, ticket.number, thread.comments, reply),
            self._pool.submit(writer.labels, ticket.number, ticket.labels, labels),
        ]
        inner: RunResult | None = None
        try:
            if problem is None and desk is not None and handoff is not None:
                inner = desk.sync(handoff, public, self.repository, dry_run=dry_run)
        finally:
            wait(acks)
        for f in acks:
            f.result()
        if problem is not None:
            raise problem
        would = [*writer.would_write, *private_writes]
        if desk is None:
            return RunResult(
                action="needs_info" if kind is PublicKind.needs_info else "triage",
                issue=ticket.number,
                reason="acknowledged; no private_repository is configured, so there is no "
                "handoff (run billingops doctor)",
                would_write=would,
            )
        if handoff is not None and inner is not None and inner.would_write:
            would.append(
                f"--- would update the handoff {handoff_ref(desk.repository, handoff.number)}"
                " (private desk: not shown here) ---"
            )
        where = handoff_ref(desk.repository, handoff.number) if handoff else desk.repository
        # This log is as public as the repository: the result says nothing about billing.
        return RunResult(
            action="needs_info" if kind is PublicKind.needs_info else "triage",
            issue=ticket.number,
            reason=f"acknowledged; handoff in the private desk {where}",
            would_write=would,
        )

    def apply(self, number: int, *, dry_run: bool = False) -> RunResult:
        """An approval label on the public ticket: removed, never acted on (approvals are
        given on the handoff issue, where the plan is)."""
        issue = self.tracker.get_issue(number)
        present = [x for x in self.config.labels.values() if x in issue.labels]
        if not present:
            return RunResult(
                action="ignored", issue=number, reason="ignored: no approval label on the issue"
            )
        thread = self.tracker.read_thread(number)
        writer = PublicWriter(self.tracker, thread.me, dry_run)
        desk = self._handoff_desk()
        url = None
        if desk is not None:
            try:
                found = desk.find(self.repository, number, thread.me)
                url = found[0].html_url or None if found else None
            except BillingopsError:
                url = None
        for label in present:
            reply = PublicReply(kind=PublicKind.approve_elsewhere, label=label, handoff_url=url)
            writer.notice(number, thread.comments, reply, key=f"{self.repository}#{number}")
            writer.remove_label(number, label)
        return RunResult(
            action="refused",
            issue=number,
            reason="refused: approvals are given on the handoff issue in the private desk, "
            "not on a public ticket",
            would_write=writer.would_write,
        )


def _snapshot(issue: Mapping[str, Any]) -> IssueSnapshot:
    user = issue.get("user")
    return IssueSnapshot(
        number=int(issue.get("number") or 0),
        title=str(issue.get("title") or ""),
        body=str(issue.get("body") or ""),
        author=str(user.get("login") or "") if isinstance(user, Mapping) else "",
        labels=[
            str(x.get("name") if isinstance(x, Mapping) else x) for x in issue.get("labels") or []
        ],
        html_url=str(issue.get("html_url") or ""),
        author_association=str(issue.get("author_association") or ""),
    )


def _desk_problem(private: str, exc: BillingopsError) -> BillingopsError:
    """A private desk that cannot be reached: one line that says the fix (SPEC §5b)."""
    fix = (
        f"the token needs Issues: read and write and Metadata: read on {private} "
        "(a GitHub App installation token or a fine-grained token; the Actions GITHUB_TOKEN "
        "cannot write to another repository)"
    )
    if isinstance(exc, NotFound | BadInput):
        return ConfigError(f"private desk {private} unreachable: {exc}; {fix}")
    return exc


def open_desk(
    event: Mapping[str, Any],
    billing: BillingSource,
    tracker: IssueTracker,
    config: Config,
    repository: str,
) -> Desk | PublicDesk | HandoffDesk:
    """The desk for an event: public repositories never get the staff desk, and only a
    private repository's handoff issues are handled as handoffs."""
    if audience_of(event.get("repository"), config) is Audience.public:
        return PublicDesk(billing, tracker, config, repository)
    issue = event.get("issue")
    if isinstance(issue, Mapping) and handoff_of(str(issue.get("body") or "")) is not None:
        return HandoffDesk(billing, tracker, config, repository)
    return Desk(billing, tracker, config, repository)
