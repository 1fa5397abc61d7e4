"""`billingops demo`: the whole flow on local stand-ins, no keys needed.

localstripe plays Stripe and the fake GitHub plays the support repository (and, in public
mode, a public support repository and its private desk). Every ticket goes through the real
desks and the real gateways, exactly as in Actions; only the servers are local. The Stripe
clock is frozen, so the demo prints the same every time.

Each scenario is a `Story`: the ticket's triage, then what the approvals did (a maintainer
applies the labels the plan needs; on the first ticket a triage-role user tries first and a
redelivered event follows), with every comment kept for `--verbose`.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import ExitStack
from dataclasses import dataclass, field
from typing import Any

from billingops.config import Config
from billingops.core.public import handoff_of
from billingops.desk import Desk
from billingops.desk.public import HandoffDesk, PublicDesk
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
# Public mode: a public support repository, and the private desk that gets the handoffs.
REPOSITORY = "acme/support"
PRIVATE_DESK = "acme/billing-desk"
# An empty repository for `billingops live-check --repository` (README: OWNER/SCRATCH).
SCRATCH_REPOSITORY = "acme/scratch"
PORTAL_LOGIN_URL = "https://billing.stripe.com/p/login/test_sandbox"
# The first ticket of the tour also shows a refused approval and a redelivered event.
STORY = "duplicate_subscriptions"


@dataclass(frozen=True)
class Scene:
    """One thing the demo shows in detail: a heading, a one-line outcome, the comment."""

    title: str
    outcome: str
    comment: str = ""


@dataclass(frozen=True)
class Approval:
    """One apply run: who applied which labels, and what billingops did."""

    who: str  # "maya (maintain role)"
    labels: tuple[str, ...]
    result: RunResult
    note: str = ""  # "a redelivered event"


@dataclass
class Story:
    """One scenario: its ticket, its triage, its approvals, and the detail behind them."""

    scenario: str
    number: int
    triage: RunResult  # the full triage (in public mode: the handoff's, in the desk)
    approvals: list[Approval] = field(default_factory=list)
    scenes: list[Scene] = field(default_factory=list)
    handoff: int | None = None  # public mode: the handoff issue in the private desk
    public_reply: str = ""  # public mode: what the public ticket got
    public_outcome: str = ""  # public mode: what was posted back after the approvals

    def contract(self, labels: Any) -> dict[str, Any]:
        """The story in `demo --json`."""
        t = self.triage
        return {
            "scenario": self.scenario,
            "issue": self.number,
            "handoff": self.handoff,
            "case": t.classification.case.value if t.classification else None,
            "plan": t.contract(labels)["plan"],
            "approvals": [
                {
                    "by": a.who.split(" ")[0],
                    "labels": list(a.labels),
                    "action": a.result.action,
                    "executed": [e.contract() for e in a.result.executed],
                    "reason": a.result.reason,
                }
                for a in self.approvals
            ],
            "public_reply": bool(self.public_reply) if self.handoff is not None else None,
            "public_outcome": bool(self.public_outcome) if self.handoff is not None else None,
        }


def _gateways(stripe_url: str, fake: FakeGitHub) -> tuple[Any, Any]:
    from billingops._billing.stripe_gateway import StripeGateway
    from billingops._tracker.github_gateway import GitHubGateway

    billing = StripeGateway(
        SANDBOX_API_KEY, stripe_url, compat=True, clock=lambda: float(DEFAULT_NOW)
    )
    tracker = GitHubGateway(
        "ghs_demo_token_not_a_secret", fake.repository, fake.url, seconds_between_writes=None
    )
    return billing, tracker


def _comment(fake: FakeGitHub, number: int, prefix: str, repo: str | None = None) -> str:
    found = [b for b in fake.comments_of(number, repo=repo) if b.startswith(prefix)]
    return found[-1] if found else ""


def _outcome(result: RunResult) -> str:
    prefix = f"{result.action}: "
    reason = result.reason.removeprefix(prefix)  # "refused: refused: ..." reads badly
    return f"{prefix}{reason}"


def _needed(result: RunResult) -> list[str]:
    """The approval labels the plan asks for, in plan order, once each."""
    labels = Config().labels
    out: list[str] = []
    for step in result.plan.steps if result.plan else []:
        if step.needs is not None and labels[step.needs] not in out:
            out.append(labels[step.needs])
    return out


def public_world(fake: FakeGitHub) -> None:
    """The public support repository and its private desk, with their people."""
    fake.set_visibility("public")
    fake.add_repo(PRIVATE_DESK)
    for repo in (None, PRIVATE_DESK):
        fake.add_collaborator(MAINTAINER, "maintain", repo=repo)
        fake.add_collaborator(TRIAGER, "triage", repo=repo)
        fake.add_collaborator(INBOX, "triage", repo=repo)


def public_config() -> Config:
    return Config(private_repository=PRIVATE_DESK, portal={"login_url": PORTAL_LOGIN_URL})


def handoff_number(fake: FakeGitHub, number: int) -> int | None:
    for n in fake.numbers(repo=PRIVATE_DESK):
        if handoff_of(fake.issue_json(n, repo=PRIVATE_DESK)["body"]) == (REPOSITORY, number):
            return n
    return None


def run(
    scenarios: Sequence[str] = TOUR, *, approvals: bool = True, public: bool = False
) -> Iterator[Story]:
    """Yield one story per scenario as it happens (so the terminal shows progress)."""
    with ExitStack() as stack:
        stripe_url = stack.enter_context(StripeServer()).base_url
        fake = stack.enter_context(FakeGitHub(REPOSITORY))
        billing, tracker = _gateways(stripe_url, fake)
        if public:
            public_world(fake)
            config = public_config()
            front: Any = PublicDesk(billing, tracker, config, REPOSITORY)
            back: Any = HandoffDesk(
                billing, tracker.for_repository(PRIVATE_DESK), config, PRIVATE_DESK
            )
        else:
            for login, role in ((MAINTAINER, "maintain"), (TRIAGER, "triage"), (INBOX, "triage")):
                fake.add_collaborator(login, role)
            front = back = Desk(billing, tracker, Config(), REPOSITORY)
        for name in scenarios:
            reset_sandbox(stripe_url)
            ticket = seed(stripe_url, name).ticket
            if ticket is None:  # a scenario without a customer-facing ticket
                continue
            author = "customer" if public else INBOX
            number = fake.add_issue(
                ticket.title, form_body(ticket), author=author, labels=["billing"]
            )
            first = front.triage(fake.issue_json(number))
            if public:
                yield _public_story(fake, back, name, number, first, approvals)
            else:
                yield _staff_story(fake, back, name, number, first, approvals)


def _staff_story(
    fake: FakeGitHub, desk: Desk, name: str, number: int, result: RunResult, approvals: bool
) -> Story:
    story = Story(name, number, result)
    story.scenes.append(
        Scene(
            f"#{number} {name}: triage",
            _outcome(result),
            _comment(fake, number, "<!-- billingops:triage"),
        )
    )
    if approvals:
        _approve(story, fake, desk, number, _needed(result), repo=None)
    return story


def _public_story(
    fake: FakeGitHub,
    desk: HandoffDesk,
    name: str,
    number: int,
    first: RunResult,
    approvals: bool,
) -> Story:
    handoff = handoff_number(fake, number)
    reply = _comment(fake, number, "<!-- billingops:public")
    if handoff is None:  # the desk could not be reached: the public reply alone
        return Story(name, number, first, public_reply=reply)
    # The full triage, as the desk has it (a dry run: nothing written twice).
    full = desk.triage(fake.issue_json(handoff, repo=PRIVATE_DESK), dry_run=True)
    story = Story(name, number, full, handoff=handoff, public_reply=reply)
    story.scenes.append(
        Scene(f"{REPOSITORY}#{number} {name}: the public reply", _outcome(first), reply)
    )
    story.scenes.append(
        Scene(
            f"{PRIVATE_DESK}#{handoff}: the handoff in the private desk",
            _outcome(full),
            _comment(fake, handoff, "<!-- billingops:triage", repo=PRIVATE_DESK),
        )
    )
    if approvals:
        _approve(story, fake, desk, handoff, _needed(full), repo=PRIVATE_DESK)
        story.public_outcome = _comment(fake, number, "<!-- billingops:public-outcome")
        if story.public_outcome:
            story.scenes.append(
                Scene(
                    f"{REPOSITORY}#{number}: the outcome posted back",
                    "what the customer reads (no amount, no id)",
                    story.public_outcome,
                )
            )
    return story


def _approve(
    story: Story, fake: FakeGitHub, desk: Any, number: int, needed: list[str], repo: str | None
) -> None:
    """The maintainer applies what the plan needs; on the demo's first ticket a triage-role
    user tries first, and the label arrives again afterwards (a redelivered event)."""
    if not needed:
        return
    where = f"{repo}#{number}" if repo else f"#{number}"
    if story.scenario == STORY:
        fake.advance(60)  # the triager reads the plan first
        fake.label_issue(number, needed[-1], actor=TRIAGER, repo=repo)
        refused = desk.apply(number)
        story.approvals.append(Approval(f"{TRIAGER} (triage role)", (needed[-1],), refused))
        story.scenes.append(
            Scene(f"{where}: {TRIAGER} (triage role) applies {needed[-1]}", _outcome(refused))
        )
    for label in needed:
        fake.advance(60)  # the maintainer reads the plan first
        fake.label_issue(number, label, actor=MAINTAINER, repo=repo)
    done = desk.apply(number)
    story.approvals.append(Approval(f"{MAINTAINER} (maintain role)", tuple(needed), done))
    story.scenes.append(
        Scene(
            f"{where}: {MAINTAINER} (maintain role) applies {' and '.join(needed)}",
            _outcome(done),
            _comment(fake, number, "<!-- billingops:triage", repo=repo),
        )
    )
    if story.scenario == STORY:
        fake.advance(60)
        fake.label_issue(number, needed[-1], actor=MAINTAINER, repo=repo)
        again = desk.apply(number)
        story.approvals.append(
            Approval(f"{MAINTAINER} (maintain role)", (needed[-1],), again, "a redelivered event")
        )
        story.scenes.append(
            Scene(f"{where}: the label is applied again (a redelivered event)", _outcome(again))
        )
