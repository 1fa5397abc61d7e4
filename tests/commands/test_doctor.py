"""`billingops doctor`: against localstripe and the fake GitHub; each bad input gives one
clear line and its fix; the key is never printed."""

from __future__ import annotations

import json
import os
import socket
from pathlib import Path
from typing import Any

import pytest

from billingops.cli import main
from billingops.config import Config
from billingops.errors import ExitStatus
from billingops.onboarding.labels import required_labels
from billingops.onboarding.portal import UNKNOWN
from billingops.sandbox.fake_github import FakeGitHub
from tests.commands.test_init import PINNED, git_repo
from tests.plugins.github import TEST_TOKEN
from tests.plugins.sandbox import Sandbox

pytestmark = pytest.mark.sandbox


def closed_port() -> int:
    """A loopback port nothing listens on (connection refused: "no network")."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def env_for(sandbox: Sandbox, fake: FakeGitHub, **over: str) -> dict[str, str]:
    env = {
        "STRIPE_API_KEY": sandbox.api_key,
        "STRIPE_API_BASE": sandbox.base_url,
        "BILLINGOPS_SANDBOX": "localstripe",
        "GITHUB_TOKEN": TEST_TOKEN,
        "GITHUB_API_URL": fake.url,
        "GITHUB_REPOSITORY": fake.repository,
        "BILLINGOPS_CONFIG": os.devnull,
    }
    return env | over


def doctor(
    capsys: pytest.CaptureFixture[str], env: dict[str, str], *args: str
) -> tuple[ExitStatus, str, str]:
    status = main(["doctor", *args], env)
    out, err = capsys.readouterr()
    return status, out, err


def line(out: str, text: str) -> str:
    """The one output line containing `text`, and its fix line if any."""
    lines = out.splitlines()
    (i,) = [n for n, x in enumerate(lines) if text in x]
    fix = lines[i + 1] if i + 1 < len(lines) and lines[i + 1].startswith("       ") else ""
    return lines[i] + "\n" + fix


def seed_labels(fake: FakeGitHub) -> None:
    for spec in required_labels(Config()):
        fake.add_label(spec.name, spec.color, spec.description)


@pytest.fixture
def world(stripe_sandbox: Sandbox, fake_github: FakeGitHub) -> tuple[Sandbox, FakeGitHub]:
    return stripe_sandbox, fake_github


def test_init_then_doctor_fix_ends_green(
    world: tuple[Sandbox, FakeGitHub], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    sandbox, fake = world
    repo = git_repo(tmp_path / "support")
    assert main(["init", str(repo), *PINNED], {}) is ExitStatus.OK
    capsys.readouterr()
    env = env_for(sandbox, fake, BILLINGOPS_CONFIG=str(repo / ".github" / "billingops.yml"))

    status, out, _ = doctor(capsys, env)
    assert status is ExitStatus.BAD_INPUT  # the labels are missing
    assert "[FAIL] labels: 13 missing: billing, needs-info, billing:duplicate_subscription" in out
    assert "billingops doctor --fix" in line(out, "labels:")

    status, out, err = doctor(capsys, env, "--fix")
    assert status is ExitStatus.OK, out
    assert "all checks pass" in err
    assert "[FAIL]" not in out and "[skip]" not in out
    assert "[pass] labels: created 13" in out
    assert "[pass] config: /" in out and "is valid" in out
    for resource in ("customers", "subscriptions", "invoices", "charges"):
        assert f"[pass] Stripe key can read {resource}" in out
    assert "[pass] GitHub token can read issues of acme/support" in out
    assert "[pass] GitHub token can write comments and labels (nothing written)" in out
    # localstripe has no portal API: a warning, not a failure.
    assert f"[warn] billing portal: {UNKNOWN}" in out
    assert "[warn] Stripe key type: secret (sk_test)" in out

    labels = fake.label_specs()
    assert len(labels) == 13
    color, description = labels["approve-refund"]
    assert color == "b60205" and "maintainers only" in (description or "")
    assert all(description for _, description in labels.values())
    assert fake.numbers() == []  # doctor wrote no issue, no comment

    status, out, _ = doctor(capsys, env)  # green without --fix now
    assert status is ExitStatus.OK
    assert "[pass] labels: all 13 present" in out


def test_json_is_one_object(
    world: tuple[Sandbox, FakeGitHub], capsys: pytest.CaptureFixture[str]
) -> None:
    sandbox, fake = world
    seed_labels(fake)
    status, out, _ = doctor(capsys, env_for(sandbox, fake), "--json")
    data = json.loads(out)
    assert status is ExitStatus.OK and data["ok"] is True
    ids = [c["id"] for c in data["checks"]]
    assert ids[:4] == ["config", "stripe.key", "stripe.key.type", "stripe.key.mode"]
    assert {"stripe.read.charges", "stripe.portal", "github.write", "github.labels"} <= set(ids)
    portal = next(c for c in data["checks"] if c["id"] == "stripe.portal")
    assert portal["status"] == "warn" and "portal.*" in portal["summary"]


def test_the_key_is_never_printed(
    world: tuple[Sandbox, FakeGitHub], capsys: pytest.CaptureFixture[str]
) -> None:
    sandbox, fake = world
    for args in ((), ("--json",)):
        _, out, err = doctor(capsys, env_for(sandbox, fake), *args)
        secret = sandbox.api_key.removeprefix("sk_test_")
        assert secret not in out + err
        assert TEST_TOKEN not in out + err


def test_revoked_key(world: tuple[Sandbox, FakeGitHub], capsys: pytest.CaptureFixture[str]) -> None:
    sandbox, fake = world
    seed_labels(fake)
    # localstripe answers 401 to any key it does not accept, as Stripe does to a revoked one.
    key = "rk_test_51RevokedKeyAbc123"
    status, out, err = doctor(capsys, env_for(sandbox, fake, STRIPE_API_KEY=key))
    assert status is ExitStatus.BAD_INPUT
    found = line(out, "Stripe rejected the key")
    assert "[FAIL] Stripe rejected the key (401): revoked, rolled or mistyped" in found
    assert "fix: create a new restricted key" in found
    assert "[pass] Stripe key type: restricted (rk_test)" in out
    assert "Stripe key can read" not in out  # one line, not four
    assert "RevokedKeyAbc123" not in out + err


def test_no_network(world: tuple[Sandbox, FakeGitHub], capsys: pytest.CaptureFixture[str]) -> None:
    sandbox, fake = world
    seed_labels(fake)
    base = f"http://127.0.0.1:{closed_port()}"
    status, out, _ = doctor(capsys, env_for(sandbox, fake, STRIPE_API_BASE=base))
    assert status is ExitStatus.OPERATIONAL  # only the network failed
    found = line(out, "cannot connect")
    assert f"[FAIL] Stripe: cannot connect to {base} (connection refused or no network)" in found
    assert "fix: check the network" in found
    assert "[skip] billing portal: not checked (Stripe unreachable)" in out


def test_github_unreachable(
    world: tuple[Sandbox, FakeGitHub], capsys: pytest.CaptureFixture[str]
) -> None:
    sandbox, fake = world
    url = f"http://127.0.0.1:{closed_port()}"
    status, out, _ = doctor(capsys, env_for(sandbox, fake, GITHUB_API_URL=url))
    assert status is ExitStatus.OPERATIONAL
    found = line(out, "GitHub: read issues")
    assert f"cannot reach {url}" in found and "fix: check the network" in found


@pytest.mark.parametrize(
    ("key", "summary"),
    [
        ("pk_test_51Publishable0key", "publishable (pk_test), it cannot read billing data"),
        ("whsec_abc123", "a webhook signing secret"),
        ("not-a-key", "not a Stripe API key"),
    ],
)
def test_wrong_key_type(
    world: tuple[Sandbox, FakeGitHub], capsys: pytest.CaptureFixture[str], key: str, summary: str
) -> None:
    sandbox, fake = world
    seed_labels(fake)
    status, out, err = doctor(capsys, env_for(sandbox, fake, STRIPE_API_KEY=key))
    assert status is ExitStatus.BAD_INPUT
    found = line(out, "Stripe key type:")
    assert f"[FAIL] Stripe key type: {summary}" in found
    assert "fix: " in found and "restricted key" in found and "Refunds: Write" in found
    assert key not in out + err
    assert "[skip] Stripe reads: not checked (the key cannot be used)" in out


def test_missing_key(world: tuple[Sandbox, FakeGitHub], capsys: pytest.CaptureFixture[str]) -> None:
    sandbox, fake = world
    env = env_for(sandbox, fake)
    del env["STRIPE_API_KEY"]
    status, out, _ = doctor(capsys, env)
    assert status is ExitStatus.BAD_INPUT
    assert "fix: set STRIPE_API_KEY to a restricted key" in line(out, "STRIPE_API_KEY is not set")


def test_restricted_key_is_recommended_with_its_permissions() -> None:
    from billingops.onboarding.keys import classify, permissions_line

    assert classify("rk_live_abc").label == "rk_live"
    assert classify("sk_test_abc") == ("secret", "test", "sk_test")
    text = permissions_line()
    for perm in ("Customers: Read", "Subscriptions: Read", "Invoices: Read", "Charges: Read"):
        assert perm in text
    assert "Refunds: Write" in text and "Subscriptions: Write" in text


def test_github_token_rejected(
    world: tuple[Sandbox, FakeGitHub], capsys: pytest.CaptureFixture[str]
) -> None:
    sandbox, fake = world
    status, out, err = doctor(capsys, env_for(sandbox, fake, GITHUB_TOKEN="ghp_" + "x" * 36))
    assert status is ExitStatus.BAD_INPUT
    assert "fix: renew GITHUB_TOKEN" in line(out, "GitHub rejected the token (401)")
    assert "x" * 36 not in out + err


def test_github_token_that_cannot_write(
    world: tuple[Sandbox, FakeGitHub], capsys: pytest.CaptureFixture[str]
) -> None:
    sandbox, fake = world
    seed_labels(fake)
    fake.fail_next("POST", "/repos/*/labels", 403, message="Resource not accessible by integration")
    status, out, _ = doctor(capsys, env_for(sandbox, fake))
    assert status is ExitStatus.BAD_INPUT
    found = line(out, "cannot write comments or labels")
    assert "[FAIL] GitHub: cannot write comments or labels (403)" in found
    assert "issues: write" in found
    assert fake.count("POST") == 1  # the probe; never retried, nothing created


def test_write_probe_creates_nothing(
    world: tuple[Sandbox, FakeGitHub], capsys: pytest.CaptureFixture[str]
) -> None:
    sandbox, fake = world
    doctor(capsys, env_for(sandbox, fake))  # no --fix
    assert fake.label_specs() == {}


def test_invalid_config(
    world: tuple[Sandbox, FakeGitHub], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    sandbox, fake = world
    seed_labels(fake)
    config = tmp_path / "billingops.yml"
    config.write_text("allowed_roles: []\n")
    status, out, _ = doctor(capsys, env_for(sandbox, fake, BILLINGOPS_CONFIG=str(config)))
    assert status is ExitStatus.BAD_INPUT
    found = line(out, "invalid config")
    assert "allowed_roles" in found and "fix: fix " in found


def test_custom_approval_labels_are_checked(
    world: tuple[Sandbox, FakeGitHub], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    sandbox, fake = world
    seed_labels(fake)
    config = tmp_path / "billingops.yml"
    config.write_text("approval_labels: {refund: ok-refund, cancel: approve-cancel}\n")
    status, out, _ = doctor(capsys, env_for(sandbox, fake, BILLINGOPS_CONFIG=str(config)))
    assert status is ExitStatus.BAD_INPUT
    assert "labels: 1 missing: ok-refund" in out


def _portal(**features: Any) -> dict[str, Any]:
    base = {
        "subscription_cancel": {"enabled": True, "mode": "at_period_end"},
        "invoice_history": {"enabled": True},
        "payment_method_update": {"enabled": True},
    }
    return {
        "id": "bpc_1",
        "active": True,
        "is_default": True,
        "features": base | features,
        "login_page": {"enabled": True, "url": "https://billing.stripe.com/p/login/test_1"},
    }


def test_portal_summary_from_a_configuration() -> None:
    from billingops.config import PortalSettings
    from billingops.onboarding import portal
    from billingops.onboarding.checks import Status

    ok = portal.summary([_portal()], PortalSettings())
    assert ok.status is Status.passed
    assert ok.summary == (
        "billing portal: cancellation yes, invoice history yes, payment-method update yes, "
        "plan switching no"
    )
    no_cancel = portal.summary([_portal(subscription_cancel={"enabled": False})], PortalSettings())
    assert no_cancel.status is Status.warn and "enable cancellation" in (no_cancel.fix or "")
    none = portal.summary([], PortalSettings())
    assert none.status is Status.fail and "billingops portal create" in (none.fix or "")
    told = portal.unknown(PortalSettings(allows_cancellation=True, allows_invoice_history=False))
    assert told.status is Status.passed
    assert told.summary == "billing portal: from the config: cancellation yes, invoice history no"


@pytest.mark.parametrize(("rate", "advice"), [(100, True), (25, False)])
def test_rate_advice_follows_stripes_per_endpoint_limit(
    world: tuple[Sandbox, FakeGitHub],
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    rate: int,
    advice: bool,
) -> None:
    """Stripe documents 25 requests/s per endpoint by default (issue 15): doctor never
    suggests going above it, and says so when the config does."""
    sandbox, fake = world
    config = tmp_path / "billingops.yml"
    config.write_text(f"stripe_rate_limit_per_second: {rate}\n", encoding="utf-8")
    _, out, _ = doctor(capsys, env_for(sandbox, fake, BILLINGOPS_CONFIG=str(config)), "--json")
    mode = next(c for c in json.loads(out)["checks"] if c["id"] == "stripe.key.mode")
    assert ("25 requests/s per endpoint" in (mode.get("fix") or "")) is advice
    assert "100 requests/s" not in out


# -- SPEC §5b: a public support repository needs a private desk ----------------------------


def _doctor_with(
    world: tuple[Sandbox, FakeGitHub],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    config: str,
) -> tuple[ExitStatus, str]:
    sandbox, fake = world
    if not fake.label_specs():
        seed_labels(fake)
    path = tmp_path / "billingops.yml"
    path.write_text(config)
    status, out, _ = doctor(capsys, env_for(sandbox, fake, BILLINGOPS_CONFIG=str(path)))
    return status, out


@pytest.mark.parametrize("visibility", ["public", "internal"])
def test_doctor_fails_on_a_public_repository_without_a_private_desk(
    world: tuple[Sandbox, FakeGitHub],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    visibility: str,
) -> None:
    world[1].set_visibility(visibility)
    status, out = _doctor_with(world, tmp_path, capsys, "mask_email: true\n")
    assert status is ExitStatus.BAD_INPUT
    found = line(out, "the tickets are public")
    assert f"[FAIL] acme/support is {visibility}" in found
    assert "private_repository: owner/name" in found and "--private-repository" in found
    assert "Issues: Read and write" in found and "GITHUB_TOKEN cannot write" in found


def test_doctor_checks_the_private_desk(
    world: tuple[Sandbox, FakeGitHub], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _, fake = world
    fake.set_visibility("public")
    status, out = _doctor_with(world, tmp_path, capsys, "private_repository: acme/nowhere\n")
    assert status is not ExitStatus.OK
    assert "[FAIL] private desk acme/nowhere: cannot read it" in out
    assert "Issues: Read and write and Metadata: Read on acme/nowhere" in line(out, "read it")

    fake.add_repo("acme/desk", visibility="public")
    status, out = _doctor_with(world, tmp_path, capsys, "private_repository: acme/desk\n")
    assert status is not ExitStatus.OK
    assert "[FAIL] private desk acme/desk is public" in out

    fake.set_visibility("private", repo="acme/desk")
    status, out = _doctor_with(world, tmp_path, capsys, "private_repository: acme/desk\n")
    assert status is ExitStatus.OK, out
    assert "[pass] private desk acme/desk: private, token can read and write" in out
    assert "the handoff goes to acme/desk" in out


def test_doctor_passes_a_private_repository_without_a_desk(
    world: tuple[Sandbox, FakeGitHub], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    status, out = _doctor_with(world, tmp_path, capsys, "mask_email: true\n")
    assert status is ExitStatus.OK, out
    assert "[pass] acme/support is private" in out


def test_doctor_fails_when_the_config_calls_a_public_repository_staff(
    world: tuple[Sandbox, FakeGitHub], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # An override may make tickets public, never a public repository private.
    world[1].set_visibility("public")
    status, out = _doctor_with(world, tmp_path, capsys, "ticket_audience: staff\n")
    assert status is ExitStatus.BAD_INPUT
    assert "[FAIL] acme/support is public but ticket_audience: staff" in out
    world[1].set_visibility("private")
    status, out = _doctor_with(world, tmp_path, capsys, "ticket_audience: public\n")
    assert "acme/support is private, but ticket_audience: public: the tickets are public" in out


# -- issue 21: the approval gate each GitHub plan allows; the pinned workflow; custom roles ----


def _clone(tmp_path: Path, *init_args: str) -> Path:
    repo = git_repo(tmp_path / "clone")
    assert main(["init", str(repo), *init_args], {}) is ExitStatus.OK
    return repo


def _doctor_in(
    world: tuple[Sandbox, FakeGitHub],
    repo: Path,
    capsys: pytest.CaptureFixture[str],
    *args: str,
) -> tuple[ExitStatus, str]:
    sandbox, fake = world
    if not fake.label_specs():
        seed_labels(fake)
    capsys.readouterr()
    config = str(repo / ".github" / "billingops.yml")
    status, out, _ = doctor(capsys, env_for(sandbox, fake, BILLINGOPS_CONFIG=config), *args)
    return status, out


@pytest.mark.parametrize(
    ("visibility", "rules", "status", "says"),
    [
        # Every plan, public repository; Enterprise, private: required reviewers.
        ("public", {"reviewers": ["maya"]}, "pass", "has required reviewers (maya); public "
         "repository, any plan: money moves after an approver's label and a reviewer's"),
        ("private", {"reviewers": ["maya"]}, "pass", "private repository, GitHub Enterprise"),
        # Pro / Team, private: deployment branches, no reviewers.
        ("private", {"branch_policy": True}, "pass", "limited to deployment branches, no "
         "required reviewers (private repository; required reviewers on a private repository "
         "need GitHub Enterprise)"),
        ("private", {}, "warn", "has no protection rule (private repository): a run of the "
         "workflow on any branch gets the write key; the label gate alone decides"),
        # Free, private: no Environment at all.
        ("private", None, "warn", "no Environment billing-approvals (private repository): the "
         "label gate alone protects the write key (GitHub Free offers no Environment on a "
         "private repository"),
    ],
)  # fmt: skip
def test_doctor_says_which_row_of_the_plan_table_the_repository_is_on(
    world: tuple[Sandbox, FakeGitHub],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    visibility: str,
    rules: dict[str, Any] | None,
    status: str,
    says: str,
) -> None:
    _, fake = world
    fake.set_visibility(visibility)
    if rules is not None:
        fake.add_environment("billing-approvals", **rules)
    repo = _clone(tmp_path, *PINNED)
    if visibility == "public":  # a public repository needs its desk (SPEC §5b): not this test
        (repo / ".github" / "billingops.yml").write_text("ticket_audience: public\n")
        fake.add_repo("acme/desk")
    _, out = _doctor_in(world, repo, capsys)
    found = line(out, "approval gate:")
    assert found.startswith(f"[{status}] approval gate: ") or (
        status == "pass" and "[pass] approval gate" in found
    ), found
    assert says in found
    assert "[pass] write key: STRIPE_WRITE_KEY is not a repository secret" in out


def test_doctor_fails_when_the_write_key_is_a_repository_secret(
    world: tuple[Sandbox, FakeGitHub], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _, fake = world
    fake.add_environment("billing-approvals", reviewers=["maya"])
    fake.add_secret("STRIPE_WRITE_KEY")
    status, out = _doctor_in(world, _clone(tmp_path, *PINNED), capsys)
    assert status is ExitStatus.BAD_INPUT
    found = line(out, "write key:")
    assert "[FAIL] write key: STRIPE_WRITE_KEY is a repository secret: any workflow run" in found
    assert "add STRIPE_WRITE_KEY to the Environment billing-approvals's secrets" in found


def test_doctor_fails_when_a_workflow_hands_the_write_key_to_steps_outside_an_environment(
    world: tuple[Sandbox, FakeGitHub], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    repo = _clone(tmp_path, *PINNED)
    (repo / ".github" / "workflows" / "refund-by-hand.yml").write_text(
        "on: workflow_dispatch\npermissions: {}\njobs:\n  refund:\n    runs-on: ubuntu-latest\n"
        "    permissions: {}\n    steps:\n      - run: ./refund.sh\n        env:\n"
        "          STRIPE_API_KEY: ${{ secrets.STRIPE_WRITE_KEY }}\n"
    )
    status, out = _doctor_in(world, repo, capsys)
    assert status is ExitStatus.BAD_INPUT
    assert (
        "[FAIL] workflow: .github/workflows/refund-by-hand.yml (job refund) gives "
        "STRIPE_WRITE_KEY to its steps outside an Environment" in out
    )
    # The caller init wrote passes the key by name to the reusable workflow: not flagged.
    assert "billingops.yml (job billing)" not in out


def test_what_the_apps_token_cannot_see_is_said_not_guessed(
    world: tuple[Sandbox, FakeGitHub], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _, fake = world
    fake.denied = {"actions", "secrets"}  # a token with Issues and Metadata only
    fake.add_secret("STRIPE_WRITE_KEY")
    status, out = _doctor_in(world, _clone(tmp_path, *PINNED), capsys)
    assert status is ExitStatus.OK  # warnings: it could not see, so it does not claim
    assert "[warn] approval gate: cannot read the Environment billing-approvals (403: the " \
        "token needs Actions: Read" in out  # fmt: skip
    assert "[warn] write key: cannot see whether STRIPE_WRITE_KEY is a repository secret" in out


@pytest.mark.parametrize(
    ("init_args", "workflow_edit", "says"),
    [
        (["--draft"], None, "OWNER/billingops/.github/workflows/billingops-reusable.yml@"
         "REPLACE-WITH-A-COMMIT-SHA: a placeholder"),
        (PINNED, ("@" + PINNED[3], "@v1"), "billingops-reusable.yml@v1: v1, not a full commit SHA"),
        (PINNED, ("@" + PINNED[3], "@main"), "main, not a full commit SHA"),
    ],
)  # fmt: skip
def test_doctor_fails_on_an_unpinned_or_placeholder_workflow(
    world: tuple[Sandbox, FakeGitHub],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    init_args: list[str],
    workflow_edit: tuple[str, str] | None,
    says: str,
) -> None:
    repo = _clone(tmp_path, *init_args)
    workflow = repo / ".github" / "workflows" / "billingops.yml"
    if workflow_edit is not None:
        workflow.write_text(workflow.read_text().replace(*workflow_edit))
    status, out = _doctor_in(world, repo, capsys)
    assert status is ExitStatus.BAD_INPUT
    found = line(out, "workflow: .github/workflows/billingops.yml calls")
    assert found.startswith("[FAIL]") and says in found
    assert "--ref SHA" in found


def test_a_pinned_workflow_passes(
    world: tuple[Sandbox, FakeGitHub], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _, out = _doctor_in(world, _clone(tmp_path, *PINNED), capsys)
    assert "[pass] workflow: .github/workflows/billingops.yml pins acme/billingops at " \
        "0123456789ab" in out  # fmt: skip


# -- issue 19: GitHub Enterprise Server, the workflow that calls the action directly ----------


@pytest.mark.parametrize(
    ("init_args", "workflow_edit", "says"),
    [
        (["--draft"], None, "calls OWNER/billingops@REPLACE-WITH-A-COMMIT-SHA: a placeholder"),
        (PINNED, ("@" + PINNED[3], "@v1"), "calls acme/billingops@v1: v1, not a full commit SHA"),
        (PINNED, ("@" + PINNED[3], "@main"), "main, not a full commit SHA"),
    ],
)  # fmt: skip
def test_doctor_fails_on_an_unpinned_or_placeholder_enterprise_server_workflow(
    world: tuple[Sandbox, FakeGitHub],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    init_args: list[str],
    workflow_edit: tuple[str, str] | None,
    says: str,
) -> None:
    repo = _clone(tmp_path, *init_args, "--enterprise-server")
    workflow = repo / ".github" / "workflows" / "billingops.yml"
    if workflow_edit is not None:
        workflow.write_text(workflow.read_text().replace(*workflow_edit))
    status, out = _doctor_in(world, repo, capsys)
    assert status is ExitStatus.BAD_INPUT
    found = line(out, "workflow: .github/workflows/billingops.yml calls")
    assert found.startswith("[FAIL]") and says in found
    assert "--ref SHA --enterprise-server --force" in found


@pytest.mark.parametrize("identity", ["app", "actions"])
def test_a_pinned_enterprise_server_workflow_passes(
    world: tuple[Sandbox, FakeGitHub],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    identity: str,
) -> None:
    """Both jobs call acme/billingops@SHA: one pin, checked once; the Environment and the
    identity are read from the jobs (apply's environment, the App token step)."""
    repo = _clone(
        tmp_path, *PINNED, "--enterprise-server", "--identity", identity, "--environment", "money"
    )
    _, out = _doctor_in(world, repo, capsys)
    assert out.count("[pass] workflow: .github/workflows/billingops.yml pins acme/billingops " \
        "at 0123456789ab") == 1  # fmt: skip
    assert "no workflow in" not in out
    assert "gives STRIPE_WRITE_KEY to its steps outside an Environment" not in out
    assert "no Environment money" in out  # the apply job's Environment, not the default
    said = "own GitHub App" if identity == "app" else "github-actions[bot]"
    assert said in line(out, "identity:")


def test_a_custom_role_counts_once_doctor_finds_it_in_the_organisation(
    world: tuple[Sandbox, FakeGitHub], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _, fake = world
    repo = _clone(tmp_path, *PINNED)
    (repo / ".github" / "billingops.yml").write_text(
        "custom_roles: [billing lead]\nallowed_roles: [admin, billing lead]\n"
    )
    # Not an Enterprise organisation (or no admin token): a warning naming the built-ins.
    status, out = _doctor_in(world, repo, capsys)
    assert status is ExitStatus.OK
    assert "[warn] custom roles: cannot confirm billing lead in acme (404" in out
    assert "built-in roles are read, triage, write, maintain, admin" in out

    fake.add_custom_role("acme", "Security Engineer")
    status, out = _doctor_in(world, repo, capsys)
    assert status is ExitStatus.BAD_INPUT
    assert "[FAIL] custom roles: billing lead is not a custom repository role of acme " \
        "(it has: Security Engineer;" in out  # fmt: skip

    fake.add_custom_role("acme", "Billing Lead")
    status, out = _doctor_in(world, repo, capsys)
    assert status is ExitStatus.OK, out
    assert "[pass] custom roles: acme defines billing lead" in out


def test_a_role_github_does_not_have_fails_doctor_naming_the_built_ins(
    world: tuple[Sandbox, FakeGitHub], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    repo = _clone(tmp_path, *PINNED)
    (repo / ".github" / "billingops.yml").write_text("allowed_roles: [admin, maintainer]\n")
    status, out = _doctor_in(world, repo, capsys)
    assert status is ExitStatus.BAD_INPUT
    assert "maintainer is not a GitHub repository role (did you mean maintain?)" in out


def test_a_missing_explicit_config_fails_doctor(
    world: tuple[Sandbox, FakeGitHub], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    sandbox, fake = world
    env = env_for(sandbox, fake, BILLINGOPS_CONFIG=str(tmp_path / "typo.yml"))
    status, out, _ = doctor(capsys, env)
    assert status is ExitStatus.BAD_INPUT
    assert "typo.yml does not exist (BILLINGOPS_CONFIG names it)" in line(out, "typo.yml")
    assert "fix BILLINGOPS_CONFIG (or unset it)" in out


@pytest.mark.parametrize(
    ("identity", "says"),
    [
        ("app", "[pass] identity: .github/workflows/billingops.yml acts as billingops' own "
         "GitHub App"),
        ("actions", "[warn] identity: .github/workflows/billingops.yml acts as "
         "github-actions[bot], the account every workflow of the repository shares"),
    ],
)  # fmt: skip
def test_doctor_says_who_billingops_acts_as(
    world: tuple[Sandbox, FakeGitHub],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    identity: str,
    says: str,
) -> None:
    _, out = _doctor_in(world, _clone(tmp_path, *PINNED, "--identity", identity), capsys)
    assert says in out


# -- issue 20: logins without an account id, a public backlog ---------------------------------


def test_doctor_counts_customers_whose_login_has_no_account_id(
    world: tuple[Sandbox, FakeGitHub], capsys: pytest.CaptureFixture[str]
) -> None:
    """A login alone can be renamed and taken by another account (SPEC §5a): doctor says
    how many customers carry `github_username` without `github_user_id`, and what it read."""
    sandbox, fake = world
    from billingops.sandbox.scenarios import Seeder

    s = Seeder(sandbox.base_url)
    s.customer("a@example.com", metadata={"github_username": "octo-a"})
    s.customer("b@example.com", metadata={"github_username": "octo-b", "github_user_id": "583231"})
    s.customer("c@example.com", metadata={"github_username": "octo-c"})
    s.customer("d@example.com")
    seed_labels(fake)
    _, out, _ = doctor(capsys, env_for(sandbox, fake))
    found, fix = line(out, "have no github_user_id").split("\n")
    assert found.startswith("[warn]")
    assert "2 of 3 customers with a github_username have no github_user_id" in found
    assert "scanned the 4 newest customers" in found
    assert "github_user_id" in fix


@pytest.mark.parametrize(("visibility", "says"), [("public", "public"), ("private", "private")])
def test_doctor_asks_github_whether_the_backlog_repository_is_public(
    world: tuple[Sandbox, FakeGitHub],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    visibility: str,
    says: str,
) -> None:
    sandbox, fake = world
    fake.add_repo("acme/product", visibility=visibility)
    seed_labels(fake)
    config = tmp_path / "billingops.yml"
    config.write_text("backlog_repository: acme/product\n")
    _, out, _ = doctor(capsys, env_for(sandbox, fake, BILLINGOPS_CONFIG=str(config)))
    found = line(out, "backlog acme/product")
    assert f"backlog acme/product is {says}" in found
    if says == "public":
        assert "no titles, no revenue" in found


@pytest.mark.parametrize("pasted", ["{}\n", " {}\r\n", "\t{} "])
def test_a_key_pasted_with_whitespace_works_and_is_said_once(
    world: tuple[Sandbox, FakeGitHub], capsys: pytest.CaptureFixture[str], pasted: str
) -> None:
    """Issue 21: a secret pasted with its trailing newline was "cannot connect"."""
    sandbox, fake = world
    seed_labels(fake)
    env = env_for(
        sandbox, fake, STRIPE_API_KEY=pasted.format(sandbox.api_key),
        GITHUB_TOKEN=pasted.format(TEST_TOKEN),
    )  # fmt: skip
    status, out, err = doctor(capsys, env)
    assert status is ExitStatus.OK, out
    assert "[pass] Stripe key can read customers" in out
    assert "cannot connect" not in out
    notes = [ln for ln in err.splitlines() if "whitespace" in ln]
    assert len(notes) == 2  # one line per variable, naming it
    assert "STRIPE_API_KEY" in notes[0] and "GITHUB_TOKEN" in notes[1]
    assert sandbox.api_key not in out + err and TEST_TOKEN not in out + err
