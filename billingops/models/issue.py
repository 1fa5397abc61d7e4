"""What billingops reads from an issue tracker: issues, comments, label events, and the
thread as one read (who billingops is, and who last edited what). No I/O here."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from billingops.models.text import ascii_lower


class IssueSnapshot(BaseModel):
    model_config = ConfigDict(frozen=True)

    number: int
    title: str = ""
    body: str = ""
    author: str = ""
    # The author's numeric GitHub account id (`user.id`): a login can be renamed and taken by
    # another account, an id cannot (SPEC §5a). Python int: GitHub ids exceed 2**31.
    author_id: int | None = None
    labels: list[str] = Field(default_factory=list)
    state: str = "open"  # open, closed
    created_at: int = 0  # Unix seconds, GitHub's clock
    closed_at: int | None = None
    html_url: str = ""
    # GitHub's relation of the author to the repository (OWNER, MEMBER, COLLABORATOR,
    # CONTRIBUTOR, NONE, ...): a cheap pre-filter before asking for the role name.
    author_association: str = ""


class Comment(BaseModel):
    model_config = ConfigDict(frozen=True)

    id: int
    body: str
    author: str = ""
    created_at: int = 0
    updated_at: int = 0
    # Who last edited the comment, as GitHub records it; None when never edited or unknown
    # (the REST API does not say; the thread read does).
    editor: str | None = None


class LabelEvent(BaseModel):
    """One `labeled` / `unlabeled` event from the issue's timeline (or `renamed`, with no
    label: the title was edited)."""

    model_config = ConfigDict(frozen=True)

    event: str  # labeled, unlabeled
    label: str
    actor: str
    actor_type: str = "User"  # User, Bot
    created_at: int = 0
    id: int = 0


class Thread(BaseModel):
    """One read of an issue's conversation, with what GitHub knows about it.

    `me` is the account the token acts as, as GitHub says (GraphQL `viewer`): the only
    author whose comments billingops reads for state or edits. `edited_at` is when the
    ticket's title or body was last edited (GitHub's clock; 0 = never)."""

    model_config = ConfigDict(frozen=True)

    me: str
    comments: list[Comment] = Field(default_factory=list)
    edited_at: int = 0
    # Issues of another listing asked for in the same read (the product-gap backlog), or
    # None when not asked for or longer than one page (then list them with REST).
    listing: list[IssueSnapshot] | None = None
    # The listed repository's visibility (`private`, `visibility`), read with the listing;
    # None when not asked for or not answered.
    listing_visibility: dict[str, Any] | None = None
    # Why the listing asked for could not be read (one line: e.g. the backlog repository is
    # not visible to the token), while the thread itself was (SPEC §5c); None otherwise.
    listing_error: str | None = None
    # A second listing asked for in the same read (public mode: the private desk's handoff
    # issues), as `listing`; `extra_listing_unreachable` when GitHub said its repository does
    # not exist or the token may not see it (a configuration problem, not an outage).
    extra_listing: list[IssueSnapshot] | None = None
    extra_listing_error: str | None = None
    extra_listing_unreachable: bool = False

    def mine(self) -> list[Comment]:
        return [c for c in self.comments if same_login(c.author, self.me)]


def same_login(a: str, b: str) -> bool:
    """GitHub logins are case-insensitive (and ASCII: a look-alike letter is another login)."""
    return bool(a) and ascii_lower(a) == ascii_lower(b)
