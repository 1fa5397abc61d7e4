"""The fake GitHub held to GitHub's published descriptions (SPEC §5c, §8;
docs/TESTED-AGAINST.md lists each rule and the test that shows it).

These tests send requests GitHub would reject on purpose, so they take the violations
they expect (`github_violations.take_violations()`); anything else fails them."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

from billingops._tracker.github_gateway import GitHubGateway
from billingops._tracker.translate import (
    THREAD_AND_LISTING_QUERY,
    THREAD_AND_LISTINGS_QUERY,
    THREAD_QUERY,
)
from billingops.sandbox.fake_github import FakeGitHub
from billingops.sandbox.fake_github.strict import GitHubDescriptions
from tests.plugins.github import TEST_TOKEN

BOT = "github-actions[bot]"


def call(fake: FakeGitHub, method: str, path: str, body: Any = None) -> tuple[int, Any]:
    request = urllib.request.Request(
        f"{fake.url}{path}",
        data=None if body is None else json.dumps(body).encode(),
        headers={"Authorization": f"token {TEST_TOKEN}", "Content-Type": "application/json"},
        method=method,
    )
    try:
        with urllib.request.urlopen(request, timeout=5) as answer:
            return answer.status, json.loads(answer.read() or b"null")
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read() or b"null")


def graphql(fake: FakeGitHub, query: str, **variables: Any) -> Any:
    status, data = call(fake, "POST", "/graphql", {"query": query, "variables": variables})
    assert status == 200  # GitHub answers GraphQL errors with 200
    return data


# ---------------------------------------------------------------------- REST


def test_a_route_github_does_not_have_fails_loudly(
    fake_github: FakeGitHub, github_violations: GitHubDescriptions
) -> None:
    status, data = call(fake_github, "GET", "/repos/acme/support/issues/1/thread")
    assert (status, data["message"]) == (404, "Not Found")
    [violation] = github_violations.take_violations()
    assert "GET /repos/acme/support/issues/1/thread" in violation
    assert "no such route" in violation


def test_a_method_github_does_not_take_on_a_route_fails_loudly(
    fake_github: FakeGitHub, github_violations: GitHubDescriptions
) -> None:
    number = fake_github.add_issue("Billing", "x")
    status, _ = call(fake_github, "DELETE", f"/repos/acme/support/issues/{number}")
    assert status == 404
    [violation] = github_violations.take_violations()
    assert "/repos/{owner}/{repo}/issues/{issue_number}" in violation
    assert "GET, PATCH only" in violation


def test_every_route_the_gateway_uses_is_in_githubs_description(
    fake_github: FakeGitHub, github_gateway: GitHubGateway
) -> None:
    """SPEC §8: every REST route billingops calls exists in GitHub's REST description
    (the autouse check fails this test otherwise)."""
    fake_github.add_collaborator("maya", "maintain")
    number = fake_github.add_issue("Billing", "x", labels=["billing"])
    gw = github_gateway
    gw.get_issue(number)
    made = gw.create_comment(number, "hello")
    gw.edit_comment(made.id, "hello again")
    gw.list_comments(number)
    gw.set_labels(number, ["billing", "x"])
    gw.add_labels(number, ["y"])
    gw.remove_label(number, "x")
    gw.label_events(number)
    assert gw.role_of("maya") == "maintain"
    gw.list_issues(labels=["billing"])
    created = gw.create_issue(title="Gap", body="b", labels=["product-gap"])
    gw.edit_issue(created.number, body="c", state="closed", state_reason="completed")
    gw.ensure_label("new", color="ededed", description="d")
    gw.list_labels()
    gw.visibility()
    gw.probe_read_issues()
    gw.probe_write_issues()
    gw.read_thread(number, listing=("acme/support", "product-gap"))
    gw.whoami()
    assert fake_github.count() >= 18


def test_rest_pagination_past_100(fake_github: FakeGitHub, github_gateway: GitHubGateway) -> None:
    number = fake_github.add_issue("Billing", "x")
    for i in range(230):
        fake_github.add_comment(number, f"c{i}", author="customer")
    fake_github.reset_requests()
    comments = github_gateway.list_comments(number)
    assert [c.body for c in comments] == [f"c{i}" for i in range(230)]
    assert fake_github.count("GET") == 3  # 100 per page


# ---------------------------------------------------------------------- GraphQL


def test_a_document_github_would_reject_fails_loudly(
    fake_github: FakeGitHub, github_violations: GitHubDescriptions
) -> None:
    answer = graphql(fake_github, "query { viewer { login databaseIdd } }")
    assert "data" not in answer
    assert "databaseIdd" in answer["errors"][0]["message"]
    [violation] = github_violations.take_violations()
    assert "databaseIdd" in violation


def test_the_queries_billingops_sends_validate_against_githubs_schema(
    fake_github: FakeGitHub, github_violations: GitHubDescriptions
) -> None:
    from graphql import parse, validate

    from billingops._tracker.translate import VIEWER_QUERY

    for document in (
        THREAD_QUERY,
        THREAD_AND_LISTING_QUERY,
        THREAD_AND_LISTINGS_QUERY,
        VIEWER_QUERY,
    ):
        assert validate(github_violations.schema, parse(document)) == []


def test_only_the_fields_asked_for_come_back(fake_github: FakeGitHub) -> None:
    number = fake_github.add_issue("Billing", "x")
    answer = graphql(
        fake_github,
        'query($n: Int!) { repository(owner: "acme", name: "support") '
        "{ issue(number: $n) { title } } }",
        n=number,
    )
    assert answer == {"data": {"repository": {"issue": {"title": "Billing"}}}}


def test_connections_need_first_or_last_at_most_100(fake_github: FakeGitHub) -> None:
    number = fake_github.add_issue("Billing", "x")
    base = 'query($n: Int!) { repository(owner: "acme", name: "support") { issue(number: $n) '
    missing = graphql(fake_github, base + "{ comments { totalCount } } } }", n=number)
    [error] = missing["errors"]
    assert error["type"] == "MISSING_PAGINATION_BOUNDARIES"
    assert error["path"] == ["repository", "issue", "comments"]
    too_many = graphql(fake_github, base + "{ comments(first: 101) { totalCount } } } }", n=number)
    assert too_many["errors"][0]["type"] == "EXCESSIVE_PAGINATION"
    assert "exceeds the `first` limit of 100 records" in too_many["errors"][0]["message"]


def test_missing_repository_and_issue_are_not_found_with_null_data(
    fake_github: FakeGitHub,
) -> None:
    answer = graphql(fake_github, THREAD_QUERY, owner="acme", name="nope", number=1, after=None)
    assert answer["data"]["repository"] is None
    assert answer["errors"][0]["type"] == "NOT_FOUND"
    assert answer["errors"][0]["path"] == ["repository"]
    answer = graphql(fake_github, THREAD_QUERY, owner="acme", name="support", number=7, after=None)
    assert answer["data"]["repository"] == {"issue": None}
    assert answer["errors"][0]["type"] == "NOT_FOUND"


def test_an_inaccessible_root_is_null_and_the_others_answer(fake_github: FakeGitHub) -> None:
    fake_github.add_repo("acme/product", accessible=False)
    number = fake_github.add_issue("Billing", "x")
    answer = graphql(
        fake_github,
        THREAD_AND_LISTING_QUERY,
        owner="acme",
        name="support",
        number=number,
        after=None,
        listingOwner="acme",
        listingName="product",
        listingLabel="product-gap",
    )
    assert answer["data"]["listing"] is None
    assert answer["data"]["viewer"] == {"login": BOT}
    assert answer["data"]["repository"]["issue"]["comments"]["nodes"] == []
    [error] = answer["errors"]
    assert (error["type"], error["path"]) == ("NOT_FOUND", ["listing"])


def test_bots_lose_their_suffix_in_graphql_but_not_as_viewer(fake_github: FakeGitHub) -> None:
    number = fake_github.add_issue("Billing", "x")
    fake_github.add_comment(number, "state", author=BOT)
    answer = graphql(fake_github, THREAD_QUERY, owner="acme", name="support", number=number)
    assert answer["data"]["viewer"]["login"] == BOT
    [node] = answer["data"]["repository"]["issue"]["comments"]["nodes"]
    assert node["author"] == {"__typename": "Bot", "login": "github-actions"}


def test_edit_records_stay_null_until_a_body_edit(fake_github: FakeGitHub) -> None:
    number = fake_github.add_issue("Billing", "x")
    cid = fake_github.add_comment(number, "state", author=BOT)
    query = (
        'query($n: Int!) { repository(owner: "acme", name: "support") { issue(number: $n) '
        "{ lastEditedAt editor { login } comments(first: 1) { nodes { fullDatabaseId "
        "lastEditedAt editor { login } } } } } }"
    )
    before = graphql(fake_github, query, n=number)["data"]["repository"]["issue"]
    assert (before["lastEditedAt"], before["editor"]) == (None, None)
    assert before["comments"]["nodes"] == [
        {"fullDatabaseId": str(cid), "lastEditedAt": None, "editor": None}
    ]
    fake_github.edit_comment(cid, "changed", editor="maya")
    fake_github.edit_issue(number, editor="customer", body="y")
    after = graphql(fake_github, query, n=number)["data"]["repository"]["issue"]
    assert after["editor"] == {"login": "customer"} and after["lastEditedAt"]
    assert after["comments"]["nodes"][0]["editor"] == {"login": "maya"}


def test_the_thread_read_pages_past_100_comments(
    fake_github: FakeGitHub, github_gateway: GitHubGateway
) -> None:
    number = fake_github.add_issue("Billing", "x")
    for i in range(150):
        fake_github.add_comment(number, f"c{i}", author="customer")
    fake_github.reset_requests()
    thread = github_gateway.read_thread(number)
    assert [c.body for c in thread.comments] == [f"c{i}" for i in range(150)]
    assert fake_github.count("POST", "/graphql") == 2


# ---------------------------------------------------------------------- the demo


def test_the_demo_fake_runs_without_the_test_only_descriptions() -> None:
    """`billingops demo` is installed without graphql-core or the npm packages: a fake
    started with `strict=False` answers billingops' queries without them."""
    script = """
import sys
sys.modules["graphql"] = None  # as if graphql-core were not installed
from billingops._tracker.github_gateway import GitHubGateway
from billingops.sandbox.fake_github import FakeGitHub
with FakeGitHub("acme/support", strict=False) as fake:
    n = fake.add_issue("Billing", "x")
    fake.add_comment(n, "state", author="github-actions[bot]")
    gw = GitHubGateway("t", "acme/support", fake.url, seconds_between_writes=None)
    thread = gw.read_thread(n, listing=("acme/support", "product-gap"))
    assert [c.id for c in thread.comments] == fake.comment_ids(n), thread
    assert thread.comments[0].id > 2**31 and thread.listing == []
    h = fake.add_issue("h", "y", labels=["billingops:handoff"])
    gaps, handoffs = ("acme/support", "product-gap"), ("acme/support", "billingops:handoff")
    both = gw.read_thread(n, listing=gaps, extra_listing=handoffs)
    assert both.listing == [] and [i.number for i in both.extra_listing or []] == [h], both
print("ok")
"""
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=False
    )
    assert done.stdout.strip() == "ok", done.stderr[-2000:]


def test_a_rejected_request_fails_the_test_even_when_the_code_swallows_it(
    tmp_path: Path,
) -> None:
    """The session check: a violation fails the test at teardown, whatever the code under
    test did with the 404 (run in a pytest of its own)."""
    root = Path(__file__).resolve().parents[2]
    (tmp_path / "test_inner.py").write_text(
        "from billingops.sandbox.fake_github import FakeGitHub\n"
        "def test_swallowed():\n"
        "    with FakeGitHub() as fake:\n"
        "        status, *_ = fake.handle('GET', '/repos/acme/support/threads', {}, b'')\n"
        "        assert status == 404  # the code under test shrugs it off\n"
    )
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            "-p",
            "tests.plugins.github_descriptions",
            "--rootdir",
            str(tmp_path),
            str(tmp_path),
        ],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
        cwd=root,
        env={**os.environ, "PYTHONPATH": str(root)},
    )
    assert done.returncode == 1, done.stdout[-3000:]
    assert "1 passed, 1 error" in done.stdout
    assert "GET /repos/acme/support/threads: no such route" in done.stdout
