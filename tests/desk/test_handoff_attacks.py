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

import pytest

from billingops.config import Config
from billingops.core.markers import decode_state
from billingops.core.public import handoff_is_current
from billingops.desk.desk import Desk
from billingops.desk.handoff import HandoffDesk
from billingops.desk.public import PublicDesk
from billingops.models.decision import StepKind
from billingops.models.result import RunResult
from billingops.models.ticket import Identity, RequestKind
from billingops.sandbox.scenarios import Seeded, Seeder, SuggestedTicket, _pro_monthly
from billingops.sandbox.tickets import form_body
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


# -- attack 1: a stale handoff keeps a vouch ---------------------------------------------


def _cancel_ticket(email: str) -> SuggestedTicket:
    return SuggestedTicket(
        title="Please cancel",
        request=RequestKind.cancel,
        description="Please cancel my subscription.",
        email=email,
    )


def _desk_apply(world: World, handoff: int, **kw: Any) -> RunResult:
    tracker = gateway_for(world.fake).for_repository(PRIVATE)
    return HandoffDesk(world.stripe, tracker, _config(), PRIVATE).apply(handoff, **kw)


def _desk_triage(world: World, handoff: int) -> RunResult:
    tracker = gateway_for(world.fake).for_repository(PRIVATE)
    desk = HandoffDesk(world.stripe, tracker, _config(), PRIVATE)
    return desk.triage(world.fake.issue_json(handoff, repo=PRIVATE))


def _public_triage(world: World, number: int) -> RunResult:
    desk = PublicDesk(world.stripe, gateway_for(world.fake), _config(), PUBLIC)
    return desk.triage(world.payload(number))


def test_an_edit_after_a_vouch_voids_it_even_before_the_handoff_is_updated(
    desk_world: World,
) -> None:
    """mallory gets `verified-requester` for her own email, then edits the public ticket to
    name alice's. The desk runs (a maintainer's approve-cancel) before the public workflow
    copied the edit into the handoff: the vouch must not carry over to alice's plan, and a
    second approve-cancel in that window must not end alice's only subscription."""
    world = desk_world
    victim = world.sandbox.seed("healthy_single")
    [victim_sub] = victim.subscriptions
    s = Seeder(world.sandbox.base_url)
    own = Seeded("mallory")
    s.subscribe(own, s.customer("mallory@example.net", name="Mallory"), _pro_monthly(s))
    number = world.file_ticket(_cancel_ticket("mallory@example.net"), author="mallory")
    _public_triage(world, number)
    [handoff] = _handoffs(world, number)
    _label(world, handoff, "verified-requester", ADMIN)
    vouched = _desk_triage(world, handoff)
    assert vouched.requester is not None and vouched.requester.identity is Identity.vouched

    # The edit; the public repository's run has not come yet.
    world.fake.advance(5)
    world.fake.edit_issue(
        number, body=form_body(_cancel_ticket(victim.ticket.email or "")), editor="mallory"
    )
    _label(world, handoff, "approve-cancel", MAINTAINER)
    first = _desk_apply(world, handoff)
    assert first.action == "refused"
    assert "**unverified**" in _triage_comment(world, handoff)
    # A maintainer approves again in the window, still before the public run.
    _label(world, handoff, "approve-cancel", MAINTAINER)
    second = _desk_apply(world, handoff)
    assert second.requester is not None and second.requester.identity is Identity.unverified
    sub = world.subscription(victim_sub)
    assert sub["status"] == "active" and not sub["cancel_at_period_end"]


@pytest.mark.parametrize("first_to_see_it", ["the desk's apply", "the public run"])
def test_an_approval_given_before_the_public_ticket_changed_counts_for_nothing(
    desk_world: World, first_to_see_it: str
) -> None:
    """The plan does not change with the edit, the approval still goes: the approver read a
    ticket that no longer says what it said. Whichever run notices the change first."""
    world = desk_world
    number, seeded = world.file("duplicate_subscriptions")
    _public_triage(world, number)
    [handoff] = _handoffs(world, number)
    _label(world, handoff, "approve-refund", ADMIN)
    world.fake.advance(5)
    body = world.payload(number)["body"] + "\n\nAny news?"
    world.fake.edit_issue(number, body=body, editor="customer")
    if first_to_see_it == "the public run":
        _public_triage(world, number)
    else:
        world.fake.reset_requests()
        probe = _desk_apply(world, handoff, dry_run=True)  # the read-only job's probe
        assert probe.action == "refused" and world.fake.writes() == 0
    result = _desk_apply(world, handoff)
    assert result.action in ("refused", "ignored")
    assert "approve-refund" not in world.fake.labels_of(handoff, repo=PRIVATE)
    assert [r for ch in seeded.charges for r in world.stripe.find_refunds_for(ch)] == []
    # The handoff now stands for the ticket as it is; a fresh approval works.
    assert handoff_is_current(
        world.fake.issue_json(handoff, repo=PRIVATE)["body"], world.payload(number)["title"], body
    )
    _label(world, handoff, "approve-refund", ADMIN)
    again = _desk_apply(world, handoff)
    assert [e.status for e in again.executed] == ["done"]


# -- a second handoff for one ticket (two runs raced to file it) --------------------------


def test_an_approval_on_a_duplicate_handoff_moves_no_money(desk_world: World) -> None:
    """Two public runs raced to file the ticket's handoff: the loser's copy was closed, but a
    maintainer can still triage and label it. Only the ticket's kept handoff (the lowest
    number) may execute: a copy has its own record, so its steps would not be the kept
    handoff's, and an approver reading one may never see the other."""
    world = desk_world
    number, seeded = world.file("duplicate_subscriptions")
    _public_triage(world, number)
    [kept] = _handoffs(world, number)
    body = world.fake.issue_json(kept, repo=PRIVATE)["body"]
    copy = world.fake.add_issue(
        f"copy of #{kept}",
        body,
        author="github-actions[bot]",
        labels=["billingops:handoff"],
        repo=PRIVATE,
    )
    _desk_triage(world, copy)
    _label(world, copy, "approve-refund", ADMIN)
    _label(world, copy, "approve-cancel", MAINTAINER)
    refused = _desk_apply(world, copy)
    assert refused.action == "refused" and refused.executed == []
    assert f"#{kept}" in refused.reason
    assert [r for ch in seeded.charges for r in world.stripe.find_refunds_for(ch)] == []
    for sub in seeded.subscriptions:
        assert world.subscription(sub)["status"] == "active"
    assert not {"approve-refund", "approve-cancel"} & set(world.fake.labels_of(copy, repo=PRIVATE))
    # The run that found the copy settles it: closed, with a note naming the kept handoff.
    assert world.fake.issue_json(copy, repo=PRIVATE)["state"] == "closed"
    notes = [b for b in world.fake.comments_of(copy, repo=PRIVATE) if f"Duplicate of #{kept}" in b]
    assert len(notes) == 1
    # The kept handoff still executes once approved there.
    _label(world, kept, "approve-refund", ADMIN)
    assert _desk_apply(world, kept).action == "apply"
