"""Issue 21: every `--help` names the environment variables the command reads, its exit
codes and one example, and the example is a command line the CLI accepts. Walks the CLI's
own command list: a new command without them fails here."""

from __future__ import annotations

import re
import shlex
from collections.abc import Iterator

import click
import pytest

from billingops.cli import cli, main
from billingops.config import Environment
from billingops.errors import ExitStatus


def every_command(group: click.Group, prefix: tuple[str, ...] = ()) -> Iterator[tuple[str, ...]]:
    yield prefix
    for name, command in sorted(group.commands.items()):
        if isinstance(command, click.Group):
            yield from every_command(command, (*prefix, name))
        else:
            yield (*prefix, name)


PATHS = list(every_command(cli))
# SPEC §3's variables, and the ones Actions sets that a command reads.
KNOWN = {name.upper() for name in Environment.model_fields} | {"GITHUB_OUTPUT", "GITHUB_ACTIONS"}


def help_of(path: tuple[str, ...], capsys: pytest.CaptureFixture[str]) -> str:
    assert main([*path, "--help"], {}) is ExitStatus.OK
    return capsys.readouterr().out


def section(text: str, title: str) -> list[str]:
    """The indented lines under `title:` in the epilogue."""
    lines = text.splitlines()
    start = next(i for i, ln in enumerate(lines) if ln.strip().startswith(title))
    out = []
    for ln in lines[start + 1 :]:
        if not ln.strip():
            break
        out.append(ln.strip())
    return out


@pytest.mark.parametrize("path", PATHS, ids=lambda p: " ".join(p) or "billingops")
def test_help_names_environment_exit_codes_and_an_example(
    path: tuple[str, ...], capsys: pytest.CaptureFixture[str]
) -> None:
    text = help_of(path, capsys)
    env = section(text, "Environment")
    assert env, "no Environment section"
    named = set(re.findall(r"\b[A-Z][A-Z_]{4,}\b", " ".join(env)))
    assert named <= KNOWN, named - KNOWN
    codes = section(text, "Exit codes")
    assert codes and codes[0].startswith("0 ")
    assert all(re.match(r"[012] ", c) for c in codes), codes
    (example,) = section(text, "Example")
    words = shlex.split(example.split(">>")[0])
    assert words[: len(path) + 1] == ["billingops", *path]
    # The example is a command line the CLI parses (no made-up option).
    command: click.Command = cli
    for word in path:
        command = command.commands[word]  # type: ignore[attr-defined]
    if path:
        command.make_context(" ".join(path), words[len(path) + 1 :])


@pytest.mark.parametrize(
    ("path", "needed"),
    [
        (("triage",), {"STRIPE_API_KEY", "GITHUB_TOKEN", "BILLINGOPS_CONFIG"}),
        (("handle",), {"GITHUB_EVENT_NAME", "GITHUB_EVENT_PATH", "GITHUB_OUTPUT"}),
        (("gaps",), {"GITHUB_TOKEN", "GITHUB_REPOSITORY"}),
        (("report",), {"STRIPE_API_KEY"}),
        (("doctor",), {"STRIPE_API_KEY", "GITHUB_TOKEN"}),
    ],
)
def test_help_lists_what_the_command_needs(
    path: tuple[str, ...], needed: set[str], capsys: pytest.CaptureFixture[str]
) -> None:
    env = " ".join(section(help_of(path, capsys), "Environment"))
    assert needed <= set(env.replace(",", " ").split())


def test_top_level_help_says_how_to_complete(capsys: pytest.CaptureFixture[str]) -> None:
    assert "_BILLINGOPS_COMPLETE=bash_source billingops" in help_of((), capsys)
