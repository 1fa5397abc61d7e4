"""`billingops sandbox`: the demo's stand-ins left running, so that every command can be
tried without keys.

localstripe plays Stripe (seeded with the demo's scenarios) and the fake GitHub plays a
support repository whose tickets were filed through the issue form and triaged once (so
`gaps` and `audit` have a backlog and a history). The environment a newcomer exports points
every command at them; nothing leaves 127.0.0.1.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from billingops.config import Config
from billingops.sandbox.demo import (
    MAINTAINER,
    PORTAL_LOGIN_URL,
    PRIVATE_DESK,
    REPOSITORY,
    SCRATCH_REPOSITORY,
    TOUR,
    TRIAGER,
    handoff_number,
    public_world,
)
from billingops.sandbox.fake_github import FakeGitHub
from billingops.sandbox.scenarios import seed
from billingops.sandbox.stripe_server import (
    DEFAULT_NOW,
    SANDBOX_API_KEY,
    StripeServer,
    reset_sandbox,
)
from billingops.sandbox.tickets import form_body

# Not a secret: the fake GitHub's own token, shaped like an Actions token.
SANDBOX_GITHUB_TOKEN = "ghs_billingops_sandbox_not_a_secret"
_CONFIG = """\
# billingops sandbox config (written by `billingops sandbox`). localstripe has no billing
# portal, so the portal is described here, as a restricted key without portal access
# would need.
portal:
  login_url: {login_url}
  allows_cancellation: true
  allows_invoice_history: true
"""
# Public mode (`billingops sandbox --public`): the support repository is public, and the
# handoffs go to this private desk (SPEC §5b).
_PUBLIC_CONFIG = """\
private_repository: {desk}
"""


@dataclass
class Session:
    stripe_url: str
    github_url: str
    workdir: Path
    tickets: dict[int, str] = field(default_factory=dict)  # issue number -> scenario
    events: dict[int, Path] = field(default_factory=dict)  # issue number -> event file
    public: bool = False
    # Public mode: ticket number -> its handoff issue in the private desk, and its event.
    handoffs: dict[int, int] = field(default_factory=dict)
    handoff_events: dict[int, Path] = field(default_factory=dict)
    # A ticket filed but not triaged yet: what `triage --dry-run` shows is what it would write.
    new_ticket: int | None = None

    @property
    def config_path(self) -> Path:
        return self.workdir / "billingops.yml"

    def environment(self) -> dict[str, str]:
        """What to export so that every command talks to the stand-ins."""
        first = self.new_ticket if self.new_ticket is not None else min(self.events, default=None)
        env = {
            "STRIPE_API_KEY": SANDBOX_API_KEY,
            "STRIPE_API_BASE": self.stripe_url,
            "BILLINGOPS_SANDBOX": "localstripe",
            "GITHUB_TOKEN": SANDBOX_GITHUB_TOKEN,
            "GITHUB_API_URL": self.github_url,
            "GITHUB_REPOSITORY": REPOSITORY,
            "BILLINGOPS_CONFIG": str(self.config_path),
            "GITHUB_EVENT_NAME": "issues",
        }
        if first is not None:
            env["GITHUB_EVENT_PATH"] = str(self.events[first])
        return env


def start(
    stack: ExitStack,
    workdir: Path,
    scenarios: Sequence[str] = TOUR,
    *,
    github_port: int = 0,
    public: bool = False,
) -> Session:
    """Start both stand-ins (stopped when `stack` closes), seed Stripe, file and triage one
    ticket per scenario, then file one more (the first customer writing again) left
    untriaged. Event files and the config go to `workdir`.

    `public`: the support repository is public and the handoffs go to a private desk
    (SPEC §5b); the first ticket's plan is approved there, so its outcome is posted back."""
    from billingops._billing.stripe_gateway import StripeGateway
    from billingops._tracker.github_gateway import GitHubGateway
    from billingops.config import load_config
    from billingops.desk import Desk
    from billingops.desk.public import HandoffDesk, PublicDesk
    from billingops.onboarding.labels import required_labels

    stripe_url = stack.enter_context(StripeServer()).base_url
    # The CLI reads the real clock: the fake GitHub's timeline starts now.
    fake = stack.enter_context(FakeGitHub(REPOSITORY, port=github_port, token=SANDBOX_GITHUB_TOKEN))
    if public:
        public_world(fake)
    else:
        fake.add_collaborator(MAINTAINER, "maintain")
        fake.add_collaborator(TRIAGER, "triage")
    fake.add_repo(SCRATCH_REPOSITORY)
    for spec in required_labels(Config()):
        fake.add_label(spec.name, spec.color, spec.description, repo=SCRATCH_REPOSITORY)
    session = Session(stripe_url, fake.url, workdir, public=public)
    text = _CONFIG.format(login_url=PORTAL_LOGIN_URL)
    if public:
        text += _PUBLIC_CONFIG.format(desk=PRIVATE_DESK)
    session.config_path.write_text(text, encoding="utf-8")
    config: Config = load_config(str(session.config_path), cwd=workdir)
    billing = StripeGateway(
        SANDBOX_API_KEY, stripe_url, compat=True, clock=lambda: float(DEFAULT_NOW)
    )
    tracker = GitHubGateway(SANDBOX_GITHUB_TOKEN, REPOSITORY, fake.url, seconds_between_writes=None)
    front: Any = Desk(billing, tracker, config, REPOSITORY)
    back: Any = None
    if public:
        front = PublicDesk(billing, tracker, config, REPOSITORY)
        back = HandoffDesk(billing, tracker.for_repository(PRIVATE_DESK), config, PRIVATE_DESK)
    reset_sandbox(stripe_url)
    first: tuple[int, Any] | None = None
    for name in scenarios:
        ticket = seed(stripe_url, name).ticket
        if ticket is None:
            continue
        number = fake.add_issue(
            ticket.title, form_body(ticket), author="customer", labels=["billing"]
        )
        first = first or (number, ticket)
        front.triage(fake.issue_json(number))
        if back is not None and (handoff := handoff_number(fake, number)) is not None:
            if number == first[0]:
                _approve(fake, back, handoff)
            session.handoffs[number] = handoff
            session.handoff_events[number] = _event(
                workdir / f"handoff-{handoff}.json", fake, handoff, PRIVATE_DESK, public=False
            )
        session.tickets[number] = name
        session.events[number] = _event(
            workdir / f"issue-{number}.json", fake, number, REPOSITORY, public=public
        )
    if first is not None:
        number, ticket = first
        again = fake.add_issue(
            f"Re: {ticket.title}", form_body(ticket), author="customer", labels=["billing"]
        )
        session.new_ticket = again
        session.tickets[again] = f"{session.tickets[number]} (written again, not triaged yet)"
        session.events[again] = _event(
            workdir / f"issue-{again}.json", fake, again, REPOSITORY, public=public
        )
    return session


def _event(path: Path, fake: FakeGitHub, number: int, repository: str, *, public: bool) -> Path:
    """The `issues` event of an issue as it is now, as Actions would write it."""
    repo = {"full_name": repository, "private": not public}
    if public:
        repo["visibility"] = "public"
    payload = {
        "action": "opened",
        "issue": fake.issue_json(number, repo=repository),
        "repository": repo,
    }
    path.write_text(json.dumps(payload, indent=2), encoding="utf-8")
    return path


def _approve(fake: FakeGitHub, desk: Any, handoff: int) -> None:
    """A maintainer approves the plan on the handoff: apply runs in the desk and posts the
    outcome back on the public ticket."""
    comments = [b for b in fake.comments_of(handoff, repo=PRIVATE_DESK) if "approve-" in b]
    if not comments:
        return
    fake.advance(60)  # the maintainer reads the plan first
    for label in ("approve-cancel", "approve-refund"):
        if label in comments[-1]:
            fake.label_issue(handoff, label, actor=MAINTAINER, repo=PRIVATE_DESK)
    desk.apply(handoff)
