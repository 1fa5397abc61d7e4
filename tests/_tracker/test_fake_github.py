"""The fake GitHub server itself: state, events, pagination, faults, auth (raw HTTP)."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from typing import Any

import pytest

from billingops._tracker.translate import THREAD_QUERY
from billingops.sandbox.fake_github import FakeGitHub
from tests.plugins.github import TEST_TOKEN


def call(
    fake: FakeGitHub, method: str, path: str, body: Any = None, token: str | None = TEST_TOKEN
) -> tuple[int, Any, dict[str, str]]:
    request = urllib.request.Request(
        fake.url + path,
        method=method,
        data=None if body is None else json.dumps(body).encode(),
        headers={"Authorization": f"Bearer {token}"} if token else {},
    )
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status, json.loads(response.read() or b"null"), dict(response.headers)
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read() or b"null"), dict(e.headers)


def test_state_changes_and_events(fake_github: FakeGitHub) -> None:
    n = fake_github.add_issue("Refund", labels=["billing"])
    fake_github.label_issue(n, "approve-refund", actor="maya")

    status, labels, _ = call(
        fake_github, "PUT", f"/repos/acme/support/issues/{n}/labels", {"labels": ["billing:done"]}
    )
    assert status == 200 and [x["name"] for x in labels] == ["billing:done"]
    status, remaining, _ = call(
        fake_github, "DELETE", f"/repos/acme/support/issues/{n}/labels/billing%3Adone"
    )
    assert (status, remaining) == (200, [])
    status, body, _ = call(fake_github, "DELETE", f"/repos/acme/support/issues/{n}/labels/nope")
    assert (status, body["message"]) == (404, "Label does not exist")

    assert fake_github.events_of(n) == [
        ("labeled", "billing", "customer"),
        ("labeled", "approve-refund", "maya"),
        ("unlabeled", "billing", "github-actions[bot]"),
        ("unlabeled", "approve-refund", "github-actions[bot]"),
        ("labeled", "billing:done", "github-actions[bot]"),
        ("unlabeled", "billing:done", "github-actions[bot]"),
    ]
    _, events, _ = call(fake_github, "GET", f"/repos/acme/support/issues/{n}/events")
    first = events[0]
    assert first["event"] == "labeled" and first["label"]["name"] == "billing"
    assert first["actor"]["login"] == "customer" and first["actor"]["type"] == "User"
    assert {"id", "node_id", "url", "created_at", "commit_id", "performed_via_github_app"} <= set(
        first
    )


def test_comments_and_issue_edits(fake_github: FakeGitHub) -> None:
    n = fake_github.add_issue()
    status, comment, _ = call(
        fake_github, "POST", f"/repos/acme/support/issues/{n}/comments", {"body": "hi"}
    )
    assert status == 201 and comment["user"]["login"] == "github-actions[bot]"
    assert comment["user"]["type"] == "Bot"
    status, edited, _ = call(
        fake_github,
        "PATCH",
        f"/repos/acme/support/issues/comments/{comment['id']}",
        {"body": "hello"},
    )
    assert status == 200 and edited["body"] == "hello"
    status, issue, _ = call(
        fake_github, "PATCH", f"/repos/acme/support/issues/{n}", {"state": "closed"}
    )
    assert issue["state"] == "closed" and issue["closed_by"]["login"] == "github-actions[bot]"
    assert fake_github.comments_of(n) == ["hello"]
    assert fake_github.events_of(n)[-1] == ("closed", "", "github-actions[bot]")
    status, _, _ = call(
        fake_github, "POST", f"/repos/acme/support/issues/{n}/comments", {"body": ""}
    )
    assert status == 422


def test_issue_shape_follows_the_openapi_example(fake_github: FakeGitHub) -> None:
    n = fake_github.add_issue("Title", "Body", labels=["billing"])
    issue = fake_github.issue_json(n)
    # The fields GitHub's `issue` schema marks required.
    required = {
        "assignee",
        "closed_at",
        "comments",
        "comments_url",
        "events_url",
        "html_url",
        "id",
        "node_id",
        "labels",
        "labels_url",
        "milestone",
        "number",
        "repository_url",
        "state",
        "locked",
        "title",
        "url",
        "user",
        "created_at",
        "updated_at",
    }
    assert required <= set(issue)
    # The same id shape as GitHub's example ("MDU6SXNzdWUx" = base64 "05:Issue1").
    assert issue["node_id"].startswith("MDU6SXNzdWU")
    assert "pull_request" not in issue


def test_pagination_link_header(fake_github: FakeGitHub) -> None:
    for i in range(5):
        fake_github.add_issue(f"Gap {i}", labels=["product-gap"])
    status, page2, headers = call(
        fake_github, "GET", "/repos/acme/support/issues?labels=product-gap&per_page=2&page=2"
    )
    assert status == 200 and [i["title"] for i in page2] == ["Gap 2", "Gap 1"]
    link = headers["Link"]
    query = "labels=product-gap&per_page=2&page=3"
    assert f'<{fake_github.url}/repos/acme/support/issues?{query}>; rel="next"' in link
    assert 'page=1>; rel="prev"' in link and 'page=3>; rel="last"' in link


def test_collaborator_permission_role_name_and_legacy(fake_github: FakeGitHub) -> None:
    fake_github.add_collaborator("maya", "maintain")
    fake_github.add_collaborator("tia", "triage")
    _, maya, _ = call(fake_github, "GET", "/repos/acme/support/collaborators/maya/permission")
    _, tia, _ = call(fake_github, "GET", "/repos/acme/support/collaborators/tia/permission")
    status, _, _ = call(fake_github, "GET", "/repos/acme/support/collaborators/bob/permission")
    assert (maya["permission"], maya["role_name"]) == ("write", "maintain")
    assert (tia["permission"], tia["role_name"]) == ("read", "triage")
    assert tia["user"]["permissions"] == {
        "admin": False,
        "maintain": False,
        "push": False,
        "triage": True,
        "pull": True,
    }
    assert status == 404


def test_failure_hook_and_request_counts(fake_github: FakeGitHub) -> None:
    n = fake_github.add_issue()
    fake_github.fail_next("GET", "/repos/*/issues/*", 503, times=2, retry_after=7)
    first = call(fake_github, "GET", f"/repos/acme/support/issues/{n}")
    second = call(fake_github, "GET", f"/repos/acme/support/issues/{n}")
    third = call(fake_github, "GET", f"/repos/acme/support/issues/{n}")
    assert [first[0], second[0], third[0]] == [503, 503, 200]
    assert first[2]["Retry-After"] == "7"
    assert fake_github.count("GET", "/repos/acme/support/issues/*") == 3
    assert fake_github.count("POST") == 0
    fake_github.reset_requests()
    assert fake_github.count() == 0


def test_auth_required_when_token_set(fake_github: FakeGitHub) -> None:
    status, body, _ = call(fake_github, "GET", "/repos/acme/support/issues", token="ghp_wrong")
    assert (status, body["message"]) == (401, "Bad credentials")


def test_unknown_repo_and_gone_issue(fake_github: FakeGitHub) -> None:
    assert call(fake_github, "GET", "/repos/acme/other/issues/1")[0] == 404
    n = fake_github.add_issue()
    fake_github.delete_issue(n)
    assert call(fake_github, "GET", f"/repos/acme/support/issues/{n}")[0] == 410


def test_labels_endpoints(fake_github: FakeGitHub) -> None:
    status, label, _ = call(
        fake_github, "POST", "/repos/acme/support/labels", {"name": "gap:x", "color": "d4c5f9"}
    )
    assert status == 201 and label["name"] == "gap:x"
    status, body, _ = call(
        fake_github, "POST", "/repos/acme/support/labels", {"name": "GAP:X", "color": "d4c5f9"}
    )
    assert status == 422 and body["errors"][0]["code"] == "already_exists"
    assert call(fake_github, "GET", "/repos/acme/support/labels/gap%3Ax")[0] == 200
    assert call(fake_github, "GET", "/repos/acme/support/labels/missing")[0] == 404


def test_enterprise_prefix() -> None:
    with FakeGitHub(prefix="/api/v3") as fake:
        n = fake.add_issue()
        assert fake.url.endswith("/api/v3")
        assert call(fake, "GET", f"/repos/acme/support/issues/{n}", token=None)[0] == 200
        assert fake.requests[0].path == f"/repos/acme/support/issues/{n}"


@pytest.mark.parametrize("repo", ["acme/backlog"])
def test_second_repository(repo: str) -> None:
    with FakeGitHub() as fake:
        fake.add_repo(repo)
        n = fake.add_issue("in backlog", repo=repo)
        assert fake.numbers(repo=repo) == [n]
        assert fake.numbers() == []


def test_the_actions_token_edits_only_its_own_comments_and_has_no_user(
    fake_github: FakeGitHub,
) -> None:
    # As GitHub answers an installation token (the Actions token, an App).
    n = fake_github.add_issue(author="customer")
    theirs = fake_github.add_comment(n, "<!-- billingops:triage v1 ... -->", author="mallory")
    path = f"/repos/acme/support/issues/comments/{theirs}"
    status, body, _ = call(fake_github, "PATCH", path, {"body": "x"})
    assert (status, body["message"]) == (403, "Resource not accessible by integration")
    status, _, _ = call(fake_github, "GET", "/user")
    assert status == 403
    status, mine, _ = call(
        fake_github, "POST", f"/repos/acme/support/issues/{n}/comments", {"body": "ok"}
    )
    assert status == 201 and mine["user"]["login"] == "github-actions[bot]"
    status, edited, _ = call(
        fake_github, "PATCH", f"/repos/acme/support/issues/comments/{mine['id']}", {"body": "ok2"}
    )
    assert status == 200 and edited["body"] == "ok2"


def test_a_user_token_has_a_user_and_may_edit_others_comments() -> None:
    with FakeGitHub(token=TEST_TOKEN, actor="ada") as fake:
        n = fake.add_issue(author="customer")
        cid = fake.add_comment(n, "hello", author="customer")
        status, user, _ = call(fake, "GET", "/user")
        assert status == 200 and user["login"] == "ada"
        status, _, _ = call(
            fake, "PATCH", f"/repos/acme/support/issues/comments/{cid}", {"body": "x"}
        )
        assert status == 200


def test_graphql_thread_names_the_viewer_and_who_last_edited(fake_github: FakeGitHub) -> None:
    n = fake_github.add_issue(author="customer")
    status, mine, _ = call(
        fake_github, "POST", f"/repos/acme/support/issues/{n}/comments", {"body": "a"}
    )
    fake_github.advance(3)
    fake_github.edit_comment(mine["id"], "b", editor="ada")
    query = {
        "query": THREAD_QUERY,
        "variables": {"owner": "acme", "name": "support", "number": n, "after": None},
    }
    status, data, _ = call(fake_github, "POST", "/graphql", query)
    assert status == 200
    assert data["data"]["viewer"]["login"] == "github-actions[bot]"
    [node] = data["data"]["repository"]["issue"]["comments"]["nodes"]
    # GraphQL names the Actions bot without "[bot]", as GitHub does.
    assert node["author"] == {"__typename": "Bot", "login": "github-actions"}
    assert node["editor"] == {"__typename": "User", "login": "ada"}
    assert node["lastEditedAt"] > node["createdAt"]


def test_time_is_real_utc_in_whole_seconds_and_ties_happen(fake_github: FakeGitHub) -> None:
    import time
    from datetime import datetime

    before = int(time.time())
    n = fake_github.add_issue(author="customer")
    after = int(time.time()) + 1
    created = fake_github.issue_json(n)["created_at"]
    assert created.endswith("Z") and "." not in created  # one-second resolution
    stamp = int(datetime.fromisoformat(created.replace("Z", "+00:00")).timestamp())
    assert before <= stamp <= after
    fake_github.freeze()
    a = fake_github.add_comment(n, "one", author="x")
    b = fake_github.add_comment(n, "two", author="y")
    _, comments, headers = call(fake_github, "GET", f"/repos/acme/support/issues/{n}/comments")
    assert [c["id"] for c in comments] == [a, b]
    assert comments[0]["created_at"] == comments[1]["created_at"]  # a tie
    assert headers["Date"].endswith("GMT")


# -- issue 21: what `doctor` reads of the approval gate -----------------------------------------


def _rest(name: str) -> Any:
    """A REST description as GitHub publishes it (fetched by the test set-up, not copied)."""
    from tests.plugins.github_descriptions import OPENAPI, ensure

    return json.loads((ensure(OPENAPI) / name).read_text("utf-8"))


def _shape(path: str, description: str = "api.github.com.json") -> tuple[list[str], Any]:
    """The 200 answer's required fields and its example, `$ref`s followed."""
    doc = _rest(description)

    def resolve(node: Any) -> Any:
        while isinstance(node, dict) and "$ref" in node:
            target = doc
            for part in node["$ref"].removeprefix("#/").split("/"):
                target = target[part]
            node = target
        return node

    answer = doc["paths"][path]["get"]["responses"]["200"]["content"]["application/json"]
    schema = resolve(answer["schema"])
    example = resolve(answer["examples"]["default"])["value"]
    if "custom_roles" in schema.get("properties", {}):
        schema = resolve(schema["properties"]["custom_roles"]["items"])
    return list(schema.get("required", [])), example


def test_environment_follows_the_rest_description(fake_github: FakeGitHub) -> None:
    required, example = _shape("/repos/{owner}/{repo}/environments/{environment_name}")
    fake_github.add_environment("billing-approvals", reviewers=["maya"], branch_policy=True)
    status, env, _ = call(fake_github, "GET", "/repos/acme/support/environments/billing-approvals")
    assert status == 200
    assert set(required) <= set(env) and set(example) <= set(env)
    kinds = [r["type"] for r in env["protection_rules"]]
    assert kinds == ["required_reviewers", "branch_policy"]
    [reviewers] = [r for r in env["protection_rules"] if r["type"] == "required_reviewers"]
    example_rule = next(r for r in example["protection_rules"] if r["type"] == "required_reviewers")
    assert set(example_rule) == set(reviewers)
    assert reviewers["reviewers"][0]["reviewer"]["login"] == "maya"
    assert set(env["deployment_branch_policy"]) == set(example["deployment_branch_policy"])
    status, _, _ = call(fake_github, "GET", "/repos/acme/support/environments/nope")
    assert status == 404
    fake_github.denied = {"actions"}  # an App token with Issues and Metadata only
    status, body, _ = call(fake_github, "GET", "/repos/acme/support/environments/billing-approvals")
    assert (status, body["message"]) == (403, "Resource not accessible by integration")


def test_repository_secret_and_custom_roles_follow_the_rest_description(
    fake_github: FakeGitHub,
) -> None:
    required, example = _shape("/repos/{owner}/{repo}/actions/secrets/{secret_name}")
    fake_github.add_secret("STRIPE_WRITE_KEY")
    status, secret, _ = call(
        fake_github, "GET", "/repos/acme/support/actions/secrets/STRIPE_WRITE_KEY"
    )
    assert status == 200 and set(secret) == set(example) == set(required)
    assert call(fake_github, "GET", "/repos/acme/support/actions/secrets/OTHER")[0] == 404

    # An Enterprise Cloud route: github.com's own description does not have it.
    assert "/orgs/{org}/custom-repository-roles" not in _rest("api.github.com.json")["paths"]
    required, example = _shape("/orgs/{org}/custom-repository-roles", "ghec.json")
    assert call(fake_github, "GET", "/orgs/acme/custom-repository-roles")[0] == 404
    fake_github.add_custom_role("acme", "Billing Lead")
    status, roles, _ = call(fake_github, "GET", "/orgs/acme/custom-repository-roles")
    assert status == 200 and set(roles) == set(example)
    assert set(required) <= set(roles["custom_roles"][0])
    assert [r["name"] for r in roles["custom_roles"]] == ["Billing Lead"]


def test_the_gate_reads_doctor_makes_are_routes_of_the_rest_description(
    fake_github: FakeGitHub,
) -> None:
    """SPEC §8: every REST route billingops calls exists in GitHub's REST description."""
    import re

    from billingops._tracker.github_gateway import GitHubGateway

    gateway = GitHubGateway(TEST_TOKEN, "acme/support", fake_github.url)
    fake_github.add_environment("billing-approvals", reviewers=["maya"])
    fake_github.add_custom_role("acme", "Billing Lead")
    fake_github.reset_requests()
    status, env = gateway.environment("billing-approvals")
    assert status == 200 and env is not None and env["name"] == "billing-approvals"
    assert gateway.repository_secret("STRIPE_WRITE_KEY") == 404
    assert gateway.custom_repository_roles("acme") == (200, ["Billing Lead"])
    fake_github.denied = {"actions", "secrets", "custom_roles"}
    assert gateway.environment("billing-approvals") == (403, None)
    assert gateway.repository_secret("STRIPE_WRITE_KEY") == 403
    assert gateway.custom_repository_roles("acme") == (403, [])
    paths = [*_rest("api.github.com.json")["paths"], *_rest("ghec.json")["paths"]]
    routes = [re.compile("^" + re.sub(r"\{[a-z_]+\}", "[^/]+", path) + "$") for path in paths]
    seen = {r.path for r in fake_github.requests}
    assert len(seen) == 3
    for path in seen:
        assert any(route.match(path) for route in routes), path
