"""Two first public triages racing on one ticket (issue 22): each files a handoff and
triages it, so the copy is linked from the product gaps it hit, as a ticket of its own.
Once the copy is settled (closed, naming the kept handoff), the backlog counts the ticket
once: a gap's ticket count and revenue at risk rank the backlog (`billingops gaps`).

Through the real desks and gateways, localstripe and the strict fake GitHub.
"""

from __future__ import annotations

from billingops.core.backlog import decode_tickets
from billingops.desk.backlog import Backlog
from tests.desk.test_public import PRIVATE, _config, _handoffs, _public
from tests.desk.test_public import desk_world as desk_world
from tests.desk.test_public_budget import race_first_triages
from tests.plugins.desk import World
from tests.plugins.github import gateway_for


def _open_gap_lists(world: World) -> dict[int, list[int]]:
    """The desk's open gap issues and the handoff numbers each lists."""
    out = {}
    for n in world.fake.numbers(repo=PRIVATE):
        issue = world.fake.issue_json(n, repo=PRIVATE)
        names = [x["name"] for x in issue["labels"]]
        if issue["state"] == "open" and "product-gap" in names:
            out[n] = [t.number for t in decode_tickets(issue["body"]) or []]
    return out


def test_a_settled_copy_of_a_handoff_is_not_counted_in_the_gap_backlog(
    desk_world: World,
) -> None:
    world = desk_world
    earlier, _ = world.file("duplicate_subscriptions")
    _public(world).triage(world.payload(earlier))  # the gap issue is filed already
    [first] = _handoffs(world, earlier)
    world.sandbox.reset()
    number, _ = world.file("duplicate_subscriptions")
    race_first_triages(world, number)
    kept, copy = _handoffs(world, number, open_only=False)
    # (Both triages linked the gap at once: the list holds either handoff or both.)

    _public(world).triage(world.payload(number))  # the next run settles the two
    assert world.fake.issue_json(copy, repo=PRIVATE)["state"] == "closed"
    lists = _open_gap_lists(world)
    assert lists and all(copy not in listed for listed in lists.values()), lists
    assert sorted(n for listed in lists.values() for n in listed) == sorted([first, kept])
    # `billingops gaps --sync` rebuilds the lists from the handoffs' own comments: the
    # settled copy (its triage comment still names the gap) stays off them.
    desk = gateway_for(world.fake).for_repository(PRIVATE)
    Backlog(desk, _config(), PRIVATE).sync(desk, dry_run=False)
    assert _open_gap_lists(world) == lists
