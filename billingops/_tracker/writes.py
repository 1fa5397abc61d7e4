"""Writes of the `IssueTracker` port: comments, labels and issues. Each is one request;
POSTs are never retried once sent (see `client`), so the desk finds by marker, then writes.
An edit that changes nothing reads the issue instead, hence `Reads` underneath."""

from __future__ import annotations

from urllib.parse import quote

from billingops._tracker import translate
from billingops._tracker.reads import Reads
from billingops.models.issue import Comment, IssueSnapshot


class Writes(Reads):
    """The port's writes, part of `GitHubGateway`."""

    def create_comment(self, number: int, body: str) -> Comment:
        data = self._call(
            f"comment on #{number}",
            "POST",
            f"{self._path}/issues/{number}/comments",
            body={"body": body},
        )
        return translate.comment(data)

    def edit_comment(self, comment_id: int, body: str) -> Comment:
        data = self._call(
            f"edit comment {comment_id}",
            "PATCH",
            f"{self._path}/issues/comments/{comment_id}",
            body={"body": body},
        )
        return translate.comment(data)

    def set_labels(self, number: int, labels: list[str]) -> None:
        self._call(
            f"set labels on #{number}",
            "PUT",
            f"{self._path}/issues/{number}/labels",
            body={"labels": list(labels)},
        )

    def add_labels(self, number: int, labels: list[str]) -> None:
        # A POST, so never retried blindly; adding a label twice leaves the same state anyway.
        self._call(
            f"add labels to #{number}",
            "POST",
            f"{self._path}/issues/{number}/labels",
            body={"labels": list(labels)},
        )

    def remove_label(self, number: int, label: str) -> None:
        # 404 is success here: the label is absent (GitHub says "Label does not exist"), or a
        # retried DELETE whose first attempt had already removed it.
        self._call(
            f"remove label {label!r} from #{number}",
            "DELETE",
            f"{self._path}/issues/{number}/labels/{quote(label, safe='')}",
            tolerate=frozenset({404}),
        )

    def create_issue(self, *, title: str, body: str, labels: list[str]) -> IssueSnapshot:
        data = self._call(
            "create issue",
            "POST",
            f"{self._path}/issues",
            body={"title": title, "body": body, "labels": list(labels)},
        )
        return translate.issue(data)

    def edit_issue(
        self,
        number: int,
        *,
        body: str | None = None,
        state: str | None = None,
        state_reason: str | None = None,
    ) -> IssueSnapshot:
        changes: dict[str, str] = {}
        if body is not None:
            changes["body"] = body
        if state is not None:
            changes["state"] = state
            if state_reason is not None:
                changes["state_reason"] = state_reason
        if not changes:
            return self.get_issue(number)
        data = self._call(
            f"edit issue #{number}", "PATCH", f"{self._path}/issues/{number}", body=changes
        )
        return translate.issue(data)
