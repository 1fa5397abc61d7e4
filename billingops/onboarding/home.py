"""Where billingops itself lives on GitHub, from one place: `[project.urls] Repository` in
pyproject.toml (the checkout's, or the installed package's metadata, which is built from
it). `billingops init` pins its workflow to this repository by default."""

from __future__ import annotations

import re
import tomllib
from importlib import metadata
from pathlib import Path

PLACEHOLDER = "OWNER/billingops"
_GITHUB_URL = re.compile(r"^https://github\.com/([A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+?)(?:\.git)?/?$")


def _from_pyproject(path: Path) -> str | None:
    try:
        project = tomllib.loads(path.read_text(encoding="utf-8")).get("project", {})
    except (OSError, tomllib.TOMLDecodeError):
        return None
    if project.get("name") != "billingops":
        return None
    url = project.get("urls", {}).get("Repository")
    return url if isinstance(url, str) else None


def _from_metadata() -> str | None:
    try:
        urls = metadata.metadata("billingops").get_all("Project-URL") or []
    except metadata.PackageNotFoundError:
        return None
    for entry in urls:
        label, _, url = str(entry).partition(",")
        if label.strip().lower() == "repository":
            return url.strip()
    return None


def repository_url() -> str | None:
    """The Repository URL: the source checkout's pyproject when billingops runs from one
    (the action, an editable install), else the installed metadata."""
    return _from_pyproject(Path(__file__).resolve().parents[2] / "pyproject.toml") or (
        _from_metadata()
    )


def home_repository() -> str:
    """`owner/name` of billingops' repository, or the placeholder a person must replace."""
    url = repository_url()
    found = _GITHUB_URL.match(url or "")
    return found.group(1) if found else PLACEHOLDER
