"""A small stateful fake of GitHub's REST and GraphQL APIs, for the demo, the tests and
cassette recording.

Why: the sandbox has no internet and tests must never reach a non-loopback address, yet the
GitHub gateway should be exercised through real HTTP and the real PyGithub requester (auth
header, base URL, retries, pagination, error mapping). So this server speaks just the
endpoints billingops uses, with response bodies shaped after the examples of GitHub's own
OpenAPI description (npm `@octokit/openapi`, `components/examples`: `issue`,
`issue-comment`, `label`, `issue-event-for-issue-items`,
`repository-collaborator-permission-response-if-user-has-admin-permissions`; error bodies
after `basic-error` / `validation-error`). Fields billingops never reads (milestone,
assignees, reactions ...) are left out to keep it small.

Strict (`strict=GitHubDescriptions`, what every test gets; see `strict.py` and
docs/TESTED-AGAINST.md): every GraphQL document is validated and executed against GitHub's
published schema over this state (`resolvers.py`), and every REST route is matched against
GitHub's published REST description; a request GitHub would reject is answered as GitHub
answers it and recorded as a violation. Without it (the demo, the sandbox: no test-only
dependency) the two GraphQL queries billingops sends are answered by hand (`graphql.py`).

Ids are in today's ranges (`state.ID_BASES`): comment ids past 2**31, as GitHub's have been
since 2024, so a 32-bit `Int` cannot hold them.

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

import fnmatch
import json
import threading
import time
from collections.abc import Iterable
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler
from typing import TYPE_CHECKING, Any, Literal
from urllib.parse import parse_qsl, urlsplit

import billingops.sandbox.fake_github.graphql as graphql
import billingops.sandbox.fake_github.rest as rest
from billingops.sandbox.fake_github.render import Rendering
from billingops.sandbox.fake_github.state import (
    _LEGACY_PERMISSION,
    _REASONS,
    FIXED_EPOCH,
    ID_BASES,
    Json,
    SeenRequest,
    _Comment,
    _error,
    _Fault,
    _HttpError,
    _is_installation,
    _node_id,
    _Repo,
)
from billingops.sandbox.loopback import LoopbackService, ThreadedServer

if TYPE_CHECKING:
    from billingops.sandbox.fake_github.strict import GitHubDescriptions


class FakeGitHub(Rendering, LoopbackService):
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
        strict: GitHubDescriptions | Literal[False] | None = None,
    ) -> None:
        """`strict`: GitHub's published descriptions to hold every request to (see
        `strict.GitHubDescriptions`); None takes `FakeGitHub.default_strict()` (the tests
        set it for every fake they start), False none (the demo and the sandbox)."""
        if strict is None:
            strict = type(self).default_strict()
        self.strict: GitHubDescriptions | None = strict or None
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
        self._ids = dict(ID_BASES)
        # org.lower() -> its custom repository roles (name, base role)
        self._custom_roles: dict[str, list[tuple[str, str]]] = {}
        # Permissions the token lacks, e.g. {"actions", "secrets"}: what an App or
        # fine-grained token with Issues and Metadata only cannot read (403).
        self.denied: set[str] = set()
        self._server: ThreadedServer | None = None
        self.add_repo(repository)

    @staticmethod
    def default_strict() -> GitHubDescriptions | None:
        """The descriptions a fake started without `strict=` is held to: none, unless a
        test set-up replaced this (tests/plugins/github_descriptions.py)."""
        return None

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

    def add_repo(
        self, full_name: str, *, visibility: str = "private", accessible: bool = True
    ) -> None:
        """`accessible=False`: the repository exists but the token cannot see it."""
        with self._lock:
            repo = self._repos.setdefault(full_name.lower(), _Repo(full_name))
            repo.visibility, repo.accessible = visibility, accessible

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
            comment = rest.find_comment(self, self._repo(repo), comment_id)
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
                issue.editor = editor
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
            is_graphql = method == "POST" and parts.path.endswith("/graphql")
            if (
                self.strict is not None
                and not is_graphql
                and self.strict.rest_template(method, path) is None
            ):
                # GitHub answers a route it does not have with 404; the violation is also
                # recorded, so the test fails even if the code under test swallows the 404.
                return 404, _error(404, "Not Found"), {}, 0.0
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
                if is_graphql:
                    if self.strict is not None:
                        return 200, self.strict.execute(self, payload), {}, 0.0
                    return 200, graphql.answer(self, payload), {}, 0.0
                if method == "GET" and path == "/user":
                    if _is_installation(self.actor):
                        raise _HttpError(403, "Resource not accessible by integration")
                    return 200, self._user_json(self.actor), {}, 0.0
                status, data, extra = rest.route(self, method, path, query, payload)
            except _HttpError as e:
                return e.status, _error(e.status, e.message, e.errors), {}, 0.0
            return status, data, extra, 0.0


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


__all__ = ["FIXED_EPOCH", "FakeGitHub", "SeenRequest"]
