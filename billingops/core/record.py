"""The record of executed steps on billingops' comment (SPEC §5, §5b). Pure.

Two runs can write the comment at once (the public repository's triage of a handoff and
the desk's apply: different repositories, so per-issue concurrency does not serialise them;
or two jobs of one repository). Each run renders the comment from what it read, so a run
that read before the other recorded a step would write the step out of the record. The
rule: a run that writes the comment reads it again just before the write and keeps every
executed step it did not see (`merge_executed`).
"""

from __future__ import annotations

from collections.abc import Iterable

from billingops.models.decision import Executed

FINISHED = ("done", "already_done")  # the step happened (this run or an earlier one)


def merge_executed(mine: Iterable[Executed], seen: Iterable[Executed]) -> list[Executed]:
    """`mine` (what this run will write) with every step of `seen` (the record on the issue
    just before the write) that it lacks, one entry per (kind, target).

    A finished step on record stays as recorded (what happened, and when it first did); a
    step this run finished replaces a failure on record; otherwise this run's entry wins.
    Order: this run's entries, then the others in their order."""
    merged: dict[tuple[object, str | None], Executed] = {}
    for e in mine:
        merged[(e.kind, e.target)] = e
    for e in seen:
        key = (e.kind, e.target)
        ours = merged.get(key)
        if ours is None or (e.status in FINISHED and ours != e):
            merged[key] = e
    return list(merged.values())
