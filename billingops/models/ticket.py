"""A billing ticket as read from a GitHub issue (untrusted text, already redacted)."""

from __future__ import annotations

from enum import StrEnum
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class RequestKind(StrEnum):
    """The `request` dropdown of the issue form (and what free text maps to)."""

    refund = "refund"
    cancel = "cancel"
    failed_payment = "failed_payment"
    invoices = "invoices"
    seats_or_plan = "seats_or_plan"
    other = "other"


class SensitiveKind(StrEnum):
    """Kinds of sensitive values a ticket may contain; the value itself is never kept."""

    stripe_secret_key = "stripe_secret_key"  # sk_live_ / sk_test_
    stripe_restricted_key = "stripe_restricted_key"  # rk_live_ / rk_test_
    webhook_secret = "webhook_secret"  # whsec_
    card_number = "card_number"  # Luhn-valid 13-19 digits


class Ticket(BaseModel):
    """What intake extracted from an issue. Every text field is untrusted and redacted."""

    model_config = ConfigDict(frozen=True)

    repository: str = ""
    number: int = 0
    title: str = ""
    author: str = ""
    author_id: int | None = None  # the author's numeric GitHub account id (`user.id`)
    html_url: str = ""  # the web address, as GitHub sent it (links to its host)
    # Section label -> raw text, as the issue form rendered it (`_No response_` removed).
    fields: dict[str, str] = Field(default_factory=dict)
    # Identifiers, in order of first appearance, deduplicated.
    emails: list[str] = Field(default_factory=list)
    stripe_ids: list[str] = Field(default_factory=list)
    github_username: str | None = None
    request: RequestKind | None = None
    # Free text of the ticket (description, or the whole body when it is not a form).
    description: str = ""
    sensitive: list[SensitiveKind] = Field(default_factory=list)
    labels: list[str] = Field(default_factory=list)
    from_form: bool = False

    @property
    def has_identifier(self) -> bool:
        return bool(self.emails or self.stripe_ids or self.github_username)


class Identity(StrEnum):
    """How far billingops can trust that the person asking owns the account (SPEC §5a)."""

    verified = "verified"  # the author's login is the customer's GitHub username in Stripe
    vouched = "vouched"  # staff filed it, or an approver applied the verified-requester label
    unverified = "unverified"


class Requester(BaseModel):
    """Who is asking, and how billingops knows (or does not)."""

    model_config = ConfigDict(frozen=True)

    login: str = ""
    identity: Identity = Identity.unverified
    # One line: how the identity was established, or why it was not.
    how: str = ""
    # The author holds a staff role: their own login never identifies a customer.
    staff: bool = False
    # The login matched the customer's, but the customer's stored GitHub account id did
    # not match the author's (a renamed login taken by another account), or could not be
    # compared: the handoff says which (SPEC §5a).
    account_id: Literal["different", "unreadable", "author_unknown"] | None = None

    def contract(self) -> dict[str, str]:
        return {"login": self.login, "identity": self.identity.value}
