"""Public support repositories (SPEC §5b): a neutral public reply, the handoff in a private desk.

A ticket in a public (or internal) repository is read by everyone. billingops writes there
only through `PublicWriter`, which accepts a `PublicReply` (no field can carry billing data)
and the labels of `PublicLabel` (none names a case). Everything else — the full triage
comment, its state, the plan announcements, the approval labels, the refusals — lives on
one handoff issue per ticket in the private desk (`private_repository`), which the ordinary
`Desk` triages and applies with every §5 / §5a check. The ticket itself (its text, its
author: the requester) is always the public issue, read fresh.

- `PublicDesk` runs on the public repository's events: acknowledge, find or file the handoff
  issue (hidden marker; a copy filed by a racing run is closed by the next run, and never
  executes), triage it; an approval label on the public ticket is removed and never acted
  on.
- `HandoffDesk` runs on the private desk's events (a handoff issue opened, edited or
  labeled): re-triage from the public ticket, or apply there and post the outcome back.
"""

from __future__ import annotations

from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from typing import Any

from billingops._billing.interface import BillingSource
from billingops._tracker.interface import IssueTracker
from billingops.config import Config
from billingops.core.audience import Audience, audience_of
from billingops.core.intake import parse_issue
from billingops.core.public import acknowledgement, handoff_of
from billingops.core.triage import not_a_ticket
from billingops.desk.desk import Desk
from billingops.desk.handoff import Filed, HandoffDesk, handoff_ref
from billingops.desk.public_writer import PublicWriter
from billingops.errors import BadInput, BillingopsError, ConfigError, NotFound
from billingops.models.issue import IssueSnapshot, Thread
from billingops.models.public import PublicKind, PublicReply
from billingops.models.result import RunResult

__all__ = ["HandoffDesk", "PublicDesk", "PublicWriter", "open_desk"]


@dataclass
class PublicDesk:
    """The public repository's side: nothing about a customer's billing is written here."""

    billing: BillingSource
    tracker: IssueTracker  # on the public repository
    config: Config
    repository: str
    _pool: ThreadPoolExecutor = field(default_factory=lambda: ThreadPoolExecutor(4))

    def _handoff_desk(self) -> HandoffDesk | None:
        private = self.config.private_repository
        if private is None:
            return None
        return HandoffDesk(self.billing, self.tracker.for_repository(private), self.config, private)

    def triage(self, issue: Mapping[str, Any], *, dry_run: bool = False) -> RunResult:
        """Acknowledge the public ticket, find or file its handoff, triage the handoff.

        Round trips (issue 22; a first triage, 7 GitHub requests in 3 rounds): (1) the
        public thread with the desk's handoff and gap listings, one GraphQL request, ∥ the
        Stripe lookup (it needs only the ticket); (2) the handoff filed ∥ Stripe's billing
        state; (3) the public reply and labels ∥ the handoff's comment, labels and gap
        links. A handoff filed by this run is not read back: its thread is empty, and
        billingops' login is the `viewer` of (1)."""
        ticket = parse_issue(issue, self.repository)
        if (not_ours := not_a_ticket(ticket, self.config)) is not None:
            return not_ours
        public = _snapshot(issue)
        desk = self._handoff_desk()
        ahead = desk.read_ahead(public, self.repository, self._pool) if desk else None
        thread = self.tracker.read_thread(ticket.number, **(desk.listings() if desk else {}))
        writer = PublicWriter(self.tracker, thread.me, dry_run)
        filed = Filed(None)
        problem: BillingopsError | None = None
        if desk is not None:
            try:
                filed = desk.ensure(
                    public, self.repository, thread.me, dry_run=dry_run, listing=desk.listed(thread)
                )
            except BillingopsError as exc:
                problem = _desk_problem(desk.repository, exc)
        handoff, private_writes = filed.handoff, filed.would_write
        reply, labels = acknowledgement(
            ticket,
            self.config,
            handoff.html_url or None if handoff else None,
            # A dry run shows the reply the real run would post: with the handoff it files.
            handoff_pending=handoff is None and problem is None and bool(private_writes),
        )
        kind = reply.kind
        # The acknowledgement is written whatever the private desk does (the customer hears
        # back); with the handoff's triage in the same round trips, and waited for.
        acks = [
            self._pool.submit(writer.reply, ticket.number, thread.comments, reply),
            self._pool.submit(writer.labels, ticket.number, ticket.labels, labels),
        ]
        inner: RunResult | None = None
        try:
            if problem is None and desk is not None and handoff is not None:
                # The handoff this run filed has no comment yet: its thread is known.
                known = _filed_thread(thread) if filed.created else None
                inner = desk.sync(
                    handoff, public, self.repository, dry_run=dry_run, thread=known, ahead=ahead
                )
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


def _user_id(user: Any) -> int | None:
    value = user.get("id") if isinstance(user, Mapping) else None
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _snapshot(issue: Mapping[str, Any]) -> IssueSnapshot:
    user = issue.get("user")
    return IssueSnapshot(
        number=int(issue.get("number") or 0),
        title=str(issue.get("title") or ""),
        body=str(issue.get("body") or ""),
        author=str(user.get("login") or "") if isinstance(user, Mapping) else "",
        author_id=_user_id(user),
        labels=[
            str(x.get("name") if isinstance(x, Mapping) else x) for x in issue.get("labels") or []
        ],
        html_url=str(issue.get("html_url") or ""),
        author_association=str(issue.get("author_association") or ""),
    )


def _filed_thread(public: Thread) -> Thread:
    """The thread of a handoff issue this run just filed: no comment, never edited, the
    same `viewer`; with the gap listing the public thread's read brought (`listings`)."""
    return Thread(
        me=public.me,
        listing=public.listing,
        listing_visibility=public.listing_visibility,
        listing_error=public.listing_error,
    )


def _desk_problem(private: str, exc: BillingopsError) -> BillingopsError:
    """A private desk that cannot be reached: one line that says the fix (SPEC §5b)."""
    fix = (
        f"the token needs Issues: read and write and Metadata: read on {private} "
        "(billingops' GitHub App installed on both repositories, or a fine-grained token; the "
        "Actions GITHUB_TOKEN cannot write to another repository)"
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
