"""Product gaps as backlog issues (SPEC §7): one issue per gap key, never filed twice. The
issue body, its markers and the rule of which issue is a gap's are `core/backlog.py` (pure).

How a gap issue is found again
------------------------------
By listing the backlog repository's issues labeled `gap:<key>` (state all, one request per
key) and keeping those whose body carries the hidden marker line
`<!-- billingops:gap <key> -->`. Never by the search API: it lags behind writes by
seconds to minutes (a second ticket would file the gap again) and allows 30 requests a
minute. Labels are the trust boundary: only people with triage access or more can label.

The issue body belongs to billingops; its last line is the machine-readable ticket list

    <!-- billingops:gap-tickets v1 data=<base64url JSON> sum=<sha256 prefix> -->

one entry per ticket (repository, number, title, MRR at risk per currency when it was
triaged). The visible table and counts are rendered from it (`templates/gap_issue.md.j2`).
The list is a cache: the source of truth is each ticket's own triage comment (its hidden
`gaps` refs), and `billingops gaps --sync` rebuilds the lists from them, keeping the stored
revenue (it has no Stripe access).

Two tickets racing (deterministic)
----------------------------------
GitHub has no conditional create, so two runs can both see no issue and both create one.
The issue kept is the *oldest open one* (lowest number, as GitHub numbers in creation
order). A triage lists nothing after its create (SPEC §8: the create, the labels and the
ticket's comment share one round trip, the comment naming the gap by its label until the
next run writes the number in): the next triage that links the gap and sees more than one
open issue for it in its round-1 listing adds their tickets to the kept one, comments
`Duplicate of #N` on the others (found by marker) and closes them (`not_planned`;
`link(settle=True)`). `billingops gaps --sync` does the same for every gap.
`link()` on its own (no triage) still lists again after its own create and closes only
the issue it created, so its comment is written once. A run that created nothing but finds
several open issues for one key without `settle` (an earlier run died half-way) links to
the oldest and copies the others' tickets into it, without closing them. Two triages that
settle the same duplicates at once can both comment on it. If every issue of a key is
closed, the one closed last is the gap's issue.

Two runs appending to the same list at the same moment can lose one entry (GitHub has no
conditional update for issues); the ticket's comment still links the gap, and
`billingops gaps --sync` restores the entry.

A closed gap is not reopened: a ticket that hits it comments once ("seen again after
closing", found by marker) and gets a ref with `closed=True`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from billingops._tracker.interface import Comment, IssueSnapshot, IssueTracker
from billingops.config import Config
from billingops.core.audience import Audience, audience_of
from billingops.core.backlog import (
    CASE_PREFIX,
    GAP_LABEL,
    KEY_PREFIX,
    GapIssue,
    LinkedTicket,
    as_gap_issue,
    as_listed,
    decode_tickets,
    encode_tickets,
    gap_key_of,
    gap_title,
    listed_ref,
    pick,
    render_duplicate,
    render_gap_issue,
    render_seen_again,
    revenue_at_risk,
    sort_tickets,
    total_revenue,
)
from billingops.core.gaps import Gap, GapKey
from billingops.core.ownership import find_bot_comment, trusted_state
from billingops.core.public import is_settled_copy
from billingops.errors import BillingopsError
from billingops.models.decision import GapRef
from billingops.models.issue import same_login


@dataclass
class BacklogWriter:
    """Every backlog write goes through here, so --dry-run writes nothing."""

    tracker: IssueTracker
    dry_run: bool = False
    would_write: list[str] = field(default_factory=list)

    def create(self, title: str, body: str, labels: list[str]) -> IssueSnapshot | None:
        if self.dry_run:
            self.would_write.append(
                f"--- would create issue in {self.tracker.repository} "
                f"labeled {', '.join(labels)}: {title} ---\n{body}"
            )
            return None
        return self.tracker.create_issue(title=title, body=body, labels=labels)

    def edit_body(self, number: int, body: str) -> None:
        if self.dry_run:
            self.would_write.append(
                f"--- would edit issue {self.tracker.repository}#{number} ---\n{body}"
            )
            return
        self.tracker.edit_issue(number, body=body)

    def comment_once(self, number: int, body: str, comments: Iterable[Comment]) -> None:
        """Find-by-marker (the first line), then write once."""
        first = body.split("\n", 1)[0]
        me = self.tracker.whoami()  # a look-alike by someone else does not count as ours
        if any(c.body.split("\n", 1)[0] == first and same_login(c.author, me) for c in comments):
            return
        if self.dry_run:
            self.would_write.append(
                f"--- would comment on {self.tracker.repository}#{number} ---\n{body}"
            )
            return
        self.tracker.create_comment(number, body)

    def close(self, number: int, reason: str) -> None:
        if self.dry_run:
            self.would_write.append(
                f"--- would close {self.tracker.repository}#{number} ({reason}) ---"
            )
            return
        self.tracker.edit_issue(number, state="closed", state_reason=reason)


@dataclass(frozen=True)
class SyncChange:
    """What `--sync` did to one gap issue."""

    key: str
    issue: int
    added: list[str]
    removed: list[str]
    status: str  # unchanged, rewritten, would_rewrite
    closed: list[int] = field(default_factory=list)  # duplicates closed (or that would be)


class Backlog:
    """The gap backlog of one support repository."""

    def __init__(
        self,
        tracker: IssueTracker,
        config: Config,
        support_repository: str,
        *,
        public: bool | None = None,
    ) -> None:
        """`tracker` may point at the support or the backlog repository; the backlog is
        `config.backlog_repository`, else the support repository. `public`: whether the
        backlog repository is public, when the caller knows (triage reads it with the gap
        listing); else `is_public` asks GitHub once."""
        self.config = config
        self.public = public
        self.support_repository = support_repository
        self.repository = config.backlog_repository or support_repository
        if tracker.repository.lower() == self.repository.lower():
            self.tracker = tracker
        else:
            self.tracker = tracker.for_repository(self.repository)
        self.would_write: list[str] = []

    def is_public(self) -> bool:
        """Whether the backlog repository is public or internal, as GitHub says of that
        repository itself (SPEC §5b): one `GET /repos/{owner}/{repo}` unless known, cached.
        When GitHub cannot say, public: the safe side."""
        if self.public is None:
            self.public = self.visibility_known(self._visibility())
        return self.public

    def _visibility(self) -> dict[str, object] | None:
        try:
            return self.tracker.visibility()
        except BillingopsError:
            return None

    @staticmethod
    def visibility_known(seen: Mapping[str, object] | None) -> bool:
        """Public unless GitHub said private (internal counts as public)."""
        return audience_of(seen, Config()) is Audience.public

    # -- finding ------------------------------------------------------------------

    def find(self, key: str, listing: Iterable[IssueSnapshot] | None = None) -> list[GapIssue]:
        """Every issue of the key (labeled `gap:<key>` with its marker), any state; from
        `listing` (see `prefetch`) when given, else one listing request."""
        if listing is None:
            listing = self.tracker.list_issues(labels=[f"{KEY_PREFIX}{key}"], state="all")
        return [g for g in (as_gap_issue(i, key) for i in listing) if g is not None]

    def prefetch(self) -> list[IssueSnapshot]:
        """Every gap issue of every key (label `product-gap`, any state) in one request, for
        `link(listing=...)`: a triage can read it together with its other first reads,
        before it knows which gaps the ticket shows."""
        return self.tracker.list_issues(labels=[GAP_LABEL], state="all")

    def open_gaps(self) -> list[GapIssue]:
        """The open gap issues, one per key (duplicates left open by a crash are skipped)."""
        return [kept for kept, _ in self._open_groups()]

    def _open_groups(self) -> list[tuple[GapIssue, list[GapIssue]]]:
        """(kept, open duplicates) per key, in issue order."""
        listed = self.tracker.list_issues(labels=[GAP_LABEL], state="open")
        by_key: dict[str, list[GapIssue]] = {}
        for issue in listed:
            g = as_gap_issue(issue)
            if g is not None:
                by_key.setdefault(g.key, []).append(g)
        groups = []
        for found in by_key.values():
            kept, duplicates = pick(found)
            if kept is not None:
                groups.append((kept, duplicates))
        return sorted(groups, key=lambda kd: kd[0].number)

    # -- linking a ticket ---------------------------------------------------------

    def expected_refs(self, gaps: list[Gap], listing: list[IssueSnapshot]) -> list[GapRef]:
        """The refs `link` will return, read from the prefetched listing without a request,
        so the ticket's comment can be written in the same round as the gap issues. A gap
        with no issue yet has no number until `link` creates it."""
        keys = dict.fromkeys(GapKey(g.key).value for g in gaps)
        return [listed_ref(key, listing) for key in keys]

    def entry(
        self, ticket_number: int, ticket_title: str, revenue_at_risk: dict[str, int]
    ) -> LinkedTicket:
        entry = LinkedTicket(
            repository=self.support_repository,
            number=ticket_number,
            title=ticket_title.strip(),
            revenue=dict(sorted(revenue_at_risk.items())),
        )
        return as_listed(entry, public=self.is_public())

    def missing(self, gaps: list[Gap], listing: list[IssueSnapshot]) -> list[str]:
        """The keys of `gaps` with no issue in `listing` (in order, once each)."""
        keys = dict.fromkeys(GapKey(g.key).value for g in gaps)
        return [key for key in keys if not self.find(key, listing)]

    def create_one(self, key: str, entry: LinkedTicket, *, dry_run: bool) -> IssueSnapshot | None:
        """File the gap's backlog issue, listing the ticket already (None in a dry run).
        A triage does not list again afterwards (SPEC §8: one round trip less): a
        concurrent creator of the same gap is settled by the next run that lists both
        (`link(settle=True)`), or by `billingops gaps --sync`."""
        writer = BacklogWriter(self.tracker, dry_run)
        issue = self._file(key, entry, writer)
        self.would_write.extend(writer.would_write)
        return issue

    def _file(self, key: str, entry: LinkedTicket, writer: BacklogWriter) -> IssueSnapshot | None:
        """The gap's backlog issue, filed listing the ticket (None in a dry run)."""
        return writer.create(
            gap_title(key),
            render_gap_issue(key, [entry], public=self.is_public()),
            [GAP_LABEL, f"{KEY_PREFIX}{key}"],
        )

    def link(
        self,
        ticket_number: int,
        ticket_title: str,
        gaps: list[Gap],
        revenue_at_risk: dict[str, int],
        *,
        dry_run: bool,
        linked: Iterable[GapRef] = (),
        listing: list[IssueSnapshot] | None = None,
        settle: bool = False,
    ) -> list[GapRef]:
        """Link the ticket to one backlog issue per gap; refs in the order of `gaps`.

        `linked`: the refs of the ticket's previous triage comment. They only spare a
        request: a ticket already told that a gap was closed does not look for its
        "seen again" comment again. `listing`: the result of `prefetch()`, used instead of
        the first listing of each key (the listing after a create is always fresh).
        `settle`: close every open duplicate of a linked gap, not only one this run
        created (a triage lists nothing after its own create: the next run that sees
        both issues of a gap settles them, SPEC §7).
        """
        writer = BacklogWriter(self.tracker, dry_run)
        entry = self.entry(ticket_number, ticket_title, revenue_at_risk)
        before = {r.key: r for r in linked}
        refs: list[GapRef] = []
        done: set[str] = set()
        for gap in gaps:
            key = GapKey(gap.key).value
            if key in done:
                continue
            done.add(key)
            refs.append(self._link_one(key, entry, writer, before.get(key), listing, settle=settle))
        self.would_write.extend(writer.would_write)
        return refs

    def _link_one(
        self,
        key: str,
        entry: LinkedTicket,
        writer: BacklogWriter,
        before: GapRef | None,
        listing: list[IssueSnapshot] | None,
        *,
        settle: bool = False,
    ) -> GapRef:
        found = self.find(key, listing)
        created: IssueSnapshot | None = None
        if not found:
            created = self._file(key, entry, writer)
            if created is None:  # dry run
                return GapRef(key=key)
            found = self.find(key)  # did another run create one meanwhile?
            if all(g.number != created.number for g in found):
                mine = as_gap_issue(created, key)
                found = [*found, mine] if mine else found
        kept, duplicates = pick(found)
        assert kept is not None
        if not kept.open:
            if not (before and before.closed and before.issue == kept.number):
                body = render_seen_again(key, entry)
                writer.comment_once(kept.number, body, self.tracker.list_comments(kept.number))
            return GapRef(key=key, issue=kept.number, closed=True)
        public = self.is_public()
        tickets = [*kept.tickets, *(t for d in duplicates for t in d.tickets), entry]
        merged = sort_tickets(tickets)
        # Entries written before (a title unmasked, revenue in a backlog that is public
        # now) are brought in line whenever the body is rewritten, and make it rewritten.
        stale = any(as_listed(t, public=public) != t for t in kept.tickets)
        if (
            [t.ident for t in merged] != [t.ident for t in kept.tickets]
            or not kept.list_ok
            or stale
        ):
            writer.edit_body(kept.number, render_gap_issue(key, merged, public=public))
        for dup in duplicates:
            if settle or (created is not None and dup.number == created.number):
                self._close_duplicate(dup, kept.number, writer)
        return GapRef(key=key, issue=kept.number)

    def unlink(self, numbers: Iterable[int], *, dry_run: bool) -> None:
        """Take the support repository's issues `numbers` off every open gap issue's list:
        a handoff copy settled as a duplicate of the kept one is not a ticket of its own
        (two racing triages each filed one and linked it). One listing, then an edit of each
        gap issue that lists one of them."""
        drop = {(self.support_repository.lower(), n) for n in numbers}
        if not drop:
            return
        writer = BacklogWriter(self.tracker, dry_run)
        for issue in self.tracker.list_issues(labels=[GAP_LABEL], state="open"):
            gap = as_gap_issue(issue)
            if gap is None or not gap.list_ok:
                continue
            kept = [t for t in gap.tickets if t.ident not in drop]
            if len(kept) != len(gap.tickets):
                body = render_gap_issue(gap.key, kept, public=self.is_public())
                writer.edit_body(gap.number, body)
        self.would_write.extend(writer.would_write)

    def _close_duplicate(self, dup: GapIssue, canonical: int, writer: BacklogWriter) -> None:
        body = render_duplicate(canonical)
        writer.comment_once(dup.number, body, self.tracker.list_comments(dup.number))
        writer.close(dup.number, "not_planned")

    # -- repairing the lists ------------------------------------------------------

    def sync(self, support: IssueTracker, *, dry_run: bool, workers: int = 4) -> list[SyncChange]:
        """Rebuild every open gap issue's list from the tickets' own triage comments.

        Tickets: the support repository's issues with a `billing:` label. An entry keeps
        its stored revenue (sync reads no Stripe); a ticket that is new to the list gets
        none. Entries of other support repositories are left as they are. Open duplicates
        of a gap (a run that died half-way) are closed, pointing to the kept issue.
        """
        from concurrent.futures import ThreadPoolExecutor

        groups = self._open_groups()
        tickets = [
            i
            for i in support.list_issues(labels=[], state="all")
            if any(x.startswith(CASE_PREFIX) for x in i.labels)
        ]
        with ThreadPoolExecutor(max(1, workers)) as pool:
            threads = list(pool.map(lambda i: support.read_thread(i.number), tickets))
        hits: dict[str, list[IssueSnapshot]] = {}
        for issue, thread in zip(tickets, threads, strict=True):
            if is_settled_copy(thread):
                continue  # a handoff's copy, closed naming the kept one: not a ticket
            # Only billingops' own, unaltered comment says which gaps a ticket hit.
            state = trusted_state(find_bot_comment(thread.comments, thread.me), thread.me)
            for ref in state.gaps if state else []:
                if not ref.closed:
                    hits.setdefault(ref.key, []).append(issue)
        writer = BacklogWriter(self.tracker, dry_run)
        here = self.support_repository.lower()
        changes: list[SyncChange] = []
        for gap, duplicates in groups:
            stored: dict[tuple[str, int], LinkedTicket] = {}
            for t in [*gap.tickets, *(t for d in duplicates for t in d.tickets)]:
                stored.setdefault(t.ident, t)
            rebuilt = [t for t in stored.values() if t.repository.lower() != here]
            for issue in hits.get(gap.key, []):
                old = stored.get((here, issue.number))
                rebuilt.append(
                    LinkedTicket(
                        repository=old.repository if old else self.support_repository,
                        number=issue.number,
                        title=issue.title.strip(),
                        revenue=dict(old.revenue) if old else {},
                    )
                )
            public = self.is_public()
            rebuilt = [as_listed(t, public=public) for t in sort_tickets(rebuilt)]
            body = render_gap_issue(gap.key, rebuilt, public=public)
            new_ids = {t.ident for t in rebuilt}
            old_ids = {t.ident for t in gap.tickets}
            added = [t.reference for t in rebuilt if t.ident not in old_ids]
            removed = [t.reference for t in gap.tickets if t.ident not in new_ids]
            if body == gap.issue.body:
                status = "unchanged"
            else:
                writer.edit_body(gap.number, body)
                status = "would_rewrite" if dry_run else "rewritten"
            for dup in duplicates:
                self._close_duplicate(dup, gap.number, writer)
            closed = [d.number for d in duplicates]
            changes.append(SyncChange(gap.key, gap.number, added, removed, status, closed))
        self.would_write.extend(writer.would_write)
        return changes


__all__ = [
    "GAP_LABEL",
    "Backlog",
    "BacklogWriter",
    "GapIssue",
    "LinkedTicket",
    "SyncChange",
    "as_gap_issue",
    "as_listed",
    "decode_tickets",
    "encode_tickets",
    "gap_key_of",
    "gap_title",
    "pick",
    "render_gap_issue",
    "revenue_at_risk",
    "sort_tickets",
    "total_revenue",
]
