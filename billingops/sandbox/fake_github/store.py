"""The fake GitHub's state and how it changes as GitHub records it: the clock (GitHub's
time, one-second stamps), ids in today's ranges, and the changes every route and seeding
hook goes through (issues, comments, labels and the events they leave). No HTTP and no JSON
here: `server.FakeGitHub` sets the state up and answers requests, `render` shapes the JSON.
"""

from __future__ import annotations

import threading
from datetime import UTC, datetime
from typing import Any

from billingops.sandbox.fake_github.state import (
    _HEX6,
    SeenRequest,
    _Comment,
    _Fault,
    _HttpError,
    _invalid,
    _Issue,
    _Label,
    _Repo,
)


class Store:
    """The state (set up by `server.FakeGitHub.__init__`, guarded by `_lock`) and its
    changes."""

    repository: str
    actor: str
    html_base: str
    denied: set[str]
    requests: list[SeenRequest]
    epoch: datetime | None
    _offset: float
    _lock: threading.RLock
    _repos: dict[str, _Repo]
    _comments: dict[int, _Comment]
    _users: dict[str, str]
    _user_ids: dict[str, int]
    _faults: list[_Fault]
    _ids: dict[str, int]
    _custom_roles: dict[str, list[tuple[str, str]]]

    def clock(self) -> float:
        """GitHub's time now, in whole seconds (what its next stamp will say)."""
        with self._lock:
            # datetime.now, not time.time: a test that skews the runner's clock (by patching
            # time.time) must not move GitHub's.
            base = (self.epoch or datetime.now(UTC)).timestamp()
            return float(int(base + self._offset))

    def advance(self, seconds: float) -> None:
        """Let time pass (a maintainer reading before they click)."""
        with self._lock:
            self._offset += seconds

    def _now(self) -> str:
        return datetime.fromtimestamp(self.clock(), UTC).strftime("%Y-%m-%dT%H:%M:%SZ")

    def http_date(self) -> str:
        return datetime.fromtimestamp(self.clock(), UTC).strftime("%a, %d %b %Y %H:%M:%S GMT")

    def _next_id(self, kind: str) -> int:
        self._ids[kind] += 1
        return self._ids[kind]

    def _repo(self, name: str | None) -> _Repo:
        repo = self._repos.get((name or self.repository).lower())
        if repo is None:
            raise _HttpError(404, "Not Found")
        return repo

    def _issue(self, repo: _Repo, number: int) -> _Issue:
        issue = repo.issues.get(number)
        if issue is None:
            raise _HttpError(404, "Not Found")
        if issue.deleted:
            raise _HttpError(410, "This issue was deleted")
        return issue

    def _create_label(self, repo: _Repo, name: str, color: str, description: str | None) -> _Label:
        if not name or len(name) > 50:
            raise _invalid("Label", "name")
        if not _HEX6.match(color):
            raise _invalid("Label", "color")
        if name.lower() in repo.labels:
            raise _invalid("Label", "name", "already_exists")
        label = _Label(self._next_id("label"), name, color.lower(), description)
        repo.labels[name.lower()] = label
        return label

    def _label(self, repo: _Repo, name: str) -> _Label:
        """GitHub creates unknown labels when they are set on an issue."""
        return repo.labels.get(name.lower()) or self._create_label(repo, name, "ededed", None)

    def _event(self, issue: _Issue, event: str, actor: str, **extra: Any) -> None:
        issue.events.append(
            {"id": self._next_id("event"), "event": event, "actor": actor, "at": self._now()}
            | extra
        )

    def _set_issue_labels(self, repo: _Repo, issue: _Issue, names: list[str], actor: str) -> None:
        wanted: list[str] = []
        for name in names:
            label = self._label(repo, name)  # canonical case, as GitHub stores it
            if label.name not in wanted:
                wanted.append(label.name)
        for name in issue.labels:
            if name not in wanted:
                self._event(issue, "unlabeled", actor, label={"name": name})
        for name in wanted:
            if name not in issue.labels:
                self._event(issue, "labeled", actor, label={"name": name})
        issue.labels = wanted
        issue.updated_at = self._now()

    def _new_issue(
        self, repo: _Repo, title: str, body: str | None, author: str, labels: list[str]
    ) -> _Issue:
        number = max(repo.issues, default=0) + 1
        now = self._now()
        issue = _Issue(self._next_id("issue"), number, title, body, author, created_at=now)
        issue.updated_at = now
        repo.issues[number] = issue
        if labels:
            self._set_issue_labels(repo, issue, labels, author)
        return issue

    def _new_comment(self, issue: _Issue, body: str, author: str) -> _Comment:
        now = self._now()
        comment = _Comment(self._next_id("comment"), issue.number, body, author, now, now)
        self._comments[comment.id] = comment
        issue.comments.append(comment.id)
        issue.updated_at = now
        return comment

    def _edit_comment(self, comment: _Comment, body: str, editor: str) -> None:
        comment.body = body
        comment.updated_at = comment.last_edited_at = self._now()
        comment.editor = editor

    def _close(self, issue: _Issue, actor: str, reason: str) -> None:
        issue.state, issue.state_reason = "closed", reason
        issue.closed_at, issue.closed_by = self._now(), actor
        self._event(issue, "closed", actor)
