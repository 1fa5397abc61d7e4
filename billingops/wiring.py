"""Builds what a command needs from the injected environment: config, gateways, the event.

This is the imperative shell's set-up; the CLI calls it and the desk does the work.
Gateways are imported here lazily so `--help` never loads the Stripe or GitHub SDKs.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from billingops.config import Config, Environment, load_config
from billingops.errors import BadInput, ConfigError

if TYPE_CHECKING:
    from billingops._billing.interface import BillingSource
    from billingops._tracker.interface import IssueTracker


@dataclass
class Wiring:
    env: Environment
    config: Config
    cwd: Path = field(default_factory=Path.cwd)

    @classmethod
    def from_env(cls, env: Mapping[str, str], cwd: Path | None = None) -> Wiring:
        environment = Environment.from_mapping(env)
        here = cwd or Path.cwd()
        return cls(
            environment,
            load_config(environment.config_path, cwd=here, required=environment.config_required),
            here,
        )

    def require(
        self, *, stripe: bool = False, github: bool = False, repository: bool = False
    ) -> None:
        """One line naming every variable a command needs and lacks (not one per run)."""
        missing = []
        if stripe and self.env.stripe_api_key is None:
            missing.append("STRIPE_API_KEY")
        if github and self.env.github_token is None:
            missing.append("GITHUB_TOKEN")
        repo = self.env.github_repository
        if repository and (not repo or repo.count("/") != 1):
            missing.append("GITHUB_REPOSITORY (owner/name)")
        if len(missing) == 1:
            raise ConfigError(f"{missing[0]} is not set")
        if missing:
            raise ConfigError(f"not set: {', '.join(missing)}")

    def repository(self) -> str:
        repo = self.env.github_repository
        if not repo or repo.count("/") != 1:
            raise ConfigError("GITHUB_REPOSITORY must be set to owner/name")
        return repo

    def billing(self) -> BillingSource:
        from billingops._billing.stripe_gateway import StripeGateway

        self.require(stripe=True)
        assert self.env.stripe_api_key is not None
        return StripeGateway(
            self.env.stripe_api_key.get_secret_value(),
            api_base=self.env.stripe_api_base,
            compat=self.env.billingops_sandbox == "localstripe",
        )

    def tracker(self, repository: str | None = None) -> IssueTracker:
        from billingops._tracker.github_gateway import GitHubGateway

        self.require(github=True, repository=repository is None)
        assert self.env.github_token is not None
        return GitHubGateway(
            self.env.github_token.get_secret_value(),
            repository or self.repository(),
            api_url=self.env.github_api_url,
            # GitHub asks integrators to space writes; a local stand-in needs no pause.
            seconds_between_writes=None if _is_loopback(self.env.github_api_url) else 1.0,
        )


def _is_loopback(url: str) -> bool:
    host = urlsplit(url).hostname or ""
    return host == "localhost" or host == "::1" or host.startswith("127.")


def read_event(path: str | None) -> dict[str, Any]:
    """The Actions event payload; one clear line when it is missing or not JSON."""
    if not path:
        raise BadInput("no event: pass --event PATH or set GITHUB_EVENT_PATH")
    try:
        raw = Path(path).read_bytes()
    except FileNotFoundError:
        raise BadInput(f"event file not found: {path}") from None
    except OSError as exc:
        raise BadInput(f"cannot read event file {path}: {exc.strerror or exc}") from None
    try:
        data = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        raise BadInput(f"event file {path} is not valid JSON") from None
    if not isinstance(data, dict):
        raise BadInput(f"event file {path} is not a JSON object")
    return data


def repository_of(event: Mapping[str, Any], wiring: Wiring) -> str:
    """The event's repository, else GITHUB_REPOSITORY."""
    repo = event.get("repository")
    if isinstance(repo, Mapping) and isinstance(repo.get("full_name"), str):
        return str(repo["full_name"])
    return wiring.repository()
