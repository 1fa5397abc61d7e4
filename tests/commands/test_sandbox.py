"""`billingops sandbox`: starts localstripe and the fake GitHub with demo tickets, prints the
environment, serves every read command without a key, and stops on Ctrl-C leaving no
process behind."""

from __future__ import annotations

import json
import os
import re
import shlex
import signal
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from billingops.sandbox.stripe_server import localstripe_installed


def children_of(pid: int) -> list[int]:
    """Every process whose parent is `pid` (Linux /proc), including new sessions."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        if ppid == pid:
            found.append(int(entry.name))
    return found


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


@contextmanager
def running(tmp_path: Path, *args: str) -> Iterator[tuple[subprocess.Popen[str], list[str]]]:
    """`billingops sandbox ARGS` until it says it is ready: its stdout lines so far. With
    --json the ready signal is the end of the one object; else the Ctrl-C hint."""
    if not localstripe_installed():
        pytest.skip("localstripe is not installed (the sandbox extra)")
    if not Path("/proc/self/stat").exists():
        pytest.skip("needs /proc to see the child processes")
    proc = subprocess.Popen(
        [sys.executable, "-m", "billingops", "sandbox", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
        text=True,
        cwd=tmp_path,
    )
    lines: list[str] = []
    done = (lambda ln: ln == "}\n") if "--json" in args else (lambda ln: "Ctrl-C" in ln)
    try:
        assert proc.stdout is not None
        for line in proc.stdout:  # the sandbox then waits
            lines.append(line)
            if done(line):
                break
        assert lines and done(lines[-1]), "".join(lines) + (
            proc.stderr.read() if proc.poll() is not None and proc.stderr else ""
        )
        yield proc, lines
    finally:
        if proc.poll() is None:  # a failed test: stop it the clean way, then for sure
            leftovers = children_of(proc.pid)
            proc.terminate()
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=10)
            for pid in leftovers:
                if alive(pid):
                    os.kill(pid, signal.SIGKILL)


@pytest.fixture
def sandbox(tmp_path: Path) -> Iterator[tuple[subprocess.Popen[str], dict[str, str]]]:
    env_file = tmp_path / "sandbox.env"
    with running(tmp_path, "--env-file", str(env_file)) as (proc, lines):
        exported = {}
        for line in lines:
            if line.startswith("export "):
                key, _, value = line.removeprefix("export ").strip().partition("=")
                exported[key] = shlex.split(value)[0]
        # The --env-file has the same lines.
        assert env_file.read_text() == "".join(ln for ln in lines if ln.startswith("export "))
        yield proc, exported


def cli(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    keep = {k: v for k, v in os.environ.items() if not k.startswith(("STRIPE_", "GITHUB_"))}
    return subprocess.run(
        [sys.executable, "-m", "billingops", *args],
        env=keep | env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_sandbox_serves_every_command_without_keys_and_stops_clean(
    sandbox: tuple[subprocess.Popen[str], dict[str, str]],
) -> None:
    proc, env = sandbox
    # Only loopback addresses, and no real key.
    assert env["STRIPE_API_BASE"].startswith("http://127.0.0.1:")
    assert env["GITHUB_API_URL"].startswith("http://127.0.0.1:")
    assert env["STRIPE_API_KEY"] == "sk_test_billingops_sandbox"
    assert env["BILLINGOPS_SANDBOX"] == "localstripe"
    [stripe_child] = children_of(proc.pid)  # localstripe, in its own session

    gaps = cli(env, "gaps", "--json")
    assert gaps.returncode == 0, gaps.stderr
    keys = {g["key"] for g in json.loads(gaps.stdout)["gaps"]}
    assert "no_duplicate_guard" in keys

    report = cli(env, "report", "--format", "json")
    assert report.returncode == 0, report.stderr
    assert json.loads(report.stdout)
    same = cli(env, "report", "--json")  # --json and --format json are one thing
    assert same.returncode == 0, same.stderr
    assert json.loads(same.stdout)["action"] == json.loads(report.stdout)["action"] == "report"
    assert json.loads(same.stdout)["mrr"] == json.loads(report.stdout)["mrr"]

    audit = cli(env, "audit", "--json")
    assert audit.returncode == 0, audit.stderr
    assert json.loads(audit.stdout)["action"] == "audit"

    # A fresh support repository lacks the labels: doctor says so, --fix creates them.
    doctor = cli(env, "doctor")
    assert doctor.returncode == 2 and "billingops doctor --fix" in doctor.stdout
    assert "[pass] Stripe key can read customers" in doctor.stdout
    doctor = cli(env, "doctor", "--fix")
    assert doctor.returncode == 0, doctor.stdout + doctor.stderr
    assert "all checks pass" in doctor.stderr

    triage = cli(env, "triage", "--dry-run", "--json", "--event", env["GITHUB_EVENT_PATH"])
    assert triage.returncode == 0, triage.stderr
    out = json.loads(triage.stdout)
    assert out["action"] == "triage"
    assert out["classification"]["case"] == "duplicate_subscription"
    for result in (gaps, report, audit, doctor, triage):
        assert "Traceback" not in result.stderr

    proc.send_signal(signal.SIGINT)  # Ctrl-C
    assert proc.wait(timeout=30) == 0
    assert proc.stderr is not None and "stopped" in proc.stderr.read()
    assert not alive(stripe_child)


def test_sandbox_stops_on_sigterm_too(
    sandbox: tuple[subprocess.Popen[str], dict[str, str]],
) -> None:
    proc, _ = sandbox
    [stripe_child] = children_of(proc.pid)
    proc.terminate()
    assert proc.wait(timeout=30) == 0
    assert not alive(stripe_child)


def test_unknown_scenario_is_one_line_exit_2() -> None:
    ran = subprocess.run(
        [sys.executable, "-m", "billingops", "sandbox", "--scenario", "nope"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert ran.returncode == 2
    assert "unknown scenario 'nope'" in ran.stderr and "Traceback" not in ran.stderr


def test_public_mode_without_keys(tmp_path: Path) -> None:
    """Issue 21: public mode could not be tried without keys. `sandbox --public` serves a
    public support repository and a private desk: doctor passes with the desk checked,
    `triage --dry-run` shows the neutral public reply of a new ticket, the handoff carries
    the plan, and the approved first ticket got its outcome posted back."""
    with running(tmp_path, "--public", "--json") as (proc, lines):
        data = json.loads("".join(lines))  # one object, then the sandbox waits
        assert data["action"] == "sandbox" and data["public"] is True
        assert data["private_repository"] == "acme/billing-desk"
        env = data["environment"]
        tickets = {t["number"]: t for t in data["tickets"]}
        new = tickets[max(tickets)]
        assert new["handoff"] is None and "not triaged yet" in new["scenario"]
        assert env["GITHUB_EVENT_PATH"] == new["event"]
        first = tickets[1]
        assert first["scenario"] == "duplicate_subscriptions" and first["handoff"] == 1

        doctor = cli(env, "doctor", "--fix")
        assert doctor.returncode == 0, doctor.stdout + doctor.stderr
        assert "[pass] acme/support is public" in doctor.stdout
        assert "[pass] private desk acme/billing-desk: private" in doctor.stdout

        dry = cli(env, "triage", "--dry-run", "--event", new["event"])
        assert dry.returncode == 0, dry.stderr
        assert "we have your billing request" in dry.stdout
        assert "would file handoff issue in acme/billing-desk" in dry.stdout
        assert "the issue this run files there" in dry.stdout
        assert "no private desk is configured" not in dry.stdout  # it is, and reachable
        public_part = dry.stdout.split("--- would file handoff")[0]
        assert not re.search(r"\b(cus|sub|ch)_[A-Za-z0-9]{6,}", public_part)
        assert "$" not in public_part

        handoff = cli(env, "triage", "--dry-run", "--json", "--event", first["handoff_event"])
        assert handoff.returncode == 0, handoff.stderr
        assert json.loads(handoff.stdout)["classification"]["case"] == "duplicate_subscription"

        # The approval ran in the desk; the outcome is on the public ticket.
        comments = _get(env, "/repos/acme/support/issues/1/comments")
        bodies = [c["body"] for c in comments]
        assert any(b.startswith("<!-- billingops:public-outcome") for b in bodies)
        assert any("refund has been issued" in b for b in bodies)

        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=30) == 0


def _get(env: dict[str, str], path: str) -> list[dict[str, str]]:
    request = urllib.request.Request(
        env["GITHUB_API_URL"] + path, headers={"Authorization": f"token {env['GITHUB_TOKEN']}"}
    )
    with urllib.request.urlopen(request, timeout=30) as answer:  # the loopback fake
        return json.loads(answer.read())  # type: ignore[no-any-return]


@pytest.mark.parametrize("public", [False, True])
def test_the_ready_text_gives_each_command_to_try_its_own_line(public: bool) -> None:
    """A newcomer copies these lines one by one (they once ran together:
    `#   billingops gaps#   billingops report`)."""
    from billingops.commands.texts import cli_text

    text = cli_text(
        "sandbox_ready",
        stripe_url="http://127.0.0.1:1",
        github_url="http://127.0.0.1:2",
        public=public,
        repository="acme/support",
        desk="acme/billing-desk",
        scratch="acme/scratch",
        tickets=[],
        exports="export X=1\n",
        event="event.json",
    )
    for line in text.splitlines():
        assert line.count("#   billingops") <= 1, line
    tried = [
        ln.split("#   ", 1)[1].split("  ")[0] for ln in text.splitlines() if "#   billingops" in ln
    ]
    assert tried[:4] == [
        "billingops doctor --fix",
        "billingops gaps",
        "billingops report",
        "billingops audit",
    ]


@pytest.mark.sandbox
def test_live_check_runs_against_the_sandbox_s_scratch_repository(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """README: `billingops live-check --repository OWNER/SCRATCH`; a newcomer trying it in
    the sandbox found no scratch repository (404, exit 2)."""
    from contextlib import ExitStack

    from billingops.cli import main
    from billingops.errors import ExitStatus
    from billingops.sandbox import session
    from billingops.sandbox.demo import SCRATCH_REPOSITORY

    with ExitStack() as stack:
        running = session.start(stack, tmp_path, ["duplicate_subscriptions"])
        status = main(["live-check", "--repository", SCRATCH_REPOSITORY], running.environment())
    out, _ = capsys.readouterr()
    assert status is ExitStatus.OK, out
    assert "[FAIL]" not in out
