"""The GitHub adapter of the `IssueTracker` port (`interface.py`), assembled from its parts,
one concern each:

- `client`: the PyGithub clients (one per thread), the retry policy, the write spacing, one
  request, pagination, one GraphQL read (the design notes are there);
- `errors`: what a failure means, as one line without the token;
- `translate`: GitHub's JSON -> our models, and the GraphQL documents (pure);
- `reads`: the issue, its thread, label events, roles, a label's issues, who the token is;
- `writes`: comments, labels, issues.

Only `_tracker/` imports `github` (PyGithub), lazily, so `billingops --help` stays fast.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import quote

from billingops._tracker.client import DEFAULT_API_URL
from billingops._tracker.errors import _has_error_code
from billingops._tracker.reads import Reads
from billingops._tracker.writes import Writes
from billingops.errors import BadInput


class GitHubGateway(Writes, Reads):
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
