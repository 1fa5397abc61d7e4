"""What billingops may say on a ticket the public can read (SPEC §5b).

Safe by construction: a `PublicReply` has no field that can hold billing data. Its texts are
fixed in `templates/public_*.md.j2`; its values are enums, a link to the handoff issue (a
URL shape checked here), and the portal login URL from the config. There is no free-text
field, no amount, no Stripe id, no email and no case. `desk/public.py` writes to a public
repository only through `PublicWriter`, which accepts nothing else.
"""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field

from billingops.models.ticket import SensitiveKind

# owner/name, an issue number, nothing else: the link to the private handoff issue.
_ISSUE_URL = (
    r"^https?://[A-Za-z0-9.:-]+(/[A-Za-z0-9._-]+)*/[A-Za-z0-9._-]+/[A-Za-z0-9._-]+/issues/[0-9]+$"
)
_LOGIN_URL = r"^https://[^\s<>\"'`()\[\]]+$"


class PublicKind(StrEnum):
    received = "received"  # acknowledged; maintainers work on it in the private desk
    needs_info = "needs_info"  # the ticket names no billing email or id (what they wrote)
    outcome = "outcome"  # approved steps were executed
    approve_elsewhere = "approve_elsewhere"  # an approval label on the public ticket


class Done(StrEnum):
    """What happened, as the customer must be told it: no amount, no id, no date."""

    refund = "refund"
    cancelled = "cancelled"
    cancels_at_period_end = "cancels_at_period_end"


class PublicReply(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    kind: PublicKind
    handoff_url: str | None = Field(default=None, pattern=_ISSUE_URL)
    # A dry run: the handoff would be filed by this run (its number is not known yet).
    handoff_pending: bool = False
    login_url: str | None = Field(default=None, pattern=_LOGIN_URL)
    sensitive: list[SensitiveKind] = Field(default_factory=list)
    done: list[Done] = Field(default_factory=list)
    complete: bool = False  # outcome: every approved step of the plan is done
    label: str | None = Field(default=None, pattern=r"^[A-Za-z0-9:._-]{1,50}$")  # approve_elsewhere


class PublicLabel(StrEnum):
    """The only labels billingops puts on a public ticket: none of them names a case."""

    received = "billing:received"
    done = "billing:done"
    needs_info = "needs-info"
