"""The issue thread: finding billingops' own comment, writing it once, and its labels."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import partial

from billingops._tracker.interface import IssueTracker
from billingops.core.markers import State, decode_announcement, decode_state, is_bot_comment
from billingops.models.decision import Case
from billingops.models.issue import Comment, Thread, same_login

CASE_PREFIX = "billing:"
DONE_LABEL = "billing:done"
NEEDS_INFO = "needs-info"


def find_bot_comment(comments: Iterable[Comment], me: str) -> Comment | None:
    """billingops' comment: the oldest comment by billingops' own account (`me`, as GitHub
    names the token's account) that starts with our marker. A look-alike by anyone else,
    however perfect, is never read, adopted or edited (SPEC §5a)."""
    ours = [c for c in comments if same_login(c.author, me) and is_bot_comment(c.body)]
    return min(ours, key=lambda c: (c.created_at, c.id)) if ours else None


def untouched(comment: Comment, me: str) -> bool:
    """Last edited by nobody but billingops (GitHub's record): only then is its state read."""
    return comment.editor is None or same_login(comment.editor, me)


def trusted_state(comment: Comment | None, me: str) -> State | None:
    """The hidden state of billingops' comment, or None when there is none or someone else
    edited the comment (then nothing is approved on its strength)."""
    if comment is None or not untouched(comment, me):
        return None
    return decode_state(comment.body)


def announcements(comments: Iterable[Comment], me: str) -> list[tuple[int, str, Comment]]:
    """billingops' own, unedited plan announcements: (revision, plan hash, comment)."""
    out = []
    for c in comments:
        found = decode_announcement(c.body) if same_login(c.author, me) else None
        if found and untouched(c, me):
            out.append((found[0], found[1], c))
    return out


def plan_posted_at(thread: Thread, main: Comment, state: State) -> int | None:
    """When the current plan was first shown, on GitHub's clock: the creation of the main
    comment (revision 0), or of the announcement of this revision. None: not announced."""
    if state.rev == 0:
        return main.created_at
    stamps = [
        c.created_at
        for rev, h, c in announcements(thread.comments, thread.me)
        if rev == state.rev and h == state.plan_hash
    ]
    return min(stamps) if stamps else None


def next_rev(thread: Thread, previous: State | None) -> int:
    """A revision number no announcement on the issue has used yet."""
    used = [rev for rev, _, _ in announcements(thread.comments, thread.me)]
    return 1 + max([*used, previous.rev if previous else 0])


def case_labels(
    current: Iterable[str], case: Case | None, *, needs_info: bool
) -> tuple[list[str], list[str]]:
    """(labels to add, labels to remove): one `billing:<case>`, and `needs-info` when asked."""
    want = [f"{CASE_PREFIX}{case.value}"] if case else []
    if needs_info:
        want.append(NEEDS_INFO)
    have = list(current)
    remove = [
        name
        for name in have
        if name not in want
        and (name == NEEDS_INFO or (name.startswith(CASE_PREFIX) and name != DONE_LABEL))
    ]
    add = [name for name in want if name not in have]
    return add, remove


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

    def notice(self, number: int, comments: Iterable[Comment], body: str) -> None:
        """A one-off comment (a refusal). Its first line is its own marker, so a rerun that
        would post the same notice finds it and does not post it twice."""
        first = body.split("\n", 1)[0]
        mine = [c for c in comments if not self.me or same_login(c.author, self.me)]
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
