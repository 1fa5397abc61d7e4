"""Who is asking, who the ticket is about, and what to propose: the assessment every run
makes of a ticket (SPEC §4, §5a). Pure: the desk reads roles, label events, Stripe's
lookups and state, and passes them in.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from billingops.config import Config
from billingops.core import effects
from billingops.core.approval import labelers
from billingops.core.classify import classify
from billingops.core.plan import make_plan
from billingops.core.requester import identify, is_staff, vouch_problem
from billingops.models.billing import BillingState
from billingops.models.issue import LabelEvent
from billingops.models.outcome import Asker, Assessment, BillingRead
from billingops.models.ticket import Requester, Ticket

MAX_LOOKUPS = 5  # Stripe ids, and emails, looked up per ticket (the first ones it names)
# GitHub's relation of an author to the repository; only these can hold a role worth a
# lookup (anyone else is a customer, and costs no request).
MAYBE_STAFF = frozenset({"OWNER", "MEMBER", "COLLABORATOR", ""})


def may_hold_a_role(author: str, association: str) -> bool:
    """Whether the author's role is worth a request."""
    return bool(author) and association.upper() in MAYBE_STAFF


def roles_wanted(
    events: Sequence[LabelEvent], labels: Sequence[str], author: str = "", association: str = ""
) -> list[str]:
    """Every login whose repository role a decision needs: who applied these labels (bots
    are judged by name, not role), and the author when they may be staff."""
    wanted = {
        login
        for label in labels
        for login in labelers(events, label)
        if not login.endswith("[bot]")
    }
    if may_hold_a_role(author, association):
        wanted.add(author)
    return sorted(wanted)


def lookup_ticket(ticket: Ticket, author_role: str | None, config: Config) -> Ticket:
    """The identifiers to look up in Stripe. A customer filing for themselves (no email or
    Stripe id, not staff) is looked up by their own login; a staff author's login never
    identifies a customer. A ticket is anyone's text: it gets a few lookups, not one per
    identifier it lists."""
    if not ticket.has_identifier and ticket.author and not is_staff(author_role, config):
        ticket = ticket.model_copy(update={"github_username": ticket.author})
    if not ticket.has_identifier:
        return ticket
    return ticket.model_copy(
        update={
            "stripe_ids": ticket.stripe_ids[:MAX_LOOKUPS],
            "emails": ticket.emails[:MAX_LOOKUPS],
        }
    )


def asker_of(
    ticket: Ticket,
    author_role: str | None,
    events: Sequence[LabelEvent] | None,
    roles: Mapping[str, str | None],
    config: Config,
    *,
    edited_at: int,
) -> Asker:
    """The author's role and the verified-requester label's standing: it counts when an
    approver applied it after the ticket's current version (body or title, GitHub's clock)."""
    label = config.verified_requester_label
    if label not in ticket.labels:
        return Asker(login=ticket.author, role=author_role)
    events = list(events or [])
    renamed = [e.created_at for e in events if e.event == "renamed"]
    problem = vouch_problem(
        events,
        {login: roles.get(login) for login in labelers(events, label)},
        config,
        author=ticket.author,
        ticket_version_at=max([edited_at, *renamed]),
    )
    return Asker(login=ticket.author, role=author_role, label_present=True, label_problem=problem)


def who(
    ticket: Ticket, asker: Asker, config: Config, state: BillingState | None = None
) -> Requester:
    return identify(
        ticket.author,
        asker.role,
        state or BillingState(),
        config,
        label_present=asker.label_present,
        label_problem=asker.label_problem,
        author_id=ticket.author_id,
    )


def assess(read: BillingRead, asker: Asker, config: Config, ref: str) -> Assessment:
    """Classify and plan on what Stripe said. `ref`: the issue's reference in Stripe
    metadata (`effects.issue_ref`); the plan is made on the state before billingops' own
    writes on this issue."""
    ticket, resolution, state = read.ticket, read.resolution, read.state
    if not ticket.has_identifier or not resolution.found:
        return Assessment(
            ticket=ticket,
            resolution=resolution,
            state=BillingState(),
            requester=who(ticket, asker, config),
        )
    before = effects.without_own_effects(state, ref)
    requester = who(ticket, asker, config, before)
    classification = classify(ticket, resolution, before, config)
    plan = make_plan(classification.case, ticket, resolution, before, config, requester)
    return Assessment(
        ticket=ticket,
        resolution=resolution,
        state=state,
        classification=classification,
        plan=plan,
        requester=requester,
    )
