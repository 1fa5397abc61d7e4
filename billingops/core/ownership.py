"""Which comments are billingops' own, and when their state is trusted (SPEC §5a). Pure.

billingops' account (`me`) is what GitHub says the token acts as; a comment counts only
when that account wrote it, and its hidden state only when nobody else edited it last
(GitHub's record). A plan is "posted" when the comment that first showed it was created:
the triage comment itself (revision 0), or the announcement of a later revision.
"""

from __future__ import annotations

from collections.abc import Iterable

from billingops.core.markers import State, decode_announcement, decode_state, is_bot_comment
from billingops.models.decision import Plan
from billingops.models.issue import Comment, Thread, same_login


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


def revision(
    thread: Thread, existing: Comment | None, previous: State | None, plan: Plan | None
) -> tuple[int, bool]:
    """(revision of the plan in the comment to write, whether to announce it).

    A new comment posts its plan itself (revision 0). A plan that differs from the one on
    record (or replaces state someone else altered) gets a fresh revision and a new short
    comment, because an edit notifies nobody (SPEC §5a)."""
    if plan is None or existing is None:
        return 0, False
    if previous is not None and previous.kind == "triage" and previous.plan_hash == plan.hash:
        announced = plan_posted_at(thread, existing, previous) is not None
        return previous.rev, not announced  # a lost announcement is posted now
    return next_rev(thread, previous), True
