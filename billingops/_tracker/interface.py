"""What billingops needs from an issue tracker. The GitHub gateway implements it."""

from __future__ import annotations

from typing import Protocol

from pydantic import BaseModel, ConfigDict, Field


class IssueSnapshot(BaseModel):
    model_config = ConfigDict(frozen=True)

    number: int
    title: str = ""
    body: str = ""
    author: str = ""
    labels: list[str] = Field(default_factory=list)
    state: str = "open"  # open, closed
    created_at: int = 0  # Unix seconds
    closed_at: int | None = None
    html_url: str = ""


class Comment(BaseModel):
    model_config = ConfigDict(frozen=True)

    id: int
    body: str
    author: str = ""
    created_at: int = 0
    updated_at: int = 0


class LabelEvent(BaseModel):
    """One `labeled` / `unlabeled` event from the issue's timeline."""

    model_config = ConfigDict(frozen=True)

    event: str  # labeled, unlabeled
    label: str
    actor: str
    actor_type: str = "User"  # User, Bot
    created_at: int = 0
    id: int = 0


class IssueTracker(Protocol):
    repository: str  # owner/name

    def get_issue(self, number: int) -> IssueSnapshot: ...

    def list_comments(self, number: int) -> list[Comment]: ...

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

    def for_repository(self, repository: str) -> IssueTracker:
        """The same client on another repository (the backlog repository of SPEC §7)."""
        ...

    def ensure_label(self, name: str, *, color: str, description: str) -> bool:
        """Create the label when missing; True when it was created."""
        ...
