"""The fake GitHub's test hooks: seeding (repositories, users, collaborators, labels,
issues, comments, a person's edits in the UI, Environments, secrets, custom roles), faults
to inject (`fail_next`), and reading the state and the request log back (`labels_of`,
`count`, `writes` ...). What a test or the demo does to the fake directly, as opposed to the
requests billingops makes (`server`, `rest`, `graphql`); both go through `store`'s changes."""

from __future__ import annotations

import fnmatch
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

import billingops.sandbox.fake_github.rest as rest
from billingops.sandbox.fake_github.render import Rendering
from billingops.sandbox.fake_github.state import (
    _LEGACY_PERMISSION,
    Json,
    _Fault,
    _node_id,
    _Repo,
)


class Hooks(Rendering):
    """Seeding the fake and reading it back, under the state's lock."""

    # ----------------------------------------------------------------- seeding

    def add_repo(
        self, full_name: str, *, visibility: str = "private", accessible: bool = True
    ) -> None:
        """`accessible=False`: the repository exists but the token cannot see it."""
        with self._lock:
            repo = self._repos.setdefault(full_name.lower(), _Repo(full_name))
            repo.visibility, repo.accessible = visibility, accessible

    def set_visibility(self, visibility: str, *, repo: str | None = None) -> None:
        with self._lock:
            self._repo(repo).visibility = visibility

    def add_environment(
        self,
        name: str,
        *,
        reviewers: Iterable[str] = (),
        branch_policy: bool = False,
        wait_timer: int = 0,
        repo: str | None = None,
    ) -> None:
        """An Environment with GitHub's built-in protection rules: required reviewers
        (logins), deployment branches limited to protected branches, a wait timer."""
        rules: list[dict[str, Any]] = []
        with self._lock:
            if wait_timer:
                rules.append(self._rule("wait_timer", wait_timer=wait_timer))
            users = list(reviewers)
            if users:
                rules.append(
                    self._rule(
                        "required_reviewers",
                        prevent_self_review=False,
                        reviewers=[{"type": "User", "reviewer": self._user_json(u)} for u in users],
                    )
                )
            policy = None
            if branch_policy:
                rules.append(self._rule("branch_policy"))
                policy = {"protected_branches": True, "custom_branch_policies": False}
            self._repo(repo).environments[name] = (rules, policy)

    def add_secret(self, name: str, *, repo: str | None = None) -> None:
        """A repository-level Actions secret (its value never leaves GitHub)."""
        with self._lock:
            self._repo(repo).secrets.add(name.upper())

    def add_custom_role(self, org: str, name: str, base_role: str = "write") -> None:
        with self._lock:
            self._custom_roles.setdefault(org.lower(), []).append((name, base_role))

    def _rule(self, type: str, **extra: Any) -> dict[str, Any]:
        ident = self._next_id("environment")
        return {"id": ident, "node_id": _node_id("Gate", ident), "type": type, **extra}

    def add_user(self, login: str, *, type: str = "User", id: int | None = None) -> None:
        """`id`: the numeric account id GitHub gives the login (ids exceed 2**31); by
        default one derived from the login."""
        with self._lock:
            self._users[login] = type
            if id is not None:
                self._user_ids[login.lower()] = id

    def add_collaborator(
        self, login: str, role: str, *, permission: str | None = None, repo: str | None = None
    ) -> None:
        """`role` is the role name (admin, maintain, write, triage, read or a custom role);
        `permission` the legacy field, derived from the role unless given (custom roles)."""
        legacy = permission or _LEGACY_PERMISSION.get(role, "read")
        with self._lock:
            self._repo(repo).collaborators[login.lower()] = (role, legacy)
            self._users.setdefault(login, "Bot" if login.endswith("[bot]") else "User")

    def add_label(
        self, name: str, color: str = "ededed", description: str = "", *, repo: str | None = None
    ) -> None:
        with self._lock:
            self._create_label(self._repo(repo), name, color, description or None)

    def add_issue(
        self,
        title: str = "Billing question",
        body: str | None = "",
        *,
        author: str = "customer",
        labels: Iterable[str] = (),
        state: str = "open",
        pull_request: bool = False,
        repo: str | None = None,
    ) -> int:
        """Create an issue as `author` would (labels arrive with it: `labeled` events by the
        author, as GitHub records for an issue form with labels). Returns its number."""
        with self._lock:
            issue = self._new_issue(self._repo(repo), title, body, author, list(labels))
            issue.pull_request = pull_request
            if state == "closed":
                self._close(issue, author, "completed")
            return issue.number

    def add_comment(self, number: int, body: str, *, author: str, repo: str | None = None) -> int:
        with self._lock:
            return self._new_comment(self._issue(self._repo(repo), number), body, author).id

    def edit_comment(
        self, comment_id: int, body: str, *, editor: str, repo: str | None = None
    ) -> None:
        """A person edits a comment in the UI (anyone with write access may edit others')."""
        with self._lock:
            comment = rest.find_comment(self, self._repo(repo), comment_id)
            self._edit_comment(comment, body, editor)

    def edit_issue(
        self,
        number: int,
        *,
        editor: str,
        body: str | None = None,
        title: str | None = None,
        repo: str | None = None,
    ) -> None:
        """A person edits the ticket's title or body in the UI."""
        with self._lock:
            issue = self._issue(self._repo(repo), number)
            if title is not None and title != issue.title:
                self._event(issue, "renamed", editor, rename={"from": issue.title, "to": title})
                issue.title = title
            if body is not None:
                issue.body = body
                issue.last_edited_at = self._now()  # GraphQL lastEditedAt: the body only
                issue.editor = editor
            issue.updated_at = self._now()

    def freeze(self) -> None:
        """Stop GitHub's clock where it is (`advance` still moves it): ties on purpose."""
        with self._lock:
            self.epoch, self._offset = datetime.fromtimestamp(self.clock(), UTC), 0.0

    def comment_authors(self, number: int, *, repo: str | None = None) -> list[tuple[str, str]]:
        """(body, author login) of each comment, in order."""
        with self._lock:
            issue = self._issue(self._repo(repo), number)
            return [(self._comments[c].body, self._comments[c].author) for c in issue.comments]

    def comment_ids(self, number: int, *, repo: str | None = None) -> list[int]:
        with self._lock:
            return list(self._issue(self._repo(repo), number).comments)

    def label_issue(self, number: int, label: str, *, actor: str, repo: str | None = None) -> None:
        """A person (or bot) applies a label in the UI: the label and a `labeled` event."""
        with self._lock:
            r = self._repo(repo)
            issue = self._issue(r, number)
            self._set_issue_labels(r, issue, [*issue.labels, label], actor)

    def unlabel_issue(
        self, number: int, label: str, *, actor: str, repo: str | None = None
    ) -> None:
        with self._lock:
            r = self._repo(repo)
            issue = self._issue(r, number)
            self._set_issue_labels(r, issue, [x for x in issue.labels if x != label], actor)

    def delete_issue(self, number: int, *, repo: str | None = None) -> None:
        """Deleted issues answer 410 Gone."""
        with self._lock:
            self._issue(self._repo(repo), number).deleted = True

    def fail_next(
        self,
        method: str,
        path: str,
        status: int,
        *,
        times: int = 1,
        retry_after: int | None = None,
        message: str | None = None,
        delay: float = 0.0,
    ) -> None:
        """The next `times` requests matching `method` (or "*") and `path` (a glob on the path
        without API prefix and query, e.g. "/repos/*/issues/1/comments") get `status`, after
        sleeping `delay` seconds (longer than the client timeout = a timeout)."""
        with self._lock:
            self._faults.append(
                _Fault(method.upper(), path, status, times, retry_after, message, delay)
            )

    # ----------------------------------------------------------------- reading state

    def count(self, method: str | None = None, path: str | None = None) -> int:
        """Requests seen (including failed ones), optionally by method and path glob."""
        with self._lock:
            return sum(
                1
                for r in self.requests
                if (method is None or r.method == method.upper())
                and (path is None or fnmatch.fnmatchcase(r.path, path))
            )

    def writes(self, method: str | None = None) -> int:
        """Requests that can change state: every POST, PUT, PATCH and DELETE except the
        GraphQL queries (billingops sends no GraphQL mutation)."""
        with self._lock:
            return sum(
                1
                for r in self.requests
                if r.method in ("POST", "PUT", "PATCH", "DELETE")
                and (method is None or r.method == method.upper())
                and not r.path.endswith("/graphql")
            )

    def reset_requests(self) -> None:
        with self._lock:
            self.requests.clear()

    def labels_of(self, number: int, *, repo: str | None = None) -> list[str]:
        with self._lock:
            return list(self._issue(self._repo(repo), number).labels)

    def comments_of(self, number: int, *, repo: str | None = None) -> list[str]:
        with self._lock:
            issue = self._issue(self._repo(repo), number)
            return [self._comments[c].body for c in issue.comments]

    def events_of(self, number: int, *, repo: str | None = None) -> list[tuple[str, str, str]]:
        """(event, label name or "", actor login) in order."""
        with self._lock:
            issue = self._issue(self._repo(repo), number)
            return [
                (e["event"], e.get("label", {}).get("name", ""), e["actor"]) for e in issue.events
            ]

    def label_specs(self, *, repo: str | None = None) -> dict[str, tuple[str, str | None]]:
        """The repository's labels: name -> (colour, description)."""
        with self._lock:
            return {x.name: (x.color, x.description) for x in self._repo(repo).labels.values()}

    def issue_json(self, number: int, *, repo: str | None = None) -> Json:
        with self._lock:
            r = self._repo(repo)
            return self._issue_json(r, self._issue(r, number))

    def numbers(self, *, repo: str | None = None) -> list[int]:
        with self._lock:
            return sorted(self._repo(repo).issues)
