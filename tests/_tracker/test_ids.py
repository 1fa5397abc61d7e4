"""GitHub's ids as they are today, and a GraphQL answer with one failed part (SPEC §5c).

Comment ids passed 2**31 in 2024; GraphQL's `IssueComment.databaseId` is a 32-bit `Int`
that cannot carry them (GitHub added `fullDatabaseId`, a `BigInt` sent as a string). The
fake GitHub numbers comments from 3600000001 and executes every document against GitHub's
published schema, so the old query fails here as it fails on GitHub."""

from __future__ import annotations

import json
import urllib.request
from typing import Any

import pytest

from billingops._tracker.github_gateway import GitHubGateway
from billingops.config import Config
from billingops.errors import OperationalError
from billingops.sandbox.fake_github import FakeGitHub
from tests.plugins.desk import World
from tests.plugins.github import TEST_TOKEN, gateway_for

BOT = "github-actions[bot]"

# The thread query billingops sent until 2026-12: comment ids from `databaseId`.
OLD_THREAD_QUERY = """query billingopsThread(
  $owner: String!, $name: String!, $number: Int!, $after: String
) {
  viewer { login }
  repository(owner: $owner, name: $name) {
    issue(number: $number) {
      lastEditedAt
      comments(first: 100, after: $after) {
        pageInfo { hasNextPage endCursor }
        nodes {
          databaseId body createdAt updatedAt lastEditedAt
          author { __typename login }
          editor { __typename login }
        }
      }
    }
  }
}"""


def _graphql(fake: FakeGitHub, query: str, variables: dict[str, Any]) -> Any:
    request = urllib.request.Request(
        f"{fake.url}/graphql",
        data=json.dumps({"query": query, "variables": variables}).encode(),
        headers={"Authorization": f"token {TEST_TOKEN}", "Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=5) as answer:
        return json.loads(answer.read())


def test_comment_ids_past_2_31_come_back_whole(
    fake_github: FakeGitHub, github_gateway: GitHubGateway
) -> None:
    number = fake_github.add_issue("Charged twice", "cus_123", author="customer")
    fake_github.add_comment(number, "state", author=BOT)
    fake_github.add_comment(number, "thanks", author="customer")
    ids = fake_github.comment_ids(number)
    assert all(i > 2**31 for i in ids)  # today's range (issuecomment-3600000015)

    thread = github_gateway.read_thread(number)

    assert [c.id for c in thread.comments] == ids
    assert [c.id for c in thread.mine()] == ids[:1]
    # The id read from GraphQL is the one REST edits.
    edited = github_gateway.edit_comment(thread.mine()[0].id, "state v2")
    assert edited.id == ids[0]


def test_every_id_the_gateway_keeps_is_past_2_31(
    fake_github: FakeGitHub, github_gateway: GitHubGateway
) -> None:
    number = fake_github.add_issue("Billing", "x", author="customer", labels=["billing"])
    fake_github.label_issue(number, "approve-refund", actor="maya")
    comment = github_gateway.create_comment(number, "hello")
    events = github_gateway.label_events(number)
    issue_json = fake_github.issue_json(number)

    assert comment.id > 2**31
    assert events and all(e.id > 2**31 for e in events)
    assert issue_json["id"] > 2**31 and issue_json["labels"][0]["id"] > 2**31
    assert [c.id for c in github_gateway.list_comments(number)] == [comment.id]


def test_the_old_database_id_query_fails_on_todays_comment_ids(
    fake_github: FakeGitHub,
) -> None:
    """The kept test of issue 19: GitHub cannot return today's comment ids in an `Int`."""
    number = fake_github.add_issue("Charged twice", "cus_123", author="customer")
    first = fake_github.add_comment(number, "state", author=BOT)

    answer = _graphql(
        fake_github,
        OLD_THREAD_QUERY,
        {"owner": "acme", "name": "support", "number": number, "after": None},
    )

    [error] = answer["errors"]
    assert error["path"] == ["repository", "issue", "comments", "nodes", 0, "databaseId"]
    assert str(first) in error["message"] and "32-bit" in error["message"]
    node = answer["data"]["repository"]["issue"]["comments"]["nodes"][0]
    assert node["databaseId"] is None  # a nullable Int: null, with the error


def test_the_old_query_jams_the_gateway_from_the_second_run_on(
    fake_github: FakeGitHub, github_gateway: GitHubGateway, monkeypatch: pytest.MonkeyPatch
) -> None:
    """What happened on GitHub with the old query: the first run (no comment yet) passes,
    every later read of the thread exits 1."""
    from billingops._tracker import reads as module

    monkeypatch.setattr(module, "THREAD_QUERY", OLD_THREAD_QUERY)
    number = fake_github.add_issue("Charged twice", "cus_123", author="customer")
    github_gateway.read_thread(number)  # no comment: nothing overflows
    fake_github.add_comment(number, "state", author=BOT)

    with pytest.raises(OperationalError, match="GraphQL error"):
        github_gateway.read_thread(number)


def test_an_inaccessible_backlog_leaves_the_thread_read_whole(
    fake_github: FakeGitHub, github_gateway: GitHubGateway
) -> None:
    fake_github.add_repo("acme/product", accessible=False)
    number = fake_github.add_issue("Charged twice", "cus_123", author="customer")
    fake_github.add_comment(number, "state", author=BOT)

    thread = github_gateway.read_thread(number, listing=("acme/product", "product-gap"))

    assert thread.me == BOT
    assert [c.id for c in thread.comments] == fake_github.comment_ids(number)
    assert thread.listing is None
    assert thread.listing_error and "acme/product" in thread.listing_error


def test_a_second_listing_comes_in_the_same_request_and_fails_alone(
    fake_github: FakeGitHub, github_gateway: GitHubGateway
) -> None:
    """Public mode's first read (issue 22): the public thread, the gap backlog and the
    private desk's handoffs in one request; a desk the token cannot see fails its root
    alone, and says it is unreachable (a configuration problem, not an outage)."""
    fake_github.add_repo("acme/desk")
    fake_github.add_repo("acme/hidden", accessible=False)
    number = fake_github.add_issue("Charged twice", "cus_123", author="customer")
    gap = fake_github.add_issue("gap", "x", labels=["product-gap"], repo="acme/desk")
    handoff = fake_github.add_issue("h", "y", labels=["billingops:handoff"], repo="acme/desk")
    fake_github.reset_requests()

    thread = github_gateway.read_thread(
        number,
        listing=("acme/desk", "product-gap"),
        extra_listing=("acme/desk", "billingops:handoff"),
    )

    assert fake_github.count() == 1
    assert [i.number for i in thread.listing or []] == [gap]
    assert [i.number for i in thread.extra_listing or []] == [handoff]
    assert thread.extra_listing_error is None and not thread.extra_listing_unreachable
    hidden = github_gateway.read_thread(
        number,
        listing=("acme/desk", "product-gap"),
        extra_listing=("acme/hidden", "billingops:handoff"),
    )
    assert [i.number for i in hidden.listing or []] == [gap]
    assert hidden.extra_listing is None and hidden.extra_listing_unreachable
    assert hidden.extra_listing_error and "acme/hidden" in hidden.extra_listing_error


def test_a_missing_ticket_is_still_not_found(
    fake_github: FakeGitHub, github_gateway: GitHubGateway
) -> None:
    from billingops.errors import NotFound

    with pytest.raises(NotFound, match="not found"):
        github_gateway.read_thread(404, listing=("acme/support", "product-gap"))


def test_triage_goes_on_without_an_inaccessible_backlog_and_says_so(world: World) -> None:
    world.fake.add_repo("acme/product", accessible=False)
    config = Config(backlog_repository="acme/product")
    number, _ = world.file("duplicate_subscriptions")

    result = world.desk(config).triage(world.payload(number))

    assert result.action == "triage"
    assert result.classification is not None
    assert "acme/product" in result.reason and "backlog" in result.reason
    [comment] = world.bot_comments(number)
    assert "acme/product" in comment  # the handoff says the gaps were not filed
    assert world.fake.writes("POST") == 2  # the comment and the labels; no gap issue

    # Access fixed: the next run files the gap.
    world.fake.add_repo("acme/product", accessible=True)
    again = world.desk(config).triage(world.payload(number))
    assert again.gaps and again.gaps[0].issue is not None


def test_a_gateway_on_the_old_id_range_and_the_new_agree(fake_github: FakeGitHub) -> None:
    """Ids below 2**31 (a GitHub Enterprise Server with few comments) read the same way."""
    number = fake_github.add_issue("Charged twice", "cus_123", author="customer")
    fake_github._ids["comment"] = 100  # an old server's range
    fake_github.add_comment(number, "state", author=BOT)
    thread = gateway_for(fake_github).read_thread(number)
    assert [c.id for c in thread.comments] == [101]
