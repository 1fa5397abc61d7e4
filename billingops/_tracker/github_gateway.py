"""The GitHub adapter of the `IssueTracker` port (`interface.py`), assembled from its parts,
one concern each:

- `client`: the PyGithub clients (one per thread), the retry policy, the write spacing, one
  request, pagination, one GraphQL read (the design notes are there);
- `errors`: what a failure means, as one line without the token;
- `translate`: GitHub's JSON -> our models, and the GraphQL documents (pure);
- `reads`: the issue, its thread, label events, roles, a label's issues, who the token is.

Only `_tracker/` imports `github` (PyGithub), lazily, so `billingops --help` stays fast.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import quote

from billingops._tracker import translate
from billingops._tracker.client import DEFAULT_API_URL
from billingops._tracker.errors import _has_error_code
from billingops._tracker.reads import Reads
from billingops.errors import BadInput
from billingops.models.issue import Comment, IssueSnapshot


class GitHubGateway(Reads):
    """`IssueTracker` on the GitHub REST API, through PyGithub."""

    @classmethod
    def from_env(cls, env: Mapping[str, str], **options: Any) -> GitHubGateway:
        """GITHUB_TOKEN, GITHUB_REPOSITORY and GITHUB_API_URL (GitHub Enterprise too)."""
        token = env.get("GITHUB_TOKEN", "")
        repository = env.get("GITHUB_REPOSITORY", "")
        if not token:
            raise BadInput("GITHUB_TOKEN is not set")
        if not repository:
            raise BadInput("GITHUB_REPOSITORY is not set (owner/name)")
        api_url = env.get("GITHUB_API_URL") or DEFAULT_API_URL
        return cls(token, repository, api_url, **options)

    def for_repository(self, repository: str) -> GitHubGateway:
        """The same client (token, retries, connection pool) on another repository, e.g. the
        backlog repository of SPEC §7."""
        other = GitHubGateway(
            self._token,
            repository,
            self.api_url,
            per_page=self._per_page,
        )
        # The same clients and write gate (one per thread), not new connections.
        other._client, other._reads = self._client, self._reads
        other._me = self._me  # the same token acts as the same account everywhere
        return other

    # ------------------------------------------------------------------ the port

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

    def ensure_label(self, name: str, *, color: str, description: str) -> bool:
        what = f"create label {name!r}"
        found = self._call(
            f"read label {name!r}",
            "GET",
            f"{self._path}/labels/{quote(name, safe='')}",
            tolerate=frozenset({404}),
        )
        if found is not None:
            return False
        from github import GithubException

        with self._errors(what):
            try:
                self._client.requester.requestJsonAndCheck(
                    "POST",
                    f"{self._path}/labels",
                    input={"name": name, "color": color.lstrip("#"), "description": description},
                )
            except GithubException as e:
                if e.status == 422 and _has_error_code(e.data, "already_exists"):
                    return False  # another run created it between our GET and POST
                raise
        return True

    # ------------------------------------------------------------------ onboarding (doctor)

    def list_labels(self) -> list[dict[str, str]]:
        """Every label of the repository: name, color, description (one request per 100)."""
        items = self._paginate("list labels", f"{self._path}/labels")
        return [
            {
                "name": str(x.get("name", "")),
                "color": str(x.get("color") or ""),
                "description": str(x.get("description") or ""),
            }
            for x in items
        ]

    def visibility(self) -> dict[str, Any]:
        """The repository's `private` and `visibility`, as an event payload carries them."""
        data = self._call("read the repository", "GET", self._path)
        return {"private": data.get("private"), "visibility": data.get("visibility")}

    def environment(self, name: str) -> tuple[int, dict[str, Any] | None]:
        """`GET /repos/{owner}/{repo}/environments/{environment_name}`: (200, the
        environment), (404, None) when it does not exist, (403, None) when the token may not
        read it (an App or fine-grained token needs Actions: Read; Issues and Metadata do
        not give it)."""
        return self._look(
            "read the Environment", f"{self._path}/environments/{quote(name, safe='')}"
        )

    def repository_secret(self, name: str) -> int:
        """`GET /repos/{owner}/{repo}/actions/secrets/{secret_name}` (never its value): 200
        when a repository-level secret of that name exists, 404 when not, 403 when the token
        may not see secrets (Secrets: Read)."""
        status, _ = self._look(
            "read the repository's secrets", f"{self._path}/actions/secrets/{quote(name, safe='')}"
        )
        return status

    def custom_repository_roles(self, org: str) -> tuple[int, list[str]]:
        """`GET /orgs/{org}/custom-repository-roles` (GitHub Enterprise Cloud and Server):
        the names of the organisation's custom repository roles; 404 / 403 when there are
        none to see (not an organisation, not Enterprise, or the token is not an admin's)."""
        status, data = self._look(
            "list the organisation's custom roles",
            f"/orgs/{quote(org, safe='')}/custom-repository-roles",
        )
        roles = (data or {}).get("custom_roles") or []
        return status, [str(r.get("name", "")) for r in roles if isinstance(r, dict)]

    def _look(self, what: str, url: str) -> tuple[int, Any]:
        """One read for `doctor` where 403 and 404 are answers, not failures."""
        from github import GithubException

        with self._errors(what):
            try:
                return 200, self._client.requester.requestJsonAndCheck("GET", url)[1]
            except GithubException as e:
                if e.status in (403, 404):
                    return e.status, None
                raise

    def probe_read_issues(self) -> None:
        """One request that reads issues (raises the usual one-line errors)."""
        self._call("read issues", "GET", f"{self._path}/issues", params={"per_page": 1})

    def probe_write_issues(self) -> None:
        """Whether the token may write labels and comments, without writing anything.

        A label creation without a name: GitHub checks the token's permission before it
        validates the body, so 422 (invalid) means "allowed" and nothing is created, while a
        token without `issues: write` gets 403 (or 404 for a classic token without access
        to a private repository), which raise the usual one-line errors. A POST is never
        retried by this gateway."""
        self._call(
            "create labels (write probe)",
            "POST",
            f"{self._path}/labels",
            body={"description": "billingops doctor write probe: invalid on purpose"},
            tolerate=frozenset({422}),
        )


__all__ = ["GitHubGateway"]
