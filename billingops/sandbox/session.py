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

from billingops.config import Config
from billingops.sandbox.demo import MAINTAINER, TOUR, TRIAGER
from billingops.sandbox.fake_github import FakeGitHub
from billingops.sandbox.scenarios import seed
from billingops.sandbox.stripe_server import (
    DEFAULT_NOW,
    SANDBOX_API_KEY,
    StripeServer,
    reset_sandbox,
)
from billingops.sandbox.tickets import form_body

REPOSITORY = "acme/support"
# Not a secret: the fake GitHub's own token, shaped like an Actions token.
SANDBOX_GITHUB_TOKEN = "ghs_billingops_sandbox_not_a_secret"
PORTAL_LOGIN_URL = "https://billing.stripe.com/p/login/test_sandbox"

_CONFIG = """\
# billingops sandbox config (written by `billingops sandbox`). localstripe has no billing
# portal, so the portal is described here, as a restricted key without portal access
# would need.
portal:
  login_url: {login_url}
  allows_cancellation: true
  allows_invoice_history: true
"""


@dataclass
class Session:
    stripe_url: str
    github_url: str
    workdir: Path
    tickets: dict[int, str] = field(default_factory=dict)  # issue number -> scenario
    events: dict[int, Path] = field(default_factory=dict)  # issue number -> event file

    @property
    def config_path(self) -> Path:
        return self.workdir / "billingops.yml"

    def environment(self) -> dict[str, str]:
        """What to export so that every command talks to the stand-ins."""
        first = min(self.events) if self.events else None
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
) -> Session:
    """Start both stand-ins (stopped when `stack` closes), seed Stripe, file and triage one
    ticket per scenario. Event files and the config go to `workdir`."""
    from billingops._billing.stripe_gateway import StripeGateway
    from billingops._tracker.github_gateway import GitHubGateway
    from billingops.config import load_config
    from billingops.desk import Desk

    stripe_url = stack.enter_context(StripeServer()).base_url
    # The CLI reads the real clock: the fake GitHub's timeline starts now.
    fake = stack.enter_context(FakeGitHub(REPOSITORY, port=github_port, token=SANDBOX_GITHUB_TOKEN))
    fake.add_collaborator(MAINTAINER, "maintain")
    fake.add_collaborator(TRIAGER, "triage")
    session = Session(stripe_url, fake.url, workdir)
    session.config_path.write_text(_CONFIG.format(login_url=PORTAL_LOGIN_URL), encoding="utf-8")
    config: Config = load_config(str(session.config_path), cwd=workdir)
    billing = StripeGateway(
        SANDBOX_API_KEY, stripe_url, compat=True, clock=lambda: float(DEFAULT_NOW)
    )
    tracker = GitHubGateway(SANDBOX_GITHUB_TOKEN, REPOSITORY, fake.url, seconds_between_writes=None)
    desk = Desk(billing, tracker, config, REPOSITORY)
    reset_sandbox(stripe_url)
    for name in scenarios:
        ticket = seed(stripe_url, name).ticket
        if ticket is None:
            continue
        number = fake.add_issue(
            ticket.title, form_body(ticket), author="customer", labels=["billing"]
        )
        desk.triage(fake.issue_json(number))
        event = workdir / f"issue-{number}.json"
        payload = {
            "action": "opened",
            "issue": fake.issue_json(number),
            "repository": {"full_name": REPOSITORY, "private": True},
        }
        event.write_text(json.dumps(payload, indent=2), encoding="utf-8")
        session.tickets[number] = name
        session.events[number] = event
    return session
