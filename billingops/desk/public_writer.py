"""The only way billingops writes to a repository the public can read (SPEC §5b).

It accepts a `PublicReply` (no field can carry billing data) and the labels of
`PublicLabel` (none names a case), and nothing else.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from billingops._tracker.interface import IssueTracker
from billingops.core.markers import is_bot_comment
from billingops.core.public import is_public_reply, render_public
from billingops.desk.thread import Writer
from billingops.models.issue import Comment, same_login
from billingops.models.public import PublicKind, PublicLabel, PublicReply

_CASE_PREFIX = "billing:"
_PUBLIC_LABELS = frozenset(x.value for x in PublicLabel)


@dataclass
class PublicWriter:
    """The only way billingops writes to a public repository."""

    tracker: IssueTracker
    me: str
    dry_run: bool = False
    _writer: Writer = field(init=False)

    def __post_init__(self) -> None:
        self._writer = Writer(self.tracker, self.dry_run, me=self.me)

    @property
    def would_write(self) -> list[str]:
        return self._writer.would_write

    def reply(self, number: int, comments: Iterable[Comment], reply: PublicReply) -> None:
        """The acknowledgement: one comment, found by its marker, edited in place."""
        if reply.kind not in (PublicKind.received, PublicKind.needs_info):
            raise ValueError("reply() writes the acknowledgement; use notice()")
        # A triage comment left from before the repository went public is taken over:
        # its billing data is replaced by the reply (GitHub keeps its edit history).
        ours = [
            c
            for c in comments
            if same_login(c.author, self.me) and (is_public_reply(c.body) or is_bot_comment(c.body))
        ]
        ours.sort(key=lambda c: (c.created_at, c.id))
        body = render_public(reply)
        self._writer.comment(number, ours[0] if ours else None, body)
        # Two runs that raced on a new ticket posted one each (each linking the handoff it
        # filed): every acknowledgement says the same, the kept handoff (issue 22).
        for extra in ours[1:]:
            if is_public_reply(extra.body):
                self._writer.comment(number, extra, body)

    def notice(
        self, number: int, comments: Iterable[Comment], reply: PublicReply, key: str
    ) -> None:
        """A one-off public comment (an outcome), posted once per `key` and outcome."""
        self._writer.notice(number, comments, render_public(reply, key=key))

    def labels(self, number: int, current: Iterable[str], want: Iterable[PublicLabel]) -> None:
        """Add `want`; remove any other `billing:<case>` label (a case must not show) and a
        `needs-info` that is no longer wanted. `billing:done` is never removed."""
        wanted = {w.value for w in want}
        have = list(current)
        add = [w for w in wanted if w not in have]
        remove = [
            n
            for n in have
            if n not in wanted
            and n != PublicLabel.done.value
            and (n == PublicLabel.needs_info.value or n.startswith(_CASE_PREFIX))
            and (n not in _PUBLIC_LABELS or n == PublicLabel.needs_info.value)
        ]
        self._writer.labels(number, sorted(add), remove)

    def remove_label(self, number: int, label: str) -> None:
        self._writer.labels(number, [], [label])
