"""Through the command line: a service that stays down is exit 1 and one line on stderr,
never a traceback; `--json` still prints one JSON object; a re-run completes.

The CLI builds its own gateways (production retries and timeouts), so these faults last
through every retry (`times`), and timeouts are left to test_stripe_faults.py (the
production timeout is 20 s).
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from billingops.cli import main
from billingops.errors import ExitStatus
from billingops.models.decision import StepKind
from billingops.sandbox.fault_proxy import FaultProxy
from billingops.sandbox.stripe_server import SANDBOX_API_KEY
from tests.plugins.desk import ADMIN, World
from tests.plugins.github import TEST_TOKEN
from tests.reliability._support import bot_states, record

pytestmark = pytest.mark.sandbox

PERSISTENT = 50  # more than the CLI's retries


def cli_env(world: World, stripe_url: str, tmp_path: Path) -> dict[str, str]:
    return {
        "STRIPE_API_KEY": SANDBOX_API_KEY,
        "STRIPE_API_BASE": stripe_url,
        "BILLINGOPS_SANDBOX": "localstripe",
        "GITHUB_TOKEN": TEST_TOKEN,
        "GITHUB_API_URL": world.fake.url,
        "GITHUB_REPOSITORY": world.fake.repository,
        "BILLINGOPS_CONFIG": os.devnull,  # an empty file: the defaults
    }


def event_file(world: World, number: int, tmp_path: Path, *, label: str | None = None) -> str:
    event: dict[str, Any] = {
        "action": "labeled" if label else "opened",
        "issue": world.payload(number),
        "repository": {"full_name": world.fake.repository, "private": True},
    }
    if label:
        event["label"] = {"name": label}
    path = tmp_path / f"event-{number}-{label or 'opened'}.json"
    path.write_text(json.dumps(event), encoding="utf-8")
    return str(path)


def one_clean_line(err: str) -> str:
    lines = [ln for ln in err.splitlines() if ln.strip()]
    assert len(lines) == 1, err
    assert "Traceback" not in err and "sk_test" not in err and TEST_TOKEN not in err
    assert lines[0].startswith("billingops: ")
    return lines[0]


@pytest.mark.parametrize("kind", ["429", "500", "503", "reset", "malformed"])
def test_triage_exit_1_one_line_when_stripe_stays_down(
    kind: str,
    world: World,
    stripe_proxy: FaultProxy,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    number, _ = world.file("duplicate_subscriptions")
    env = cli_env(world, stripe_proxy.url, tmp_path)
    path = event_file(world, number, tmp_path)
    stripe_proxy.arm(kind, at=1, times=PERSISTENT)
    status = main(["triage", "--event", path], env)
    out, err = capsys.readouterr()
    assert status is ExitStatus.OPERATIONAL, (status, err)
    line = one_clean_line(err)
    assert "Stripe" in line
    assert world.bot_comments(number) == []  # nothing half-written

    stripe_proxy.reset()
    assert main(["triage", "--event", path, "--json"], env) is ExitStatus.OK
    out, err = capsys.readouterr()
    assert json.loads(out)["action"] == "triage"
    assert len(world.bot_comments(number)) == 1
    record("cli_fault", kind=kind, runs=2, exit_1_one_line=1, crashes=0)


def test_apply_refund_write_down_then_rerun(
    world: World,
    stripe_proxy: FaultProxy,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    number, _ = world.file("duplicate_subscriptions")
    plan = world.triage(number).plan
    assert plan is not None
    refund = next(s for s in plan.steps if s.kind is StepKind.refund)
    world.label(number, "approve-cancel", actor=ADMIN)
    world.label(number, "approve-refund", actor=ADMIN)
    env = cli_env(world, stripe_proxy.url, tmp_path)
    path = event_file(world, number, tmp_path, label="approve-refund")

    stripe_proxy.arm("503", at=1, times=PERSISTENT, only="POST /v1/refunds*")
    status = main(["apply", "--event", path, "--json"], env)
    out, err = capsys.readouterr()
    assert status is ExitStatus.OPERATIONAL
    one_clean_line(err)
    shown = json.loads(out)  # exactly one JSON object, with the record of what was done
    assert {(e["kind"], e["status"]) for e in shown["executed"]} == {
        ("cancel_subscription", "done"),
        ("refund", "failed"),
    }
    [state] = bot_states(world, number)
    assert state is not None
    assert {(e.kind, e.status) for e in state.executed} == {
        (StepKind.cancel_subscription, "done"),
        (StepKind.refund, "failed"),
    }
    assert world.stripe.find_refunds_for(refund.target) == []

    stripe_proxy.reset()
    assert main(["apply", "--event", path], env) is ExitStatus.OK, capsys.readouterr().err
    [state] = bot_states(world, number)
    assert state is not None
    assert {(e.kind, e.status) for e in state.executed} == {
        (StepKind.cancel_subscription, "done"),
        (StepKind.refund, "done"),
    }
    assert len(world.stripe.find_refunds_for(refund.target)) == 1
    record("cli_fault", kind="503-on-refund", runs=2, exit_1_one_line=1, crashes=0)
