"""`--debug` (issue 20, attack 6): the debug log carries request lines, statuses, timings
and ids, never a response body or a customer's personal data; in a public repository's run
it leaves out billing ids too (Actions logs of a public repository are public).

Through the CLI, localstripe and the fake GitHub: the libraries underneath (stripe-python,
urllib3, PyGithub) log at DEBUG exactly as they would in a real run.
"""

from __future__ import annotations

import json
import logging
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import pytest

from billingops.logs import HANDLER_NAME, configure, redact
from billingops.sandbox.fake_github import FakeGitHub
from billingops.sandbox.tickets import form_body
from tests.desk.test_public import _forbidden
from tests.desk.test_public import scan_text as public_scan
from tests.plugins.github import TEST_TOKEN
from tests.plugins.sandbox import Sandbox

STRIPE_ID = re.compile(r"\b(?:cus|sub|ch|in|pi|re|price|prod|pm|card|si|ii)_[A-Za-z0-9]{6,}")
# The new installation-token format (2026): ~520 characters with `.` and `-`.
NEW_GHS = "ghs_" + ".".join(
    [
        "eyJhbGciOiJSUzI1NiIsInR5cCI6IkpXVCJ9",
        "eyJpc3MiOiIxMjM0NTYiLCJleHAiOjE3" * 12,
        "Zm9v-YmFy_" * 10,
    ]
)


@pytest.fixture
def fake() -> Iterator[FakeGitHub]:
    with FakeGitHub("acme/support", token=TEST_TOKEN) as f:
        yield f


@pytest.fixture(autouse=True)
def _quiet_afterwards() -> Iterator[None]:
    yield
    configure(False)
    root = logging.getLogger()
    for handler in [h for h in root.handlers if h.get_name() == HANDLER_NAME]:
        root.removeHandler(handler)


def _env(sandbox: Sandbox, fake: FakeGitHub, tmp_path: Path) -> dict[str, str]:
    config = tmp_path / "none.yml"  # defaults, unless a test writes settings into it
    if not config.exists():
        config.write_text("")
    return {
        "STRIPE_API_KEY": sandbox.api_key,
        "STRIPE_API_BASE": sandbox.base_url,
        "BILLINGOPS_SANDBOX": "localstripe",
        "GITHUB_TOKEN": TEST_TOKEN,
        "GITHUB_API_URL": fake.url,
        "GITHUB_REPOSITORY": "acme/support",
        "BILLINGOPS_CONFIG": str(tmp_path / "none.yml"),
    }


def _debug_triage(
    sandbox: Sandbox,
    gateway: Any,
    fake: FakeGitHub,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    repository: dict[str, Any],
    *,
    dry_run: bool = True,
    extra_env: dict[str, str] | None = None,
) -> tuple[str, list[str], Any]:
    """`billingops --debug triage --dry-run` on the duplicate-subscriptions ticket; (the
    whole stderr, what must never be in it)."""
    seeded = sandbox.seed("duplicate_subscriptions")
    number = fake.add_issue(
        seeded.ticket.title, form_body(seeded.ticket), author="customer", labels=["billing"]
    )
    state = gateway.read_state(list(seeded.customers))
    event = tmp_path / "event.json"
    payload = {"action": "opened", "issue": fake.issue_json(number), "repository": repository}
    event.write_text(json.dumps(payload))
    # A real process, as in Actions: what the libraries set up on import (PyGithub adds its
    # own console handler to the `github` logger) and STRIPE_LOG act as they would there.
    args = ["--debug", "triage", "--event", str(event)] + (["--dry-run"] if dry_run else [])
    env = {**_env(sandbox, fake, tmp_path), "PATH": os.environ.get("PATH", "")}
    env |= extra_env or {}
    done = subprocess.run(
        [sys.executable, "-P", "-m", "billingops", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
        check=False,
    )
    err = done.stderr
    assert done.returncode == 0, err[-3000:]
    personal = ["bob@example.com", "bob%40example.com", "Bob Stone", TEST_TOKEN]
    for customer in state.customers:
        card = customer.default_payment_method
        if card is not None:
            personal += [f'"last4": "{card.last4}"', f"last4={card.last4}"]
    personal += ['"fingerprint"', '"country"', '"name"', "fingerprint", "Post details"]
    return err, personal, state


def test_debug_triage_logs_requests_and_statuses_but_no_customer_data(
    stripe_sandbox: Sandbox,
    stripe_gateway: Any,
    fake: FakeGitHub,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    err, personal, _ = _debug_triage(
        stripe_sandbox,
        stripe_gateway,
        fake,
        tmp_path,
        capsys,
        {"full_name": "acme/support", "private": True},
    )
    leaked = [p for p in personal if p in err]
    assert leaked == [], err[:3000]
    # What a debug log is for: each request, its status and time, and ids.
    assert re.search(r"stripe GET /v1/customers\S* -> 200 in \d+ ms", err), err[:3000]
    assert re.search(r"github POST /graphql -> 200 in \d+ ms", err), err[:3000]
    assert STRIPE_ID.search(err)  # ids are fine in a private repository's log


def test_debug_in_a_public_repository_leaves_out_billing_ids_and_says_so(
    stripe_sandbox: Sandbox,
    stripe_gateway: Any,
    fake: FakeGitHub,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    fake.set_visibility("public")
    fake.add_repo("acme/billing-desk")  # the private desk the handoff goes to
    (tmp_path / "none.yml").write_text("private_repository: acme/billing-desk\n")
    err, personal, state = _debug_triage(
        stripe_sandbox,
        stripe_gateway,
        fake,
        tmp_path,
        capsys,
        {"full_name": "acme/support", "private": False, "visibility": "public"},
        dry_run=False,  # the handoff is triaged in the private desk: Stripe is read
    )
    assert [p for p in personal if p in err] == []
    assert STRIPE_ID.findall(err) == [], err[:3000]
    # The wire scan of everything written in public (tests/desk/test_public.py), on the log.
    assert public_scan(unquote(err), _forbidden(state, ["bob@example.com"])) == []
    notices = [x for x in err.splitlines() if "--debug" in x and "public" in x]
    assert len(notices) == 1, err[:3000]
    assert re.search(r"stripe GET /v1/\S+ -> 200 in \d+ ms", err)  # still a debug log


def test_stripe_console_logging_set_by_the_environment_prints_no_body(
    stripe_sandbox: Sandbox,
    stripe_gateway: Any,
    fake: FakeGitHub,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    # STRIPE_LOG=debug makes stripe-python print every response body to stderr itself,
    # past any logging handler.
    err, personal, _ = _debug_triage(
        stripe_sandbox,
        stripe_gateway,
        fake,
        tmp_path,
        capsys,
        {"full_name": "acme/support", "private": True},
        extra_env={"STRIPE_LOG": "debug"},
    )
    assert [p for p in personal if p in err] == []


@pytest.mark.parametrize(
    "token",
    [
        NEW_GHS,
        "ghs_" + "A" * 36,
        "ghp_1234567890abcdefghijABCDEFGHIJ123456",
        "github_pat_11ABCDEFG0123456789_abcdefghijkl",
    ],
)
def test_every_github_token_format_is_redacted_whole_by_one_shared_pattern(token: str) -> None:
    from billingops.core.sensitive import GITHUB_TOKEN

    assert len(NEW_GHS) > 500 and "." in NEW_GHS and "-" in NEW_GHS
    assert GITHUB_TOKEN.fullmatch(token)
    text = f"Authorization failed for {token} (retrying)"
    out = redact(text)
    assert token not in out
    for part in re.split(r"[._-]", token.split("_", 1)[1]):
        if len(part) >= 8:
            assert part not in out, part
    assert out.endswith("(retrying)")


def test_the_gateway_error_line_drops_a_new_format_token() -> None:
    from billingops._tracker.github_gateway import GitHubGateway

    gateway = GitHubGateway("ghs_other", "acme/support", "http://127.0.0.1:9")
    line = gateway._line(f"GitHub: something failed for {NEW_GHS}")
    assert "eyJ" not in line and "Zm9v" not in line


def test_library_retry_lines_stay_at_debug_and_everything_else_they_log_goes() -> None:
    import io

    from stripe._util import log_debug, log_info

    out = io.StringIO()
    configure(True, stream=out)
    log_info("Initiating retry 1 for request GET http://x/v1/customers?email=kate@example.com.")
    log_info("Request to Stripe api", method="get", url="http://x/v1/customers?email=k@x.io")
    log_debug("API response body", body='{"name": "Kate Real", "last4": "4242"}')
    logging.getLogger("github.Requester").debug(
        "%s %s://%s%s %s %s ==> %i %s %s",
        *("POST", "https", "api.github.com", "/graphql", {"Authorization": "token x"}),
        *('{"query": "..."}', 200, {"x-github-request-id": "AB:CD"}, '{"body": "Kate Real"}'),
    )
    logging.getLogger("markdown_it").debug("entering paragraph: %s", "Kate Real")
    text = out.getvalue()
    assert "Initiating retry 1 for request GET http://x/v1/customers?email=…" in text
    assert "POST https://api.github.com/graphql ==> 200" in text
    assert "Kate" not in text and "4242" not in text and "k@x.io" not in text
