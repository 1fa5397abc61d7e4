"""Triage end to end: the real gateways against localstripe and the fake GitHub."""

import pytest

from billingops.core.markers import decode_state
from tests.plugins.desk import World


@pytest.mark.parametrize(
    ("scenario", "case"),
    [
        ("duplicate_subscriptions", "duplicate_subscription"),
        ("duplicate_across_customers", "duplicate_subscription"),
        ("team_seats", "team_seats"),
        ("past_due", "failed_payment"),
        ("incomplete", "failed_payment"),
    ],
)
def test_each_scenario_gets_its_case(world: World, scenario: str, case: str) -> None:
    number, _ = world.file(scenario)
    result = world.triage(number)
    assert result.action == "triage"
    assert result.classification is not None
    assert result.classification.case.value == case
    assert f"billing:{case}" in world.fake.labels_of(number)
    [comment] = world.bot_comments(number)
    state = decode_state(comment)
    assert state is not None and result.plan is not None
    assert state.plan_hash == result.plan.hash


def test_retriage_updates_the_one_comment_in_place(world: World) -> None:
    number, _ = world.file("duplicate_subscriptions")
    world.triage(number)
    first = world.bot_comments(number)
    world.triage(number)
    assert world.bot_comments(number) == first  # same state, same bytes, still one comment


def test_dry_run_writes_nothing(world: World) -> None:
    number, _ = world.file("duplicate_subscriptions")
    before = world.fake.count("POST", "*") + world.fake.count("PATCH", "*")
    result = world.triage(number, dry_run=True)
    assert world.fake.comments_of(number) == []
    assert world.fake.count("POST", "*") + world.fake.count("PATCH", "*") == before
    assert any("would create comment" in w for w in result.would_write)


def test_no_identifier_asks_for_one(world: World) -> None:
    number = world.fake.add_issue("help", "I was charged and I do not know why", author="customer")
    result = world.triage(number)
    assert result.action == "needs_info"
    assert "needs-info" in world.fake.labels_of(number)
    [comment] = world.fake.comments_of(number)
    assert "email" in comment.lower()
