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
from billingops.models.issue import IssueSnapshot, LabelEvent
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


def read_triage(
    pool: ThreadPoolExecutor,
    tracker: IssueTracker,
    billing: BillingSource,
    config: Config,
    ticket: Ticket,
    association: str,
    listing: tuple[str, str],
) -> Reading:
    """The thread and the gap backlog in one request, with the Stripe lookup."""
    thread_f = pool.submit(tracker.read_thread, ticket.number, listing=listing)
    author = ticket.author if may_hold_a_role(ticket.author, association) else ""
    role_f = _roles(pool, tracker, [author] if author else [])
    events: list[LabelEvent] | None = None
    roles: dict[str, str | None] = {}
    label = config.verified_requester_label
    if label in ticket.labels:
        events = tracker.label_events(ticket.number)
        found = _roles(pool, tracker, roles_wanted(events, [label]))
        roles = {login: f.result() for login, f in found.items()}
    author_role = role_f[author].result() if author else None
    read = read_billing(billing, config, ticket, author_role)
    return Reading(
        ticket=ticket,
        thread=thread_f.result(),
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
) -> Reading:
    """The issue, its thread and its label events; then what the core asks for (`reads_for`):
    when an approval label and a plan are on the issue, the roles of everyone whose word
    counts and the billing state."""
    issue_f = pool.submit(tracker.get_issue, number)
    thread_f = pool.submit(tracker.read_thread, number)
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
