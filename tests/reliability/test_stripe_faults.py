"""Stripe faults at every request position of triage and apply (SPEC §5, issue 8 item 1).

For each fault kind, a clean run first counts the Stripe requests of the flow; then the
flow runs once per position N with the fault at the Nth request, in a fresh world
(localstripe reset to the same seed and clock, a new fake GitHub). Each run must:

- end well (the SDK retried) or with one clean line (an `OperationalError`), never a crash;
- leave the bot comment whole: none yet, or one comment whose hidden marker decodes;
- be completed by a plain re-run;
- and, read back from Stripe, have refunded and canceled exactly what the plan says, once.

Writes are retried only with their idempotency key: every POST the proxy saw twice carried
the same key both times.
"""

from __future__ import annotations

from typing import Any

import pytest

from billingops.errors import BillingopsError
from billingops.models.decision import StepKind
from billingops.sandbox.fault_proxy import FAULT_KINDS, FaultProxy
from tests.plugins.desk import ADMIN, World
from tests.plugins.sandbox import Sandbox
from tests.reliability._support import (
    bot_states,
    desk_on,
    fresh_world,
    record,
    stripe_via,
    whole,
)

pytestmark = pytest.mark.sandbox

KINDS = (*FAULT_KINDS, "500-after")
# One fault, two retries: these always come through on a retry.
RETRIED = {"429", "500", "503", "timeout", "reset", "500-after"}
# A 429 is retried by the gateway after Retry-After (the SDK does not); a body that cannot
# be parsed is not retried: one clean line, and the re-run completes.
APPLY_SCENARIOS = ("duplicate_subscriptions", "product_failure")
MAX_POSITIONS = 40  # a bound on the loop; a flow makes far fewer Stripe requests


class Outcome:
    def __init__(self) -> None:
        self.ok = 0
        self.clean_errors = 0
        self.crashes: list[str] = []
        self.problems: list[str] = []


def _run(fn: Any, outcome: Outcome, where: str) -> Any:
    try:
        result = fn()
    except BillingopsError as exc:
        message = str(exc)
        if "\n" in message or len(message) > 300 or "sk_test" in message:
            outcome.problems.append(f"{where}: error is not one clean line: {message!r}")
        outcome.clean_errors += 1
        return exc
    except Exception as exc:  # a crash: counted, then failed below
        outcome.crashes.append(f"{where}: {type(exc).__name__}: {exc}")
        return exc
    outcome.ok += 1
    return result


def _keys_reused(proxy: FaultProxy) -> list[str]:
    """Problems: a POST retried without a key, or with another key."""
    problems = []
    by_path: dict[str, list[str | None]] = {}
    for s in proxy.seen:
        if s.method == "POST":
            by_path.setdefault(s.path, []).append(s.key)
    for path, keys in by_path.items():
        if any(k is None for k in keys):
            problems.append(f"POST {path} without an idempotency key")
    return problems


def _check_comment(
    world: World, number: int, where: str, outcome: Outcome, *, at_most: int
) -> None:
    states = bot_states(world, number)
    if len(states) > at_most:
        outcome.problems.append(f"{where}: {len(states)} bot comments")
    if any(s is None for s in states):
        outcome.problems.append(f"{where}: a bot comment whose marker does not decode")


# ------------------------------------------------------------------------------- triage


def _triage_once(
    sandbox: Sandbox, direct: Any, proxy: FaultProxy, kind: str | None, at: int, outcome: Outcome
) -> tuple[int, str, list[str]]:
    """(requests the faulted run made, plan hash after the re-run, comment body lines)."""
    with fresh_world(sandbox, direct) as world:
        number, _ = world.file("duplicate_subscriptions")
        if kind is None:
            proxy.reset()
        else:
            proxy.arm(kind, at=at)
        where = f"triage {kind}@{at}"
        _run(
            lambda: desk_on(world, stripe_via(proxy.url)).triage(world.payload(number)),
            outcome,
            where,
        )
        made = proxy.count
        outcome.problems += [f"{where}: {p}" for p in _keys_reused(proxy)]
        if kind is not None and not proxy.injected:
            outcome.problems.append(f"{where}: no fault was injected")
        _check_comment(world, number, where, outcome, at_most=1)
        if any(not whole(b) for b in world.bot_comments(number)):
            outcome.problems.append(f"{where}: the comment is not a whole body")
        proxy.reset()
        again = _run(
            lambda: desk_on(world, stripe_via(proxy.url)).triage(world.payload(number)),
            outcome,
            where + " re-run",
        )
        if isinstance(again, BaseException):
            outcome.problems.append(f"{where}: the re-run failed: {again}")
        _check_comment(world, number, where + " re-run", outcome, at_most=1)
        # A product gap filed by the last run gets its number in the comment on the next
        # run (SPEC §8: the comment is written in the same round as the gap's issue).
        settled = Outcome()  # not counted in `ok`: the retry check counts two runs
        _run(
            lambda: desk_on(world, stripe_via(proxy.url)).triage(world.payload(number)),
            settled,
            where + " settled",
        )
        outcome.problems += settled.problems
        outcome.crashes += settled.crashes
        [body] = world.bot_comments(number) or [""]
        states = bot_states(world, number)
        plan_hash = states[0].plan_hash if states and states[0] else ""
        return made, plan_hash, body.split("\n")[1:]


@pytest.mark.parametrize("kind", KINDS)
def test_triage_with_a_stripe_fault_at_every_position(
    kind: str, stripe_sandbox: Sandbox, stripe_proxy: FaultProxy, stripe_gateway: Any
) -> None:
    clean = Outcome()
    positions, clean_hash, clean_body = _triage_once(
        stripe_sandbox, stripe_gateway, stripe_proxy, None, 0, clean
    )
    assert clean.ok == 2 and not clean.problems, clean.problems
    assert 1 <= positions <= MAX_POSITIONS
    outcome = Outcome()
    for at in range(1, positions + 1):
        ok_before = outcome.ok
        _, plan_hash, body = _triage_once(
            stripe_sandbox, stripe_gateway, stripe_proxy, kind, at, outcome
        )
        if kind in RETRIED and outcome.ok - ok_before != 2:
            outcome.problems.append(f"triage {kind}@{at}: not retried")
        if plan_hash != clean_hash or body != clean_body:
            outcome.problems.append(f"triage {kind}@{at}: the re-run wrote another comment")
    record(
        "stripe_fault",
        flow="triage",
        kind=kind,
        positions=positions,
        runs=positions,
        failed_cleanly=outcome.clean_errors,
        crashes=len(outcome.crashes),
        double_actions=0,
        problems=len(outcome.problems),
    )
    assert not outcome.crashes, outcome.crashes
    assert not outcome.problems, outcome.problems


# -------------------------------------------------------------------------------- apply


def _apply_once(
    scenario: str,
    sandbox: Sandbox,
    direct: Any,
    proxy: FaultProxy,
    kind: str | None,
    at: int,
    outcome: Outcome,
) -> tuple[int, int]:
    """(Stripe requests the faulted apply made, double actions found in Stripe)."""
    with fresh_world(sandbox, direct) as world:
        number, _ = world.file(scenario)
        triaged = world.triage(number)
        plan = triaged.plan
        assert plan is not None and triaged.resolution is not None
        customers = sorted(triaged.resolution.customer_ids)
        live_before = {s.id for s in direct.read_state(customers).subscriptions if s.live}
        labels = {s.needs for s in plan.steps if s.needs is not None}
        assert labels, f"{scenario}: the plan has no step to approve"
        for ap in sorted(labels):
            world.label(number, world.config.labels[ap], actor=ADMIN)
        before = world.bot_comments(number)[0]
        where = f"apply {scenario} {kind}@{at}"
        if kind is None:
            proxy.reset()
        else:
            proxy.arm(kind, at=at)
        _run(lambda: desk_on(world, stripe_via(proxy.url)).apply(number), outcome, where)
        made = proxy.count
        outcome.problems += [f"{where}: {p}" for p in _keys_reused(proxy)]
        _check_comment(world, number, where, outcome, at_most=1)
        if kind is not None and not proxy.injected:
            outcome.problems.append(f"{where}: no fault was injected")
        [after] = world.bot_comments(number)
        if after != before and not whole(after):
            outcome.problems.append(f"{where}: the comment is not a whole body")
        proxy.reset()
        again = _run(
            lambda: desk_on(world, stripe_via(proxy.url)).apply(number), outcome, where + " re-run"
        )
        if isinstance(again, BaseException):
            outcome.problems.append(f"{where}: the re-run failed: {again}")
        elif again.action not in ("apply", "ignored"):
            outcome.problems.append(f"{where}: the re-run was {again.action}: {again.reason}")
        _check_comment(world, number, where + " re-run", outcome, at_most=1)
        return made, _double_actions(world, number, plan, customers, live_before, outcome, where)


def _double_actions(
    world: World,
    number: int,
    plan: Any,
    customers: list[str],
    live_before: set[str],
    outcome: Outcome,
    where: str,
) -> int:
    """Stripe read back: each refund step made exactly one refund of its amount, each
    cancel step canceled its target, nothing else was canceled; the comment records it."""
    doubles = 0
    [state] = bot_states(world, number)
    recorded = {(e.kind, e.target): e for e in state.executed} if state else {}
    billing = world.stripe.read_state(customers)
    for step in plan.steps:
        rec = recorded.get((step.kind, step.target))
        if step.kind is StepKind.refund:
            refunds = world.stripe.find_refunds_for(step.target)
            doubles += max(len(refunds) - 1, 0)
            if len(refunds) != 1 or refunds[0].amount != step.amount:
                outcome.problems.append(f"{where}: refunds on {step.target}: {refunds}")
            elif (
                rec is None
                or rec.status not in ("done", "already_done")
                or rec.stripe_id != refunds[0].id
            ):
                outcome.problems.append(f"{where}: the refund is not recorded: {rec}")
        elif step.kind is StepKind.cancel_subscription:
            sub = next(s for s in billing.subscriptions if s.id == step.target)
            if sub.live and not step.at_period_end:
                outcome.problems.append(f"{where}: {step.target} is still live")
            if rec is None or rec.status not in ("done", "already_done"):
                outcome.problems.append(f"{where}: the cancel is not recorded: {rec}")
    targets = {s.target for s in plan.steps if s.kind is StepKind.cancel_subscription}
    for sub in billing.subscriptions:
        if sub.id in live_before and sub.id not in targets and not sub.live:
            doubles += 1
            outcome.problems.append(f"{where}: {sub.id} was canceled but not in the plan")
    if "billing:done" not in world.fake.labels_of(number):
        outcome.problems.append(f"{where}: no billing:done label after the re-run")
    return doubles


@pytest.mark.parametrize("scenario", APPLY_SCENARIOS)
@pytest.mark.parametrize("kind", KINDS)
def test_apply_with_a_stripe_fault_at_every_position(
    kind: str,
    scenario: str,
    stripe_sandbox: Sandbox,
    stripe_proxy: FaultProxy,
    stripe_gateway: Any,
) -> None:
    clean = Outcome()
    positions, doubles = _apply_once(
        scenario, stripe_sandbox, stripe_gateway, stripe_proxy, None, 0, clean
    )
    assert clean.ok == 2 and not clean.problems and doubles == 0, clean.problems
    assert 1 <= positions <= MAX_POSITIONS
    outcome = Outcome()
    total_doubles = 0
    for at in range(1, positions + 1):
        ok_before = outcome.ok
        _, doubles = _apply_once(
            scenario, stripe_sandbox, stripe_gateway, stripe_proxy, kind, at, outcome
        )
        total_doubles += doubles
        if kind in RETRIED and outcome.ok - ok_before != 2:
            outcome.problems.append(f"apply {scenario} {kind}@{at}: not retried")
    record(
        "stripe_fault",
        flow=f"apply/{scenario}",
        kind=kind,
        positions=positions,
        runs=positions,
        failed_cleanly=outcome.clean_errors,
        crashes=len(outcome.crashes),
        double_actions=total_doubles,
        problems=len(outcome.problems),
    )
    assert not outcome.crashes, outcome.crashes
    assert total_doubles == 0
    assert not outcome.problems, outcome.problems
