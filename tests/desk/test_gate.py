"""The read-only job's half of an apply (`desk/gate.py:gate_apply`): it reads the issue and
Stripe once, decides once, then either leaves approved Stripe steps to the apply job
(`pending`, nothing written) or performs the GitHub side of the outcome itself, with no
Stripe write possible (issue 22)."""

from __future__ import annotations

from collections import Counter
from typing import Any

from billingops.desk.gate import gate_apply
from tests.plugins.desk import ADMIN, MAINTAINER, TRIAGER, World


class Counting:
    """The billing gateway, counting its calls (each read is one or more Stripe requests)."""

    def __init__(self, inner: Any) -> None:
        self._inner = inner
        self.calls: Counter[str] = Counter()

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self._inner, name)
        if not callable(attr):
            return attr

        def counted(*args: Any, **kwargs: Any) -> Any:
            self.calls[name] += 1
            return attr(*args, **kwargs)

        return counted


def _reads(world: World) -> Counter[str]:
    """GitHub reads by what they read (the GraphQL thread read counts as one)."""
    seen: Counter[str] = Counter()
    for r in world.fake.requests:
        if r.method == "GET" or r.path.endswith("/graphql"):
            seen[f"{r.method} {r.path}"] += 1
    return seen


def _gate(world: World, number: int, **kw: Any) -> tuple[Any, Counting]:
    desk = world.desk()
    counting = Counting(desk.billing)
    desk.billing = counting
    world.fake.reset_requests()
    return gate_apply(desk, number, **kw), counting


def test_a_refusal_in_the_read_only_job_reads_everything_once(world: World) -> None:
    number, _ = world.file("duplicate_subscriptions")
    world.triage(number)
    world.label(number, "approve-refund", actor=TRIAGER)  # triage role: refused
    gate, billing = _gate(world, number)
    assert (gate.result.action, gate.pending) == ("refused", False)
    assert "approve-refund" not in world.fake.labels_of(number)
    reads = _reads(world)
    assert reads and max(reads.values()) == 1, reads
    assert billing.calls == Counter(lookup=1, read_state=1)


def test_pending_steps_are_read_once_and_nothing_is_written(world: World) -> None:
    number, _ = world.file("duplicate_subscriptions")
    world.triage(number)
    world.label(number, "approve-cancel", actor=MAINTAINER)
    world.label(number, "approve-refund", actor=TRIAGER)  # refused, by the apply job
    gate, billing = _gate(world, number)
    assert gate.pending
    assert gate.result.reason.startswith("pending: ")
    assert world.fake.writes() == 0  # not even the refusal: the apply job writes it all
    reads = _reads(world)
    assert reads and max(reads.values()) == 1, reads
    assert billing.calls == Counter(lookup=1, read_state=1)
    assert {"approve-cancel", "approve-refund"} <= set(world.fake.labels_of(number))
    done = world.apply(number)
    assert [e.status for e in done.executed] == ["done"]
    assert "approve-refund" not in world.fake.labels_of(number)


def test_label_clean_up_in_the_read_only_job_reads_once(world: World) -> None:
    """Every approved step already done (e.g. the label put back): the read-only job
    removes the label itself and the apply job is not asked."""
    number, _ = world.file("duplicate_subscriptions")
    world.triage(number)
    world.label(number, "approve-refund", actor=ADMIN)
    assert [e.status for e in world.apply(number).executed] == ["done"]
    world.label(number, "approve-refund", actor=ADMIN)
    gate, billing = _gate(world, number)
    assert not gate.pending
    assert [e.status for e in gate.result.executed] == ["already_done"]
    assert "approve-refund" not in world.fake.labels_of(number)
    reads = _reads(world)
    assert reads and max(reads.values()) == 1, reads
    assert billing.calls == Counter(lookup=1, read_state=1)
