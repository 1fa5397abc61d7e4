"""What billingops needs from an issue tracker. The GitHub gateway implements it."""

from __future__ import annotations

from typing import Any, Protocol

from billingops.models.issue import Comment, IssueSnapshot, LabelEvent, Thread

__all__ = ["Comment", "IssueSnapshot", "IssueTracker", "LabelEvent", "Thread"]


class IssueTracker(Protocol):
    repository: str  # owner/name

    def get_issue(self, number: int) -> IssueSnapshot: ...

    def list_comments(self, number: int) -> list[Comment]: ...

    def read_thread(
        self,
        number: int,
        *,
        listing: tuple[str, str] | None = None,
        extra_listing: tuple[str, str] | None = None,
    ) -> Thread:
        """The issue's comments with their last editors, who this token acts as, and when
        the ticket was last edited: one request. `listing`: (owner/name, label) of issues
        to list in the same request (any state, oldest first); `extra_listing` a second one
        (`Thread.extra_listing`)."""
        ...

    def whoami(self) -> str:
        """The login this token acts as, as GitHub says (an installation token has no
        `GET /user`; GraphQL `viewer` answers for every kind of token)."""
        ...

    def create_comment(self, number: int, body: str) -> Comment: ...

    def edit_comment(self, comment_id: int, body: str) -> Comment: ...

    def set_labels(self, number: int, labels: list[str]) -> None:
        """Replace the issue's labels with exactly these (one request)."""
        ...

    def add_labels(self, number: int, labels: list[str]) -> None:
        """Add labels, keeping the others (never clobbers a label added meanwhile)."""
        ...

    def remove_label(self, number: int, label: str) -> None:
        """Remove one label; absent already is fine."""
        ...

    def label_events(self, number: int) -> list[LabelEvent]: ...

    def role_of(self, login: str) -> str | None:
        """Repository role name (admin, maintain, write, triage, read, custom); None if not
        a collaborator."""
        ...

    def list_issues(self, *, labels: list[str], state: str = "all") -> list[IssueSnapshot]: ...

    def create_issue(self, *, title: str, body: str, labels: list[str]) -> IssueSnapshot: ...

    def edit_issue(
        self,
        number: int,
        *,
        body: str | None = None,
        state: str | None = None,
        state_reason: str | None = None,
    ) -> IssueSnapshot:
        """`state_reason` (completed, not_planned, reopened) goes with a state change."""
        ...

    def visibility(self) -> dict[str, Any]:
        """The repository's `private` and `visibility`, as an event payload carries them."""
        ...

    def for_repository(self, repository: str) -> IssueTracker:
        """The same client on another repository (the backlog repository of SPEC §7)."""
        ...

    def ensure_label(self, name: str, *, color: str, description: str) -> bool:
        """Create the label when missing; True when it was created."""
        ...
