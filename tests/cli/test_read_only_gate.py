"""The workflow's two jobs through the CLI: `handle --read-only` (the job with the read-only
key) checks approvals and writes refusals, never a Stripe write; it tells the apply job
(Actions output apply-pending) only when approved steps wait. SECURITY.md "The workflow:
which job holds which key"."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from billingops.errors import ExitStatus
from billingops.sandbox.fake_github import FakeGitHub
from billingops.sandbox.tickets import form_body
from tests.cli import test_cli
from tests.cli.test_cli import event_file, issue_event, run
from tests.plugins.sandbox import Sandbox

# The CLI tests' fixtures: the fake GitHub and the injected environment.
fake = test_cli.fake
env = test_cli.env


def outputs(path: Path) -> dict[str, str]:
    lines = path.read_text().splitlines() if path.exists() else []
    return dict(line.split("=", 1) for line in lines)


def gate(
    env: dict[str, str],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    event: dict[str, Any],
) -> tuple[ExitStatus, Any, dict[str, str]]:
    out_file = tmp_path / "github_output"
    out_file.unlink(missing_ok=True)
    path = event_file(tmp_path, event, "gate.json")
    status, out, err = run(
        ["handle", "--read-only", "--event", path, "--event-name", "issues", "--json"],
        env | {"GITHUB_OUTPUT": str(out_file)},
        capsys,
    )
    assert "Traceback" not in err
    return status, out, outputs(out_file)


def refunds(sandbox: Sandbox, out: dict[str, Any]) -> list[Any]:
    from billingops._billing.stripe_gateway import StripeGateway

    gateway = StripeGateway(sandbox.api_key, sandbox.base_url)
    charge = next(s["target"] for s in out["plan"]["steps"] if s["kind"] == "refund")
    return gateway.find_refunds_for(charge)


def test_label_makes_the_read_only_job_call_the_apply_job_which_alone_writes_stripe(
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
    status, out, outs = gate(env, tmp_path, capsys, issue_event(fake, number, "opened"))
    assert status is ExitStatus.OK
    assert out["action"] == "triage"
    assert outs.get("apply-pending", "false") == "false"
    triaged = out

    fake.advance(60)  # maya reads the plan first
    fake.label_issue(number, "approve-refund", actor="maya")
    status, out, outs = gate(
        env, tmp_path, capsys, issue_event(fake, number, "labeled", "approve-refund")
    )
    assert status is ExitStatus.OK
    assert outs["apply-pending"] == "true"
    assert out["reason"].startswith("pending: 1 approved step(s)")
    assert [(e["kind"], e["status"]) for e in out["executed"]] == [("refund", "would_do")]
    assert refunds(stripe_sandbox, triaged) == []  # the read-only job moved no money
    assert "approve-refund" in fake.labels_of(number)  # left for the apply job

    # The apply job: apply only (never triage), with the write key.
    path = event_file(tmp_path, issue_event(fake, number, "labeled", "approve-refund"))
    status, out, err = run(["apply", "--event", path, "--json"], env, capsys)
    assert status is ExitStatus.OK, err
    assert [(e["kind"], e["status"]) for e in out["executed"]] == [("refund", "done")]
    assert len(refunds(stripe_sandbox, triaged)) == 1

    # A body edit while a label is on: re-triaged with the read-only key; nothing is left
    # to execute, so the apply job (and its reviewers) is not asked again.
    fake.label_issue(number, "approve-refund", actor="maya")  # e.g. the label put back
    status, out, outs = gate(env, tmp_path, capsys, issue_event(fake, number, "edited"))
    assert status is ExitStatus.OK
    assert outs["apply-pending"] == "false"
    assert len(refunds(stripe_sandbox, triaged)) == 1


def test_unauthorised_label_is_refused_by_the_read_only_job(
    stripe_sandbox: Sandbox,
    fake: FakeGitHub,
    env: dict[str, str],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    fake.add_collaborator("tim", "triage")
    seeded = stripe_sandbox.seed("duplicate_subscriptions")
    number = fake.add_issue(
        seeded.ticket.title, form_body(seeded.ticket), author="customer", labels=["billing"]
    )
    gate(env, tmp_path, capsys, issue_event(fake, number, "opened"))
    fake.label_issue(number, "approve-refund", actor="tim")
    status, out, outs = gate(
        env, tmp_path, capsys, issue_event(fake, number, "labeled", "approve-refund")
    )
    assert status is ExitStatus.OK
    assert out["action"] == "refused"
    assert outs["apply-pending"] == "false"  # the Environment's reviewers are not asked
    assert "approve-refund" not in fake.labels_of(number)  # removed, with a comment
    assert any("tim" in body or "refused" in body.lower() for body in fake.comments_of(number))


def test_a_write_in_the_read_only_job_fails_before_any_request() -> None:
    from billingops._billing.read_only import ReadOnlyBilling
    from billingops.errors import OperationalError

    calls: list[str] = []

    class Inner:
        def read_state(self, ids: list[str]) -> str:
            calls.append("read")
            return "state"

        def refund(self, **kw: Any) -> None:
            calls.append("refund")

    guarded = ReadOnlyBilling(Inner())
    assert guarded.read_state(["cus_1"]) == "state"
    with pytest.raises(OperationalError, match="read-only Stripe key"):
        guarded.refund(charge_id="ch_1", amount=1, idempotency_key="k", metadata={})
    with pytest.raises(OperationalError):
        guarded.cancel_subscription(
            subscription_id="sub_1", at_period_end=False, idempotency_key="k", metadata={}
        )
    assert calls == ["read"]


def test_json_output_is_one_object_with_read_only(
    env: dict[str, str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    status, out, outs = gate(env, tmp_path, capsys, {"action": "closed", "issue": {"number": 3}})
    assert status is ExitStatus.OK
    assert out["action"] == "ignored"
    assert outs == {}
    json.dumps(out)


@pytest.mark.parametrize(
    "row",
    ["no Environment, token sees no Actions or secrets", "Environment with required reviewers"],
)
def test_the_label_gate_runs_the_same_on_every_row_of_the_plan_table(
    stripe_sandbox: Sandbox,
    fake: FakeGitHub,
    env: dict[str, str],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    row: str,
) -> None:
    """Issue 21: GitHub Free on a private repository offers no Environment; the approval
    checks (who applied the label, their role, drift, the posted plan) never read it."""
    if row.startswith("no Environment"):
        fake.denied = {"actions", "secrets"}
    else:
        fake.add_environment("billing-approvals", reviewers=["maya"])
    fake.add_collaborator("tim", "triage")
    seeded = stripe_sandbox.seed("duplicate_subscriptions")
    number = fake.add_issue(
        seeded.ticket.title, form_body(seeded.ticket), author="customer", labels=["billing"]
    )
    _, triaged, _ = gate(env, tmp_path, capsys, issue_event(fake, number, "opened"))
    fake.advance(60)
    fake.label_issue(number, "approve-refund", actor="tim")  # triage role: refused
    _, out, outs = gate(
        env, tmp_path, capsys, issue_event(fake, number, "labeled", "approve-refund")
    )
    assert (out["action"], outs["apply-pending"]) == ("refused", "false")
    fake.advance(60)
    fake.label_issue(number, "approve-refund", actor="maya")
    _, out, outs = gate(
        env, tmp_path, capsys, issue_event(fake, number, "labeled", "approve-refund")
    )
    assert outs["apply-pending"] == "true"
    path = event_file(tmp_path, issue_event(fake, number, "labeled", "approve-refund"))
    status, out, err = run(["apply", "--event", path, "--json"], env, capsys)
    assert status is ExitStatus.OK, err
    assert [(e["kind"], e["status"]) for e in out["executed"]] == [("refund", "done")]
    assert len(refunds(stripe_sandbox, triaged)) == 1
    seen = [r.path for r in fake.requests]
    assert not [p for p in seen if "/environments" in p or "/actions/secrets" in p]
