"""No GitHub token in any cassette, and GitHub cassettes exist (replay is what CI runs)."""

from __future__ import annotations

from tests.plugins.github import CASSETTES, TOKEN_RE

PREFIXES = (b"ghp_", b"ghs_", b"gho_", b"ghu_", b"ghr_", b"github_pat_")


def test_no_token_in_cassettes() -> None:
    files = [p for p in CASSETTES.rglob("*") if p.is_file()]
    assert files, "no cassettes found under tests/cassettes"
    leaks = [
        str(p.relative_to(CASSETTES))
        for p in files
        if TOKEN_RE.search(p.read_bytes()) or any(x in p.read_bytes() for x in PREFIXES)
    ]
    assert leaks == []


def test_no_authorization_header_in_cassettes() -> None:
    for path in CASSETTES.rglob("*.yaml"):
        assert b"authorization" not in path.read_bytes().lower(), path
