"""The GitHub adapter of the `IssueTracker` port: the only module that imports `github`.

Design notes (the why):

- `github` (PyGithub) is imported inside the constructor, so `billingops --help` stays fast.
- Transport is PyGithub's `Requester` (auth, base URL incl. GitHub Enterprise, timeouts,
  urllib3 retries, exceptions). Results are read from the JSON it returns and turned into our
  pydantic models. PyGithub's objects are not used as results: they complete themselves
  with a hidden extra GET when a property absent from the payload is read (`Issue.pull_request`
  on a plain issue, `IssueEvent.label` on a non-label event), which would break the request
  budget (SPEC §8: a triage makes at most 4 GitHub requests) in ways no test would notice.
  `Github.requester` is PyGithub's documented way to call endpoints directly.
- Retries: only idempotent methods (GET, PUT, DELETE, PATCH) are retried, on 5xx, 429 and
  403 secondary rate limits, with Retry-After respected. POST is never retried after the
  request was sent: a POST retried after a 5xx can duplicate a comment or an issue; callers
  find by marker, then write. PATCH is retried because writing the same body twice leaves the
  same state. A connection that could not be opened is retried for every method (nothing
  was sent).
- Errors become one-line `NotFound` / `BadInput` / `OperationalError` messages that never
  contain the token.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, Protocol
from urllib.parse import quote

from billingops._tracker import translate
from billingops._tracker.errors import _has_error_code, _RetryAfterTooLong, translate_error
from billingops._tracker.translate import THREAD_QUERY, VIEWER_QUERY, thread_query
from billingops.core.sensitive import GITHUB_TOKEN
from billingops.errors import BadInput, BillingopsError, NotFound, OperationalError
from billingops.logs import adopt_library_logger, log_request
from billingops.models.issue import Comment, IssueSnapshot, LabelEvent, Thread

if TYPE_CHECKING:
    from github import Github
    from github.Requester import Requester
    from urllib3 import Retry

DEFAULT_API_URL = "https://api.github.com"
# urllib3's exponential backoff between retries: 0, 2 × 0.5 s, 4 × 0.5 s... A gateway built
# without `backoff_factor` reads this when it is built (tests set it to 0: they count the
# retries, not the pauses).
BACKOFF_FACTOR = 0.5
IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE", "PATCH"})
_TOKEN_RE = GITHUB_TOKEN  # every format, the 2026 installation tokens with `.` and `-` too
_NEXT_LINK = re.compile(r'<([^>]+)>\s*;\s*rel="next"')
_REPOSITORY = re.compile(r"^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+$")
# GraphQL error types of a root whose repository the token cannot reach (a configuration
# problem: no retry helps), as `_graphql_parts` reports them.
_UNREACHABLE = ("NOT_FOUND", "FORBIDDEN")


def retry_policy(
    *,
    max_retries: int,
    backoff_factor: float,
    max_retry_after: float,
    methods: frozenset[str] = IDEMPOTENT_METHODS,
) -> Retry:
    """The urllib3 retry policy given to PyGithub (see the module docstring)."""
    from github import GithubRetry

    class _Policy(GithubRetry):
        def get_retry_after(self, response: Any) -> float | None:
            seconds = super().get_retry_after(response)
            if seconds is not None and seconds > max_retry_after:
                raise _RetryAfterTooLong(seconds)
            return seconds

    return _Policy(
        total=max_retries,
        connect=max_retries,  # the request never left: safe for POST too
        read=max_retries,  # read errors / timeouts: only for allowed_methods
        status=max_retries,
        other=0,
        backoff_factor=backoff_factor,
        allowed_methods=methods,  # POST is never retried once sent (but GraphQL reads)
        status_forcelist=[429, *range(500, 600)],  # GithubRetry adds 403 (rate limits only)
        raise_on_status=False,  # after the last retry, hand back the response: clear status
        respect_retry_after_header=True,
        secondary_rate_wait=min(60.0, max_retry_after),
        max_rate_limit_wait=max_retry_after,
    )


class GitHubGateway:
    """`IssueTracker` on the GitHub REST API, through PyGithub."""

    repository: str

    def __init__(
        self,
        token: str,
        repository: str,
        api_url: str = DEFAULT_API_URL,
        *,
        timeout: int = 15,
        max_retries: int = 3,
        backoff_factor: float | None = None,
        max_retry_after: float = 120.0,
        seconds_between_writes: float | None = 1.0,
        per_page: int = 100,
        _client: Github | None = None,
        _reads: Github | None = None,
    ) -> None:
        """`seconds_between_writes`: GitHub asks integrators to space writes by a second to
        avoid secondary rate limits; tests pass None."""
        if not token:
            raise BadInput("GITHUB_TOKEN is empty")
        if not _REPOSITORY.match(repository):
            raise BadInput(f"GITHUB_REPOSITORY must be owner/name, got {repository!r}")
        api_url = (api_url or DEFAULT_API_URL).rstrip("/")
        if not api_url.startswith(("https://", "http://")):
            raise BadInput(f"GITHUB_API_URL must be an http(s) URL, got {api_url!r}")
        self.repository = repository
        self.api_url = api_url
        self._token = token
        self._per_page = per_page
        self._path = "/repos/" + "/".join(quote(p, safe="") for p in repository.split("/"))
        self._me: str | None = None
        backoff = BACKOFF_FACTOR if backoff_factor is None else backoff_factor

        def client(methods: frozenset[str], between_writes: float | None) -> Github:
            from github import Auth, Github

            adopt_library_logger("github")  # PyGithub's own console handler, added on import

            return Github(
                auth=Auth.Token(token),
                base_url=api_url,
                timeout=timeout,
                retry=retry_policy(
                    max_retries=max_retries,
                    backoff_factor=backoff,
                    max_retry_after=max_retry_after,
                    methods=methods,
                ),
                per_page=per_page,
                seconds_between_requests=None,
                seconds_between_writes=between_writes,
                lazy=True,  # no request until data is needed (get_repo costs nothing)
                user_agent="billingops",
            )

        # One PyGithub client per thread (see `_PerThread`); the write spacing GitHub asks
        # for is kept across threads by one shared gate.
        gate = _WriteGate(seconds_between_writes)
        self._client: _Clients = (
            _Fixed(_client)
            if _client is not None
            else _PerThread(lambda: _timed(client(IDEMPOTENT_METHODS, None), gate))
        )
        # GraphQL queries are POSTs that only read: their own client retries them like a
        # GET and does not space them like writes. Mutations never go through it.
        self._reads: _Clients = (
            _Fixed(_reads or _client)  # type: ignore[arg-type]
            if (_reads or _client) is not None
            else _PerThread(lambda: _timed(client(IDEMPOTENT_METHODS | {"POST"}, None)))
        )

    @classmethod
    def from_env(cls, env: Mapping[str, str], **options: Any) -> GitHubGateway:
        """GITHUB_TOKEN, GITHUB_REPOSITORY and GITHUB_API_URL (GitHub Enterprise too)."""
        token = env.get("GITHUB_TOKEN", "")
        repository = env.get("GITHUB_REPOSITORY", "")
        if not token:
            raise BadInput("GITHUB_TOKEN is not set")
        if not repository:
            raise BadInput("GITHUB_REPOSITORY is not set (owner/name)")
        api_url = env.get("GITHUB_API_URL") or DEFAULT_API_URL
        return cls(token, repository, api_url, **options)

    def for_repository(self, repository: str) -> GitHubGateway:
        """The same client (token, retries, connection pool) on another repository, e.g. the
        backlog repository of SPEC §7."""
        other = GitHubGateway(
            self._token,
            repository,
            self.api_url,
            per_page=self._per_page,
        )
        # The same clients and write gate (one per thread), not new connections.
        other._client, other._reads = self._client, self._reads
        other._me = self._me  # the same token acts as the same account everywhere
        return other

    # ------------------------------------------------------------------ the port

    def get_issue(self, number: int) -> IssueSnapshot:
        data = self._call(f"get issue #{number}", "GET", f"{self._path}/issues/{number}")
        return translate.issue(data)

    def list_comments(self, number: int) -> list[Comment]:
        items = self._paginate(
            f"list comments of #{number}", f"{self._path}/issues/{number}/comments"
        )
        return [translate.comment(c) for c in items]

    def read_thread(
        self,
        number: int,
        *,
        listing: tuple[str, str] | None = None,
        extra_listing: tuple[str, str] | None = None,
    ) -> Thread:
        owner, name = self.repository.split("/")
        comments: list[Comment] = []
        after: str | None = None
        me, edited_at = "", 0
        # alias -> (owner/name, label): the listings asked for, read with the first page.
        roots = {
            alias: wanted
            for alias, wanted in (("listing", listing), ("extra", extra_listing))
            if wanted is not None
        }
        listed: dict[str, list[IssueSnapshot] | None] = {}
        listed_visibility: dict[str, Any] | None = None
        errors: dict[str, str] = {}
        unreachable = False
        while True:
            variables: dict[str, Any] = {
                "owner": owner,
                "name": name,
                "number": number,
                "after": after,
            }
            first = after is None
            query = thread_query(*roots) if first and roots else THREAD_QUERY
            if first:  # the listings with the first page only
                for alias, (repository, label) in roots.items():
                    variables[f"{alias}Owner"], variables[f"{alias}Name"] = repository.split("/")
                    variables[f"{alias}Label"] = label
            # Each listing is its own root: when one fails (a backlog the token cannot
            # see), the thread is still read and the caller goes on without it (SPEC §5c).
            data, failed = self._graphql_parts(
                f"read the thread of #{number}", query, variables, optional=frozenset(roots)
            )
            if first:
                for alias, (repository, _) in roots.items():
                    listed[alias] = translate.graphql_listing(data.get(alias))
                    if alias in failed:
                        errors[alias] = self._line(
                            f"GitHub: read the issues of {repository}: {failed[alias]}"
                        )
                        unreachable = unreachable or (
                            alias == "extra" and failed[alias].startswith(_UNREACHABLE)
                        )
                listed_visibility = translate.graphql_visibility(data.get("listing"))
            me = translate.graphql_login(data.get("viewer"))
            issue = ((data.get("repository") or {}).get("issue")) or None
            if issue is None:
                raise NotFound(self._line(f"GitHub: read the thread of #{number}: not found"))
            edited_at = translate.ts(issue.get("lastEditedAt"))
            page = issue.get("comments") or {}
            comments.extend(translate.graphql_comment(n) for n in page.get("nodes") or [] if n)
            info = page.get("pageInfo") or {}
            if not info.get("hasNextPage") or not info.get("endCursor"):
                break
            after = str(info["endCursor"])
        if not me:
            raise OperationalError(self._line("GitHub: read the thread: no viewer login"))
        self._me = me
        return Thread(
            me=me,
            comments=comments,
            edited_at=edited_at,
            listing=listed.get("listing"),
            listing_visibility=listed_visibility,
            listing_error=errors.get("listing"),
            extra_listing=listed.get("extra"),
            extra_listing_error=errors.get("extra"),
            extra_listing_unreachable=unreachable,
        )

    def whoami(self) -> str:
        if self._me is None:
            me = translate.graphql_login(self._graphql("who am I", VIEWER_QUERY, {}).get("viewer"))
            if not me:
                raise OperationalError(self._line("GitHub: who am I: no viewer login"))
            self._me = me
        return self._me

    def create_comment(self, number: int, body: str) -> Comment:
        data = self._call(
            f"comment on #{number}",
            "POST",
            f"{self._path}/issues/{number}/comments",
            body={"body": body},
        )
        return translate.comment(data)

    def edit_comment(self, comment_id: int, body: str) -> Comment:
        data = self._call(
            f"edit comment {comment_id}",
            "PATCH",
            f"{self._path}/issues/comments/{comment_id}",
            body={"body": body},
        )
        return translate.comment(data)

    def set_labels(self, number: int, labels: list[str]) -> None:
        self._call(
            f"set labels on #{number}",
            "PUT",
            f"{self._path}/issues/{number}/labels",
            body={"labels": list(labels)},
        )

    def add_labels(self, number: int, labels: list[str]) -> None:
        # A POST, so never retried blindly; adding a label twice leaves the same state anyway.
        self._call(
            f"add labels to #{number}",
            "POST",
            f"{self._path}/issues/{number}/labels",
            body={"labels": list(labels)},
        )

    def remove_label(self, number: int, label: str) -> None:
        # 404 is success here: the label is absent (GitHub says "Label does not exist"), or a
        # retried DELETE whose first attempt had already removed it.
        self._call(
            f"remove label {label!r} from #{number}",
            "DELETE",
            f"{self._path}/issues/{number}/labels/{quote(label, safe='')}",
            tolerate=frozenset({404}),
        )

    def label_events(self, number: int) -> list[LabelEvent]:
        items = self._paginate(f"list events of #{number}", f"{self._path}/issues/{number}/events")
        # `renamed` too: a title edit is an edit of the ticket (GraphQL `lastEditedAt` only
        # covers the body).
        kinds = ("labeled", "unlabeled", "renamed")
        events = [translate.label_event(e) for e in items if e.get("event") in kinds]
        return sorted(events, key=lambda e: (e.created_at, e.id))  # GitHub: oldest first

    def role_of(self, login: str) -> str | None:
        # `role_name`, not the legacy `permission` (maintain reads as write, triage as read).
        try:
            with self._errors(f"read the repository role of {login!r}"):
                repo = self._client.get_repo(self.repository)  # lazy: no request
                return str(repo.get_collaborator_role_name(login))
        except NotFound:
            return None  # not a collaborator (or no such user)

    def list_issues(self, *, labels: list[str], state: str = "all") -> list[IssueSnapshot]:
        params = {"state": state, "labels": ",".join(labels)} if labels else {"state": state}
        items = self._paginate(f"list issues labeled {labels!r}", f"{self._path}/issues", params)
        # The issues endpoint lists pull requests too.
        return [translate.issue(i) for i in items if "pull_request" not in i]

    def create_issue(self, *, title: str, body: str, labels: list[str]) -> IssueSnapshot:
        data = self._call(
            "create issue",
            "POST",
            f"{self._path}/issues",
            body={"title": title, "body": body, "labels": list(labels)},
        )
        return translate.issue(data)

    def edit_issue(
        self,
        number: int,
        *,
        body: str | None = None,
        state: str | None = None,
        state_reason: str | None = None,
    ) -> IssueSnapshot:
        changes: dict[str, str] = {}
        if body is not None:
            changes["body"] = body
        if state is not None:
            changes["state"] = state
            if state_reason is not None:
                changes["state_reason"] = state_reason
        if not changes:
            return self.get_issue(number)
        data = self._call(
            f"edit issue #{number}", "PATCH", f"{self._path}/issues/{number}", body=changes
        )
        return translate.issue(data)

    def ensure_label(self, name: str, *, color: str, description: str) -> bool:
        what = f"create label {name!r}"
        found = self._call(
            f"read label {name!r}",
            "GET",
            f"{self._path}/labels/{quote(name, safe='')}",
            tolerate=frozenset({404}),
        )
        if found is not None:
            return False
        from github import GithubException

        with self._errors(what):
            try:
                self._client.requester.requestJsonAndCheck(
                    "POST",
                    f"{self._path}/labels",
                    input={"name": name, "color": color.lstrip("#"), "description": description},
                )
            except GithubException as e:
                if e.status == 422 and _has_error_code(e.data, "already_exists"):
                    return False  # another run created it between our GET and POST
                raise
        return True

    # ------------------------------------------------------------------ onboarding (doctor)

    def list_labels(self) -> list[dict[str, str]]:
        """Every label of the repository: name, color, description (one request per 100)."""
        items = self._paginate("list labels", f"{self._path}/labels")
        return [
            {
                "name": str(x.get("name", "")),
                "color": str(x.get("color") or ""),
                "description": str(x.get("description") or ""),
            }
            for x in items
        ]

    def visibility(self) -> dict[str, Any]:
        """The repository's `private` and `visibility`, as an event payload carries them."""
        data = self._call("read the repository", "GET", self._path)
        return {"private": data.get("private"), "visibility": data.get("visibility")}

    def environment(self, name: str) -> tuple[int, dict[str, Any] | None]:
        """`GET /repos/{owner}/{repo}/environments/{environment_name}`: (200, the
        environment), (404, None) when it does not exist, (403, None) when the token may not
        read it (an App or fine-grained token needs Actions: Read; Issues and Metadata do
        not give it)."""
        return self._look(
            "read the Environment", f"{self._path}/environments/{quote(name, safe='')}"
        )

    def repository_secret(self, name: str) -> int:
        """`GET /repos/{owner}/{repo}/actions/secrets/{secret_name}` (never its value): 200
        when a repository-level secret of that name exists, 404 when not, 403 when the token
        may not see secrets (Secrets: Read)."""
        status, _ = self._look(
            "read the repository's secrets", f"{self._path}/actions/secrets/{quote(name, safe='')}"
        )
        return status

    def custom_repository_roles(self, org: str) -> tuple[int, list[str]]:
        """`GET /orgs/{org}/custom-repository-roles` (GitHub Enterprise Cloud and Server):
        the names of the organisation's custom repository roles; 404 / 403 when there are
        none to see (not an organisation, not Enterprise, or the token is not an admin's)."""
        status, data = self._look(
            "list the organisation's custom roles",
            f"/orgs/{quote(org, safe='')}/custom-repository-roles",
        )
        roles = (data or {}).get("custom_roles") or []
        return status, [str(r.get("name", "")) for r in roles if isinstance(r, dict)]

    def _look(self, what: str, url: str) -> tuple[int, Any]:
        """One read for `doctor` where 403 and 404 are answers, not failures."""
        from github import GithubException

        with self._errors(what):
            try:
                return 200, self._client.requester.requestJsonAndCheck("GET", url)[1]
            except GithubException as e:
                if e.status in (403, 404):
                    return e.status, None
                raise

    def probe_read_issues(self) -> None:
        """One request that reads issues (raises the usual one-line errors)."""
        self._call("read issues", "GET", f"{self._path}/issues", params={"per_page": 1})

    def probe_write_issues(self) -> None:
        """Whether the token may write labels and comments, without writing anything.

        A label creation without a name: GitHub checks the token's permission before it
        validates the body, so 422 (invalid) means "allowed" and nothing is created, while a
        token without `issues: write` gets 403 (or 404 for a classic token without access
        to a private repository), which raise the usual one-line errors. A POST is never
        retried by this gateway."""
        self._call(
            "create labels (write probe)",
            "POST",
            f"{self._path}/labels",
            body={"description": "billingops doctor write probe: invalid on purpose"},
            tolerate=frozenset({422}),
        )

    # ------------------------------------------------------------------ plumbing

    def _graphql(self, what: str, query: str, variables: dict[str, Any]) -> dict[str, Any]:
        """A GraphQL read (its `data`); errors become the usual one-line errors. A POST, so
        urllib3 does not retry it after sending; the next run reads again."""
        return self._graphql_parts(what, query, variables)[0]

    def _graphql_parts(
        self,
        what: str,
        query: str,
        variables: dict[str, Any],
        *,
        optional: frozenset[str] = frozenset(),
    ) -> tuple[dict[str, Any], dict[str, str]]:
        """A GraphQL read: (`data`, {root: why it failed} for the `optional` roots that
        failed). GitHub answers a failed field with null and an error whose `path` names
        it, and the other roots keep their data; an error anywhere else becomes the usual
        one-line error."""
        with self._errors(what):
            requester = self._reads.requester
            _, data = requester.requestJsonAndCheck(
                "POST", requester.graphql_url, input={"query": query, "variables": variables}
            )
            errors = data.get("errors") if isinstance(data, dict) else None
            failed: dict[str, str] = {}
            kept: list[Any] = []
            for e in errors if isinstance(errors, list) else [errors] if errors else []:
                path = e.get("path") if isinstance(e, dict) else None
                root = str(path[0]) if isinstance(path, list) and path else None
                if root is None or root not in optional:
                    kept.append(e)
                else:
                    kind = str(e.get("type") or "GraphQL error")
                    failed.setdefault(root, f"{kind}: {e.get('message') or ''}".rstrip(": "))
            errors = kept
            if errors:
                kinds = {str(e.get("type", "")) for e in errors if isinstance(e, dict)}
                if "NOT_FOUND" in kinds:
                    raise NotFound(self._line(f"GitHub: {what}: not found"))
                if "FORBIDDEN" in kinds:
                    raise BadInput(self._line(f"GitHub: {what}: forbidden (GraphQL)"))
                raise OperationalError(self._line(f"GitHub: {what}: GraphQL error"))
            return dict((data or {}).get("data") or {}), failed

    def _call(
        self,
        what: str,
        verb: str,
        url: str,
        *,
        params: dict[str, Any] | None = None,
        body: Any = None,
        tolerate: frozenset[int] = frozenset(),
    ) -> Any:
        """One request; its JSON. None when the status is in `tolerate`."""
        return self._request(what, verb, url, params=params, body=body, tolerate=tolerate)[1]

    def _request(
        self,
        what: str,
        verb: str,
        url: str,
        *,
        params: dict[str, Any] | None = None,
        body: Any = None,
        tolerate: frozenset[int] = frozenset(),
    ) -> tuple[dict[str, Any], Any]:
        from github import GithubException

        with self._errors(what):
            try:
                return self._client.requester.requestJsonAndCheck(
                    verb, url, parameters=params, input=body
                )
            except GithubException as e:
                if e.status in tolerate:
                    return {}, None
                raise

    def _paginate(
        self, what: str, url: str, params: dict[str, Any] | None = None
    ) -> list[dict[str, Any]]:
        """Every page, following the Link header (one request per 100 items)."""
        items: list[dict[str, Any]] = []
        query: dict[str, Any] | None = {**(params or {}), "per_page": self._per_page}
        next_url: str | None = url
        while next_url:
            headers, data = self._request(what, "GET", next_url, params=query)
            items.extend(data or [])
            found = _NEXT_LINK.search(str(headers.get("link", "")))
            next_url, query = (found[1] if found else None), None  # the link carries the query
        return items

    @contextmanager
    def _errors(self, what: str) -> Iterator[None]:
        """PyGithub / requests exceptions -> our one-line errors."""
        try:
            yield
        except BillingopsError:
            raise
        except Exception as exc:
            # no chained traceback to leak from
            raise translate_error(exc, what, api_url=self.api_url, line=self._line) from None

    def _line(self, message: str) -> str:
        """One line, bounded, no token."""
        message = message.replace(self._token, "***")
        message = _TOKEN_RE.sub("***", " ".join(message.split()))
        return message if len(message) <= 300 else message[:297] + "..."


def _timed(github: Github, gate: _WriteGate | None = None) -> Github:
    """Every request of this client logs one debug line: method, path, the names of its
    query parameters, status, milliseconds, GitHub's request id (`billingops.logs`); its
    writes wait for `gate`."""
    requester = github.requester
    original = requester.requestJson

    def timed(verb: str, url: str, parameters: Any = None, *args: Any, **kw: Any) -> Any:
        if gate is not None and verb.upper() in _WRITE_METHODS:
            gate.wait()
        started = time.monotonic()
        try:
            status, headers, output = original(verb, url, parameters, *args, **kw)
        except Exception as exc:
            log_request("github", verb, url, type(exc).__name__, time.monotonic() - started)
            raise
        rid = next(
            (str(v) for k, v in dict(headers or {}).items() if k.lower() == "x-github-request-id"),
            None,
        )
        log_request("github", verb, url, status, time.monotonic() - started, rid, parameters)
        return status, headers, output

    requester.requestJson = timed  # type: ignore[method-assign]
    return github


_WRITE_METHODS = frozenset({"POST", "PATCH", "PUT", "DELETE"})


class _WriteGate:
    """GitHub asks integrators to leave a second between writes (secondary rate limits).
    PyGithub spaces the writes of one client; billingops has one client per thread, so the
    spacing is kept here, across all of them."""

    def __init__(
        self,
        seconds: float | None,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._seconds = seconds or 0.0
        self._clock, self._sleep = clock, sleep
        self._lock = threading.Lock()
        self._next = 0.0

    def wait(self) -> None:
        """Return when this write may go: a slot `seconds` after the one before it."""
        if self._seconds <= 0:
            return
        with self._lock:
            now = self._clock()
            start = max(now, self._next)
            self._next = start + self._seconds
        if start > now:
            self._sleep(start - now)


class _Clients(Protocol):
    @property
    def requester(self) -> Requester: ...
    def get_repo(self, full_name: str) -> Any: ...


class _PerThread:
    """One PyGithub client per thread. A client's Requester keeps one connection whose
    `request()` stores the request and whose `getresponse()` sends it: two threads sharing
    one can send each other's request and read each other's answer (seen under load: a
    `create_issue` given the answer of a labels write). The desk issues independent
    requests concurrently (SPEC §8), so each thread gets its own."""

    def __init__(self, make: Callable[[], Github]) -> None:
        self._make = make
        self._local = threading.local()

    def get(self) -> Github:
        client: Github | None = getattr(self._local, "client", None)
        if client is None:
            client = self._local.client = self._make()
        return client

    @property
    def requester(self) -> Requester:
        return self.get().requester

    def get_repo(self, full_name: str) -> Any:
        return self.get().get_repo(full_name)


class _Fixed:
    """A client handed in by a caller (tests), used as it is."""

    def __init__(self, client: Github) -> None:
        self._client = client

    @property
    def requester(self) -> Requester:
        return self._client.requester

    def get_repo(self, full_name: str) -> Any:
        return self._client.get_repo(full_name)


__all__ = ["DEFAULT_API_URL", "IDEMPOTENT_METHODS", "GitHubGateway", "retry_policy"]
