"""The command line's own texts (help epilogues, notes, the demo's opening and closing),
from `templates/cli/`: every text a person reads comes from templates/.

Help epilogues are plain text read as they are (no Jinja: `--help` stays fast); the other
texts are Jinja2 templates rendered with the values given (no autoescape: a terminal, not
HTML)."""

from __future__ import annotations

from functools import cache
from typing import Any

import click

from billingops.templates_path import template_file


@cache
def help_epilog(command: str) -> str:
    """`templates/cli/help/<command>.txt` (`portal-validate.txt` for `portal validate`):
    the environment it reads, its exit codes and one example, each paragraph kept as
    written (click's `\b` marker: no rewrapping)."""
    name = command.replace(" ", "-")
    try:
        text = template_file(f"cli/help/{name}.txt").read_text(encoding="utf-8").strip("\n")
    except FileNotFoundError:  # a command without one still runs; tests/cli/test_help.py fails
        return ""
    return "\n\n".join(f"\b\n{part}" for part in text.split("\n\n"))


def add_help_epilogs(group: click.Group, prefix: str = "") -> None:
    """Give every command (and sub-command) its epilogue from templates/cli/help/."""
    for name, command in group.commands.items():
        path = f"{prefix}{name}"
        command.epilog = help_epilog(path) or None
        if isinstance(command, click.Group):
            add_help_epilogs(command, f"{path} ")


def cli_text(template: str, **values: Any) -> str:
    """`templates/cli/<template>.txt.j2` rendered with `values`, without its final newline."""
    import jinja2

    source = template_file(f"cli/{template}.txt.j2").read_text(encoding="utf-8")
    env = jinja2.Environment(
        autoescape=False,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=False,
        undefined=jinja2.StrictUndefined,
    )
    return env.from_string(source).render(**values).rstrip("\n")
