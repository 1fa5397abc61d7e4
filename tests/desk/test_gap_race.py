"""Two triages filing the same new product gap at once (SPEC §7: a gap is never filed
twice; SPEC §8: the first gap-filing triage in 3 round trips).

Both runs' round-1 reads see no gap issue, so both create one: GitHub has no conditional
create. What must hold: the backlog ends with one open issue for the gap, naming every
ticket, the other closed as its duplicate with one comment; and each ticket's comment links
the kept issue once its next run re-renders it. Whether the duplicate is closed by its
creator in the same run (before issue 22) or by the next run that lists both (after: the
check after a create cost a fourth round trip) is not what this test pins down.
"""

from __future__ import annotations

import threading
from functools import partial
from typing import Any

from billingops._tracker.github_gateway import GitHubGateway
from billingops.core.backlog import decode_tickets
from billingops.desk.desk import Desk
from billingops.models.issue import Thread
from billingops.models.result import RunResult
from tests.plugins.desk import World
from tests.plugins.github import gateway_for
from tests.plugins.threads import run_at_once

KEY = "no_duplicate_guard"


class _MeetAfterReading(GitHubGateway):
    """The real gateway; its first thread read (with the gap listing) waits for the other
    run's, so both runs see no gap issue: the race, every time."""

    def __init__(self, base: GitHubGateway, barrier: threading.Barrier) -> None:
        super().__init__(base._token, base.repository, base.api_url, _client=base._client)
        self._barrier: threading.Barrier | None = barrier

    def read_thread(
        self,
        number: int,
        *,
        listing: tuple[str, str] | None = None,
        extra_listing: tuple[str, str] | None = None,
    ) -> Thread:
        thread = super().read_thread(number, listing=listing, extra_listing=extra_listing)
        if self._barrier is not None:
            barrier, self._barrier = self._barrier, None
            barrier.wait(timeout=20)
        return thread


def _gap_issues(world: World) -> list[dict[str, Any]]:
    issues = [world.fake.issue_json(n) for n in world.fake.numbers()]
    return [i for i in issues if f"gap:{KEY}" in [x["name"] for x in i["labels"]]]


def _race(world: World, numbers: list[int]) -> list[RunResult]:
    barrier = threading.Barrier(len(numbers))

    def run(number: int) -> RunResult:
        tracker = _MeetAfterReading(gateway_for(world.fake), barrier)
        desk = Desk(world.stripe, tracker, world.config, world.fake.repository)
        return desk.triage(world.payload(number))

    return run_at_once([partial(run, n) for n in numbers])


def test_two_triages_filing_the_same_new_gap_end_with_one_open_issue(world: World) -> None:
    a, _ = world.file("duplicate_subscriptions")
    b, _ = world.file("duplicate_subscriptions")
    _race(world, [a, b])
    assert len(_gap_issues(world)) == 2  # both created: the race happened

    c, _ = world.file("duplicate_subscriptions")  # the next ticket hitting the gap
    world.triage(c)
    for number in (a, b):
        world.triage(number)  # each ticket's next run (an edit, a label)

    gap_issues = _gap_issues(world)
    assert len(gap_issues) == 2  # nothing filed a third time
    [kept] = [i for i in gap_issues if i["state"] == "open"]
    [dup] = [i for i in gap_issues if i["state"] == "closed"]
    assert kept["number"] < dup["number"]  # the oldest is kept
    assert dup["state_reason"] == "not_planned"
    dup_comments = world.fake.comments_of(dup["number"])
    assert [x.split("\n")[1] for x in dup_comments] == [f"Duplicate of #{kept['number']}"]
    assert [t.number for t in decode_tickets(kept["body"]) or []] == sorted([a, b, c])
    for number in (a, b, c):
        [comment] = world.bot_comments(number)
        assert f"#{kept['number']}" in comment
        assert f"#{dup['number']}" not in comment
