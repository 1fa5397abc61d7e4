"""A checklist line: what was checked, pass / warn / fail / skip, and the fix."""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict

from billingops.errors import ExitStatus, error_fields


class Status(StrEnum):
    passed = "pass"
    warn = "warn"  # works, but should change (or cannot be told): not a failure
    fail = "fail"
    skip = "skip"  # not checked because an earlier check failed


class Check(BaseModel):
    model_config = ConfigDict(frozen=True)

    id: str  # stable, for --json consumers: "stripe.key.type", "github.labels" ...
    status: Status
    summary: str  # one line: what was found
    fix: str | None = None  # one line: what to do about it
    operational: bool = False  # a failure to reach a service, not a set-up problem


def passed(id: str, summary: str, fix: str | None = None) -> Check:
    return Check(id=id, status=Status.passed, summary=summary, fix=fix)


def warn(id: str, summary: str, fix: str | None = None) -> Check:
    return Check(id=id, status=Status.warn, summary=summary, fix=fix)


def fail(id: str, summary: str, fix: str | None = None, *, operational: bool = False) -> Check:
    return Check(id=id, status=Status.fail, summary=summary, fix=fix, operational=operational)


def skip(id: str, summary: str) -> Check:
    return Check(id=id, status=Status.skip, summary=summary)


def exit_status(checks: Iterable[Check]) -> ExitStatus:
    """0 when nothing failed or was skipped; 1 when every failure is a service that could
    not be reached; 2 otherwise (set-up or configuration)."""
    bad = [c for c in checks if c.status in (Status.fail, Status.skip)]
    failures = [c for c in bad if c.status is Status.fail]
    if not bad:
        return ExitStatus.OK
    if failures and all(c.operational for c in failures):
        return ExitStatus.OPERATIONAL
    return ExitStatus.BAD_INPUT


_MARK = {Status.passed: "pass", Status.warn: "warn", Status.fail: "FAIL", Status.skip: "skip"}


def render_lines(checks: Iterable[Check]) -> list[str]:
    lines = []
    for c in checks:
        lines.append(f"[{_MARK[c.status]}] {c.summary}")
        if c.fix and c.status is not Status.passed:
            lines.append(f"       fix: {c.fix}")
        elif c.fix:
            lines.append(f"       note: {c.fix}")
    return lines


def as_json(command: str, checks: list[Check]) -> dict[str, Any]:
    """The --json object of a list of checks (doctor, portal validate): on a failure, the
    SPEC §3 error fields too, the message naming the first failed check."""
    status = exit_status(checks)
    data: dict[str, Any] = {
        "action": command,
        "ok": status is ExitStatus.OK,
        "checks": [c.model_dump(mode="json", exclude={"operational"}) for c in checks],
    }
    if status is not ExitStatus.OK:
        bad = [c for c in checks if c.status is Status.fail] or [
            c for c in checks if c.status is Status.skip
        ]
        message = f"{len(bad)} check(s) failed or not checked: {bad[0].summary}"
        data |= error_fields(status, message)
    return data
