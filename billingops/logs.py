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
"""

from __future__ import annotations

import logging
import re
import sys
import traceback
from typing import IO

from billingops.core.sensitive import scrub

HANDLER_NAME = "billingops-stderr"
FORMAT = "%(levelname)s %(name)s: %(message)s"
# Loggers of the libraries underneath: errors only, unless --debug.
LIBRARIES = ("urllib3", "stripe", "github", "requests")

_KEYS = re.compile(
    r"(?:sk|rk|pk)_(?:live|test)_[A-Za-z0-9_]+"
    r"|whsec_[A-Za-z0-9_]+"
    r"|gh[pousr]_[A-Za-z0-9_]{8,}"
    r"|github_pat_[A-Za-z0-9_]+"
)
# `Authorization: Bearer xyz`, `'Authorization': 'token xyz'`, `Basic xyz`.
_AUTH = re.compile(
    r"(?i)(authorization['\"]?\s*[:=]\s*['\"]?(?:bearer|token|basic)?\s*)[^\s'\",}]+"
)
KEY_PLACEHOLDER = "[redacted key]"


def redact(text: str) -> str:
    """`text` with keys, tokens, credentials, card numbers and email local parts removed."""
    text = _KEYS.sub(KEY_PLACEHOLDER, text)
    text = _AUTH.sub(r"\1[redacted]", text)
    return scrub(text)


class RedactingFilter(logging.Filter):
    """Renders each record's message and exception now, redacted, so no formatter or
    handler further down can print the originals."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a broken %-format must not hide the record, nor leak its args
            message = f"{record.msg!s} (unformattable arguments)"
        record.msg = redact(message)
        record.args = None
        if record.exc_info:
            text = record.exc_text or "".join(traceback.format_exception(*record.exc_info))
            record.exc_text = redact(text.rstrip("\n"))
            record.exc_info = None
        elif record.exc_text:
            record.exc_text = redact(record.exc_text)
        if record.stack_info:
            record.stack_info = redact(record.stack_info)
        return True


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
    for name in LIBRARIES:
        logging.getLogger(name).setLevel(logging.DEBUG if debug else logging.ERROR)
    return handler


configure_logging = configure


__all__ = ["RedactingFilter", "configure", "configure_logging", "redact"]
