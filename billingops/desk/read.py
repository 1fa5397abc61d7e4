"""Reading: everything a run needs before deciding, with independent reads issued together.

Round trips (SPEC §8): a triage reads the GitHub thread (and the gap backlog, one GraphQL
request) while Stripe looks the customer up (1), reads the billing state (2); the desk
then writes (3). An author's role, and the roles behind a `verified-requester` or an
approval label, are read first when they matter: they decide whose login may identify a
customer, and who is asking.

Reading asks the core what to read, never what to do. Three reads depend on earlier ones,
and each of those questions is a pure function of what was read before it:

- after the issue, its thread and its label events (an apply): whose repository roles
  count, and whether Stripe is read at all (`core/apply.py:reads_for`, a `ReadPlan`);
- after the author's role: which identifiers Stripe looks up (`core/assess.py:
  lookup_ticket`: a staff author's login never identifies a customer);
- after the lookups: whose billing state is read (`core/resolve.py:resolve`: several
  different people, nobody's).

They cannot be answered up front from the first read without reading more than a run
needs: a lookup by a login that must not identify anyone, the billing of people the
ticket cannot be about, a request more. Their answers choose requests and are kept in the
`Reading` as what was read (the identifiers looked up, who they led to); what the run
does is decided once, from the whole `Reading`, by `core/apply.py:decide_apply` or
`core/triage.py:decide_triage`. Nothing here decides.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from concurrent.futures import Future, ThreadPoolExecutor

from billingops._billing.interface import BillingSource
from billingops._tracker.interface import IssueTracker
from billingops.config import Config
from billingops.core.apply import reads_for
from billingops.core.assess import lookup_ticket, may_hold_a_role, roles_wanted
from billingops.core.resolve import resolve
from billingops.models.billing import BillingState
from billingops.models.issue import IssueSnapshot, LabelEvent, Thread
from billingops.models.outcome import BillingRead, Reading
from billingops.models.ticket import Ticket


def read_billing(
    billing: BillingSource, config: Config, ticket: Ticket, author_role: str | None
) -> BillingRead:
    """What Stripe says about the ticket: its identifiers' customers, and their state."""
    ticket = lookup_ticket(ticket, author_role, config)
    if not ticket.has_identifier:
        return BillingRead(ticket=ticket)
    lookups = billing.lookup(
        stripe_ids=list(ticket.stripe_ids),
        emails=list(ticket.emails),
        github_username=ticket.github_username,
        metadata_key=config.github_username_metadata_key,
    )
    resolution = resolve(
        stripe_ids=ticket.stripe_ids,
        emails=ticket.emails,
        github_username=ticket.github_username,
        lookups=lookups,
    )
    if not resolution.found:
        return BillingRead(ticket=ticket, resolution=resolution)
    # Several different people: nobody's billing is read (or shown).
    state = (
        BillingState()
        if resolution.conflicting
        else billing.read_state(list(resolution.customer_ids))
    )
    return BillingRead(ticket=ticket, resolution=resolution, state=state)


def _roles(
    pool: ThreadPoolExecutor, tracker: IssueTracker, logins: Iterable[str]
) -> dict[str, Future[str | None]]:
    return {login: pool.submit(tracker.role_of, login) for login in logins}


# A Stripe read started before the run reads the issue's thread: (the author's role, what
# Stripe said). Public mode starts it with its first read, before the handoff issue it
# triages is even filed (issue 22): it needs only the ticket's words and author.
BillingAhead = Future[tuple[str | None, BillingRead]]


def read_billing_ahead(
    pool: ThreadPoolExecutor,
    tracker: IssueTracker,
    billing: BillingSource,
    config: Config,
    ticket: Ticket,
    association: str,
) -> BillingAhead:
    """The author's role when it matters (it decides whose login may identify a customer),
    then the Stripe lookup and the billing state, in the background."""
    author = ticket.author if may_hold_a_role(ticket.author, association) else ""

    def read() -> tuple[str | None, BillingRead]:
        role = tracker.role_of(author) if author else None
        return role, read_billing(billing, config, ticket, role)

    return pool.submit(read)


def _same_author(ahead: BillingAhead, ticket: Ticket) -> bool:
    """Whether the read ahead was of this ticket's author (whose role it read)."""
    read = ahead.result()[1].ticket
    return (read.author, read.author_id) == (ticket.author, ticket.author_id)


def _billing_of(
    ahead: BillingAhead, billing: BillingSource, config: Config, ticket: Ticket
) -> tuple[str | None, BillingRead]:
    """What the read ahead found, as `ticket`'s read: it was started from the same words and
    author under another number (public mode: before the handoff issue had one). Read again
    if the identifiers it looked up are not the ticket's (`read_triage` starts it again when
    the author, whose role it read, is not)."""
    role, read = ahead.result()
    looked = lookup_ticket(ticket, role, config)
    key = (looked.stripe_ids, looked.emails, looked.github_username)
    if key != (read.ticket.stripe_ids, read.ticket.emails, read.ticket.github_username):
        return role, read_billing(billing, config, ticket, role)
    return role, read.model_copy(update={"ticket": looked})


def read_triage(
    pool: ThreadPoolExecutor,
    tracker: IssueTracker,
    billing: BillingSource,
    config: Config,
    ticket: Ticket,
    association: str,
    listing: tuple[str, str],
    *,
    thread: Thread | None = None,
    ahead: BillingAhead | None = None,
) -> Reading:
    """The thread and the gap backlog in one request, with the Stripe lookup. `thread`: the
    thread when the caller knows it already (public mode: the handoff issue it just filed,
    with the gap listing read in its first request); `ahead`: the Stripe read when the
    caller started it already."""
    thread_f = (
        None
        if thread is not None
        else pool.submit(tracker.read_thread, ticket.number, listing=listing)
    )
    if ahead is None:
        ahead = read_billing_ahead(pool, tracker, billing, config, ticket, association)
    events: list[LabelEvent] | None = None
    roles: dict[str, str | None] = {}
    label = config.verified_requester_label
    if label in ticket.labels:
        events = tracker.label_events(ticket.number)
        found = _roles(pool, tracker, roles_wanted(events, [label]))
        roles = {login: f.result() for login, f in found.items()}
    if not _same_author(ahead, ticket):  # never another author's role (or Stripe read)
        ahead = read_billing_ahead(pool, tracker, billing, config, ticket, association)
    author_role, read = _billing_of(ahead, billing, config, ticket)
    return Reading(
        ticket=ticket,
        thread=thread if thread_f is None else thread_f.result(),
        events=events,
        roles=roles,
        author_role=author_role,
        billing=read,
    )


def read_apply(
    pool: ThreadPoolExecutor,
    tracker: IssueTracker,
    billing: BillingSource,
    config: Config,
    repository: str,
    number: int,
    view: Callable[[IssueSnapshot], IssueSnapshot] | None = None,
    listing: tuple[str, str] | None = None,
) -> Reading:
    """The issue, its thread (with the gap `listing`, in the same request: a gap the
    triage filed in its last round gets its number) and its label events; then what the
    core asks for (`reads_for`): when an approval label and a plan are on the issue, the
    roles of everyone whose word counts and the billing state."""
    issue_f = pool.submit(tracker.get_issue, number)
    thread_f = pool.submit(tracker.read_thread, number, listing=listing)
    events_f = pool.submit(tracker.label_events, number)
    issue, thread, events = issue_f.result(), thread_f.result(), events_f.result()
    if view is not None:
        issue = view(issue)
    plan = reads_for(issue, thread, events, config, repository)
    if not plan.billing:
        return Reading(issue=issue, ticket=plan.ticket, thread=thread, events=events)
    role_f = _roles(pool, tracker, plan.roles)
    # The author's role first: it decides whose login may identify a customer.
    author_role = role_f[plan.author].result() if plan.author else None
    read = read_billing(billing, config, plan.ticket, author_role)
    return Reading(
        issue=issue,
        ticket=plan.ticket,
        thread=thread,
        events=events,
        roles={login: f.result() for login, f in role_f.items()},
        author_role=author_role,
        billing=read,
    )
