"""Who can read the ticket (SPEC §5b): decided from the event payload, no request.

`public` when the repository is public or internal (an internal repository is readable by
everyone in the enterprise, who are not the customer's support staff), `staff` when it is
private. `ticket_audience` in the config overrides `auto`. A payload that does not say is
treated as public: the safe side.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from typing import Any

from billingops.config import Config


class Audience(StrEnum):
    staff = "staff"
    public = "public"


def audience_of(repository: Any, config: Config) -> Audience:
    """The audience of the repository an event came from (`event["repository"]`)."""
    if config.ticket_audience != "auto":
        return Audience(config.ticket_audience)
    if not isinstance(repository, Mapping):
        return Audience.public
    visibility = repository.get("visibility")
    if isinstance(visibility, str) and visibility.lower() in ("public", "internal"):
        return Audience.public
    if repository.get("private") is True:
        return Audience.staff
    return Audience.public


def visibility_shown(repository: Mapping[str, Any]) -> str:
    """The repository's visibility in GitHub's word (`public`, `internal`, `private`), from
    `private` when GitHub gave no `visibility`: what `doctor` prints."""
    said = repository.get("visibility")
    return str(said or ("private" if repository.get("private") else "public"))
