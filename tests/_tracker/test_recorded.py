"""Each gateway method against recorded cassettes (tests/cassettes/_tracker/test_recorded/).

The cassettes are regression records of our stand-in (the strict fake GitHub), not of
GitHub's behaviour: they pin the requests the gateway sends and how it reads the answers
(docs/TESTED-AGAINST.md). Re-record with
`pytest --record-mode=rewrite tests/_tracker/test_recorded.py` (see tests/plugins/github.py).
The fake server is seeded in every test because recording needs the state; on replay the
requests never reach it.
"""

from __future__ import annotations

import pytest

from billingops.errors import BadInput, NotFound
from tests.plugins.github import RecordedGitHub

pytestmark = pytest.mark.vcr


def test_get_issue(recorded_github: RecordedGitHub) -> None:
    fake, gateway = recorded_github
    number = fake.add_issue("Charged twice", "Two charges for one plan", labels=["billing"])

    issue = gateway.get_issue(number)

    assert issue.number == number
    assert (issue.title, issue.body, issue.author) == (
        "Charged twice",
        "Two charges for one plan",
        "customer",
    )
    assert issue.labels == ["billing"]
    assert issue.state == "open" and issue.closed_at is None
    assert issue.created_at > 0
    assert issue.html_url == f"https://github.com/acme/support/issues/{number}"


def test_get_issue_missing_is_not_found(recorded_github: RecordedGitHub) -> None:
    with pytest.raises(NotFound, match=r"get issue #404: not found \(404\)"):
        recorded_github.gateway.get_issue(404)


def test_get_deleted_issue_is_gone(recorded_github: RecordedGitHub) -> None:
    fake, gateway = recorded_github
    number = fake.add_issue()
    fake.delete_issue(number)
    with pytest.raises(NotFound, match=r"gone \(410: This issue was deleted\)"):
        gateway.get_issue(number)


def test_comments_create_list_edit(recorded_github: RecordedGitHub) -> None:
    fake, gateway = recorded_github
    number = fake.add_issue()
    fake.add_comment(number, "Any news?", author="customer")

    created = gateway.create_comment(number, "<!-- billingops:triage -->\nCUSTOMER ...")
    edited = gateway.edit_comment(created.id, "<!-- billingops:triage -->\nCUSTOMER (updated)")
    comments = gateway.list_comments(number)

    assert created.author == "github-actions[bot]"
    assert edited.id == created.id and edited.updated_at >= created.updated_at
    assert [(c.author, c.body) for c in comments] == [
        ("customer", "Any news?"),
        ("github-actions[bot]", "<!-- billingops:triage -->\nCUSTOMER (updated)"),
    ]


def test_set_and_remove_labels(recorded_github: RecordedGitHub) -> None:
    fake, gateway = recorded_github
    number = fake.add_issue(labels=["billing", "billing:needs_human"])

    gateway.set_labels(number, ["billing", "billing:duplicate_subscription", "needs-info"])
    gateway.remove_label(number, "needs-info")
    gateway.remove_label(number, "never-there")  # 404 from GitHub: fine

    assert gateway.get_issue(number).labels == ["billing", "billing:duplicate_subscription"]


def test_label_events(recorded_github: RecordedGitHub) -> None:
    fake, gateway = recorded_github
    fake.add_collaborator("maya", "maintain")
    number = fake.add_issue(labels=["billing"])
    fake.label_issue(number, "approve-refund", actor="maya")
    fake.unlabel_issue(number, "approve-refund", actor="renovate[bot]")
    gateway.edit_issue(number, state="closed")  # a non-label event in between

    events = gateway.label_events(number)

    assert [(e.event, e.label, e.actor, e.actor_type) for e in events] == [
        ("labeled", "billing", "customer", "User"),
        ("labeled", "approve-refund", "maya", "User"),
        ("unlabeled", "approve-refund", "renovate[bot]", "Bot"),
    ]
    assert [e.created_at for e in events] == sorted(e.created_at for e in events)


def test_role_of(recorded_github: RecordedGitHub) -> None:
    fake, gateway = recorded_github
    fake.add_collaborator("ada", "admin")
    fake.add_collaborator("maya", "maintain")
    fake.add_collaborator("wes", "write")
    fake.add_collaborator("tia", "triage")
    fake.add_collaborator("sam", "billing-approver", permission="write")  # a custom role

    roles = {u: gateway.role_of(u) for u in ("ada", "maya", "wes", "tia", "sam", "stranger")}

    assert roles == {
        "ada": "admin",
        "maya": "maintain",
        "wes": "write",
        "tia": "triage",
        "sam": "billing-approver",
        "stranger": None,
    }


def test_list_issues_by_labels_paginated(recorded_github: RecordedGitHub) -> None:
    fake, _ = recorded_github
    for key in ("a", "b", "c"):
        fake.add_issue(f"Gap {key}", labels=["product-gap", f"gap:{key}"])
    fake.add_issue("Closed gap", labels=["product-gap", "gap:d"], state="closed")
    fake.add_issue("A pull request", labels=["product-gap"], pull_request=True)
    fake.add_issue("Unrelated", labels=["billing"])
    small_pages = recorded_github.gateway.for_repository("acme/support")
    small_pages._per_page = 2  # force three pages

    everything = small_pages.list_issues(labels=["product-gap"], state="all")
    open_b = recorded_github.gateway.list_issues(labels=["product-gap", "gap:b"], state="open")
    closed = recorded_github.gateway.list_issues(labels=["product-gap"], state="closed")

    assert [i.title for i in everything] == ["Closed gap", "Gap c", "Gap b", "Gap a"]
    assert [i.title for i in open_b] == ["Gap b"]
    assert [(i.title, i.state) for i in closed] == [("Closed gap", "closed")]
    assert closed[0].closed_at is not None


def test_create_and_edit_issue(recorded_github: RecordedGitHub) -> None:
    _, gateway = recorded_github

    created = gateway.create_issue(
        title="Product gap: no cancellation flow",
        body="<!-- billingops:gap no_cancellation_flow -->\nTickets: #1",
        labels=["product-gap", "gap:no_cancellation_flow"],
    )
    edited = gateway.edit_issue(created.number, body=created.body + ", #2")
    closed = gateway.edit_issue(created.number, state="closed")

    assert created.labels == ["product-gap", "gap:no_cancellation_flow"]
    assert created.author == "github-actions[bot]"
    assert edited.body.endswith("Tickets: #1, #2")
    assert (closed.state, closed.body) == ("closed", edited.body)


def test_ensure_label(recorded_github: RecordedGitHub) -> None:
    fake, gateway = recorded_github
    fake.add_label("product-gap", "5319e7", "Filed by billingops")

    assert gateway.ensure_label("product-gap", color="5319e7", description="x") is False
    assert gateway.ensure_label("gap:no_billing_portal", color="#d4c5f9", description="x") is True


def test_ensure_label_invalid_is_bad_input(recorded_github: RecordedGitHub) -> None:
    with pytest.raises(BadInput, match=r"rejected \(422: Validation Failed \(color invalid\)\)"):
        recorded_github.gateway.ensure_label("gap:x", color="purple", description="")
