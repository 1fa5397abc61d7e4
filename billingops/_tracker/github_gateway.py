"""The GitHub adapter of the `IssueTracker` port (`interface.py`), assembled from its parts,
one concern each:

- `client`: the PyGithub clients (one per thread), the retry policy, the write spacing, one
  request, pagination, one GraphQL read (the design notes are there);
- `errors`: what a failure means, as one line without the token;
- `translate`: GitHub's JSON -> our models, and the GraphQL documents (pure);
- `reads`: the issue, its thread, label events, roles, a label's issues, who the token is;
- `writes`: comments, labels, issues;
- `probes`: what `billingops doctor` reads and sets up (labels, visibility, Environment,
  secrets, roles, the read and write probes).

Only `_tracker/` imports `github` (PyGithub), lazily, so `billingops --help` stays fast.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from billingops._tracker.client import DEFAULT_API_URL
from billingops._tracker.probes import Probes
from billingops._tracker.reads import Reads
from billingops._tracker.writes import Writes
from billingops.errors import BadInput


class GitHubGateway(Writes, Reads, Probes):
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


__all__ = ["GitHubGateway"]
