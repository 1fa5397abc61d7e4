"""Addresses of GitHub web pages that billingops' texts link to. Pure.

GitHub's web host is not the API's (github.com vs api.github.com; a GitHub Enterprise
Server's own host): it is taken from the issue's own `html_url`, as GitHub sent it.
"""

from __future__ import annotations

import re
from urllib.parse import quote

# https://HOST[:PORT]/OWNER/REPO/issues/NUMBER, as GitHub writes an issue's html_url (on
# github.com, GHE.com and GitHub Enterprise Server alike: no path before the owner).
_ISSUE_URL = re.compile(
    r"(?P<base>https?://[A-Za-z0-9.-]+(?::\d{1,5})?)/[A-Za-z0-9._-]+/[A-Za-z0-9._-]+/issues/\d+"
)
_REPOSITORY = re.compile(r"[A-Za-z0-9._-]+/[A-Za-z0-9._-]+")


def label_url(issue_url: str, repository: str, label: str) -> str | None:
    """The page listing `repository`'s open issues labeled `label`, on the web host of
    `issue_url`; None when either address does not look like GitHub's."""
    found = _ISSUE_URL.fullmatch(issue_url or "")
    if found is None or not _REPOSITORY.fullmatch(repository or ""):
        return None
    return f"{found['base']}/{repository}/labels/{quote(label, safe='')}"
