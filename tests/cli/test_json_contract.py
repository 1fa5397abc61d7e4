"""SPEC §3 (2026-12-06): every command that prints data takes `--json`, and with it prints
exactly one JSON object on stdout whatever happened; on exit 1 or 2 that object has
`"action": "error"` and `"error": {"kind": "operational" | "bad_input", "message"}`.

Parametrised over the CLI's own command list: a new command without `--json`, or without a
failure mode below, fails here."""

from __future__ import annotations

import json
import os
import socket
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import click
import pytest

from billingops.cli import cli, main
from billingops.errors import ExitStatus

KIND = {ExitStatus.OPERATIONAL: "operational", ExitStatus.BAD_INPUT: "bad_input"}
KEY = "sk_test_json_contract_not_a_secret"
TOKEN = "ghp_JsonContractJsonContractJsonContract00"


def leaf_commands(group: click.Group, prefix: tuple[str, ...] = ()) -> Iterator[str]:
    for name, command in sorted(group.commands.items()):
        if isinstance(command, click.Group):
            yield from leaf_commands(command, (*prefix, name))
        else:
            yield " ".join((*prefix, name))


COMMANDS = list(leaf_commands(cli))


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def down(tmp: Path) -> dict[str, str]:
    """Stripe and GitHub both unreachable (connection refused): an operational failure."""
    return {
        "STRIPE_API_KEY": KEY,
        "STRIPE_API_BASE": f"http://127.0.0.1:{closed_port()}",
        "GITHUB_TOKEN": TOKEN,
        "GITHUB_API_URL": f"http://127.0.0.1:{closed_port()}",
        "GITHUB_REPOSITORY": "acme/support",
        "BILLINGOPS_CONFIG": os.devnull,  # defaults
    }


def event(tmp: Path, action: str = "opened", label: str | None = None) -> str:
    payload: dict[str, object] = {
        "action": action,
        "issue": {"number": 7, "title": "t", "body": "", "labels": [{"name": "billing"}]},
        "repository": {"full_name": "acme/support", "private": True},
    }
    if label:
        payload["label"] = {"name": label}
    path = tmp / "event.json"
    path.write_text(json.dumps(payload))
    return str(path)


Case = Callable[[Path], tuple[list[str], dict[str, str], ExitStatus]]

# command -> its failure modes: (arguments, environment, expected exit status)
FAILURES: dict[str, list[Case]] = {
    "handle": [
        lambda t: (["handle", "--event", str(t / "missing.json")], {}, ExitStatus.BAD_INPUT),
        lambda t: (["handle", "--event-name", "issues", "--event", event(t)], down(t),
                   ExitStatus.OPERATIONAL),
    ],
    "triage": [
        lambda t: (["triage", "--event", event(t)], down(t), ExitStatus.OPERATIONAL),
        lambda t: (["triage"], {}, ExitStatus.BAD_INPUT),  # --event missing
        lambda t: (["triage", "--event", event(t)], {}, ExitStatus.BAD_INPUT),  # no keys
    ],
    "apply": [
        lambda t: (["apply", "--event", event(t, "labeled", "approve-refund")], down(t),
                   ExitStatus.OPERATIONAL),
    ],
    "gaps": [
        lambda t: (["gaps"], down(t), ExitStatus.OPERATIONAL),
        lambda t: (["gaps", "--markdown"], {}, ExitStatus.BAD_INPUT),
    ],
    "report": [
        lambda t: (["report", "--no-progress"], down(t), ExitStatus.OPERATIONAL),
        lambda t: (["report", "--since", "yesterday"], down(t), ExitStatus.BAD_INPUT),
    ],
    "audit": [
        lambda t: (["audit"], down(t), ExitStatus.OPERATIONAL),
        lambda t: (["audit"], {}, ExitStatus.BAD_INPUT),
    ],
    "doctor": [
        lambda t: (["doctor"], {"BILLINGOPS_CONFIG": str(t / "none.yml")}, ExitStatus.BAD_INPUT),
    ],
    "live-check": [
        lambda t: (["live-check"], {}, ExitStatus.BAD_INPUT),
        lambda t: (["live-check"], down(t) | {"STRIPE_API_KEY": "sk_live_x"}, ExitStatus.BAD_INPUT),
        lambda t: (["live-check"], down(t), ExitStatus.OPERATIONAL),
    ],
    "portal validate": [
        lambda t: (["portal", "validate"], {}, ExitStatus.BAD_INPUT),
        lambda t: (["portal", "validate"], down(t), ExitStatus.OPERATIONAL),
    ],
    "portal create": [
        lambda t: (["portal", "create", "--price", "nope"], down(t), ExitStatus.BAD_INPUT),
    ],
    "init": [
        lambda t: (["init", str(t / "no-such-repo")], {}, ExitStatus.BAD_INPUT),
        lambda t: (["init", "--ref", "main", str(t)], {}, ExitStatus.BAD_INPUT),
    ],
    "demo": [lambda t: (["demo", "--scenario", "nope"], {}, ExitStatus.BAD_INPUT)],
    "sandbox": [lambda t: (["sandbox", "--scenario", "nope"], {}, ExitStatus.BAD_INPUT)],
}  # fmt: skip


def check_error_object(
    out: str, err: str, status: ExitStatus, expected: ExitStatus
) -> dict[str, Any]:
    assert status is expected, err
    assert "Traceback" not in err
    data = json.loads(out)  # exactly one object: anything else on stdout fails to parse
    assert isinstance(data, dict)
    assert data["action"] == "error"
    assert data["error"]["kind"] == KIND[expected]
    message = data["error"]["message"]
    assert message and "\n" not in message
    assert KEY not in out + err and TOKEN not in out + err
    return data


@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_takes_json(command: str) -> None:
    found = cli
    for word in command.split():
        found = found.commands[word]  # type: ignore[attr-defined]
    options = {opt for p in found.params for opt in p.opts}
    assert "--json" in options, f"billingops {command} has no --json"


@pytest.mark.parametrize("command", COMMANDS)
def test_every_failure_is_one_error_object(
    command: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert command in FAILURES, f"add the failure modes of billingops {command} here"
    for case in FAILURES[command]:
        args, env, expected = case(tmp_path)
        status = main([*args, "--json"], env)
        out, err = capsys.readouterr()
        data = check_error_object(out, err, status, expected)
        if command in ("handle", "triage", "apply"):  # the run contract's keys, too
            assert {"issue", "customer", "plan", "executed", "reason"} <= set(data)


def test_report_format_json_with_stripe_down_prints_the_error_object(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Issue 21: `report --format json` (the synonym) with Stripe down printed no JSON."""
    status = main(["report", "--format", "json", "--no-progress"], down(tmp_path))
    out, err = capsys.readouterr()
    check_error_object(out, err, status, ExitStatus.OPERATIONAL)


def test_json_and_another_format_is_bad_input(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    status = main(["report", "--json", "--format", "csv"], down(tmp_path))
    out, err = capsys.readouterr()
    check_error_object(out, err, status, ExitStatus.BAD_INPUT)
    assert "--json" in err
