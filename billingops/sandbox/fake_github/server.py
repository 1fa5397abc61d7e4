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

Test hooks (`hooks.py`): seeding methods (`add_issue`, `add_collaborator`, `label_issue` ...),
state readers (`labels_of`, `comments_of`, `events_of`), a request log (`requests`, `count`)
for the request budget, and `fail_next` to inject failures (status, Retry-After, delay).

This module is the HTTP side: `FakeGitHub` (set-up, lifecycle, and `handle`: the request
log, strict routes, faults, the token, then the GraphQL or REST answer) and the request
handler. The state and its changes are in `store.py`, the JSON shapes in `render.py`.
"""

from __future__ import annotations

import fnmatch
import json
import threading
import time
from datetime import datetime
from http.server import BaseHTTPRequestHandler
from typing import TYPE_CHECKING, Any, Literal
from urllib.parse import parse_qsl, urlsplit

import billingops.sandbox.fake_github.graphql as graphql
import billingops.sandbox.fake_github.rest as rest
from billingops.sandbox.fake_github.hooks import Hooks
from billingops.sandbox.fake_github.state import (
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
    _Repo,
)
from billingops.sandbox.loopback import LoopbackService, ThreadedServer

if TYPE_CHECKING:
    from billingops.sandbox.fake_github.strict import GitHubDescriptions


class FakeGitHub(Hooks, LoopbackService):
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
