"""Gateway behaviour that needs the live fake server: request budget, role_name versus the
legacy permission, GitHub Enterprise base URL, lazy import."""

from __future__ import annotations

import subprocess
import sys

from billingops._tracker.github_gateway import GitHubGateway
from billingops._tracker.interface import IssueTracker
from billingops.sandbox.fake_github import FakeGitHub
from tests.plugins.github import TEST_TOKEN, gateway_for


def test_is_an_issue_tracker(github_gateway: GitHubGateway) -> None:
    tracker: IssueTracker = github_gateway
    assert tracker.repository == "acme/support"


def test_triage_fits_the_request_budget(
    github_gateway: GitHubGateway, fake_github: FakeGitHub
) -> None:
    """SPEC §8: a triage makes at most 4 GitHub requests (the issue comes from the event)."""
    n = fake_github.add_issue(labels=["billing"])
    for _ in range(2):  # first run creates the comment, the second edits it in place
        fake_github.reset_requests()
        mine = [c for c in github_gateway.list_comments(n) if "<!-- billingops -->" in c.body]
        if mine:
            github_gateway.edit_comment(mine[0].id, "<!-- billingops -->\nv2")
        else:
            github_gateway.create_comment(n, "<!-- billingops -->\nv1")
        github_gateway.set_labels(n, ["billing", "billing:team_seats"])
        assert fake_github.count() == 3
        # Listing comments does not fetch the issue first.
        assert fake_github.count("GET", f"/repos/acme/support/issues/{n}") == 0
    assert fake_github.comments_of(n) == ["<!-- billingops -->\nv2"]


def test_role_name_not_legacy_permission(
    github_gateway: GitHubGateway, fake_github: FakeGitHub
) -> None:
    allowed = {"admin", "maintain", "write"}
    fake_github.add_collaborator("maya", "maintain")  # legacy permission: write
    fake_github.add_collaborator("tia", "triage")  # legacy permission: read
    assert github_gateway.role_of("maya") in allowed
    assert github_gateway.role_of("tia") == "triage"
    assert github_gateway.role_of("tia") not in allowed
    assert github_gateway.role_of("outsider") is None
    assert fake_github.count("GET", "/repos/acme/support/collaborators/*/permission") == 4


def test_enterprise_base_url_from_env() -> None:
    with FakeGitHub(prefix="/api/v3", token=TEST_TOKEN) as fake:
        n = fake.add_issue("on GHES")
        gateway = GitHubGateway.from_env(
            {
                "GITHUB_TOKEN": TEST_TOKEN,
                "GITHUB_REPOSITORY": "acme/support",
                "GITHUB_API_URL": fake.url,
            },
            seconds_between_writes=None,
        )
        assert gateway.api_url == fake.url
        assert gateway.get_issue(n).title == "on GHES"
        assert fake.count("GET", f"/repos/acme/support/issues/{n}") == 1


def test_from_env_defaults_to_github_com() -> None:
    gateway = GitHubGateway.from_env({"GITHUB_TOKEN": "t", "GITHUB_REPOSITORY": "acme/support"})
    assert gateway.api_url == "https://api.github.com"


def test_paginates_comments_and_events(fake_github: FakeGitHub) -> None:
    gateway = gateway_for(fake_github, per_page=2)
    n = fake_github.add_issue()
    for i in range(5):
        fake_github.add_comment(n, f"c{i}", author="customer")
        fake_github.label_issue(n, f"l{i}", actor="maya")
    assert [c.body for c in gateway.list_comments(n)] == [f"c{i}" for i in range(5)]
    assert [e.label for e in gateway.label_events(n)] == [f"l{i}" for i in range(5)]
    assert fake_github.count("GET", "*/comments") == 3 and fake_github.count("GET", "*/events") == 3


def test_backlog_repository_shares_the_client(
    github_gateway: GitHubGateway, fake_github: FakeGitHub
) -> None:
    fake_github.add_repo("acme/backlog")
    backlog = github_gateway.for_repository("acme/backlog")
    created = backlog.create_issue(title="gap", body="", labels=["product-gap"])
    assert fake_github.numbers(repo="acme/backlog") == [created.number]
    assert fake_github.numbers() == []


def test_module_import_does_not_import_github() -> None:
    code = (
        "import sys, billingops._tracker.github_gateway, billingops.sandbox.fake_github;"
        "sys.exit('github' in sys.modules)"
    )
    assert subprocess.run([sys.executable, "-c", code], check=False).returncode == 0


def test_read_thread_names_billingops_and_who_edited_what(fake_github: FakeGitHub) -> None:
    gateway = gateway_for(fake_github)
    n = fake_github.add_issue(author="customer")
    ours = gateway.create_comment(n, "<!-- billingops:triage v1 -->")
    theirs = fake_github.add_comment(n, "look-alike", author="mallory")
    fake_github.advance(2)
    fake_github.edit_comment(ours.id, "tampered", editor="ada")
    fake_github.edit_issue(n, editor="customer", body="edited")
    thread = gateway.read_thread(n)
    assert thread.me == "github-actions[bot]" == gateway.whoami()
    assert [(c.id, c.author, c.editor) for c in thread.comments] == [
        (ours.id, "github-actions[bot]", "ada"),
        (theirs, "mallory", None),
    ]
    assert thread.edited_at >= thread.comments[0].created_at > 0
    assert [c.id for c in thread.mine()] == [ours.id]
    assert fake_github.count("POST", "/graphql") == 1  # whoami came with the thread


def test_read_thread_on_enterprise_uses_its_graphql_endpoint() -> None:
    with FakeGitHub(prefix="/api/v3", token=TEST_TOKEN) as fake:
        n = fake.add_issue("on GHES")
        gateway = gateway_for(fake)
        assert gateway.read_thread(n).me == "github-actions[bot]"
        assert fake.count("POST", "/api/graphql") == 1
