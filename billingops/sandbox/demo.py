"""`billingops demo`: the whole flow on local stand-ins, no keys needed.

localstripe plays Stripe and the fake GitHub plays the support repository. Every ticket
goes through the real desk and the real gateways, exactly as in Actions; only the
servers are local. The Stripe clock is frozen, so the demo prints the same every time.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import ExitStack
from dataclasses import dataclass

from billingops.config import Config
from billingops.desk import Desk
from billingops.models.result import RunResult
from billingops.sandbox.fake_github import FakeGitHub
from billingops.sandbox.scenarios import seed
from billingops.sandbox.stripe_server import (
    DEFAULT_NOW,
    SANDBOX_API_KEY,
    StripeServer,
    reset_sandbox,
)
from billingops.sandbox.tickets import form_body

# One ticket per case, in the order a support lead meets them.
TOUR = (
    "duplicate_subscriptions",
    "team_seats",
    "past_due",
    "cancel_at_period_end",
    "product_failure",
    "annual_plan",
    "disputed_charge",
)
MAINTAINER, TRIAGER = "maya", "tim"
# Support staff who file tickets from the inbox (the mailbox vouches for the customer).
INBOX = "sam"


@dataclass(frozen=True)
class Scene:
    """One thing the demo shows: a heading, a one-line outcome, and the comment."""

    title: str
    outcome: str
    comment: str = ""


def _desk(stripe_url: str, fake: FakeGitHub) -> Desk:
    from billingops._billing.stripe_gateway import StripeGateway
    from billingops._tracker.github_gateway import GitHubGateway

    billing = StripeGateway(
        SANDBOX_API_KEY, stripe_url, compat=True, clock=lambda: float(DEFAULT_NOW)
    )
    tracker = GitHubGateway(
        "ghs_demo_token_not_a_secret", fake.repository, fake.url, seconds_between_writes=None
    )
    return Desk(billing, tracker, Config(), fake.repository)


def _bot_comment(fake: FakeGitHub, number: int) -> str:
    found = [b for b in fake.comments_of(number) if b.startswith("<!-- billingops:triage")]
    return found[0] if found else ""


def _outcome(result: RunResult) -> str:
    prefix = f"{result.action}: "
    reason = result.reason.removeprefix(prefix)  # "refused: refused: ..." reads badly
    return f"{prefix}{reason}"


def run(scenarios: Sequence[str] = TOUR, *, approvals: bool = True) -> Iterator[Scene]:
    """Yield scenes as they happen (so the terminal shows progress)."""
    with ExitStack() as stack:
        stripe_url = stack.enter_context(StripeServer()).base_url
        fake = stack.enter_context(FakeGitHub("acme/support"))
        fake.add_collaborator(MAINTAINER, "maintain")
        fake.add_collaborator(TRIAGER, "triage")
        fake.add_collaborator(INBOX, "triage")
        desk = _desk(stripe_url, fake)
        for name in scenarios:
            reset_sandbox(stripe_url)
            ticket = seed(stripe_url, name).ticket
            if ticket is None:  # a scenario without a customer-facing ticket
                continue
            number = fake.add_issue(
                ticket.title, form_body(ticket), author=INBOX, labels=["billing"]
            )
            result = desk.triage(fake.issue_json(number))
            yield Scene(f"#{number} {name}: triage", _outcome(result), _bot_comment(fake, number))
            if approvals and name == "duplicate_subscriptions":
                yield from _approval_story(desk, fake, number, lambda: desk.billing)


def _approval_story(
    desk: Desk, fake: FakeGitHub, number: int, billing: Callable[[], object]
) -> Iterator[Scene]:
    fake.advance(60)  # the maintainer reads the plan first
    fake.label_issue(number, "approve-refund", actor=TRIAGER)
    refused = desk.apply(number)
    yield Scene(f"#{number}: {TRIAGER} (triage role) applies approve-refund", _outcome(refused))
    fake.advance(60)  # the maintainer reads the plan first
    fake.label_issue(number, "approve-cancel", actor=MAINTAINER)
    fake.advance(60)  # the maintainer reads the plan first
    fake.label_issue(number, "approve-refund", actor=MAINTAINER)
    done = desk.apply(number)
    yield Scene(
        f"#{number}: {MAINTAINER} (maintain role) applies approve-cancel and approve-refund",
        _outcome(done),
        _bot_comment(fake, number),
    )
    fake.advance(60)  # the maintainer reads the plan first
    fake.label_issue(number, "approve-refund", actor=MAINTAINER)
    again = desk.apply(number)
    yield Scene(f"#{number}: the label is applied again (a redelivered event)", _outcome(again))
