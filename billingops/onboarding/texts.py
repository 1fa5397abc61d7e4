"""The lines of the checklists (`doctor`, `live-check`, `portal validate`) from
`templates/checks/<name>.txt.j2`, and the messages of `init` and `portal create` (their
errors, notes and the lines they print) from `templates/messages/<name>.txt.j2`: every
text a person reads comes from templates/.

One macro per outcome: the summary, then a line holding only `---`, then the fix (or a
note) when there is one. The template's own text is one line however it is wrapped: its
whitespace is collapsed when the file is read, before any value is in it. A value (a
repository, a login, an error GitHub or Stripe answered) is printed as given: never read
as template text, never re-spaced, and it cannot end the summary early (a `---` in a
repository's name stays part of it).

A message is one macro too, without a fix; `|repr` quotes a value as Python's `!r` did
(control characters escaped). Two spaces the collapsing would join are written `{{ " " * 2 }}`.

Jinja loads on the first line a checklist or a message renders, never for `--help`.
"""

from __future__ import annotations

import re
from functools import cache
from typing import Any

# What a `---` line of a template becomes: a character no value can bring (see `_inert`).
_FIX_FOLLOWS = "\x00"
_SEPARATOR_LINE = re.compile(r"\s*\n[ \t]*---[ \t]*\n\s*")


def _inert(value: Any) -> str:
    """Every `{{ value }}` as text, without the one character that separates the fix."""
    return str(value).replace(_FIX_FOLLOWS, "\ufffd")


@cache
def _macros(template: str, folder: str = "checks") -> Any:
    import jinja2

    from billingops.templates_path import template_file

    source = template_file(f"{folder}/{template}.txt.j2").read_text(encoding="utf-8")
    source = " ".join(_SEPARATOR_LINE.sub(_FIX_FOLLOWS, source).split())
    env = jinja2.Environment(
        undefined=jinja2.StrictUndefined,
        autoescape=False,  # a terminal or a JSON string, not HTML
        finalize=_inert,
    )
    env.filters["repr"] = repr
    return env.from_string(source).module


def say(template: str, outcome: str, **values: Any) -> tuple[str, str | None]:
    """(summary, fix) of one outcome: the macro `outcome` of `templates/checks/<template>`."""
    summary, _, fix = text(template, outcome, **values).partition(_FIX_FOLLOWS)
    return summary, fix or None


def text(template: str, outcome: str, **values: Any) -> str:
    """The whole text of one macro (a phrase or line without a fix)."""
    return str(getattr(_macros(template), outcome)(**values))


def message(template: str, name: str, **values: Any) -> str:
    """One message (an error, a note, a line printed): the macro `name` of
    `templates/messages/<template>.txt.j2`."""
    return str(getattr(_macros(template, "messages"), name)(**values))


def page(template: str, **values: Any) -> str:
    """A message of several lines, laid out as written: the whole of
    `templates/messages/<template>.txt.j2` rendered (no whitespace collapsed)."""
    import jinja2

    from billingops.templates_path import template_file

    source = template_file(f"messages/{template}.txt.j2").read_text(encoding="utf-8")
    env = jinja2.Environment(undefined=jinja2.StrictUndefined, autoescape=False)
    return env.from_string(source).render(**values)
