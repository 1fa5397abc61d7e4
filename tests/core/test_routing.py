from typing import Any

import pytest

from billingops.core.routing import Route, route

APPROVALS = ["approve-refund", "approve-cancel"]


def event(action: str, labels: list[str] = (), label: str | None = None) -> dict[str, Any]:  # type: ignore[assignment]
    out: dict[str, Any] = {
        "action": action,
        "issue": {"number": 7, "labels": [{"name": n} for n in labels]},
    }
    if label:
        out["label"] = {"name": label}
    return out


@pytest.mark.parametrize("action", ["opened", "edited", "reopened"])
def test_ticket_changes_go_to_triage(action: str) -> None:
    assert route("issues", event(action, ["billing"]), APPROVALS).route is Route.triage


def test_approval_label_event_goes_to_apply() -> None:
    r = route("issues", event("labeled", ["approve-refund"], "approve-refund"), APPROVALS)
    assert r.route is Route.apply
    assert "approve-refund" in r.reason


def test_label_that_came_with_the_issue_is_honoured() -> None:
    # The issue was opened with the approval label on it: no `labeled` event is needed.
    r = route("issues", event("opened", ["billing", "approve-cancel"]), APPROVALS)
    assert r.route is Route.triage_then_apply


def test_lost_labeled_event_is_picked_up_by_a_later_one() -> None:
    # Some other label event arrives while an approval label sits on the issue.
    r = route("issues", event("labeled", ["approve-refund", "urgent"], "urgent"), APPROVALS)
    assert r.route is Route.apply


def test_other_labels_are_ignored() -> None:
    r = route("issues", event("labeled", ["billing:team_seats"], "billing:team_seats"), APPROVALS)
    assert r.route is Route.ignored
    assert r.reason.startswith("ignored:")


@pytest.mark.parametrize(
    ("name", "payload"),
    [
        ("push", {"ref": "main"}),
        (None, {}),
        ("issues", {"action": "opened"}),
        ("issues", {"action": "opened", "issue": {"number": "7"}}),
        ("issues", {"action": "opened", "issue": {"number": 7, "pull_request": {"url": "x"}}}),
        ("issues", {"action": "closed", "issue": {"number": 7, "labels": None}}),
        ("issue_comment", event("created")),
    ],
)
def test_everything_else_is_ignored_with_a_reason(
    name: str | None, payload: dict[str, Any]
) -> None:
    r = route(name, payload, APPROVALS)
    assert r.route is Route.ignored
    assert r.reason.startswith("ignored:")


def test_custom_approval_label_names() -> None:
    r = route("issues", event("labeled", ["ok-money"], "ok-money"), ["ok-money"])
    assert r.route is Route.apply
    assert (
        route("issues", event("labeled", ["approve-refund"], "approve-refund"), ["ok-money"]).route
        is Route.ignored
    )


def test_the_intake_and_verified_labels_arriving_later_triage_the_ticket() -> None:
    triage_labels = ("billing", "verified-requester")
    r = route("issues", event("labeled", ["billing"], "billing"), APPROVALS, triage_labels)
    assert r.route is Route.triage
    r = route(
        "issues",
        event("labeled", ["billing", "verified-requester", "approve-cancel"], "verified-requester"),
        APPROVALS,
        triage_labels,
    )
    assert r.route is Route.triage_then_apply  # who asks changed: re-plan, then reconcile
