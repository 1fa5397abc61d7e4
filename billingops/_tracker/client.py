"""The PyGithub clients the GitHub gateway's parts share, and how one request is made:
`GitHubClientBase` (the constructor, one REST request, pagination, one GraphQL read, the
one-line errors), the retry policy, the write spacing and one client per thread. No
endpoint of the port is here: `reads`, `writes` and `probes` build on this class.

Design notes (the why):

- `github` (PyGithub) is imported inside the constructor (and, in the other parts, inside
  the functions that need it), so `billingops --help` stays fast.
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
  contain the token (`errors.py` says what a failure means).
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, Protocol
from urllib.parse import quote

from billingops._tracker.errors import _RetryAfterTooLong, translate_error
from billingops.core.sensitive import GITHUB_TOKEN
from billingops.errors import BadInput, BillingopsError, NotFound, OperationalError
from billingops.logs import adopt_library_logger, log_request

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


class GitHubClientBase:
    """What the gateway's parts share: the clients, the repository's path, who the token
    is once known, and the request plumbing."""

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

        def client(methods: frozenset[str]) -> Github:
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
                seconds_between_writes=None,  # spaced across threads by `_WriteGate`
                lazy=True,  # no request until data is needed (get_repo costs nothing)
                user_agent="billingops",
            )

        # One PyGithub client per thread (see `_PerThread`); the write spacing GitHub asks
        # for is kept across threads by one shared gate.
        gate = _WriteGate(seconds_between_writes)
        self._client: _Clients = (
            _Fixed(_client)
            if _client is not None
            else _PerThread(lambda: _timed(client(IDEMPOTENT_METHODS), gate))
        )
        # GraphQL queries are POSTs that only read: their own client retries them like a
        # GET and does not space them like writes. Mutations never go through it.
        self._reads: _Clients = (
            _Fixed(_reads or _client)  # type: ignore[arg-type]
            if (_reads or _client) is not None
            else _PerThread(lambda: _timed(client(IDEMPOTENT_METHODS | {"POST"})))
        )

    # ------------------------------------------------------------------ plumbing

    def _graphql(self, what: str, query: str, variables: dict[str, Any]) -> dict[str, Any]:
        """A GraphQL read (its `data`); errors become the usual one-line errors. A POST that
        only reads: it goes through the reads client, which retries it like a GET."""
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


__all__ = [
    "BACKOFF_FACTOR",
    "DEFAULT_API_URL",
    "IDEMPOTENT_METHODS",
    "GitHubClientBase",
    "retry_policy",
]
