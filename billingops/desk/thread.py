"""The issue thread: writing billingops' comment once, its notices and its labels. Which
comment is billingops' own, and whether its state is trusted, is decided in
`core/ownership.py` (pure)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import partial

from billingops._tracker.interface import IssueTracker
from billingops.core.labels import CASE_PREFIX, DONE_LABEL, NEEDS_INFO, case_labels
from billingops.core.ownership import untouched
from billingops.core.record import merged_with
from billingops.models.decision import Executed
from billingops.models.issue import Comment, same_login

__all__ = ["CASE_PREFIX", "DONE_LABEL", "NEEDS_INFO", "Writer", "case_labels"]


@dataclass
class Writer:
    """Every GitHub write of a run goes through here, so --dry-run writes nothing and shows
    what it would have written."""

    tracker: IssueTracker
    dry_run: bool = False
    would_write: list[str] = field(default_factory=list)
    # billingops' own login: a one-off comment counts as posted only when it is ours, so a
    # look-alike posted first cannot suppress a refusal or a plan announcement.
    me: str = ""

    def comment(self, number: int, existing: Comment | None, body: str) -> Comment | None:
        """Find-by-marker, then write: edit ours, or create it once. Unchanged: no request."""
        if existing is not None and existing.body == body:
            return existing
        if self.dry_run:
            verb = "edit comment" if existing else "create comment"
            self.would_write.append(f"--- would {verb} on #{number} ---\n{body}")
            return existing
        if existing is not None:
            return self.tracker.edit_comment(existing.id, body)
        return self.tracker.create_comment(number, body)

    def record(
        self,
        number: int,
        existing: Comment | None,
        executed: list[Executed],
        render: Callable[[list[Executed]], str],
    ) -> tuple[Comment | None, list[Executed]]:
        """Write billingops' comment (rendered with `executed`) without dropping a step
        another run recorded since this one read it (SPEC §5b): when the write edits the
        comment, the comment is read again just before, and every executed step on record
        there is kept (`merge_executed`). (the comment written, the executed steps it holds)"""
        body = render(executed)
        if existing is None or existing.body == body or self.dry_run:
            return self.comment(number, existing, body), executed
        current, merged = merged_with(executed, self.tracker.read_thread(number))
        if merged != executed:
            body = render(merged)
        return self.comment(number, current or existing, body), merged

    def notice(self, number: int, comments: Iterable[Comment], body: str) -> None:
        """A one-off comment (a refusal). Its first line is its own marker, so a rerun that
        would post the same notice finds it and does not post it twice."""
        first = body.split("\n", 1)[0]
        # Ours and unaltered: an old notice someone rewrote into this line does not count.
        mine = [
            c
            for c in comments
            if not self.me or (same_login(c.author, self.me) and untouched(c, self.me))
        ]
        if any(c.body.split("\n", 1)[0] == first for c in mine):
            return
        if self.dry_run:
            self.would_write.append(f"--- would comment on #{number} ---\n{body}")
            return
        self.tracker.create_comment(number, body)

    def labels(self, number: int, add: list[str], remove: list[str]) -> None:
        if self.dry_run:
            if add or remove:
                self.would_write.append(
                    f"--- would label #{number}: add {add or '-'}, remove {remove or '-'} ---"
                )
            return
        # Independent writes, so issued together: one round trip however many labels.
        calls: list[Callable[[], None]] = [
            partial(self.tracker.remove_label, number, name) for name in remove
        ]
        if add:
            calls.append(partial(self.tracker.add_labels, number, add))
        if len(calls) == 1:
            calls[0]()
        elif calls:
            with ThreadPoolExecutor(len(calls)) as pool:
                for future in [pool.submit(call) for call in calls]:
                    future.result()
