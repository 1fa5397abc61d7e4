"""Issue 22, part 3: a first public-mode triage makes at most 8 GitHub requests in at most 4
sequential round trips, and two first triages racing on one ticket still leave one handoff
that money can move from.

Through the real desks and gateways, localstripe and the strict fake GitHub (the public
support repository and its private desk). Round trips are counted by holding every
request until the run goes quiet (`tests/plugins/rounds.py`): counts, never durations.
"""

from __future__ import annotations

import re
import threading
from typing import Any

from billingops._billing.stripe_gateway import StripeGateway
from billingops.desk.public import PublicDesk
from billingops.sandbox.fake_github import FakeGitHub
from tests.desk.test_public import (
    PRIVATE,
    PUBLIC,
    _config,
    _handoff_desk,
    _handoffs,
    _label,
    _public,
)
from tests.desk.test_public import desk_world as desk_world
from tests.plugins.desk import ADMIN, World
from tests.plugins.github import gateway_for
from tests.plugins.rounds import Rounds
from tests.plugins.threads import run_at_once

# The issue's budget for a first public triage.
GITHUB_REQUESTS = 8
ROUNDS = 4


def _calls(fake: FakeGitHub) -> list[tuple[str, str]]:
    """The GitHub requests of the run, issue numbers as N."""
    return sorted((r.method, re.sub(r"/[0-9]+(?=/|$)", "/N", r.path)) for r in fake.requests)


def _gated(world: World, rounds: Rounds) -> PublicDesk:
    rounds.gate_github(world.fake)
    stripe = StripeGateway(
        world.sandbox.api_key,
        world.sandbox.base_url,
        compat=True,
        max_network_retries=0,
        clock=lambda: float(world.sandbox.now),
        http_client=rounds.stripe_http_client(),
    )
    return PublicDesk(stripe, gateway_for(world.fake), _config(), PUBLIC)


def test_a_first_public_triage_makes_at_most_8_github_requests_in_4_rounds(
    desk_world: World,
) -> None:
    """The budget's case (benchmarks/public_budget.py): the private desk's gap issue is
    filed already, by an earlier ticket. (1) the public thread with the desk's handoff and
    gap listings, one GraphQL request, ∥ the Stripe lookup; (2) the handoff issue filed ∥
    Stripe's billing state; (3) the public reply and labels ∥ the handoff's comment and
    labels ∥ the gap issue's ticket list. The handoff just filed is not read back (its
    thread is empty, billingops' login is known from (1)), nor listed again: a concurrent
    creator is settled by the next run (`test_two_first_triages_at_once_...`)."""
    world = desk_world
    earlier, _ = world.file("duplicate_subscriptions")
    _public(world).triage(world.payload(earlier))  # files the private desk's gap issue
    world.sandbox.reset()  # one customer again (as the benchmark between its runs)
    number, _ = world.file("duplicate_subscriptions")
    rounds = Rounds()
    desk = _gated(world, rounds)
    world.fake.reset_requests()
    result = desk.triage(world.payload(number))
    assert result.action == "triage"
    calls = _calls(world.fake)
    shown = f"{calls}\n{rounds.describe()}"
    assert len(calls) <= GITHUB_REQUESTS, shown
    assert len(rounds.rounds) <= ROUNDS, shown
    assert calls == sorted(
        [
            ("POST", "/graphql"),  # the public thread, the handoff and gap listings
            ("POST", f"/repos/{PRIVATE}/issues"),  # the handoff issue
            ("POST", f"/repos/{PUBLIC}/issues/N/comments"),  # the neutral reply
            ("POST", f"/repos/{PUBLIC}/issues/N/labels"),
            ("POST", f"/repos/{PRIVATE}/issues/N/comments"),  # the full triage
            ("POST", f"/repos/{PRIVATE}/issues/N/labels"),
            ("PATCH", f"/repos/{PRIVATE}/issues/N"),  # the gap issue lists the handoff
        ]
    ), shown
    [handoff] = _handoffs(world, number)
    assert "billing:duplicate_subscription" in world.fake.labels_of(handoff, repo=PRIVATE)
    [reply] = world.fake.comments_of(number)
    assert f"/{PRIVATE}/issues/{handoff}" in reply


def test_a_first_public_triage_that_files_a_new_gap_stays_within_the_budget(
    desk_world: World,
) -> None:
    """A ticket that files a new product gap in the private desk: the gap issue is filed in
    round 3 with the handoff's comment (which names it by its label until the next run),
    instead of the gap issue's ticket list being edited: the same 7 requests, 3 rounds."""
    world = desk_world
    earlier, _ = world.file("past_due")  # another gap, and the imports warm
    _public(world).triage(world.payload(earlier))
    world.sandbox.reset()
    number, _ = world.file("duplicate_subscriptions")
    rounds = Rounds()
    desk = _gated(world, rounds)
    world.fake.reset_requests()
    assert desk.triage(world.payload(number)).action == "triage"
    calls = _calls(world.fake)
    shown = f"{calls}\n{rounds.describe()}"
    assert len(calls) <= GITHUB_REQUESTS, shown
    assert len(rounds.rounds) <= ROUNDS, shown
    assert calls.count(("POST", f"/repos/{PRIVATE}/issues")) == 2, shown  # handoff, gap


def test_an_unchanged_rerun_writes_nothing_and_reads_in_two_rounds(desk_world: World) -> None:
    """The same event again: the public thread and listings ∥ the Stripe lookup, then the
    handoff's thread ∥ Stripe's billing state; nothing changed, so nothing is written but
    the public labels the redelivered event (with its labels as they were then) says are
    missing. (The gap issue is filed already, as in the budget's case: a gap this ticket
    filed itself is named by its label until the next run writes its number in.)"""
    world = desk_world
    earlier, _ = world.file("duplicate_subscriptions")
    _public(world).triage(world.payload(earlier))  # files the private desk's gap issue
    world.sandbox.reset()
    number, _ = world.file("duplicate_subscriptions")
    payload = world.payload(number)
    _public(world).triage(payload)
    rounds = Rounds()
    desk = _gated(world, rounds)
    world.fake.reset_requests()
    desk.triage(payload)
    shown = f"{_calls(world.fake)}\n{rounds.describe()}"
    assert world.fake.writes() <= 1, shown
    assert len(world.fake.requests) <= 3, shown
    assert len(rounds.rounds) <= 2, shown


def test_two_first_triages_at_once_end_with_one_open_handoff_and_money_moves_only_from_it(
    desk_world: World,
) -> None:
    """Two runs list the desk before either files the ticket's handoff (forced: each waits
    at its create for the other to get there), so both file one. Neither lists again after
    its create (SPEC §8); the next run of the ticket lists both, keeps the oldest, comments
    on the copy which one is kept and closes it, and every public reply links the kept one.
    An approval on the copy moves no money; the kept one's does. (An approval on a copy
    still open: `test_an_approval_on_a_duplicate_handoff_moves_no_money`.)"""
    world = desk_world
    number, seeded = world.file("duplicate_subscriptions")
    race_first_triages(world, number)
    filed = _handoffs(world, number, open_only=False)
    assert len(filed) == 2  # the race happened: each run filed one
    kept, copy = filed
    # The next run of the ticket settles the two: one open handoff, the copy names it.
    _public(world).triage(world.payload(number))
    assert _handoffs(world, number) == [kept]
    assert world.fake.issue_json(copy, repo=PRIVATE)["state"] == "closed"
    notes = world.fake.comments_of(copy, repo=PRIVATE)
    assert len([b for b in notes if f"Duplicate of #{kept}" in b]) == 1
    replies = [b for b in world.fake.comments_of(number) if "billingops:public v1" in b]
    assert replies and all(f"/{PRIVATE}/issues/{kept}" in b for b in replies)
    # Settled once: a further run changes nothing on the copy.
    _public(world).triage(world.payload(number))
    assert world.fake.comments_of(copy, repo=PRIVATE) == notes
    # An approval on the copy moves no money; the kept handoff's does.
    _label(world, copy, "approve-refund", ADMIN)
    world.fake.label_issue(copy, "approve-cancel", actor=ADMIN, repo=PRIVATE)
    refused = _handoff_desk(world).apply(copy)
    assert refused.action == "refused" and refused.executed == [], refused.reason
    assert f"#{kept}" in refused.reason
    assert [r for ch in seeded.charges for r in world.stripe.find_refunds_for(ch)] == []
    for sub in seeded.subscriptions:
        assert world.subscription(sub)["status"] == "active"
    _label(world, kept, "approve-cancel", ADMIN)
    world.fake.label_issue(kept, "approve-refund", actor=ADMIN, repo=PRIVATE)
    applied = _handoff_desk(world).apply(kept)
    assert applied.action == "apply" and {e.status for e in applied.executed} == {"done"}
    assert len([r for ch in seeded.charges for r in world.stripe.find_refunds_for(ch)]) == 1


def race_first_triages(world: World, number: int) -> None:
    """Two first public triages of `number`, both listing the desk before either files."""
    payload = world.payload(number)
    both_listed = threading.Barrier(2, timeout=30)

    def run() -> None:
        tracker = _CreateTogether(gateway_for(world.fake), both_listed)
        PublicDesk(world.stripe, tracker, _config(), PUBLIC).triage(payload)

    run_at_once([run, run])


class _CreateTogether:
    """A run's issue tracker (the real gateway, on any repository) whose handoff create
    waits until the other run reaches its own: both have listed the desk by then."""

    def __init__(self, inner: Any, barrier: threading.Barrier) -> None:
        self._inner, self._barrier = inner, barrier

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)

    def for_repository(self, repository: str) -> Any:
        return _CreateTogether(self._inner.for_repository(repository), self._barrier)

    def create_issue(self, **kw: Any) -> Any:
        if self._inner.repository == PRIVATE and kw.get("labels") == ["billingops:handoff"]:
            self._barrier.wait()
        return self._inner.create_issue(**kw)
