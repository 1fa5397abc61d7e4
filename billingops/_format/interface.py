"""What an output format does: turn a report or an audit into text.

Formats are loaded by name, lazily (rich is only imported for the terminal view), so a
command that prints JSON never pays for the others.
"""

from __future__ import annotations

import importlib
from typing import Any, Protocol

from billingops.core.audit import Audit
from billingops.core.report import Report

FORMAT_NAMES = ("terminal", "markdown", "json", "csv")


class Format(Protocol):
    def report(self, report: Report, *, listing: dict[str, Any] | None = None) -> str:
        """The account report; `listing` is how it was read (pages, requests, 429s ...)."""
        ...

    def audit(self, audit: Audit) -> str: ...


def formatter(name: str, **options: Any) -> Format:
    """The format called `name` (one of FORMAT_NAMES)."""
    if name not in FORMAT_NAMES:
        raise ValueError(f"unknown format {name!r}; one of {', '.join(FORMAT_NAMES)}")
    module = importlib.import_module(f"billingops._format.{name}")
    fmt: Format = module.FORMAT_CLASS(**options)
    return fmt
