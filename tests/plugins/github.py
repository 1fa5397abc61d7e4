"""GitHub fixtures: the fake GitHub server, gateways pointed at it, and the vcrpy config.

What the cassettes are: regression records of our stand-in, not GitHub's behaviour
-------------------------------------------------------------------------------------
The sandbox has no internet, so GitHub traffic cannot be recorded against api.github.com.
Cassettes are recorded from `billingops.sandbox.fake_github.FakeGitHub`, our stand-in, run
strict (held to GitHub's published GraphQL schema and REST description, see
tests/plugins/github_descriptions.py and docs/TESTED-AGAINST.md). A cassette therefore pins
exactly which requests the gateway makes (method, path, query, body) and how it reads the
stand-in's answers: it is a regression record of the stand-in and the gateway together,
never evidence of what GitHub answers. What is known to differ from GitHub is listed in
docs/TESTED-AGAINST.md. Tests replay them (pytest-recording's default record mode is
"none": nothing is recorded, and a request missing from a cassette fails).

Re-recording
------------
    .venv/bin/pytest --record-mode=rewrite \
        tests/_tracker/test_recorded.py tests/desk/test_backlog.py

(in one process: without `-n`, as here; the fake binds a fixed port while recording).

Tests that use cassettes take the `recorded_github` fixture and `@pytest.mark.vcr`. They
seed the fake server with Python calls (which replay does not need, but recording does),
so the same test records and replays. While recording, the server listens on a fixed port
(`CASSETTE_PORT`): the gateway always talks to `http://127.0.0.1:CASSETTE_PORT`, because
PyGithub refuses to follow a pagination `Link` to another port, and the recorded links
must stay valid on replay. Matching ignores host and port anyway (method + path + query +
JSON body).

Secrets: the `Authorization` header is dropped (`filter_headers`), and any GitHub token
shape (ghp_, ghs_, gho_, ghu_, ghr_, github_pat_) is replaced in URIs and bodies before a
cassette is written. The fake token deliberately has the real `ghp_` shape, and
tests/_tracker/test_cassette_hygiene.py scans tests/cassettes for leftovers.

Only GitHub-looking requests are recorded; others (localstripe on loopback) pass through
to the live sandbox, so cassette tests and the Stripe sandbox can share a test.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any, NamedTuple
from urllib.parse import urlsplit

import pytest

from billingops._tracker.github_gateway import GitHubGateway
from billingops.core.sensitive import GITHUB_TOKEN_PATTERN
from billingops.sandbox.fake_github import FIXED_EPOCH, FakeGitHub

REPOSITORY = "acme/support"
# The real token shape, so a scrubbing failure would be caught by the hygiene test.
TEST_TOKEN = "ghp_" + "T3st" * 9
CASSETTE_PORT = 38547
CASSETTE_API_URL = f"http://127.0.0.1:{CASSETTE_PORT}"
CASSETTES = Path(__file__).resolve().parents[1] / "cassettes"
# The one pattern every redaction in billingops shares (the 2026 `ghs_` format included).
TOKEN_RE = re.compile(GITHUB_TOKEN_PATTERN.encode("ascii"))
_GITHUB_PATHS = ("/repos/", "/user", "/orgs/", "/api/v3/", "/graphql")


def gateway_for(fake: FakeGitHub, api_url: str | None = None, **options: Any) -> GitHubGateway:
    """A gateway on the fake server, without the pauses meant for production."""
    defaults: dict[str, Any] = {
        "timeout": 5,
        "max_retries": 2,
        "backoff_factor": 0.0,
        "seconds_between_writes": None,
    }
    return GitHubGateway(TEST_TOKEN, fake.repository, api_url or fake.url, **defaults | options)


@pytest.fixture(autouse=True)
def no_retry_pauses(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every gateway a test builds, through the CLI too, retries as in production, without
    urllib3's pauses between attempts (0.5 s, 1 s, 2 s...): tests count the retries and
    read what the user is told, not the pauses (issue 22: they were 3-6 s per test)."""
    from billingops._tracker import client

    monkeypatch.setattr(client, "BACKOFF_FACTOR", 0.0)


@pytest.fixture
def fake_github() -> Iterator[FakeGitHub]:
    """A running fake GitHub (random loopback port) that requires TEST_TOKEN. Seed it with
    `add_issue`, `add_collaborator`, `label_issue` ...; read `labels_of`, `comments_of`,
    `events_of`, `count(...)`; inject faults with `fail_next(...)`."""
    with FakeGitHub(REPOSITORY, token=TEST_TOKEN) as fake:
        yield fake


@pytest.fixture
def github_gateway(fake_github: FakeGitHub) -> GitHubGateway:
    return gateway_for(fake_github)


class RecordedGitHub(NamedTuple):
    fake: FakeGitHub  # seed it; its state and counters are only meaningful while recording
    gateway: GitHubGateway  # always on CASSETTE_API_URL


@pytest.fixture
def recorded_github(record_mode: str) -> Iterator[RecordedGitHub]:
    """For `@pytest.mark.vcr` tests. Binds CASSETTE_PORT only when recording, so replaying
    runs in parallel (pytest-xdist) and recording does not: two workers cannot share the port."""
    if record_mode != "none" and os.environ.get("PYTEST_XDIST_WORKER"):
        pytest.fail("record cassettes in one process: run the re-recording command without -n")
    port = CASSETTE_PORT if record_mode != "none" else 0
    with FakeGitHub(REPOSITORY, token=TEST_TOKEN, port=port, epoch=FIXED_EPOCH) as fake:
        yield RecordedGitHub(fake, gateway_for(fake, CASSETTE_API_URL))


# ---------------------------------------------------------------------- vcrpy


def _scrub(data: Any) -> Any:
    if isinstance(data, bytes):
        return TOKEN_RE.sub(b"<TOKEN>", data)
    if isinstance(data, str):
        return TOKEN_RE.sub(b"<TOKEN>", data.encode()).decode()
    return data


def _before_record_request(request: Any) -> Any:
    parts = urlsplit(request.uri)
    if not (parts.hostname or "").endswith("github.com") and not parts.path.startswith(
        _GITHUB_PATHS
    ):
        return None  # not GitHub: neither recorded nor replayed (e.g. localstripe)
    request.uri = _scrub(request.uri)
    request.body = _scrub(request.body)
    return request


def _before_record_response(response: dict[str, Any]) -> dict[str, Any]:
    response["body"]["string"] = _scrub(response["body"]["string"])
    for name, values in response["headers"].items():
        response["headers"][name] = [_scrub(v) for v in values]
    return response


def _json_body(request: Any) -> Any:
    body = _scrub(request.body) or b""
    try:
        return json.loads(body)
    except ValueError:
        return body


def _gh_body(r1: Any, r2: Any) -> None:
    """Bodies equal as JSON (key order and whitespace do not matter), tokens scrubbed."""
    assert _json_body(r1) == _json_body(r2)


def pytest_recording_configure(config: pytest.Config, vcr: Any) -> None:
    vcr.register_matcher("gh_body", _gh_body)


@pytest.fixture(scope="module")
def vcr_config() -> dict[str, Any]:
    return {
        "filter_headers": ["authorization"],
        "match_on": ["method", "path", "query", "gh_body"],  # not host/port
        "before_record_request": _before_record_request,
        "before_record_response": _before_record_response,
        "decode_compressed_response": True,
    }


@pytest.fixture(scope="module")
def vcr_cassette_dir(request: pytest.FixtureRequest) -> str:
    """tests/cassettes/<test module path under tests/>/ (one directory per module)."""
    module = Path(str(request.node.path)).resolve()
    relative = module.relative_to(CASSETTES.parent).with_suffix("")
    return str(CASSETTES / relative)
