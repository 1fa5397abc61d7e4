"""GitHub's failures -> billingops' errors: what a PyGithub, requests or urllib3 exception
means, as one `NotFound` / `BadInput` / `OperationalError` line (the caller's `line` drops the
token and bounds it).

Translation only, no request: `client.py` sends and catches, this module says what a failure
means, so the texts a user reads are in one place. `github`, `requests` and `urllib3` are
imported inside the functions, so `billingops --help` stays fast.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from billingops.errors import BadInput, BillingopsError, NotFound, OperationalError


class _RetryAfterTooLong(Exception):
    """GitHub asked us to wait longer than we are willing to (a CI job should not sleep for an
    hour); the run fails with exit 1 and the next run picks the issue up (level-triggered)."""

    def __init__(self, seconds: float) -> None:
        super().__init__(f"Retry-After {seconds:g}s")
        self.seconds = seconds


def translate_error(
    exc: Exception, what: str, *, api_url: str, line: Callable[[str], str]
) -> BillingopsError:
    """What `exc`, raised while the gateway did `what`, means: one line (through `line`,
    which drops the token) of the error billingops reports."""
    import requests
    from github import GithubException, RateLimitExceededException

    if isinstance(exc, _RetryAfterTooLong):
        return OperationalError(
            line(f"GitHub: {what}: rate limited, asked to wait {exc.seconds:g}s")
        )
    if isinstance(exc, GithubException):
        status = exc.status
        detail = _detail(exc.data)
        if status == 404:
            return NotFound(line(f"GitHub: {what}: not found (404)"))
        if status == 410:
            return NotFound(line(f"GitHub: {what}: gone (410{detail})"))
        if status == 401:
            return BadInput(
                line(f"GitHub: {what}: the token was rejected (401{detail}); check GITHUB_TOKEN")
            )
        if (
            isinstance(exc, RateLimitExceededException)
            or status == 429
            or (status == 403 and "rate limit" in detail.lower())
        ):
            return OperationalError(
                line(f"GitHub: {what}: rate limited ({status}{detail}) after retries")
            )
        if status == 403:
            return BadInput(
                line(
                    f"GitHub: {what}: forbidden (403{detail}); the token needs "
                    "issues: write and metadata: read on the repository"
                )
            )
        if status == 422:
            return BadInput(line(f"GitHub: {what}: rejected (422{detail})"))
        if status >= 500:
            return OperationalError(
                line(f"GitHub: {what}: server error ({status}{detail}) after retries")
            )
        return OperationalError(line(f"GitHub: {what}: unexpected {status}{detail}"))
    if isinstance(exc, requests.exceptions.Timeout) or _timed_out(exc):
        return OperationalError(line(f"GitHub: {what}: timed out after retries"))
    if isinstance(exc, requests.exceptions.RequestException):
        kind = type(exc).__name__
        return OperationalError(
            line(f"GitHub: {what}: cannot reach {api_url} ({kind}) after retries")
        )
    return OperationalError(line(f"GitHub: {what}: {type(exc).__name__}: {exc}"))


def _timed_out(exc: BaseException) -> bool:
    """requests reports read timeouts that exhausted urllib3's retries as a ConnectionError
    wrapping MaxRetryError(reason=ReadTimeoutError)."""
    from urllib3.exceptions import MaxRetryError, NewConnectionError, TimeoutError

    return any(
        isinstance(arg, MaxRetryError)
        and isinstance(arg.reason, TimeoutError)
        and not isinstance(arg.reason, NewConnectionError)  # "refused" subclasses a timeout
        for arg in exc.args
    )


def _detail(data: Any) -> str:
    """': message (field code, ...)' from a basic-error / validation-error body."""
    if not isinstance(data, dict):
        return ""
    text = str(data.get("message") or "")
    errors = data.get("errors")
    if isinstance(errors, list):
        parts = [
            " ".join(str(e.get(k)) for k in ("field", "code", "message") if e.get(k))
            if isinstance(e, dict)
            else str(e)
            for e in errors
        ]
        text += f" ({'; '.join(parts)})" if parts else ""
    return f": {text}" if text else ""


def _has_error_code(data: Any, code: str) -> bool:
    errors = data.get("errors") if isinstance(data, dict) else None
    return isinstance(errors, list) and any(
        isinstance(e, dict) and e.get("code") == code for e in errors
    )
