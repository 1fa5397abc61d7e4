"""A whole billing desk for tests: localstripe + the fake GitHub + a Desk wired to both.

The fake GitHub stamps real UTC in whole seconds, as GitHub does; "the plan was posted
before the label" is decided on those stamps alone. A person's label comes after they
read the plan: `World.label` lets a minute pass first (a same-second label is a tie).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest

from billingops.config import Config
from billingops.desk import Desk
from billingops.models.result import RunResult
from billingops.sandbox.fake_github import FakeGitHub
from billingops.sandbox.tickets import form_body
from tests.plugins.github import gateway_for
from tests.plugins.sandbox import Sandbox

MAINTAINER = "maya"  # maintain role
ADMIN = "ada"
TRIAGER = "tim"  # triage role: may label, may not approve


@dataclass
class World:
    fake: FakeGitHub
    sandbox: Sandbox
    stripe: Any
    config: Config = field(default_factory=Config)

    def desk(self, config: Config | None = None, **gateway_options: Any) -> Desk:
        return Desk(
            self.stripe,
            gateway_for(self.fake, **gateway_options),
            config or self.config,
            self.fake.repository,
        )

    def file(self, scenario: str, *, labels: tuple[str, ...] = ("billing",)) -> tuple[int, Any]:
        """Seed a scenario and file its suggested ticket as an issue; (number, seeded)."""
        seeded = self.sandbox.seed(scenario)
        return self.file_ticket(seeded.ticket, author="customer", labels=labels), seeded

    def file_ticket(
        self, ticket: Any, *, author: str, labels: tuple[str, ...] = ("billing",)
    ) -> int:
        """File a ticket (a `SuggestedTicket`) through the issue form as `author`."""
        return self.fake.add_issue(ticket.title, form_body(ticket), author=author, labels=labels)

    def subscription(self, sub_id: str) -> dict[str, Any]:
        """The subscription as localstripe has it now (bypassing billingops)."""
        from billingops.sandbox.scenarios import Seeder

        return dict(Seeder(self.sandbox.base_url).call("GET", f"/v1/subscriptions/{sub_id}"))

    def payload(self, number: int) -> dict[str, Any]:
        return self.fake.issue_json(number)

    def desk_ticket(self, number: int) -> Any:
        """The issue as intake reads it (for calling the core directly)."""
        from billingops.core.intake import parse_issue

        return parse_issue(self.payload(number), self.fake.repository)

    def triage(self, number: int, **kw: Any) -> RunResult:
        return self.desk().triage(self.payload(number), **kw)

    def apply(self, number: int, **kw: Any) -> RunResult:
        return self.desk().apply(number, **kw)

    def label(self, number: int, label: str, *, actor: str, after: float = 60) -> None:
        """A person reads the thread for `after` seconds, then applies a label."""
        self.fake.advance(after)
        self.fake.label_issue(number, label, actor=actor)

    def bot_comments(self, number: int) -> list[str]:
        return [b for b in self.fake.comments_of(number) if b.startswith("<!-- billingops:triage")]


@pytest.fixture
def world(stripe_sandbox: Sandbox, stripe_gateway: Any) -> Iterator[World]:
    with FakeGitHub("acme/support", actor="github-actions[bot]") as fake:
        fake.add_collaborator(MAINTAINER, "maintain")
        fake.add_collaborator(ADMIN, "admin")
        fake.add_collaborator(TRIAGER, "triage")
        yield World(fake, stripe_sandbox, stripe_gateway)
