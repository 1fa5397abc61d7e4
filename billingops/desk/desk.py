"""Triage and apply for one issue, level-triggered (SPEC §5, §5a): read, decide, perform.

Each run reads what it needs (`desk/read.py`), hands it to the pure core, which returns an
`Outcome` (`core/triage.py`, `core/apply.py`), and performs that outcome in a fixed order
(`desk/perform.py`). No rule lives here.

Trust (SPEC §5a): the ticket is anyone's text. billingops reads state only from comments
of its own account (GitHub's `viewer`), last edited by nobody else (GitHub's record), and
decides "applied after the plan was posted" on GitHub's clock alone.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from billingops._billing.interface import BillingSource
from billingops._billing.read_only import writes_stripe
from billingops._tracker.interface import IssueTracker
from billingops.config import Config
from billingops.core import effects
from billingops.core.apply import decide_apply
from billingops.core.assess import assess
from billingops.core.intake import parse_issue
from billingops.core.triage import decide_triage, not_a_ticket
from billingops.desk.backlog import GAP_LABEL, Backlog
from billingops.desk.perform import Partial, perform, perform_triage
from billingops.desk.read import BillingAhead, read_apply, read_billing, read_triage
from billingops.models.issue import IssueSnapshot, Thread
from billingops.models.outcome import Asker, Assessment
from billingops.models.result import RunResult
from billingops.models.ticket import Ticket

__all__ = ["Asker", "Assessment", "Desk", "Partial", "gap_listing", "not_a_ticket"]


def gap_listing(config: Config, repository: str) -> tuple[str, str]:
    """(backlog repository, label): the gap issues a triage of an issue in `repository`
    lists with its thread (the backlog is `Backlog.repository`)."""
    return (config.backlog_repository or repository, GAP_LABEL)


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

    def triage(
        self,
        issue: Mapping[str, Any],
        *,
        dry_run: bool = False,
        thread: Thread | None = None,
        ahead: BillingAhead | None = None,
    ) -> RunResult:
        """Triage the issue as the event carries it: read, decide, perform. An issue that
        is not a ticket (no intake label, a pull request) is read no further.

        `thread`: the issue's thread with the gap listing, when the caller knows it (an
        issue it just filed); `ahead`: the Stripe read, when the caller started it
        (`read_billing_ahead`). Public mode passes both (issue 22)."""
        ticket = parse_issue(issue, self.repository)
        if (not_ours := not_a_ticket(ticket, self.config)) is not None:
            return not_ours
        backlog = Backlog(
            self.tracker, self.config, self.repository, public=True if self.public_backlog else None
        )
        reading = read_triage(
            self._pool, self.tracker, self.billing, self.config, ticket,
            str(issue.get("author_association") or ""),
            listing=gap_listing(self.config, self.repository), thread=thread, ahead=ahead,
        )  # fmt: skip
        outcome = decide_triage(reading, self.config, self.repository)
        return perform_triage(
            outcome, reading.thread, self.tracker, self.config, backlog, self._pool, dry_run=dry_run
        )

    def apply(self, number: int, *, dry_run: bool = False) -> RunResult:
        """Execute what the approval labels on the issue authorise, exactly once: read,
        decide, perform. On the read-only port the core holds approved Stripe writes for
        the apply job (`core/apply.py:held`)."""
        reading = read_apply(
            self._pool, self.tracker, self.billing, self.config, self.repository, number,
            self.view, listing=gap_listing(self.config, self.repository),
        )  # fmt: skip
        outcome = decide_apply(
            reading, self.config, self.repository, stripe_writes=writes_stripe(self.billing)
        )
        return perform(
            outcome, reading.thread, self.tracker, self.billing, self.config, dry_run=dry_run
        )

    def assess(self, ticket: Ticket, asker: Asker | None = None) -> Assessment:
        """Read Stripe for a ticket and assess it (for tools and tests)."""
        asker = asker or Asker(ticket.author)
        read = read_billing(self.billing, self.config, ticket, asker.role)
        ref = effects.issue_ref(self.repository, ticket.number)
        return assess(read, asker, self.config, ref)
