"""The command line end to end: `main(args, env)` with the environment injected, against
localstripe and the fake GitHub (both on loopback)."""

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from billingops.cli import main
from billingops.errors import ExitStatus
from billingops.sandbox.fake_github import FakeGitHub
from billingops.sandbox.tickets import form_body
from tests.plugins.github import TEST_TOKEN
from tests.plugins.sandbox import Sandbox

CONTRACT_KEYS = {
    "action",
    "issue",
    "customer",
    "classification",
    "plan",
    "executed",
    "gaps",
    "requester",
    "reason",
}


@pytest.fixture
def fake() -> Iterator[FakeGitHub]:
    # GitHub's clock: real UTC in whole seconds (a person acts after `advance`).
    with FakeGitHub("acme/support", token=TEST_TOKEN) as f:
        f.add_collaborator("maya", "maintain")
        yield f


@pytest.fixture
def env(stripe_sandbox: Sandbox, fake: FakeGitHub, tmp_path: Path) -> dict[str, str]:
    (tmp_path / "billingops.yml").write_text("# defaults\n")
    return {
        "STRIPE_API_KEY": stripe_sandbox.api_key,
        "STRIPE_API_BASE": stripe_sandbox.base_url,
        "BILLINGOPS_SANDBOX": "localstripe",
        "GITHUB_TOKEN": TEST_TOKEN,
        "GITHUB_API_URL": fake.url,
        "GITHUB_REPOSITORY": "acme/support",
        "BILLINGOPS_CONFIG": str(tmp_path / "billingops.yml"),
    }


def event_file(tmp_path: Path, payload: dict[str, Any], name: str = "event.json") -> str:
    path = tmp_path / name
    path.write_text(json.dumps(payload))
    return str(path)


def issue_event(
    fake: FakeGitHub, number: int, action: str, label: str | None = None
) -> dict[str, Any]:
    out: dict[str, Any] = {
        "action": action,
        "issue": fake.issue_json(number),
        "repository": {"full_name": "acme/support", "private": True},
    }
    if label:
        out["label"] = {"name": label}
    return out


def run(
    args: list[str], env: dict[str, str], capsys: pytest.CaptureFixture[str]
) -> tuple[ExitStatus, Any, str]:
    status = main(args, env)
    out, err = capsys.readouterr()
    return status, (json.loads(out) if "--json" in args and out.strip() else out), err


def test_the_whole_flow_through_handle(
    stripe_sandbox: Sandbox,
    fake: FakeGitHub,
    env: dict[str, str],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    seeded = stripe_sandbox.seed("duplicate_subscriptions")
    number = fake.add_issue(
        seeded.ticket.title, form_body(seeded.ticket), author="customer", labels=["billing"]
    )
    path = event_file(tmp_path, issue_event(fake, number, "opened"))
    status, out, err = run(
        ["handle", "--event", path, "--event-name", "issues", "--json"], env, capsys
    )
    assert status is ExitStatus.OK, err
    assert set(out) == CONTRACT_KEYS
    assert out["action"] == "triage"
    assert out["customer"]["found"] is True and out["customer"]["resolved_by"] == "email"
    assert out["classification"]["case"] == "duplicate_subscription"
    kinds = [s["kind"] for s in out["plan"]["steps"]]
    assert kinds == ["restore_self_serve", "cancel_subscription", "refund"]
    refund = out["plan"]["steps"][2]
    assert refund["needs"] == "approve-refund" and refund["currency"] == "usd"
    assert set(refund) == {"kind", "target", "amount", "currency", "needs"}

    fake.advance(60)  # maya reads the plan, then approves
    fake.label_issue(number, "approve-refund", actor="maya")
    path = event_file(
        tmp_path, issue_event(fake, number, "labeled", "approve-refund"), "labeled.json"
    )
    status, out, err = run(
        ["handle", "--event", path, "--event-name", "issues", "--json"], env, capsys
    )
    assert status is ExitStatus.OK, err
    assert out["action"] == "apply"
    assert [(e["kind"], e["status"]) for e in out["executed"]] == [("refund", "done")]
    assert out["executed"][0]["stripe_id"].startswith("re_")


def test_ignored_events_exit_zero_with_one_line(
    env: dict[str, str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = event_file(tmp_path, {"ref": "refs/heads/main"})
    status, out, err = run(
        ["handle", "--event", path, "--event-name", "push", "--json"], env, capsys
    )
    assert status is ExitStatus.OK
    assert out["action"] == "ignored"
    assert set(out) == CONTRACT_KEYS
    assert err.count("\n") == 1


@pytest.mark.parametrize(
    ("content", "needle"),
    [(None, "not found"), ("{not json", "not valid JSON"), ("[1, 2]", "not a JSON object")],
)
def test_bad_event_file_is_one_line_exit_2(
    env: dict[str, str],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    content: str | None,
    needle: str,
) -> None:
    path = tmp_path / "event.json"
    if content is not None:
        path.write_text(content)
    status, out, err = run(["handle", "--event", str(path), "--json"], env, capsys)
    assert status is ExitStatus.BAD_INPUT
    assert needle in err and "Traceback" not in err
    assert err.strip().count("\n") == 0
    # SPEC §3 (2026-12-06): exit 2 is an error of kind bad_input, in the run contract's shape.
    assert out["action"] == "error" and needle in out["reason"]
    assert out["error"]["kind"] == "bad_input" and needle in out["error"]["message"]
    assert set(out) == CONTRACT_KEYS | {"error"}


def test_invalid_config_names_the_key(
    env: dict[str, str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    Path(env["BILLINGOPS_CONFIG"]).write_text("refund:\n  second_approver_above: lots\n")
    path = event_file(tmp_path, {"action": "opened", "issue": {"number": 1}})
    status, _, err = run(["handle", "--event", path, "--event-name", "issues"], env, capsys)
    assert status is ExitStatus.BAD_INPUT
    assert "refund.second_approver_above" in err
    assert "Traceback" not in err


def test_an_explicit_config_that_does_not_exist_is_exit_2(
    env: dict[str, str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # A typo in BILLINGOPS_CONFIG must not silently mean "defaults" (issue 21).
    env = env | {"BILLINGOPS_CONFIG": str(tmp_path / "billingpos.yml")}
    path = event_file(tmp_path, {"action": "opened", "issue": {"number": 1}})
    status, _, err = run(["handle", "--event", path, "--event-name", "issues"], env, capsys)
    assert status is ExitStatus.BAD_INPUT
    assert "billingpos.yml does not exist (BILLINGOPS_CONFIG names it)" in err
    assert err.strip().count("\n") == 0 and "Traceback" not in err


def test_stripe_down_is_exit_1_with_one_line(
    fake: FakeGitHub, env: dict[str, str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import socket

    with socket.socket() as s:  # a loopback port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = env | {"STRIPE_API_BASE": f"http://127.0.0.1:{port}"}
    number = fake.add_issue(
        "charged twice", "my email is jane@example.com", author="customer", labels=["billing"]
    )
    path = event_file(tmp_path, issue_event(fake, number, "opened"))
    status, out, err = run(["triage", "--event", path, "--json"], env, capsys)
    assert status is ExitStatus.OPERATIONAL
    assert "Traceback" not in err and err.strip().count("\n") == 0
    # SPEC §3 (2026-12-06): exit 1 is an error of kind operational; the issue is named.
    assert out["action"] == "error" and out["issue"] == number
    assert out["error"]["kind"] == "operational" and out["error"]["message"] == out["reason"]
    assert fake.comments_of(number) == []  # never a partial comment
    assert env["STRIPE_API_KEY"] not in err + json.dumps(out)


def test_missing_issue_on_github_is_exit_1(
    stripe_sandbox: Sandbox, env: dict[str, str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = event_file(
        tmp_path,
        {"action": "labeled", "issue": {"number": 999, "labels": [{"name": "approve-refund"}]}},
    )
    status, _, err = run(["apply", "--event", path], env, capsys)
    assert status is ExitStatus.OPERATIONAL
    assert "999" in err and "Traceback" not in err


def test_dry_run_prints_the_comment_and_writes_nothing(
    stripe_sandbox: Sandbox,
    fake: FakeGitHub,
    env: dict[str, str],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    seeded = stripe_sandbox.seed("team_seats")
    number = fake.add_issue(
        seeded.ticket.title, form_body(seeded.ticket), author="customer", labels=["billing"]
    )
    path = event_file(tmp_path, issue_event(fake, number, "opened"))
    status, out, err = run(["triage", "--event", path, "--dry-run"], env, capsys)
    assert status is ExitStatus.OK, err
    assert "would create comment" in out and "### DECISION" in out
    assert fake.comments_of(number) == []


def test_missing_keys_are_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = event_file(tmp_path, {"action": "opened", "issue": {"number": 1}})
    status, _, err = run(["triage", "--event", path], {"GITHUB_REPOSITORY": "a/b"}, capsys)
    assert status is ExitStatus.BAD_INPUT
    assert "STRIPE_API_KEY" in err


def test_a_ticket_without_the_billing_label_is_ignored_until_it_gets_it(
    stripe_sandbox: Sandbox,
    fake: FakeGitHub,
    env: dict[str, str],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    seeded = stripe_sandbox.seed("duplicate_subscriptions")
    number = fake.add_issue(seeded.ticket.title, form_body(seeded.ticket), author="mallory")
    fake.reset_requests()
    opened = event_file(tmp_path, issue_event(fake, number, "opened"))
    status, out, err = run(
        ["handle", "--event", opened, "--event-name", "issues", "--json"], env, capsys
    )
    assert status is ExitStatus.OK, err
    assert out["action"] == "ignored" and "billing label" in out["reason"]
    assert fake.requests == [] and fake.comments_of(number) == []

    fake.advance(60)
    fake.label_issue(number, "billing", actor="maya")  # support adds it later: triage runs
    labeled = event_file(tmp_path, issue_event(fake, number, "labeled", "billing"), "l.json")
    status, out, err = run(
        ["handle", "--event", labeled, "--event-name", "issues", "--json"], env, capsys
    )
    assert status is ExitStatus.OK, err
    assert out["action"] == "triage"
    assert out["requester"] == {"login": "mallory", "identity": "unverified"}
    assert len(fake.comments_of(number)) == 1


def test_triage_with_a_key_pasted_with_a_newline(
    fake: FakeGitHub, env: dict[str, str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Issue 21: a Stripe key with a trailing newline was "cannot reach Stripe"."""
    key = env["STRIPE_API_KEY"]
    number = fake.add_issue(
        "charged twice", "my email is jane@example.com", author="customer", labels=["billing"]
    )
    path = event_file(tmp_path, issue_event(fake, number, "opened"))
    pasted = env | {"STRIPE_API_KEY": key + "\n"}
    status, out, err = run(["triage", "--dry-run", "--event", path, "--json"], pasted, capsys)
    assert status is ExitStatus.OK, err
    assert out["action"] in ("triage", "needs_info")
    assert [ln for ln in err.splitlines() if "whitespace" in ln] == [
        "billingops: note: STRIPE_API_KEY has whitespace around it (a newline pasted with the "
        "secret?); using it without. Fix the secret to make this note go."
    ]
    assert key not in out.__repr__() + err


def test_a_dry_run_that_changes_nothing_says_so(
    stripe_sandbox: Sandbox,
    fake: FakeGitHub,
    env: dict[str, str],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Issue 21: re-running `triage --dry-run` on an unchanged ticket printed nothing."""
    ticket = stripe_sandbox.seed("duplicate_subscriptions").ticket
    number = fake.add_issue(ticket.title, form_body(ticket), author="maya", labels=["billing"])
    path = event_file(tmp_path, issue_event(fake, number, "opened"))
    status, _, err = run(["triage", "--event", path], env, capsys)
    assert status is ExitStatus.OK, err
    path = event_file(tmp_path, issue_event(fake, number, "edited"))  # as the ticket is now
    # The first run filed a product gap; the next writes its issue number in (SPEC §8).
    status, _, err = run(["triage", "--event", path], env, capsys)
    assert status is ExitStatus.OK, err
    status, out, err = run(["triage", "--dry-run", "--event", path], env, capsys)
    assert status is ExitStatus.OK, err
    assert out.strip() == (
        f"billingops: dry run: nothing would change on #{number}: the comment and labels are "
        "already up to date."
    )
