"""The Stripe and GitHub gateways of `doctor` and `portal`, from the environment."""

from __future__ import annotations

from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from billingops.config import Environment

if TYPE_CHECKING:
    from billingops._billing.stripe_gateway import StripeGateway
    from billingops._tracker.github_gateway import GitHubGateway

_LOOPBACK = {"127.0.0.1", "localhost", "::1"}


def is_loopback(url: str | None) -> bool:
    return bool(url) and (urlsplit(url or "").hostname or "") in _LOOPBACK


def stripe_gateway(env: Environment) -> StripeGateway:
    from billingops._billing.stripe_gateway import StripeGateway

    assert env.stripe_api_key is not None
    return StripeGateway(
        env.stripe_api_key.get_secret_value(),
        api_base=env.stripe_api_base,
        compat=env.billingops_sandbox == "localstripe",
    )


def github_gateway(env: Environment) -> GitHubGateway:
    from billingops._tracker.github_gateway import GitHubGateway

    assert env.github_token is not None and env.github_repository is not None
    # GitHub asks integrators to space writes by a second; a loopback API is a local
    # stand-in (tests, the demo) that does not need it.
    spacing = None if is_loopback(env.github_api_url) else 1.0
    return GitHubGateway(
        env.github_token.get_secret_value(),
        env.github_repository,
        env.github_api_url,
        seconds_between_writes=spacing,
    )
