"""Onboarding: what `billingops doctor` reads and sets up on the repository (its labels,
visibility, Environment, secrets, custom roles, and whether the token may read and write
issues without writing anything). Separate from the desk's reads and writes; the desk uses
`visibility` too (the audience of a public repository), and `ensure_label` is doctor's fix.
Reads where 403 and 404 are answers go through `_look`, the rest through `client`."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from billingops._tracker.client import GitHubClientBase
from billingops._tracker.errors import _has_error_code


class Probes(GitHubClientBase):
    """The repository's setup, part of `GitHubGateway`."""

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
