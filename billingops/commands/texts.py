"""The command line's own texts (help epilogues, notes, the demo's opening and closing),
from `templates/cli/`: every text a person reads comes from templates/.

Help epilogues are plain text read as they are (no Jinja: `--help` stays fast); the other
texts are Jinja2 templates rendered with the values given (no autoescape: a terminal, not
HTML)."""

from __future__ import annotations

from functools import cache
from typing import Any

from billingops.templates_path import template_file


@cache
def help_epilog(command: str) -> str:
    """`templates/cli/help/<command>.txt`: environment, exit codes, one example."""
    return template_file(f"cli/help/{command}.txt").read_text(encoding="utf-8").rstrip("\n")


def cli_text(template: str, **values: Any) -> str:
    """`templates/cli/<template>.txt.j2` rendered with `values`, without its final newline."""
    import jinja2

    source = template_file(f"cli/{template}.txt.j2").read_text(encoding="utf-8")
    env = jinja2.Environment(
        autoescape=False, keep_trailing_newline=False, undefined=jinja2.StrictUndefined
    )
    return env.from_string(source).render(**values).rstrip("\n")
