"""A small stateful fake of the GitHub REST API, for the demo, the tests and cassette recording.

Why: the sandbox has no internet and tests must never reach a non-loopback address, yet the
GitHub gateway should be exercised through real HTTP and the real PyGithub requester (auth
header, base URL, retries, pagination, error mapping). So this server speaks just the
endpoints billingops uses, with response bodies shaped after the examples of GitHub's own
OpenAPI description (npm `@octokit/openapi`, `components/examples`: `issue`,
`issue-comment`, `label`, `issue-event-for-issue-items`,
`repository-collaborator-permission-response-if-user-has-admin-permissions`; error bodies
after `basic-error` / `validation-error`). Fields billingops never reads (milestone,
assignees, reactions ...) are left out to keep it small.

Time is GitHub's: real UTC at one-second resolution, so two things done in the same
second get the same stamp (ties), and the `Date` header says the same clock. A test moves
time on with `advance(seconds)` (a maintainer reading the plan before labelling). With a
fixed `epoch` the clock starts there and only `advance` moves it: cassettes recorded that
way only change when behaviour changes.

Like GitHub, the token acts as one account (`actor`). An installation token (the Actions
token, an App: a `[bot]` actor) cannot edit other accounts' comments (403) and gets 403
from `GET /user`; GraphQL `viewer` names it. GitHub records who last edited a comment
(GraphQL `editor`, `lastEditedAt`): so does this fake, for API edits and for a person's
edit (`edit_comment`).

Test hooks: seeding methods (`add_issue`, `add_collaborator`, `label_issue` ...), state
readers (`labels_of`, `comments_of`, `events_of`), a request log (`requests`, `count`) for
the request budget, and `fail_next` to inject failures (status, Retry-After, delay).
"""

from __future__ import annotations

import base64
import fnmatch
import json
import re
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import parse_qsl, quote, unquote, urlencode, urlsplit

from billingops.sandbox.loopback import LoopbackService, ThreadedServer

Json = Any
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


class FakeGitHub(LoopbackService):
    """The server and its state. Use as a context manager, or `start()` / `stop()`.

    `url` is the API base URL to give the gateway (`GITHUB_API_URL`). With `prefix="/api/v3"`
    it looks like GitHub Enterprise Server.
    """

    def __init__(
        self,
        repository: str = "acme/support",
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        prefix: str = "",
        token: str | None = None,
        actor: str = "github-actions[bot]",
        html_base: str = "https://github.com",
        epoch: datetime | None = None,
    ) -> None:
        # None: real UTC. A fixed epoch: time stands still there unless `advance`d.
        self.epoch = epoch
        self._offset = 0.0
        self.repository = repository
        self.prefix = prefix.rstrip("/")
        self.token = token  # when set, requests must carry it (401 otherwise)
        self.actor = actor  # who the token acts as: author of comments/events made via the API
        self.html_base = html_base
        self.requests: list[SeenRequest] = []
        self._host = host
        self._port = port
        self._lock = threading.RLock()
        self._repos: dict[str, _Repo] = {}
        self._comments: dict[int, _Comment] = {}
        self._users: dict[str, str] = {}  # login -> "User" | "Bot"
        self._user_ids: dict[str, int] = {}  # login -> account id, when set by a test
        self._faults: list[_Fault] = []
        self._ids = {"issue": 0, "comment": 0, "event": 0, "label": 0, "environment": 0}
        # org.lower() -> its custom repository roles (name, base role)
        self._custom_roles: dict[str, list[tuple[str, str]]] = {}
        # Permissions the token lacks, e.g. {"actions", "secrets"}: what an App or
        # fine-grained token with Issues and Metadata only cannot read (403).
        self.denied: set[str] = set()
        self._server: ThreadedServer | None = None
        self.add_repo(repository)

    # ----------------------------------------------------------------- lifecycle

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        return _make_handler(self)

    @property
    def port(self) -> int:
        return self._port

    @property
    def url(self) -> str:
        return f"http://{self._host}:{self._port}{self.prefix}"

    # ----------------------------------------------------------------- seeding

    def add_repo(self, full_name: str, *, visibility: str = "private") -> None:
        with self._lock:
            self._repos.setdefault(full_name.lower(), _Repo(full_name)).visibility = visibility

    def set_visibility(self, visibility: str, *, repo: str | None = None) -> None:
        with self._lock:
            self._repo(repo).visibility = visibility

    def add_environment(
        self,
        name: str,
        *,
        reviewers: Iterable[str] = (),
        branch_policy: bool = False,
        wait_timer: int = 0,
        repo: str | None = None,
    ) -> None:
        """An Environment with GitHub's built-in protection rules: required reviewers
        (logins), deployment branches limited to protected branches, a wait timer."""
        rules: list[dict[str, Any]] = []
        with self._lock:
            if wait_timer:
                rules.append(self._rule("wait_timer", wait_timer=wait_timer))
            users = list(reviewers)
            if users:
                rules.append(
                    self._rule(
                        "required_reviewers",
                        prevent_self_review=False,
                        reviewers=[{"type": "User", "reviewer": self._user_json(u)} for u in users],
                    )
                )
            policy = None
            if branch_policy:
                rules.append(self._rule("branch_policy"))
                policy = {"protected_branches": True, "custom_branch_policies": False}
            self._repo(repo).environments[name] = (rules, policy)

    def add_secret(self, name: str, *, repo: str | None = None) -> None:
        """A repository-level Actions secret (its value never leaves GitHub)."""
        with self._lock:
            self._repo(repo).secrets.add(name.upper())

    def add_custom_role(self, org: str, name: str, base_role: str = "write") -> None:
        with self._lock:
            self._custom_roles.setdefault(org.lower(), []).append((name, base_role))

    def _rule(self, type: str, **extra: Any) -> dict[str, Any]:
        ident = self._next_id("environment")
        return {"id": ident, "node_id": _node_id("Gate", ident), "type": type, **extra}

    def add_user(self, login: str, *, type: str = "User", id: int | None = None) -> None:
        """`id`: the numeric account id GitHub gives the login (ids exceed 2**31); by
        default one derived from the login."""
        with self._lock:
            self._users[login] = type
            if id is not None:
                self._user_ids[login.lower()] = id

    def add_collaborator(
        self, login: str, role: str, *, permission: str | None = None, repo: str | None = None
    ) -> None:
        """`role` is the role name (admin, maintain, write, triage, read or a custom role);
        `permission` the legacy field, derived from the role unless given (custom roles)."""
        legacy = permission or _LEGACY_PERMISSION.get(role, "read")
        with self._lock:
            self._repo(repo).collaborators[login.lower()] = (role, legacy)
            self._users.setdefault(login, "Bot" if login.endswith("[bot]") else "User")

    def add_label(
        self, name: str, color: str = "ededed", description: str = "", *, repo: str | None = None
    ) -> None:
        with self._lock:
            self._create_label(self._repo(repo), name, color, description or None)

    def add_issue(
        self,
        title: str = "Billing question",
        body: str | None = "",
        *,
        author: str = "customer",
        labels: Iterable[str] = (),
        state: str = "open",
        pull_request: bool = False,
        repo: str | None = None,
    ) -> int:
        """Create an issue as `author` would (labels arrive with it: `labeled` events by the
        author, as GitHub records for an issue form with labels). Returns its number."""
        with self._lock:
            issue = self._new_issue(self._repo(repo), title, body, author, list(labels))
            issue.pull_request = pull_request
            if state == "closed":
                self._close(issue, author, "completed")
            return issue.number

    def add_comment(self, number: int, body: str, *, author: str, repo: str | None = None) -> int:
        with self._lock:
            return self._new_comment(self._issue(self._repo(repo), number), body, author).id

    def edit_comment(
        self, comment_id: int, body: str, *, editor: str, repo: str | None = None
    ) -> None:
        """A person edits a comment in the UI (anyone with write access may edit others')."""
        with self._lock:
            comment = self._find_comment(self._repo(repo), comment_id)
            self._edit_comment(comment, body, editor)

    def edit_issue(
        self,
        number: int,
        *,
        editor: str,
        body: str | None = None,
        title: str | None = None,
        repo: str | None = None,
    ) -> None:
        """A person edits the ticket's title or body in the UI."""
        with self._lock:
            issue = self._issue(self._repo(repo), number)
            if title is not None and title != issue.title:
                self._event(issue, "renamed", editor, rename={"from": issue.title, "to": title})
                issue.title = title
            if body is not None:
                issue.body = body
                issue.last_edited_at = self._now()  # GraphQL lastEditedAt: the body only
            issue.updated_at = self._now()

    def freeze(self) -> None:
        """Stop GitHub's clock where it is (`advance` still moves it): ties on purpose."""
        with self._lock:
            self.epoch, self._offset = datetime.fromtimestamp(self.clock(), UTC), 0.0

    def comment_authors(self, number: int, *, repo: str | None = None) -> list[tuple[str, str]]:
        """(body, author login) of each comment, in order."""
        with self._lock:
            issue = self._issue(self._repo(repo), number)
            return [(self._comments[c].body, self._comments[c].author) for c in issue.comments]

    def comment_ids(self, number: int, *, repo: str | None = None) -> list[int]:
        with self._lock:
            return list(self._issue(self._repo(repo), number).comments)

    def label_issue(self, number: int, label: str, *, actor: str, repo: str | None = None) -> None:
        """A person (or bot) applies a label in the UI: the label and a `labeled` event."""
        with self._lock:
            r = self._repo(repo)
            issue = self._issue(r, number)
            self._set_issue_labels(r, issue, [*issue.labels, label], actor)

    def unlabel_issue(
        self, number: int, label: str, *, actor: str, repo: str | None = None
    ) -> None:
        with self._lock:
            r = self._repo(repo)
            issue = self._issue(r, number)
            self._set_issue_labels(r, issue, [x for x in issue.labels if x != label], actor)

    def delete_issue(self, number: int, *, repo: str | None = None) -> None:
        """Deleted issues answer 410 Gone."""
        with self._lock:
            self._issue(self._repo(repo), number).deleted = True

    def fail_next(
        self,
        method: str,
        path: str,
        status: int,
        *,
        times: int = 1,
        retry_after: int | None = None,
        message: str | None = None,
        delay: float = 0.0,
    ) -> None:
        """The next `times` requests matching `method` (or "*") and `path` (a glob on the path
        without API prefix and query, e.g. "/repos/*/issues/1/comments") get `status`, after
        sleeping `delay` seconds (longer than the client timeout = a timeout)."""
        with self._lock:
            self._faults.append(
                _Fault(method.upper(), path, status, times, retry_after, message, delay)
            )

    # ----------------------------------------------------------------- reading state

    def count(self, method: str | None = None, path: str | None = None) -> int:
        """Requests seen (including failed ones), optionally by method and path glob."""
        with self._lock:
            return sum(
                1
                for r in self.requests
                if (method is None or r.method == method.upper())
                and (path is None or fnmatch.fnmatchcase(r.path, path))
            )

    def writes(self, method: str | None = None) -> int:
        """Requests that can change state: every POST, PUT, PATCH and DELETE except the
        GraphQL queries (billingops sends no GraphQL mutation)."""
        with self._lock:
            return sum(
                1
                for r in self.requests
                if r.method in ("POST", "PUT", "PATCH", "DELETE")
                and (method is None or r.method == method.upper())
                and not r.path.endswith("/graphql")
            )

    def reset_requests(self) -> None:
        with self._lock:
            self.requests.clear()

    def labels_of(self, number: int, *, repo: str | None = None) -> list[str]:
        with self._lock:
            return list(self._issue(self._repo(repo), number).labels)

    def comments_of(self, number: int, *, repo: str | None = None) -> list[str]:
        with self._lock:
            issue = self._issue(self._repo(repo), number)
            return [self._comments[c].body for c in issue.comments]

    def events_of(self, number: int, *, repo: str | None = None) -> list[tuple[str, str, str]]:
        """(event, label name or "", actor login) in order."""
        with self._lock:
            issue = self._issue(self._repo(repo), number)
            return [
                (e["event"], e.get("label", {}).get("name", ""), e["actor"]) for e in issue.events
            ]

    def label_specs(self, *, repo: str | None = None) -> dict[str, tuple[str, str | None]]:
        """The repository's labels: name -> (colour, description)."""
        with self._lock:
            return {x.name: (x.color, x.description) for x in self._repo(repo).labels.values()}

    def issue_json(self, number: int, *, repo: str | None = None) -> Json:
        with self._lock:
            r = self._repo(repo)
            return self._issue_json(r, self._issue(r, number))

    def numbers(self, *, repo: str | None = None) -> list[int]:
        with self._lock:
            return sorted(self._repo(repo).issues)

    # ----------------------------------------------------------------- state changes

    def clock(self) -> float:
        """GitHub's time now, in whole seconds (what its next stamp will say)."""
        with self._lock:
            # datetime.now, not time.time: a test that skews the runner's clock (by patching
            # time.time) must not move GitHub's.
            base = (self.epoch or datetime.now(UTC)).timestamp()
            return float(int(base + self._offset))

    def advance(self, seconds: float) -> None:
        """Let time pass (a maintainer reading before they click)."""
        with self._lock:
            self._offset += seconds

    def _now(self) -> str:
        return datetime.fromtimestamp(self.clock(), UTC).strftime("%Y-%m-%dT%H:%M:%SZ")

    def http_date(self) -> str:
        return datetime.fromtimestamp(self.clock(), UTC).strftime("%a, %d %b %Y %H:%M:%S GMT")

    def _next_id(self, kind: str) -> int:
        self._ids[kind] += 1
        return self._ids[kind]

    def _repo(self, name: str | None) -> _Repo:
        repo = self._repos.get((name or self.repository).lower())
        if repo is None:
            raise _HttpError(404, "Not Found")
        return repo

    def _issue(self, repo: _Repo, number: int) -> _Issue:
        issue = repo.issues.get(number)
        if issue is None:
            raise _HttpError(404, "Not Found")
        if issue.deleted:
            raise _HttpError(410, "This issue was deleted")
        return issue

    def _create_label(self, repo: _Repo, name: str, color: str, description: str | None) -> _Label:
        if not name or len(name) > 50:
            raise _invalid("Label", "name")
        if not _HEX6.match(color):
            raise _invalid("Label", "color")
        if name.lower() in repo.labels:
            raise _invalid("Label", "name", "already_exists")
        label = _Label(self._next_id("label"), name, color.lower(), description)
        repo.labels[name.lower()] = label
        return label

    def _label(self, repo: _Repo, name: str) -> _Label:
        """GitHub creates unknown labels when they are set on an issue."""
        return repo.labels.get(name.lower()) or self._create_label(repo, name, "ededed", None)

    def _event(self, issue: _Issue, event: str, actor: str, **extra: Any) -> None:
        issue.events.append(
            {"id": self._next_id("event"), "event": event, "actor": actor, "at": self._now()}
            | extra
        )

    def _set_issue_labels(self, repo: _Repo, issue: _Issue, names: list[str], actor: str) -> None:
        wanted: list[str] = []
        for name in names:
            label = self._label(repo, name)  # canonical case, as GitHub stores it
            if label.name not in wanted:
                wanted.append(label.name)
        for name in issue.labels:
            if name not in wanted:
                self._event(issue, "unlabeled", actor, label={"name": name})
        for name in wanted:
            if name not in issue.labels:
                self._event(issue, "labeled", actor, label={"name": name})
        issue.labels = wanted
        issue.updated_at = self._now()

    def _new_issue(
        self, repo: _Repo, title: str, body: str | None, author: str, labels: list[str]
    ) -> _Issue:
        number = max(repo.issues, default=0) + 1
        now = self._now()
        issue = _Issue(self._next_id("issue"), number, title, body, author, created_at=now)
        issue.updated_at = now
        repo.issues[number] = issue
        if labels:
            self._set_issue_labels(repo, issue, labels, author)
        return issue

    def _new_comment(self, issue: _Issue, body: str, author: str) -> _Comment:
        now = self._now()
        comment = _Comment(self._next_id("comment"), issue.number, body, author, now, now)
        self._comments[comment.id] = comment
        issue.comments.append(comment.id)
        issue.updated_at = now
        return comment

    def _edit_comment(self, comment: _Comment, body: str, editor: str) -> None:
        comment.body = body
        comment.updated_at = comment.last_edited_at = self._now()
        comment.editor = editor

    def _close(self, issue: _Issue, actor: str, reason: str) -> None:
        issue.state, issue.state_reason = "closed", reason
        issue.closed_at, issue.closed_by = self._now(), actor
        self._event(issue, "closed", actor)

    # ----------------------------------------------------------------- JSON shapes

    def _user_json(self, login: str) -> Json:
        # simple-user, with the fields GitHub marks required.
        kind = self._users.get(login) or ("Bot" if login.endswith("[bot]") else "User")
        uid = self._user_ids.get(login.lower()) or (
            int.from_bytes(login.encode()[:6].ljust(6, b"\0"), "big") % 10_000_000
        )
        api = f"{self.url}/users/{quote(login)}"
        return {
            "login": login,
            "id": uid,
            "node_id": _node_id("User", uid),
            "avatar_url": f"https://avatars.githubusercontent.com/u/{uid}?v=4",
            "gravatar_id": "",
            "url": api,
            "html_url": f"{self.html_base}/{login}",
            "followers_url": f"{api}/followers",
            "following_url": f"{api}/following{{/other_user}}",
            "gists_url": f"{api}/gists{{/gist_id}}",
            "starred_url": f"{api}/starred{{/owner}}{{/repo}}",
            "subscriptions_url": f"{api}/subscriptions",
            "organizations_url": f"{api}/orgs",
            "repos_url": f"{api}/repos",
            "events_url": f"{api}/events{{/privacy}}",
            "received_events_url": f"{api}/received_events",
            "type": kind,
            "user_view_type": "public",
            "site_admin": False,
        }

    def _label_json(self, repo: _Repo, label: _Label) -> Json:
        return {
            "id": label.id,
            "node_id": _node_id("Label", label.id),
            "url": f"{self.url}/repos/{repo.full_name}/labels/{quote(label.name, safe='')}",
            "name": label.name,
            "color": label.color,
            "default": False,
            "description": label.description,
        }

    def _issue_json(self, repo: _Repo, issue: _Issue) -> Json:
        api = f"{self.url}/repos/{repo.full_name}/issues/{issue.number}"
        data: Json = {
            "url": api,
            "repository_url": f"{self.url}/repos/{repo.full_name}",
            "labels_url": f"{api}/labels{{/name}}",
            "comments_url": f"{api}/comments",
            "events_url": f"{api}/events",
            "html_url": f"{self.html_base}/{repo.full_name}/issues/{issue.number}",
            "id": issue.id,
            "node_id": _node_id("Issue", issue.id),
            "number": issue.number,
            "title": issue.title,
            "user": self._user_json(issue.author),
            "labels": [self._label_json(repo, repo.labels[n.lower()]) for n in issue.labels],
            "state": issue.state,
            "locked": False,
            "assignee": None,
            "assignees": [],
            "milestone": None,
            "comments": len(issue.comments),
            "created_at": issue.created_at,
            "updated_at": issue.updated_at,
            "closed_at": issue.closed_at,
            "closed_by": self._user_json(issue.closed_by) if issue.closed_by else None,
            "author_association": self._association(repo, issue.author),
            "active_lock_reason": None,
            "body": issue.body,
            "state_reason": issue.state_reason,
        }
        if issue.pull_request:  # /issues lists pull requests too, marked by this key
            data["pull_request"] = {
                "url": f"{self.url}/repos/{repo.full_name}/pulls/{issue.number}",
                "html_url": f"{self.html_base}/{repo.full_name}/pull/{issue.number}",
            }
        return data

    def _association(self, repo: _Repo, login: str) -> str:
        if repo.full_name.split("/")[0].lower() == login.lower():
            return "OWNER"
        return "COLLABORATOR" if login.lower() in repo.collaborators else "NONE"

    def _comment_json(self, repo: _Repo, comment: _Comment) -> Json:
        issue_html = f"{self.html_base}/{repo.full_name}/issues/{comment.issue}"
        return {
            "id": comment.id,
            "node_id": _node_id("IssueComment", comment.id),
            "url": f"{self.url}/repos/{repo.full_name}/issues/comments/{comment.id}",
            "html_url": f"{issue_html}#issuecomment-{comment.id}",
            "body": comment.body,
            "user": self._user_json(comment.author),
            "created_at": comment.created_at,
            "updated_at": comment.updated_at,
            "issue_url": f"{self.url}/repos/{repo.full_name}/issues/{comment.issue}",
            "author_association": "NONE",
        }

    def _event_json(self, repo: _Repo, event: dict[str, Any]) -> Json:
        data: Json = {
            "id": event["id"],
            "node_id": _node_id("LabeledEvent", event["id"]),
            "url": f"{self.url}/repos/{repo.full_name}/issues/events/{event['id']}",
            "actor": self._user_json(event["actor"]),
            "event": event["event"],
            "commit_id": None,
            "commit_url": None,
            "created_at": event["at"],
            "performed_via_github_app": None,
        }
        if "rename" in event:
            data["rename"] = event["rename"]
        if "label" in event:
            label = repo.labels.get(event["label"]["name"].lower())
            data["label"] = {
                "name": event["label"]["name"],
                "color": label.color if label else "ededed",
            }
        return data

    # ----------------------------------------------------------------- HTTP routing

    def handle(
        self, method: str, raw_path: str, headers: dict[str, str], body: bytes
    ) -> tuple[int, Json, dict[str, str], float]:
        """Returns (status, JSON body or None, extra headers, delay before answering)."""
        parts = urlsplit(raw_path)
        path = parts.path
        if self.prefix and path.startswith(self.prefix):
            path = path[len(self.prefix) :]
        with self._lock:
            text = body.decode("utf-8", errors="replace") if body else ""
            self.requests.append(SeenRequest(method, path, parts.query, text))
            for fault in self._faults:
                if (
                    fault.remaining > 0
                    and fault.method in ("*", method)
                    and fnmatch.fnmatchcase(path, fault.path_glob)
                ):
                    fault.remaining -= 1
                    extra = {}
                    if fault.retry_after is not None:
                        extra["Retry-After"] = str(fault.retry_after)
                    msg = fault.message or _REASONS.get(fault.status, "Server Error")
                    return fault.status, _error(fault.status, msg), extra, fault.delay
            if self.token is not None:
                auth = headers.get("authorization", "")
                if auth not in (f"token {self.token}", f"Bearer {self.token}"):
                    return 401, _error(401, "Bad credentials"), {}, 0.0
            try:
                payload = json.loads(body) if body else None
            except ValueError:
                return 400, _error(400, "Problems parsing JSON"), {}, 0.0
            query = dict(parse_qsl(parts.query))
            try:
                if method == "POST" and parts.path.endswith("/graphql"):
                    return 200, self._graphql(payload), {}, 0.0
                if method == "GET" and path == "/user":
                    if _is_installation(self.actor):
                        raise _HttpError(403, "Resource not accessible by integration")
                    return 200, self._user_json(self.actor), {}, 0.0
                status, data, extra = self._route(method, path, query, payload)
            except _HttpError as e:
                return e.status, _error(e.status, e.message, e.errors), {}, 0.0
            return status, data, extra, 0.0

    def _deny(self, permission: str) -> None:
        if permission in self.denied:
            raise _HttpError(403, "Resource not accessible by integration")

    def _org_route(self, method: str, path: str) -> tuple[int, Json, dict[str, str]]:
        m = re.match(r"^/orgs/([^/]+)/custom-repository-roles$", path)
        if m is None or method != "GET":
            raise _HttpError(404, "Not Found")
        org = unquote(m[1])
        self._deny("custom_roles")
        roles = self._custom_roles.get(org.lower())
        if roles is None:  # not an organisation on GitHub Enterprise
            raise _HttpError(404, "Not Found")
        stamp = self._now()
        body = [
            {
                "id": 8000 + i,
                "name": name,
                "description": None,
                "base_role": base,
                "permissions": [],
                "organization": self._user_json(org) | {"type": "Organization"},
                "created_at": stamp,
                "updated_at": stamp,
            }
            for i, (name, base) in enumerate(roles)
        ]
        return 200, {"total_count": len(body), "custom_roles": body}, {}

    def _environment_json(self, repo: _Repo, name: str) -> Json:
        rules, policy = repo.environments[name]
        ident = 161088000 + list(repo.environments).index(name)
        stamp = self._now()
        return {
            "id": ident,
            "node_id": _node_id("Environment", ident),
            "name": name,
            "url": f"{self.url}/repos/{repo.full_name}/environments/{quote(name)}",
            "html_url": f"{self.html_base}/{repo.full_name}/deployments/activity_log"
            f"?environments_filter={quote(name)}",
            "created_at": stamp,
            "updated_at": stamp,
            "can_admins_bypass": True,
            "protection_rules": rules,
            "deployment_branch_policy": policy,
        }

    def _route(
        self, method: str, path: str, query: dict[str, str], payload: Json
    ) -> tuple[int, Json, dict[str, str]]:
        if path.startswith("/orgs/"):
            return self._org_route(method, path)
        m = re.match(r"^/repos/([^/]+)/([^/]+)(/.*)?$", path)
        if m is None:
            raise _HttpError(404, "Not Found")
        repo = self._repo(f"{unquote(m[1])}/{unquote(m[2])}")
        rest = m[3] or ""
        seg = [unquote(s) for s in rest.split("/")[1:]]
        route = (method, *["N" if s.isdigit() else s for s in seg[:4]])
        me = self.actor

        if route == ("GET",):
            return (
                200,
                {
                    "full_name": repo.full_name,
                    "private": repo.visibility != "public",
                    "visibility": repo.visibility,
                },
                {},
            )
        if route == ("GET", "issues"):
            return self._list_issues(repo, path, query)
        if route == ("POST", "issues"):
            title = (payload or {}).get("title")
            if not title:
                raise _invalid("Issue", "title", "missing_field")
            labels = [_label_name(x) for x in payload.get("labels") or []]
            issue = self._new_issue(repo, title, payload.get("body"), me, labels)
            return 201, self._issue_json(repo, issue), {}
        if route == ("GET", "issues", "comments", "N"):
            return 200, self._comment_json(repo, self._find_comment(repo, int(seg[2]))), {}
        if route == ("PATCH", "issues", "comments", "N"):
            comment = self._find_comment(repo, int(seg[2]))
            body = (payload or {}).get("body")
            if not isinstance(body, str):
                raise _invalid("IssueComment", "body", "missing_field")
            if _is_installation(me) and comment.author.lower() != me.lower():
                # An installation token may edit only its own comments.
                raise _HttpError(403, "Resource not accessible by integration")
            self._edit_comment(comment, body, me)
            return 200, self._comment_json(repo, comment), {}
        if len(seg) >= 2 and seg[0] == "issues" and seg[1].isdigit():
            return self._issue_route(repo, route, seg, path, query, payload)
        if (
            method == "GET"
            and len(seg) == 3
            and (seg[0], seg[2]) == ("collaborators", "permission")
        ):
            found = repo.collaborators.get(seg[1].lower())
            if found is None:
                raise _HttpError(404, "Not Found")
            role, legacy = found
            user = self._user_json(seg[1]) | {
                "permissions": _permissions(role, legacy),
                "role_name": role,
            }
            return 200, {"permission": legacy, "role_name": role, "user": user}, {}
        if route[:2] == ("GET", "environments") and len(seg) == 2:
            self._deny("actions")  # Actions: Read, for an App or a fine-grained token
            if seg[1] not in repo.environments:
                raise _HttpError(404, "Not Found")
            return 200, self._environment_json(repo, seg[1]), {}
        if route[:3] == ("GET", "actions", "secrets") and len(seg) == 3:
            self._deny("secrets")  # Secrets: Read
            if seg[2].upper() not in repo.secrets:
                raise _HttpError(404, "Not Found")
            stamp = self._now()
            return 200, {"name": seg[2].upper(), "created_at": stamp, "updated_at": stamp}, {}
        if route == ("GET", "labels"):
            labels = [self._label_json(repo, x) for x in repo.labels.values()]
            return self._page(labels, path, query)
        if route == ("POST", "labels"):
            p = payload or {}
            label = self._create_label(
                repo, str(p.get("name", "")), str(p.get("color", "ededed")), p.get("description")
            )
            return 201, self._label_json(repo, label), {}
        if len(seg) == 2 and method == "GET" and seg[0] == "labels":
            found_label = repo.labels.get(seg[1].lower())
            if found_label is None:
                raise _HttpError(404, "Not Found")
            return 200, self._label_json(repo, found_label), {}
        raise _HttpError(404, "Not Found")

    def _issue_route(
        self,
        repo: _Repo,
        route: tuple[str, ...],
        seg: list[str],
        path: str,
        query: dict[str, str],
        payload: Json,
    ) -> tuple[int, Json, dict[str, str]]:
        issue = self._issue(repo, int(seg[1]))
        me = self.actor
        if route == ("GET", "issues", "N"):
            return 200, self._issue_json(repo, issue), {}
        if route == ("PATCH", "issues", "N"):
            p = payload or {}
            if "title" in p and p["title"] != issue.title:
                self._event(issue, "renamed", me, rename={"from": issue.title, "to": p["title"]})
                issue.title = p["title"]
            if "body" in p:
                issue.body = p["body"]
                issue.last_edited_at = self._now()
            if "labels" in p:
                self._set_issue_labels(repo, issue, [_label_name(x) for x in p["labels"]], me)
            if p.get("state") == "closed" and issue.state == "open":
                self._close(issue, me, p.get("state_reason") or "completed")
            elif p.get("state") == "open" and issue.state == "closed":
                issue.state, issue.state_reason = "open", "reopened"
                issue.closed_at = issue.closed_by = None
                self._event(issue, "reopened", me)
            elif p.get("state") not in (None, "open", "closed"):
                raise _invalid("Issue", "state")
            issue.updated_at = self._now()
            return 200, self._issue_json(repo, issue), {}
        if route == ("GET", "issues", "N", "comments"):
            comments = [self._comment_json(repo, self._comments[c]) for c in issue.comments]
            return self._page(comments, path, query)
        if route == ("POST", "issues", "N", "comments"):
            body = (payload or {}).get("body")
            if not isinstance(body, str) or not body:
                raise _invalid("IssueComment", "body", "missing_field")
            return 201, self._comment_json(repo, self._new_comment(issue, body, me)), {}
        if route == ("GET", "issues", "N", "labels"):
            labels = [self._label_json(repo, repo.labels[n.lower()]) for n in issue.labels]
            return self._page(labels, path, query)
        if route == ("POST", "issues", "N", "labels"):
            raw = payload.get("labels", []) if isinstance(payload, dict) else payload or []
            self._set_issue_labels(repo, issue, issue.labels + [_label_name(x) for x in raw], me)
            return 200, [self._label_json(repo, repo.labels[n.lower()]) for n in issue.labels], {}
        if route == ("PUT", "issues", "N", "labels"):
            raw = payload.get("labels", []) if isinstance(payload, dict) else payload or []
            self._set_issue_labels(repo, issue, [_label_name(x) for x in raw], me)
            return 200, [self._label_json(repo, repo.labels[n.lower()]) for n in issue.labels], {}
        if len(seg) == 4 and route[:4] == ("DELETE", "issues", "N", "labels"):
            name = seg[3]
            current = [n for n in issue.labels if n.lower() == name.lower()]
            if not current:
                raise _HttpError(404, "Label does not exist")
            self._set_issue_labels(repo, issue, [n for n in issue.labels if n not in current], me)
            return 200, [self._label_json(repo, repo.labels[n.lower()]) for n in issue.labels], {}
        if route == ("GET", "issues", "N", "events"):
            events = [self._event_json(repo, e) for e in issue.events]
            return self._page(events, path, query)
        raise _HttpError(404, "Not Found")

    def _graphql(self, payload: Json) -> Json:
        """The two queries billingops sends (by operation name), answered as GitHub does."""
        query = str((payload or {}).get("query", ""))
        variables = (payload or {}).get("variables") or {}
        viewer = {"login": self.actor}  # GitHub names an installation `<app>[bot]` here
        if "billingopsViewer" in query:
            return {"data": {"viewer": viewer}}
        if "billingopsThread" not in query:
            return {"errors": [{"message": "unsupported query (fake GitHub)"}]}
        repo = self._repos.get(f"{variables.get('owner')}/{variables.get('name')}".lower())
        issue = repo.issues.get(int(variables.get("number") or 0)) if repo else None
        if repo is None or issue is None or issue.deleted:
            return {
                "data": {"viewer": viewer, "repository": None if repo is None else {"issue": None}},
                "errors": [{"type": "NOT_FOUND", "message": "Could not resolve to an Issue"}],
            }
        extra: dict[str, Any] = {}
        if "listingOwner" in variables:
            extra["listing"] = self._graphql_listing(
                f"{variables['listingOwner']}/{variables['listingName']}",
                str(variables["listingLabel"]),
            )
        start = int(variables.get("after") or 0)
        ids = issue.comments[start : start + 100]
        nodes = [self._graphql_comment(self._comments[i]) for i in ids]
        more = start + 100 < len(issue.comments)
        return {
            "data": {
                "viewer": viewer,
                **extra,
                "repository": {
                    "issue": {
                        "lastEditedAt": issue.last_edited_at,
                        "comments": {
                            "pageInfo": {
                                "hasNextPage": more,
                                "endCursor": str(start + 100) if more else None,
                            },
                            "nodes": nodes,
                        },
                    }
                },
            }
        }

    def _graphql_listing(self, full_name: str, label: str) -> Json:
        repo = self._repos.get(full_name.lower())
        if repo is None:
            return None
        found = sorted(
            (
                i
                for i in repo.issues.values()
                if not i.deleted
                and not i.pull_request
                and label.lower() in {n.lower() for n in i.labels}
            ),
            key=lambda i: (i.created_at, i.number),
        )
        nodes = [
            {
                "number": i.number,
                "title": i.title,
                "body": i.body or "",
                "state": i.state.upper(),
                "createdAt": i.created_at,
                "closedAt": i.closed_at,
                "url": f"{self.html_base}/{repo.full_name}/issues/{i.number}",
                "author": self._graphql_actor(i.author),
                "labels": {"nodes": [{"name": n} for n in i.labels]},
            }
            for i in found[:100]
        ]
        return {
            "visibility": repo.visibility.upper(),  # GraphQL RepositoryVisibility
            "issues": {"pageInfo": {"hasNextPage": len(found) > 100}, "nodes": nodes},
        }

    def _graphql_actor(self, login: str | None) -> Json:
        if login is None:
            return None
        kind = self._users.get(login) or ("Bot" if login.endswith("[bot]") else "User")
        # GraphQL names a bot without the `[bot]` that REST shows.
        return {"__typename": kind, "login": login.removesuffix("[bot]")}

    def _graphql_comment(self, c: _Comment) -> Json:
        return {
            "databaseId": c.id,
            "body": c.body,
            "createdAt": c.created_at,
            "updatedAt": c.updated_at,
            "lastEditedAt": c.last_edited_at,
            "author": self._graphql_actor(c.author),
            "editor": self._graphql_actor(c.editor),
        }

    def _find_comment(self, repo: _Repo, comment_id: int) -> _Comment:
        comment = self._comments.get(comment_id)
        if comment is None or comment.issue not in repo.issues:
            raise _HttpError(404, "Not Found")
        return comment

    def _list_issues(
        self, repo: _Repo, path: str, query: dict[str, str]
    ) -> tuple[int, Json, dict[str, str]]:
        state = query.get("state", "open")
        if state not in ("open", "closed", "all"):
            raise _invalid("Issue", "state")
        wanted = {x.strip().lower() for x in query.get("labels", "").split(",") if x.strip()}
        found = [
            i
            for i in repo.issues.values()
            if not i.deleted
            and (state == "all" or i.state == state)
            and wanted <= {n.lower() for n in i.labels}
        ]
        # GitHub's default order: sort=created, direction=desc.
        found.sort(key=lambda i: i.number, reverse=query.get("direction", "desc") == "desc")
        return self._page([self._issue_json(repo, i) for i in found], path, query)

    def _page(
        self, items: list[Json], path: str, query: dict[str, str]
    ) -> tuple[int, Json, dict[str, str]]:
        """GitHub pagination: per_page (default 30, max 100), page, and a Link header."""
        try:
            per_page = max(1, min(100, int(query.get("per_page", "30"))))
            page = max(1, int(query.get("page", "1")))
        except ValueError as e:
            raise _HttpError(422, "Validation Failed") from e
        last = max(1, -(-len(items) // per_page))
        chunk = items[(page - 1) * per_page : page * per_page]

        def link(p: int) -> str:
            q = urlencode(query | {"per_page": str(per_page), "page": str(p)})
            return f"<{self.url}{path}?{q}>"

        rels = []
        if page < last:
            rels += [f'{link(page + 1)}; rel="next"', f'{link(last)}; rel="last"']
        if page > 1:
            rels += [f'{link(1)}; rel="first"', f'{link(page - 1)}; rel="prev"']
        return 200, chunk, ({"Link": ", ".join(rels)} if rels else {})


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


def _make_handler(fake: FakeGitHub) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def version_string(self) -> str:
            return "fake-github"

        def _serve(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            headers = {k.lower(): v for k, v in self.headers.items()}
            status, data, extra, delay = fake.handle(self.command, self.path, headers, body)
            if delay:
                time.sleep(delay)
            raw = b"" if data is None else json.dumps(data).encode()
            try:
                self.send_response(status)
                self.send_header("Content-Type", "application/json; charset=utf-8")
                self.send_header("Content-Length", str(len(raw)))
                self.send_header("X-GitHub-Api-Version-Selected", "2022-11-28")
                for k, v in extra.items():
                    self.send_header(k, v)
                self.end_headers()
                self.wfile.write(raw)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client gave up (a timeout test)

        do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _serve

        def date_time_string(self, timestamp: float | None = None) -> str:
            return fake.http_date()  # GitHub's clock, as the stamps in the bodies

        def log_message(self, format: str, *args: Any) -> None:
            pass

    return Handler


__all__ = ["FakeGitHub", "SeenRequest"]
