"""GitHub's published descriptions, fetched once and cached, and every fake GitHub of the
test session held to them (SPEC §5c, §8; docs/TESTED-AGAINST.md).

- GraphQL: `schema.graphql` of the npm package `@octokit/graphql-schema` (GitHub's
  public schema, published by GitHub's Octokit team);
- REST: `generated/api.github.com.json` and `generated/ghec.json` of the npm package
  `@octokit/openapi` (GitHub's OpenAPI descriptions of api.github.com and of Enterprise
  Cloud), reduced to their `paths` and methods.

Fetched with `npm pack <package>@<version>` from the npm registry (the only network the
tests use, once per cache), checked against the sha512 integrity pinned below, and only
the files named here are extracted. Cache: `$BILLINGOPS_TEST_CACHE`, else
`$XDG_CACHE_HOME/billingops-tests`, else `~/.cache/billingops-tests`. An flock on the cache
makes concurrent sessions (pytest-xdist workers) fetch once; the unpacked directory is
renamed into place whole, so a reader never sees half of it.

Every `FakeGitHub` started in the session without `strict=` is strict (its default comes
from here), and each test fails at teardown when a fake saw a request GitHub would reject,
even if the code under test swallowed the error. A test that sends a rejected request on
purpose takes the violations with `github_violations()` before it ends.
"""

from __future__ import annotations

import base64
import contextlib
import fcntl
import hashlib
import json
import os
import shutil
import subprocess
import tarfile
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from billingops.sandbox.fake_github import FakeGitHub
from billingops.sandbox.fake_github.strict import GitHubDescriptions, routes_from_openapi


@dataclass(frozen=True)
class Package:
    name: str
    version: str
    integrity: str  # as npm reports it (`npm pack --json`, `dist.integrity`)
    members: tuple[str, ...]  # files to extract, paths inside the tarball
    layout: int = 1  # bumped when `members` or what is derived from them changes

    @property
    def dirname(self) -> str:
        suffix = f"-layout{self.layout}" if self.layout > 1 else ""
        return f"{self.name.replace('@', '').replace('/', '-')}-{self.version}{suffix}"


GRAPHQL_SCHEMA = Package(
    "@octokit/graphql-schema",
    "15.26.1",
    "sha512-RFDC2MpRBd4AxSRvUeBIVeBU7ojN/SxDfALUd7iVYOSeEK3gZaqR2MGOysj4Zh2xj2RY5fQAUT+Oqq7hWTraMA==",
    ("package/schema.graphql",),
)
OPENAPI = Package(
    "@octokit/openapi",
    "23.0.2",
    "sha512-pV8M7L9GY23AybNvTmo2nyjmpmnt6+2sRE/tqr0ZLQcPS4lnw7u5eZGNmwRNkBC3D7gZXbFx5AHzLUVRBXGDhg==",
    # github.com, and GitHub Enterprise Cloud (routes only an Enterprise organisation has,
    # e.g. custom repository roles, which `doctor` asks for and handles a 404 of).
    ("package/generated/api.github.com.json", "package/generated/ghec.json"),
    layout=2,
)
# Derived from the REST description at fetch time: {path template: [methods]}.
ROUTES_FILE = "routes.json"
# How long the set-up took in this session (measured for docs/TESTED-AGAINST.md).
TIMINGS: dict[str, float] = {}


def cache_dir() -> Path:
    explicit = os.environ.get("BILLINGOPS_TEST_CACHE")
    if explicit:
        return Path(explicit)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "billingops-tests"


class FetchError(Exception):
    pass


def _integrity(path: Path) -> str:
    digest = hashlib.sha512()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return "sha512-" + base64.b64encode(digest.digest()).decode()


def _fetch(package: Package, into: Path) -> None:
    """npm pack -> verify -> extract `members` into `into`."""
    npm = shutil.which("npm")
    if npm is None:
        raise FetchError(
            f"npm is needed once to fetch {package.name} {package.version} from the npm "
            f"registry (GitHub's published description the fake GitHub is checked against); "
            f"install Node.js/npm, or put an unpacked copy in {cache_dir()}"
        )
    with tempfile.TemporaryDirectory(dir=into.parent) as tmp:
        done = subprocess.run(
            [npm, "pack", f"{package.name}@{package.version}", "--json", "--pack-destination", tmp],
            capture_output=True,
            text=True,
            timeout=600,
            check=False,
        )
        tarballs = list(Path(tmp).glob("*.tgz"))
        if done.returncode != 0 or len(tarballs) != 1:
            last = (done.stderr.strip().splitlines() or ["no output"])[-1]
            raise FetchError(f"npm pack {package.name}@{package.version} failed: {last}")
        got = _integrity(tarballs[0])
        if got != package.integrity:
            raise FetchError(
                f"{package.name}@{package.version}: integrity {got} is not the pinned "
                f"{package.integrity}"
            )
        with tarfile.open(tarballs[0]) as tar:
            for member in package.members:
                source = tar.extractfile(member)
                if source is None:
                    raise FetchError(f"{package.name}@{package.version} has no {member}")
                with source, (into / Path(member).name).open("wb") as out:
                    shutil.copyfileobj(source, out)


def ensure(package: Package) -> Path:
    """The directory holding `package`'s extracted files (fetched on first use)."""
    root = cache_dir()
    final = root / package.dirname
    if (final / ".complete").exists():
        return final
    root.mkdir(parents=True, exist_ok=True)
    with (root / f".{package.dirname}.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # another worker may be fetching it
        if (final / ".complete").exists():
            return final
        staging = Path(tempfile.mkdtemp(dir=root, prefix=f".{package.dirname}."))
        try:
            _fetch(package, staging)
            if package is OPENAPI:
                routes: dict[str, list[str]] = {}
                for name in ("api.github.com.json", "ghec.json"):
                    description = json.loads((staging / name).read_text("utf-8"))
                    for template, methods in routes_from_openapi(description).items():
                        routes[template] = sorted({*routes.get(template, []), *methods})
                (staging / ROUTES_FILE).write_text(json.dumps(routes, sort_keys=True))
            (staging / ".complete").write_text(f"{package.name}@{package.version}\n")
            with contextlib.suppress(FileNotFoundError):
                shutil.rmtree(final)  # a partial copy from an interrupted older layout
            os.rename(staging, final)  # atomic: readers see all of it or nothing
        finally:
            shutil.rmtree(staging, ignore_errors=True)
    return final


_LOADED: list[GitHubDescriptions] = []
_FAILED: list[str] = []


def descriptions() -> GitHubDescriptions:
    """GitHub's descriptions for this session (fetched/cached, the schema built once)."""
    if _LOADED:
        return _LOADED[0]
    if _FAILED:
        raise pytest.UsageError(_FAILED[0])
    started = time.perf_counter()
    try:
        schema_dir, openapi_dir = ensure(GRAPHQL_SCHEMA), ensure(OPENAPI)
    except FetchError as e:
        _FAILED.append(str(e))
        raise pytest.UsageError(str(e)) from None
    TIMINGS["fetch"] = time.perf_counter() - started
    started = time.perf_counter()
    loaded = GitHubDescriptions.from_files(
        schema_dir / "schema.graphql",
        openapi_dir / ROUTES_FILE,
        source=f"{GRAPHQL_SCHEMA.name} {GRAPHQL_SCHEMA.version}, {OPENAPI.name} {OPENAPI.version}",
    )
    TIMINGS["schema"] = time.perf_counter() - started
    _LOADED.append(loaded)
    return loaded


def pytest_configure(config: pytest.Config) -> None:
    # Every fake started without `strict=` is strict; loaded on the first fake, so a
    # session that starts none (e.g. tests/core) never fetches anything.
    FakeGitHub.default_strict = staticmethod(descriptions)  # type: ignore[method-assign]


def pytest_report_header(config: pytest.Config) -> str:
    return (
        f"fake GitHub held to {GRAPHQL_SCHEMA.name} {GRAPHQL_SCHEMA.version} and "
        f"{OPENAPI.name} {OPENAPI.version} (cache: {cache_dir()})"
    )


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if TIMINGS:
        terminalreporter.write_line(
            "GitHub descriptions: fetch/cache {:.2f}s, schema build {:.2f}s".format(
                TIMINGS.get("fetch", 0.0), TIMINGS.get("schema", 0.0)
            )
        )


@pytest.fixture
def github_violations() -> Iterator[GitHubDescriptions]:
    """For a test that sends GitHub a request it would reject on purpose: take what it
    expects with `.take_violations()`; anything left fails the test as usual."""
    yield descriptions()


@pytest.fixture(autouse=True)
def _no_github_violations() -> Iterator[None]:
    """Fails the test when a fake GitHub saw a request GitHub would reject."""
    if _LOADED:
        _LOADED[0].take_violations()  # nothing carries over from an earlier test
    yield
    if _LOADED:
        left = _LOADED[0].take_violations()
        if left:
            pytest.fail(
                "requests GitHub would reject (its published descriptions, "
                "docs/TESTED-AGAINST.md):\n  " + "\n  ".join(left),
                pytrace=False,
            )
