"""The README is part of the contract: its commands must be the ones CI runs and the
CLI offers (sqlite-utils style: an undocumented command fails a test)."""

import re
import subprocess
from pathlib import Path

from billingops.cli import cli

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")


def _fenced_commands() -> list[str]:
    return re.findall(r"```sh\n(.+?)\n```", README)


def test_readme_has_exactly_two_setup_commands() -> None:
    cmds = _fenced_commands()
    assert len(cmds) == 2
    assert cmds[0].endswith("billingops demo")
    assert "pytest" in cmds[1]


def test_ci_runs_the_readme_test_command() -> None:
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert _fenced_commands()[1] in ci.splitlines()


def test_every_command_is_documented() -> None:
    for name in cli.commands:
        assert f"`billingops {name}" in README, f"billingops {name} is not in the README"


def test_readme_lists_no_command_that_does_not_exist() -> None:
    listed = set(re.findall(r"^\| `billingops ([\w-]+)", README, flags=re.M))
    assert listed <= set(cli.commands), sorted(listed - set(cli.commands))


def test_every_test_security_md_cites_exists() -> None:
    """SECURITY.md claims only what a test shows: each `test_...` it names must exist."""
    root = Path(__file__).resolve().parents[1]
    cited = set(re.findall(r"`(test_[a-z0-9_]+)`", (root / "SECURITY.md").read_text()))
    assert len(cited) >= 15
    defined = {
        m
        for path in (root / "tests").rglob("test_*.py")
        for m in re.findall(r"^def (test_[a-z0-9_]+)\(", path.read_text(), re.M)
    }
    assert cited - defined == set()


# A package registry's web pages are named in words, never linked (the project's rule):
# a link rots, and it reads as an endorsement of one mirror.
_REGISTRY_ADDRESS = re.compile(
    r"(pypi\.org|pypi\.python\.org|npmjs\.(com|org)|crates\.io|rubygems\.org)", re.I
)


def test_no_package_registry_address_in_the_repository() -> None:
    tracked = subprocess.run(
        ["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout.split()
    found = []
    for name in tracked:
        path = ROOT / name
        if not path.is_file() or path.suffix in {".lock", ".whl", ".gz", ".png"}:
            continue
        text = path.read_text(encoding="utf-8", errors="ignore")
        found += [f"{name}: {m.group(0)}" for m in _REGISTRY_ADDRESS.finditer(text)]
    assert found == []


def _table_rows() -> set[str]:
    return set(re.findall(r"^\| `billingops ([\w-]+)", README, flags=re.M))


def test_every_command_is_a_row_of_the_command_table() -> None:
    assert set(cli.commands) <= _table_rows(), sorted(set(cli.commands) - _table_rows())


def test_the_json_paragraph_names_every_command() -> None:
    """README's `--json` paragraph says which commands take it: all of them (SPEC §3)."""
    [paragraph] = [p for p in README.split("\n\n") if p.startswith("`--dry-run` writes")]
    named = set(re.findall(r"`(\w[\w-]*)`", paragraph.split(";")[1]))
    assert named == set(cli.commands), sorted(set(cli.commands) ^ named)
    for words in ('"action": "error"', '"kind": "operational" | "bad_input"', "--format json"):
        assert words in paragraph


def test_shell_completion_is_documented() -> None:
    assert 'eval "$(_BILLINGOPS_COMPLETE=bash_source billingops)"' in README
