"""The fake GitHub's records (repositories, issues, comments, labels) and the small
helpers the REST and GraphQL parts share."""

from __future__ import annotations

import base64
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol

Json = Any
# Where GitHub's ids are today (SPEC §5c): comment ids passed 2**31 in 2024 (the first
# comment of a fake is 3600000001, like `issuecomment-3600000015`), issue, label and event
# ids are in the billions too. The fake numbers up from these, so no id fits an `Int`.
ID_BASES = {
    "issue": 3_400_000_000,
    "comment": 3_600_000_000,
    "event": 20_500_000_000,
    "label": 9_100_000_000,
    "environment": 1_800_000_000,
}
FIXED_EPOCH = datetime(2024, 5, 1, 9, 0, 0, tzinfo=UTC)  # for cassettes
_DOCS = "https://docs.github.com/rest"
# Legacy `permission` as GitHub reports it per role: maintain shows as write, triage as read.
_LEGACY_PERMISSION = {
    "admin": "admin",
    "maintain": "write",
    "write": "write",
    "triage": "read",
    "read": "read",
}
# What each role may do, as the `permissions` object of the collaborator reports it.
_ROLE_PERMISSIONS = {
    "admin": {"admin", "maintain", "push", "triage", "pull"},
    "maintain": {"maintain", "push", "triage", "pull"},
    "write": {"push", "triage", "pull"},
    "triage": {"triage", "pull"},
    "read": {"pull"},
}
_HEX6 = re.compile(r"^[0-9a-fA-F]{6}$")


class _HttpError(Exception):
    def __init__(self, status: int, message: str, errors: list[dict[str, str]] | None = None):
        super().__init__(message)
        self.status = status
        self.message = message
        self.errors = errors


@dataclass
class SeenRequest:
    method: str
    path: str  # without the API prefix and query string
    query: str
    body: str = ""  # the request body as sent (for scans of what billingops wrote)


@dataclass
class _Fault:
    method: str
    path_glob: str
    status: int
    remaining: int
    retry_after: int | None
    message: str | None
    delay: float


@dataclass
class _Comment:
    id: int
    issue: int
    body: str
    author: str
    created_at: str
    updated_at: str
    editor: str | None = None
    last_edited_at: str | None = None


@dataclass
class _Issue:
    id: int
    number: int
    title: str
    body: str | None
    author: str
    state: str = "open"
    state_reason: str | None = None
    labels: list[str] = field(default_factory=list)
    created_at: str = ""
    updated_at: str = ""
    closed_at: str | None = None
    closed_by: str | None = None
    last_edited_at: str | None = None
    editor: str | None = None  # who last edited the body (GraphQL `editor`)
    comments: list[int] = field(default_factory=list)
    events: list[dict[str, Any]] = field(default_factory=list)
    deleted: bool = False
    pull_request: bool = False


@dataclass
class _Label:
    id: int
    name: str
    color: str
    description: str | None


@dataclass
class _Repo:
    full_name: str
    issues: dict[int, _Issue] = field(default_factory=dict)
    labels: dict[str, _Label] = field(default_factory=dict)  # key: name.lower()
    # login.lower() -> (role_name, legacy permission)
    collaborators: dict[str, tuple[str, str]] = field(default_factory=dict)
    visibility: str = "private"  # private, public, internal
    # name -> (protection_rules, deployment_branch_policy), shaped as GitHub answers them
    environments: dict[str, tuple[list[dict[str, Any]], dict[str, bool] | None]] = field(
        default_factory=dict
    )
    secrets: set[str] = field(default_factory=set)  # repository-level Actions secrets
    # False: the token cannot see it (REST 404, GraphQL NOT_FOUND), as GitHub answers a
    # repository outside a fine-grained token's or an installation's reach.
    accessible: bool = True


_REASONS = {
    400: "Bad Request",
    401: "Bad credentials",
    403: "Forbidden",
    404: "Not Found",
    410: "Gone",
    422: "Validation Failed",
    429: "Too Many Requests",
    500: "Server Error",
    502: "Server Error",
    503: "Service Unavailable",
    504: "Gateway Timeout",
}


class FakeState(Protocol):
    """What the route and GraphQL modules need of `server.FakeGitHub`: its state and the
    state changes that record GitHub's events. A protocol, so that the modules beside the
    server do not import it back (tests/test_layout.py)."""

    actor: str
    html_base: str
    denied: set[str]
    _comments: dict[int, _Comment]
    _repos: dict[str, _Repo]
    _users: dict[str, str]
    _custom_roles: dict[str, list[tuple[str, str]]]

    @property
    def url(self) -> str: ...
    def _now(self) -> str: ...
    def _repo(self, name: str | None) -> _Repo: ...
    def _issue(self, repo: _Repo, number: int) -> _Issue: ...
    def _new_issue(
        self, repo: _Repo, title: str, body: str | None, author: str, labels: list[str]
    ) -> _Issue: ...
    def _new_comment(self, issue: _Issue, body: str, author: str) -> _Comment: ...
    def _edit_comment(self, comment: _Comment, body: str, editor: str) -> None: ...
    def _close(self, issue: _Issue, actor: str, reason: str) -> None: ...
    def _event(self, issue: _Issue, event: str, actor: str, **extra: Any) -> None: ...
    def _create_label(
        self, repo: _Repo, name: str, color: str, description: str | None
    ) -> _Label: ...
    def _set_issue_labels(
        self, repo: _Repo, issue: _Issue, names: list[str], actor: str
    ) -> None: ...
    def _user_json(self, login: str) -> Json: ...
    def _issue_json(self, repo: _Repo, issue: _Issue) -> Json: ...
    def _comment_json(self, repo: _Repo, comment: _Comment) -> Json: ...
    def _label_json(self, repo: _Repo, label: _Label) -> Json: ...
    def _event_json(self, repo: _Repo, event: dict[str, Any]) -> Json: ...


def _error(status: int, message: str, errors: list[dict[str, str]] | None = None) -> Json:
    # basic-error / validation-error
    data: Json = {"message": message, "documentation_url": _DOCS, "status": str(status)}
    if errors:
        data["errors"] = errors
    return data


def _invalid(resource: str, field: str, code: str = "invalid") -> _HttpError:
    return _HttpError(
        422, "Validation Failed", [{"resource": resource, "code": code, "field": field}]
    )


def _is_installation(login: str) -> bool:
    """An installation token (Actions, an App) acts as a `[bot]` account."""
    return login.endswith("[bot]")


def _label_name(item: Any) -> str:
    return str(item["name"]) if isinstance(item, dict) else str(item)


def _permissions(role: str, legacy: str) -> dict[str, bool]:
    granted = _ROLE_PERMISSIONS.get(role) or _ROLE_PERMISSIONS.get(legacy, {"pull"})
    return {k: k in granted for k in ("admin", "maintain", "push", "triage", "pull")}


def _node_id(kind: str, ident: int) -> str:
    # The shape of GitHub's legacy global ids ("MDU6SXNzdWUx" = b64("05:Issue1")).
    return base64.b64encode(f"{len(kind):02d}:{kind}{ident}".encode()).decode()
