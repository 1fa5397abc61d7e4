"""Logging for the CLI: one stderr handler whose filter redacts every record.

`configure(debug)` is what the CLI calls (`--debug` turns on DEBUG for billingops and the
SDKs underneath, urllib3, stripe, github). Whatever the level, every record that reaches
the handler goes through `RedactingFilter` first: its message, its `%`-args, its exception
text and stack are rendered, then scrubbed of

- Stripe keys (`sk_`, `rk_`, `pk_` live/test) and webhook secrets (`whsec_`),
- GitHub tokens (`ghp_`, `gho_`, `ghu_`, `ghs_`, `ghr_`, `github_pat_`) and the credential
  of an `Authorization` header,
- card numbers (Luhn-checked, as `core.sensitive` finds them),
- email addresses (the local part; the domain is kept, as in error messages).

The filter sits on the handler, not on a logger: a logger's filters do not see records that
propagate from child loggers (`stripe`, `urllib3.connectionpool`), a handler's do.

What `--debug` shows (issue 20): request lines, statuses, timings and ids, never a response
body or a customer's data. billingops logs one line per HTTP request itself
(`billingops.http`: service, method, path, the names of the query parameters but not their
values, status, milliseconds, request id). The libraries' own records below WARNING are
kept only in the shapes known to be safe (urllib3's request and retry lines, stripe-python's
and PyGithub's retry lines, PyGithub's request line cut to method, URL and status), rebuilt
from their parts with query values removed; everything else they log at DEBUG or INFO
(stripe-python's "API response body" and "Post details", PyGithub's headers and bodies) is
dropped. In a public repository's run (`reduce_for_public`) Stripe ids are left out too.
"""

from __future__ import annotations

import logging
import re
import sys
import traceback
from collections.abc import Mapping
from typing import IO, Any
from urllib.parse import parse_qsl, urlsplit

from billingops.core.sensitive import GITHUB_TOKEN_PATTERN, scrub

HANDLER_NAME = "billingops-stderr"
FORMAT = "%(levelname)s %(name)s: %(message)s"
# Loggers of the libraries underneath: errors only, unless --debug.
LIBRARIES = ("urllib3", "stripe", "github", "requests")

_KEYS = re.compile(
    r"(?:sk|rk|pk)_(?:live|test)_[A-Za-z0-9_]+"
    r"|whsec_[A-Za-z0-9_]+"
    rf"|{GITHUB_TOKEN_PATTERN}"
)
# `Authorization: Bearer xyz`, `'Authorization': 'token xyz'`, `Basic xyz`.
_AUTH = re.compile(
    r"(?i)(authorization['\"]?\s*[:=]\s*['\"]?(?:bearer|token|basic)?\s*)[^\s'\",}]+"
)
KEY_PLACEHOLDER = "[redacted key]"
HTTP_LOGGER = "billingops.http"
# A query parameter's value in any URL-looking text (`?email=jane%40example.com&limit=1`).
_QUERY_VALUE = re.compile(r"([?&][^=&\s#'\"?]{1,100})=([^&\s#'\"]*)")
HIDDEN = "…"
# Stripe object ids, left out of a public repository's debug log (SPEC §5b: its Actions
# log is public).
_STRIPE_ID = re.compile(
    r"\b(?:acct|ba|bpc|card|ch|cn|cs|cus|dp|du|evt|ii|il|in|inv|iv|pi|pm|po|price|prod|py"
    r"|re|seti|si|sli|src|sub|tok|txn)_[A-Za-z0-9]{6,}"
)
STRIPE_ID_PLACEHOLDER = "[id]"


def redact(text: str) -> str:
    """`text` with keys, tokens, credentials, card numbers and email local parts removed."""
    text = _KEYS.sub(KEY_PLACEHOLDER, text)
    text = _AUTH.sub(r"\1[redacted]", text)
    return scrub(text)


def _value_shown(value: str) -> str:
    """A query value as the debug log shows it: a Stripe id stays (ids are what a debug
    log is for), anything else (an email, a login, a search query) is hidden."""
    return value if _STRIPE_ID.fullmatch(value) else HIDDEN


def hide_query_values(text: str) -> str:
    """Every `?name=value` / `&name=value` in `text` with the value removed (but ids)."""
    return _QUERY_VALUE.sub(lambda m: f"{m[1]}={_value_shown(m[2])}", text)


def safe_target(url: str, parameters: Mapping[str, Any] | None = None) -> str:
    """A request's path and the names of its query parameters, never their values:
    `/v1/customers?email=…&limit=…`. (Emails, logins and search queries travel in query
    strings.)"""
    parts = urlsplit(url)
    pairs = parse_qsl(parts.query, keep_blank_values=True)
    pairs += [(str(k), str(v)) for k, v in (parameters or {}).items()]
    path = parts.path or "/"
    shown = {k: _value_shown(v) for k, v in pairs}
    query = "&".join(f"{k}={v}" for k, v in shown.items())
    return f"{path}?{query}" if query else path


def log_request(
    service: str,
    method: str,
    url: str,
    status: int | str,
    seconds: float,
    request_id: str | None = None,
    parameters: Mapping[str, Any] | None = None,
) -> None:
    """The one debug line per HTTP request billingops makes (see the module docstring)."""
    log = logging.getLogger(HTTP_LOGGER)
    if not log.isEnabledFor(logging.DEBUG):
        return
    rid = f" (request id {request_id})" if request_id else ""
    log.debug(
        "%s %s %s -> %s in %d ms%s",
        service,
        method.upper(),
        safe_target(url, parameters),
        status,
        round(seconds * 1000),
        rid,
    )


# urllib3's records kept at DEBUG, by their format string: none carries a body.
_URLLIB3_SAFE = frozenset(
    {
        '%s://%s:%s "%s %s %s" %s %s',
        "Starting new HTTP connection (%d): %s:%s",
        "Starting new HTTPS connection (%d): %s:%s",
        "Resetting dropped connection: %s",
        "Retry: %s",
        "Incremented Retry for (url='%s'): %r",
        "Redirecting %s -> %s",
    }
)
# stripe-python's and PyGithub's retry lines (f-strings: method, URL, status, waits).
_RETRY_LINES = (
    "Initiating retry ",
    "Request ",
    "Setting next backoff",
    "Retry backoff",
    "Reset occurs",
    "Required backoff",
    "sleeping ",
    "Following Github server redirection",
)
_PYGITHUB_REQUEST = "%s %s://%s%s %s %s ==> %i %s %s"
_LOGFMT_MESSAGE = re.compile(r"""(?:^|\s)message=(?:'([^']*)'|"([^"]*)"|(\S+))""")


def _library_message(record: logging.LogRecord) -> str | None:
    """A library's DEBUG/INFO record reduced to what is safe, or None to drop it."""
    name = record.name
    if name.startswith("urllib3"):
        return record.getMessage() if record.msg in _URLLIB3_SAFE else None
    if name.startswith("github"):
        if record.msg == _PYGITHUB_REQUEST and isinstance(record.args, tuple):
            verb, scheme, host, url, _headers, _input, status = record.args[:7]
            return f"{verb} {scheme}://{host}{url} ==> {status}"
        message = record.getMessage()
        if "rate limit error" in message:  # "...: <the message from the response body>"
            return message.split(":", 1)[0]
        return message if message.startswith(_RETRY_LINES) else None
    if name.startswith("stripe"):
        # stripe-python logs logfmt (`message='...' key=value ...`): only its retry lines
        # are kept, by their `message` field alone.
        found = _LOGFMT_MESSAGE.search(record.getMessage())
        message = (found[1] or found[2] or found[3]) if found else ""
        if message.startswith("Encountered a retryable error"):
            return "Encountered a retryable error"
        return message if message.startswith("Initiating retry ") else None
    return None  # requests, markdown-it and anything else underneath: nothing at DEBUG


class RedactingFilter(logging.Filter):
    """Renders each record's message and exception now, redacted, so no formatter or
    handler further down can print the originals. Library records below WARNING are cut
    to their safe shapes first; `public` also leaves Stripe ids out."""

    def __init__(self, public: bool = False) -> None:
        super().__init__()
        self.public = public

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            if record.levelno < logging.WARNING and not record.name.startswith("billingops"):
                reduced = _library_message(record)
                if reduced is None:
                    return False
                message = reduced
            else:
                message = record.getMessage()
        except Exception:  # a broken %-format must not hide the record, nor leak its args
            message = f"{record.msg!s} (unformattable arguments)"
        message = hide_query_values(redact(message))
        if self.public:
            message = _STRIPE_ID.sub(STRIPE_ID_PLACEHOLDER, message)
        record.msg = message
        record.args = None
        if record.exc_info:
            text = record.exc_text or "".join(traceback.format_exception(*record.exc_info))
            record.exc_text = redact(text.rstrip("\n"))
            record.exc_info = None
        elif record.exc_text:
            record.exc_text = redact(record.exc_text)
        if record.stack_info:
            record.stack_info = redact(record.stack_info)
        if self.public:
            for attr in ("exc_text", "stack_info"):
                value = getattr(record, attr)
                if value:
                    setattr(record, attr, _STRIPE_ID.sub(STRIPE_ID_PLACEHOLDER, value))
        return True


def _handler() -> logging.Handler | None:
    for h in logging.getLogger().handlers:
        if h.get_name() == HANDLER_NAME:
            return h
    return None


def reduce_for_public() -> bool:
    """A public (or internal) repository's run: its Actions log is public, so the log
    leaves out Stripe ids as well. True when this changed something (the caller says so
    once, with --debug)."""
    handler = _handler()
    if handler is None:
        return False
    changed = False
    for f in handler.filters:
        if isinstance(f, RedactingFilter) and not f.public:
            f.public = changed = True
    return changed


_library_level = logging.ERROR


def adopt_library_logger(name: str) -> None:
    """Undo what a library sets up for itself on import, so its records reach the one
    redacting handler and nothing else: PyGithub adds a console `StreamHandler` to the
    `github` logger (it would print every request and response body with --debug, past
    every filter) and sets that logger to INFO."""
    logger = logging.getLogger(name)
    for h in list(logger.handlers):
        if not isinstance(h, logging.NullHandler) and h.get_name() != HANDLER_NAME:
            logger.removeHandler(h)
    logger.setLevel(_library_level)


def configure(debug: bool, *, stream: IO[str] | None = None) -> logging.Handler:
    """Install (or replace) the stderr handler on the root logger. Without `debug`, only
    warnings and errors are shown; with it, DEBUG for billingops and the SDKs. Redaction is
    the same either way. Returns the handler (tests read its stream)."""
    root = logging.getLogger()
    for old in [h for h in root.handlers if h.get_name() == HANDLER_NAME]:
        root.removeHandler(old)
    handler = logging.StreamHandler(stream if stream is not None else sys.stderr)
    handler.set_name(HANDLER_NAME)
    handler.setFormatter(logging.Formatter(FORMAT))
    handler.addFilter(RedactingFilter())
    level = logging.DEBUG if debug else logging.WARNING
    handler.setLevel(level)
    root.addHandler(handler)
    root.setLevel(level)
    logging.getLogger("billingops").setLevel(level)
    # The libraries' own warnings ("Retrying (...) after connection broken", one per
    # attempt) are not for the person at the terminal: billingops says once, in one line,
    # what failed after its retries. They show with --debug.
    global _library_level
    _library_level = logging.DEBUG if debug else logging.ERROR
    for name in LIBRARIES:
        adopt_library_logger(name)
    return handler


configure_logging = configure


__all__ = [
    "RedactingFilter",
    "configure",
    "configure_logging",
    "hide_query_values",
    "log_request",
    "redact",
    "reduce_for_public",
    "safe_target",
]
