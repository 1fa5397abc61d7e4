"""`billingops live-check`: the real round trip once, here against the strict stand-ins
(localstripe and the project's fake GitHub). It refuses a live key before any request,
leaves nothing behind, and names the call that failed with its fix."""

from __future__ import annotations

import json

import pytest

from billingops.cli import main
from billingops.config import Config
from billingops.core.markers import is_bot_comment
from billingops.errors import ExitStatus
from billingops.onboarding.labels import required_labels
from billingops.onboarding.live_check import key_mode
from billingops.sandbox.fake_github import FakeGitHub
from tests.commands.test_doctor import env_for
from tests.plugins.sandbox import Sandbox

pytestmark = pytest.mark.sandbox


@pytest.fixture
def scratch(stripe_sandbox: Sandbox, fake_github: FakeGitHub) -> tuple[Sandbox, FakeGitHub]:
    for spec in required_labels(Config()):
        fake_github.add_label(spec.name, spec.color, spec.description)
    return stripe_sandbox, fake_github


def live_check(
    capsys: pytest.CaptureFixture[str], env: dict[str, str], *args: str
) -> tuple[ExitStatus, str]:
    status = main(["live-check", *args], env)
    out, _ = capsys.readouterr()
    return status, out


def customers(sandbox: Sandbox) -> list[dict[str, object]]:
    import urllib.request

    request = urllib.request.Request(
        f"{sandbox.base_url}/v1/customers?limit=100",
        headers={"Authorization": f"Bearer {sandbox.api_key}"},
    )
    with urllib.request.urlopen(request) as answer:
        data: list[dict[str, object]] = json.load(answer)["data"]
    return data


def test_the_round_trip_passes_and_leaves_nothing_behind(
    scratch: tuple[Sandbox, FakeGitHub], capsys: pytest.CaptureFixture[str]
) -> None:
    sandbox, fake = scratch
    before = len(customers(sandbox))
    status, out = live_check(capsys, env_for(sandbox, fake))
    assert status is ExitStatus.OK, out
    assert "[FAIL]" not in out
    for call in (
        "create a test customer",
        "create a test subscription",
        "file a ticket issue",
        "first triage",
        "second triage",
        "one handoff comment by github-actions[bot]",
        "labelled billing:",
        "close ticket",
        "delete the test customer",
    ):
        assert call in out
    # The ticket and the gap issue it filed are closed; the test customer is gone.
    assert [fake.issue_json(n)["state"] for n in fake.numbers()] == ["closed", "closed"]
    assert len(customers(sandbox)) == before
    # The second triage found its own handoff again and edited it (the plan change is
    # announced by a short comment of its own, SPEC §5a).
    ticket = fake.numbers()[0]
    handoffs = [b for b in fake.comments_of(ticket) if is_bot_comment(b)]
    assert len(handoffs) == 1 and "cancel" in handoffs[0].lower()


@pytest.mark.parametrize("key", ["sk_live_" + "x" * 24, "rk_live_" + "y" * 24, "pk_test_abc"])
def test_a_live_or_publishable_key_is_refused_before_any_request(
    scratch: tuple[Sandbox, FakeGitHub], capsys: pytest.CaptureFixture[str], key: str
) -> None:
    sandbox, fake = scratch
    before = len(customers(sandbox))
    status, out = live_check(capsys, env_for(sandbox, fake, STRIPE_API_KEY=key))
    assert status is ExitStatus.BAD_INPUT
    assert "refused" in out and key not in out
    assert fake.count() == 0 and fake.numbers() == []
    assert len(customers(sandbox)) == before


def test_a_failed_call_is_named_with_its_fix_and_the_rest_is_cleaned_up(
    scratch: tuple[Sandbox, FakeGitHub], capsys: pytest.CaptureFixture[str]
) -> None:
    sandbox, fake = scratch
    before = len(customers(sandbox))
    # The token may read but not comment: the first triage's comment write is refused.
    fake.fail_next("POST", "/repos/*/issues/*/comments", status=403, times=1)
    status, out = live_check(capsys, env_for(sandbox, fake))
    assert status is ExitStatus.BAD_INPUT, out
    failed = [x for x in out.splitlines() if x.startswith("[FAIL]")]
    assert len(failed) == 1 and "first triage" in failed[0]
    assert "second triage" not in out  # not tried after the first failed
    assert {fake.issue_json(n)["state"] for n in fake.numbers()} == {"closed"}
    assert len(customers(sandbox)) == before


def test_json_is_one_object_with_a_line_per_call(
    scratch: tuple[Sandbox, FakeGitHub], capsys: pytest.CaptureFixture[str]
) -> None:
    sandbox, fake = scratch
    status, out = live_check(capsys, env_for(sandbox, fake), "--json")
    data = json.loads(out)
    assert status is ExitStatus.OK and data["ok"] is True
    assert {c["status"] for c in data["checks"]} <= {"pass", "warn"}
    assert any(c["id"] == "live.github.issue.close" for c in data["checks"])


def test_key_mode_reads_the_prefix_only() -> None:
    assert key_mode("sk_test_abc") == "test"
    assert key_mode("rk_test_abc\n") == "test"
    assert key_mode("sk_live_abc") == "live"
    assert key_mode("pk_test_abc") == "unknown"
    assert key_mode("whsec_abc") == "unknown"
