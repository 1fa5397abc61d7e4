"""Where a run starts, from the event that woke it (SPEC §3 `handle`).

Routing picks where to start, not what to forget: an approval label already on the
issue sends the run to apply whatever the event, so a lost `labeled` event is
picked up by the next one (level-triggered, SPEC §5).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

TRIAGE_ACTIONS = frozenset({"opened", "edited", "reopened"})


class Route(StrEnum):
    triage = "triage"  # read, classify, comment
    triage_then_apply = "triage_then_apply"  # the ticket changed and an approval is on it
    apply = "apply"
    ignored = "ignored"


@dataclass(frozen=True)
class Routing:
    route: Route
    reason: str


def issue_labels(issue: Mapping[str, Any]) -> list[str]:
    labels = issue.get("labels") or []
    out: list[str] = []
    for label in labels if isinstance(labels, list) else []:
        name = label.get("name") if isinstance(label, Mapping) else label
        if isinstance(name, str):
            out.append(name)
    return out


def route(
    event_name: str | None,
    payload: Mapping[str, Any],
    approval_labels: Iterable[str],
    triage_labels: Iterable[str] = (),
) -> Routing:
    """`triage_labels`: labels whose arrival re-triages the ticket (the intake label, and
    the verified-requester label, which changes who is asking)."""
    """Decide where to start. Never raises on odd payloads: unknown shapes are ignored."""
    if event_name != "issues":
        return Routing(Route.ignored, f"ignored: {event_name or 'no'} event is not an issues event")
    issue = payload.get("issue")
    action = payload.get("action")
    if not isinstance(issue, Mapping) or not isinstance(issue.get("number"), int):
        return Routing(Route.ignored, "ignored: the event carries no issue")
    if issue.get("pull_request"):
        return Routing(Route.ignored, "ignored: pull requests are not billing tickets")
    approvals = set(approval_labels)
    approved = sorted(approvals.intersection(issue_labels(issue)))
    if action in TRIAGE_ACTIONS:
        if approved:
            return Routing(
                Route.triage_then_apply,
                f"issue {action}; approval label(s) on it: {', '.join(approved)}",
            )
        return Routing(Route.triage, f"issue {action}")
    added = payload.get("label")
    added_name = added.get("name") if isinstance(added, Mapping) else None
    if action == "labeled" and added_name in set(triage_labels):
        if approved:
            return Routing(
                Route.triage_then_apply,
                f"label {added_name} applied; approval label(s) on it: {', '.join(approved)}",
            )
        return Routing(Route.triage, f"label {added_name} applied")
    if approved:
        label = payload.get("label")
        name = label.get("name") if isinstance(label, Mapping) else None
        why = f"label {name} applied" if action == "labeled" and name in approvals else None
        return Routing(Route.apply, why or f"approval label(s) on the issue: {', '.join(approved)}")
    return Routing(Route.ignored, f"ignored: issues.{action} needs no action")
