"""Issue 20, attacks 1 and 5: the private desk acting on a stale copy of the public ticket,
and two runs (two repositories, or two jobs of one) racing on billingops' comment.

Through the real desks and gateways, localstripe and the fake GitHub (two repositories:
the public support repository and the private desk). A race is not left to timing: the
runs are interleaved at a fixed point (the stale read of one run, then the other run to
its end, then the rest of the first), so each test always plays the same interleaving.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from billingops.config import Config
from billingops.core.markers import decode_state
from billingops.desk.desk import Desk
from billingops.desk.handoff import HandoffDesk
from billingops.desk.public import PublicDesk
from billingops.models.decision import StepKind
from tests.desk.test_public import PRIVATE, PUBLIC, _handoffs, _label, _triage_comment
from tests.desk.test_public import desk_world as desk_world
from tests.plugins.desk import ADMIN, MAINTAINER, World
from tests.plugins.github import gateway_for


def _config() -> Config:
    return Config(private_repository=PRIVATE)


class _Race:
    """Two runs, one interleaving: once the losing run has read billingops' comment on issue
    `number` of `repository`, `other` (the winning run) goes to its end; then the losing run
    carries on with its answer, now stale."""

    def __init__(self, repository: str, number: int, other: Callable[[], Any]):
        self.repository, self.number = repository.lower(), number
        self._other: Callable[[], Any] | None = other
        self.done = threading.Event()
        self.result: Any = None

    def after_read(self, repository: str, number: int) -> None:
        if (repository.lower(), number) != (self.repository, self.number) or not self._other:
            return
        other, self._other = self._other, None
        try:
            self.result = other()
        finally:
            self.done.set()


class _StaleRead:
    """The losing run's issue tracker (the real gateway, on any repository)."""

    def __init__(self, inner: Any, race: _Race):
        self._inner, self._race = inner, race

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)

    def for_repository(self, repository: str) -> Any:
        return _StaleRead(self._inner.for_repository(repository), self._race)

    def read_thread(self, number: int, **kw: Any) -> Any:
        answer = self._inner.read_thread(number, **kw)
        self._race.after_read(self._inner.repository, number)
        return answer


class _AfterTheOtherRun:
    """The billing gateway of the run that loses the race: it reads Stripe only once the
    other run is over (so it sees what the other run did in Stripe, but not its record)."""

    def __init__(self, inner: Any, done: threading.Event):
        self._inner, self._done = inner, done

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)

    def lookup(self, **kw: Any) -> Any:
        assert self._done.wait(60), "the other run never finished"
        return self._inner.lookup(**kw)


def _recorded(body: str) -> dict[StepKind, str]:
    state = decode_state(body)
    assert state is not None
    return {e.kind: e.status for e in state.executed}


# -- attack 5: two runs race and erase the record ---------------------------------------


def test_a_public_retriage_racing_the_desks_apply_keeps_the_executed_steps(
    desk_world: World,
) -> None:
    """The public repository's run re-triages the handoff (a redelivered event) from a read
    of the handoff's comment taken before the desk's run executed a cancel and a refund and
    recorded them; its comment write must keep that record."""
    world = desk_world
    number, seeded = world.file("duplicate_subscriptions")
    PublicDesk(world.stripe, gateway_for(world.fake), _config(), PUBLIC).triage(
        world.payload(number)
    )
    [handoff] = _handoffs(world, number)
    _label(world, handoff, "approve-cancel", MAINTAINER)
    _label(world, handoff, "approve-refund", ADMIN)

    def desk_apply() -> Any:
        tracker = gateway_for(world.fake).for_repository(PRIVATE)
        return HandoffDesk(world.stripe, tracker, _config(), PRIVATE).apply(handoff)

    race = _Race(PRIVATE, handoff, desk_apply)
    billing = _AfterTheOtherRun(world.stripe, race.done)
    tracker = _StaleRead(gateway_for(world.fake), race)
    PublicDesk(billing, tracker, _config(), PUBLIC).triage(world.payload(number))

    applied = race.result
    assert {e.kind: e.status for e in applied.executed} == {
        StepKind.cancel_subscription: "done",
        StepKind.refund: "done",
    }
    # The cancel and the refund really ran, and the handoff still says so.
    assert len([r for ch in seeded.charges for r in world.stripe.find_refunds_for(ch)]) == 1
    assert _recorded(_triage_comment(world, handoff)) == {
        StepKind.cancel_subscription: "done",
        StepKind.refund: "done",
    }


def test_a_retriage_racing_an_apply_in_the_same_repository_keeps_the_executed_steps(
    world: World,
) -> None:
    """Two jobs of one repository (a triage and an apply that per-issue concurrency did not
    serialise): the same race on the staff desk."""
    number, seeded = world.file("duplicate_subscriptions")
    world.triage(number)
    world.label(number, "approve-cancel", actor=MAINTAINER)
    world.label(number, "approve-refund", actor=ADMIN)

    race = _Race(world.fake.repository, number, lambda: world.desk().apply(number))
    billing = _AfterTheOtherRun(world.stripe, race.done)
    tracker = _StaleRead(gateway_for(world.fake), race)
    Desk(billing, tracker, world.config, world.fake.repository).triage(world.payload(number))

    assert {e.kind for e in race.result.executed if e.status == "done"} == {
        StepKind.cancel_subscription,
        StepKind.refund,
    }
    assert len([r for ch in seeded.charges for r in world.stripe.find_refunds_for(ch)]) == 1
    [comment] = world.bot_comments(number)
    assert _recorded(comment) == {
        StepKind.cancel_subscription: "done",
        StepKind.refund: "done",
    }
