"""A checklist line: what was checked, pass / warn / fail / skip, and the fix."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict

from billingops.errors import ExitStatus, error_fields
from billingops.onboarding import texts


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


class Texts:
    """The checks whose texts come from one template (`templates/checks/<template>.txt.j2`):
    `Texts("doctor_stripe")(fail, "stripe.key", "key_missing", permissions=...)` is the
    `fail` line with the summary and fix of the macro `key_missing`."""

    def __init__(self, template: str) -> None:
        self.template = template

    def __call__(
        self,
        kind: Callable[..., Check],
        id: str,
        outcome: str,
        /,
        **values: Any,
    ) -> Check:
        """`operational=True` (a `fail` only): a service could not be reached."""
        operational = bool(values.pop("operational", False))
        summary, fix = texts.say(self.template, outcome, **values)
        if operational:
            return kind(id, summary, fix, operational=True)
        return kind(id, summary) if fix is None else kind(id, summary, fix)

    def say(self, outcome: str, **values: Any) -> tuple[str, str | None]:
        """(summary, fix) of a macro, for a line built from more than one."""
        return texts.say(self.template, outcome, **values)

    def text(self, outcome: str, **values: Any) -> str:
        """A phrase of the same template (a value of another line)."""
        return texts.text(self.template, outcome, **values)


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


_CHECKLIST = Texts("checklist")


def render_lines(checks: Iterable[Check]) -> list[str]:
    """The checklist as printed: a line per check, its fix (or, when it passed, its note)
    indented below it."""
    lines = []
    for c in checks:
        lines.append(_CHECKLIST.text("summary_line", status=c.status.value, summary=c.summary))
        if c.fix:
            outcome = "note_line" if c.status is Status.passed else "fix_line"
            lines.append(_CHECKLIST.text(outcome, text=c.fix))
    return lines


def verdict(command: str, checks: list[Check]) -> str:
    """The last line (stderr) of a checklist command: all good, or how many failed, and the
    warnings."""
    failed = sum(1 for c in checks if c.status is Status.fail)
    warned = sum(1 for c in checks if c.status is Status.warn)
    ok = exit_status(checks) is ExitStatus.OK
    return _CHECKLIST.text("verdict", command=command, ok=ok, failed=failed, warned=warned)


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
        message = _CHECKLIST.text("error_message", count=len(bad), first=bad[0].summary)
        data |= error_fields(status, message)
    return data
