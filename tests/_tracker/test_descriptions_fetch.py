"""How the test set-up obtains GitHub's published descriptions (docs/TESTED-AGAINST.md):
`npm pack` of a pinned version, the tarball checked against the pinned sha512, only the
named files kept, the cache filled whole or not at all.

`npm` is replaced here by a small script that packs a local tarball (the registry is not
what is under test, and these tests must not depend on reaching it)."""

from __future__ import annotations

import io
import os
import stat
import tarfile
from pathlib import Path

import pytest

from tests.plugins import github_descriptions as plugin


def _fake_npm(tmp_path: Path, content: bytes) -> Path:
    """An `npm` whose `pack` writes a tarball holding package/schema.graphql = content."""
    tarball = tmp_path / "pkg.tgz"
    with tarfile.open(tarball, "w:gz") as tar:
        for name, data in (("package/schema.graphql", content), ("package/other.txt", b"x")):
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    npm = bin_dir / "npm"
    npm.write_text(
        "#!/bin/sh\n"
        'while [ "$1" != "--pack-destination" ]; do shift; done\n'
        f'cp "{tarball}" "$2/pkg-1.0.0.tgz"\n'
        'echo "[]"\n'
    )
    npm.chmod(npm.stat().st_mode | stat.S_IEXEC)
    return tarball


def _package(integrity: str) -> plugin.Package:
    return plugin.Package("@example/schema", "1.0.0", integrity, ("package/schema.graphql",))


@pytest.fixture
def fake_npm_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("PATH", f"{tmp_path / 'bin'}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.setenv("BILLINGOPS_TEST_CACHE", str(tmp_path / "cache"))
    return tmp_path


def test_a_verified_tarball_is_cached_with_only_the_named_files(fake_npm_env: Path) -> None:
    tarball = _fake_npm(fake_npm_env, b"type Query { a: Int }")
    package = _package(plugin._integrity(tarball))

    where = plugin.ensure(package)

    assert where == fake_npm_env / "cache" / "example-schema-1.0.0"
    assert sorted(p.name for p in where.iterdir()) == [".complete", "schema.graphql"]
    assert (where / "schema.graphql").read_bytes() == b"type Query { a: Int }"
    (fake_npm_env / "bin" / "npm").unlink()  # cached: npm is not needed again
    assert plugin.ensure(package) == where


def test_a_tarball_that_is_not_the_pinned_one_is_refused_and_nothing_cached(
    fake_npm_env: Path,
) -> None:
    _fake_npm(fake_npm_env, b"type Query { evil: Int }")
    package = _package("sha512-" + "A" * 86 + "==")

    with pytest.raises(plugin.FetchError, match="is not the pinned"):
        plugin.ensure(package)

    cache = fake_npm_env / "cache"
    assert [p.name for p in cache.iterdir() if not p.name.endswith(".lock")] == []


def test_without_npm_the_message_says_what_to_do(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))  # no npm here
    monkeypatch.setenv("BILLINGOPS_TEST_CACHE", str(tmp_path / "cache"))
    with pytest.raises(plugin.FetchError, match="npm is needed once"):
        plugin.ensure(_package("sha512-x"))


def test_the_pins_are_exact_versions_with_sha512() -> None:
    for package in (plugin.GRAPHQL_SCHEMA, plugin.OPENAPI):
        assert package.version.count(".") == 2 and package.version[0].isdigit()
        assert package.integrity.startswith("sha512-") and len(package.integrity) == 95
