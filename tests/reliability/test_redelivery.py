"""Redelivery and concurrency (issue 8 item 3): the same `labeled` event delivered again and
again, and several `apply` runs at once (threads with their own gateways, and separate
`billingops apply` processes), refund exactly once and record one result.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import pytest

from billingops.cli import main
from billingops.errors import BillingopsError, ExitStatus
from billingops.models.decision import StepKind
from tests.plugins.desk import ADMIN, World
from tests.plugins.sandbox import Sandbox
from tests.reliability._support import bot_states, desk_on, record, stripe_via
from tests.reliability.test_cli_failures import cli_env, event_file

pytestmark = pytest.mark.sandbox

SUBPROCESS_TIMEOUT = 120  # a bound, not an expectation


def approved(world: World, *labels: str) -> tuple[int, Any, list[str]]:
    number, _ = world.file("duplicate_subscriptions")
    triaged = world.triage(number)
    assert triaged.plan is not None and triaged.resolution is not None
    for label in labels or ("approve-refund",):
        world.label(number, label, actor=ADMIN)
    return number, triaged.plan, list(triaged.resolution.customer_ids)


def one_result(world: World, number: int, plan: Any) -> int:
    """Exactly one refund in Stripe, one bot comment, and one refund recorded in it with that
    refund's id. Returns the number of extra refunds (double actions) for the figures."""
    step = next(s for s in plan.steps if s.kind is StepKind.refund)
    refunds = world.stripe.find_refunds_for(step.target)
    states = bot_states(world, number)
    assert len(states) == 1 and states[0] is not None, states
    recorded = [e for e in states[0].executed if e.kind is StepKind.refund]
    assert len(refunds) == 1, refunds
    assert len(recorded) == 1 and recorded[0].stripe_id == refunds[0].id, recorded
    assert recorded[0].status in ("done", "already_done")
    # No notice posted twice either: every comment's first line is unique.
    firsts = [c.split("\n", 1)[0] for c in world.fake.comments_of(number)]
    assert len(firsts) == len(set(firsts)), firsts
    return len(refunds) - 1


def test_the_same_labeled_event_five_times(
    world: World, stripe_sandbox: Sandbox, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    number, plan, _ = approved(world)
    path = event_file(world, number, tmp_path, label="approve-refund")
    env = cli_env(world, stripe_sandbox.base_url, tmp_path) | {"GITHUB_EVENT_NAME": "issues"}
    actions = []
    for _ in range(5):
        status = main(["handle", "--event", path, "--json"], env)
        out, err = capsys.readouterr()
        assert status is ExitStatus.OK, err
        actions.append(json.loads(out)["action"])
    assert actions[0] == "apply"
    extra = one_result(world, number, plan)
    record("redelivery", deliveries=5, runs=5, double_actions=extra, results_recorded=1)


def test_a_relabel_after_done_is_redelivered_five_times(world: World) -> None:
    number, plan, _ = approved(world)
    assert world.apply(number).action == "apply"
    for _ in range(5):
        world.label(number, "approve-refund", actor=ADMIN)
        again = world.apply(number)
        assert [e.status for e in again.executed] == ["already_done"], again.reason
    extra = one_result(world, number, plan)
    record("redelivery", deliveries=5, runs=6, double_actions=extra, results_recorded=1)


@pytest.mark.parametrize("runs", [2, 3, 4])
def test_concurrent_apply_threads_refund_once(
    runs: int, world: World, stripe_sandbox: Sandbox, fast_backoff: None
) -> None:
    number, plan, customers = approved(world, "approve-cancel", "approve-refund")
    desks = [desk_on(world, stripe_via(stripe_sandbox.base_url)) for _ in range(runs)]
    start = threading.Barrier(runs)
    results: list[Any] = [None] * runs

    def go(i: int) -> None:
        start.wait(timeout=30)
        try:
            results[i] = desks[i].apply(number)
        except BillingopsError as exc:  # a clean failure is allowed; a re-run completes
            results[i] = exc

    threads = [threading.Thread(target=go, args=(i,)) for i in range(runs)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert all(r is not None for r in results), results
    if not any(getattr(r, "action", None) == "apply" for r in results):
        world.apply(number)  # every run failed cleanly: the next run completes
    extra = one_result(world, number, plan)
    cancel = next(s for s in plan.steps if s.kind is StepKind.cancel_subscription)
    subs = world.stripe.read_state(customers).subscriptions
    assert [s.id for s in subs if not s.live] == [cancel.target]  # one cancel, the planned one
    record("concurrency", mode="threads", runs=runs, double_actions=extra, results_recorded=1)


def test_concurrent_apply_processes_refund_once(
    world: World, stripe_sandbox: Sandbox, tmp_path: Path
) -> None:
    runs = 3
    number, plan, _ = approved(world, "approve-cancel", "approve-refund")
    path = event_file(world, number, tmp_path, label="approve-refund")
    env = cli_env(world, stripe_sandbox.base_url, tmp_path) | {
        "PATH": os.environ.get("PATH", ""),
        "PYTHONDONTWRITEBYTECODE": "1",
    }
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "billingops", "apply", "--event", path, "--json"],
            env=env,
            cwd=tmp_path,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(runs)
    ]
    outputs = [p.communicate(timeout=SUBPROCESS_TIMEOUT) for p in procs]
    for p, (out, err) in zip(procs, outputs, strict=True):
        assert p.returncode in (0, 1), err
        assert "Traceback" not in err, err
        json.loads(out)  # one JSON object, whatever happened
        if p.returncode == 1:
            assert len([ln for ln in err.splitlines() if ln.strip()]) == 1, err
    if all(p.returncode == 1 for p in procs):
        world.apply(number)
    extra = one_result(world, number, plan)
    record("concurrency", mode="processes", runs=runs, double_actions=extra, results_recorded=1)
