"""Every workflow in .github/ and every file `billingops init` writes: valid against
GitHub's schemas and free of zizmor findings (SPEC §8). Needs the dev extra
(check-jsonschema, zizmor); skipped where they are not installed."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
WORKFLOWS = sorted((ROOT / ".github" / "workflows").glob("*.yml"))
BIN = Path(sys.executable).parent


def tool(name: str) -> str:
    found = shutil.which(name, path=str(BIN)) or shutil.which(name)
    if found is None:
        pytest.skip(f"{name} is not installed (the dev extra)")
    return found


def check_schema(schema: str, *files: Path) -> None:
    run = subprocess.run(
        [tool("check-jsonschema"), "--builtin-schema", schema, *map(str, files)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert run.returncode == 0, run.stdout + run.stderr


def zizmor_findings(*paths: Path) -> str:
    """'' when clean (pedantic: informational findings count too); zizmor's report
    otherwise. Offline: nothing leaves the machine."""
    run = subprocess.run(
        [
            tool("zizmor"),
            "--offline",
            "--pedantic",
            "--no-progress",
            "--format",
            "plain",
            *map(str, paths),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    return "" if run.returncode == 0 else run.stdout + run.stderr


def test_workflows_validate() -> None:
    check_schema("vendor.github-workflows", *WORKFLOWS)


def test_issue_form_validates() -> None:
    check_schema(
        "vendor.github-issue-forms",
        ROOT / ".github" / "ISSUE_TEMPLATE" / "billing.yml",
        ROOT / "templates" / "repo" / "billing.yml",
    )


def test_zizmor_pedantic_is_clean() -> None:
    assert zizmor_findings(ROOT / ".github", ROOT / "action.yml") == ""


def test_action_validates() -> None:
    check_schema("vendor.github-actions", ROOT / "action.yml")


def test_repository_form_is_the_shipped_one() -> None:
    shipped = (ROOT / "templates" / "repo" / "billing.yml").read_text(encoding="utf-8")
    assert (ROOT / ".github" / "ISSUE_TEMPLATE" / "billing.yml").read_text() == shipped


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda p: p.name)
def test_least_privilege(path: Path) -> None:
    """`permissions: {}` at the top; every job states its own; actions pinned by SHA."""
    doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert doc["permissions"] == {}
    for name, job in doc["jobs"].items():
        assert "permissions" in job, f"{path.name}: job {name} has no permissions"
        for step in job.get("steps", []):
            uses = step.get("uses")
            if uses and uses != "$/":  # `$/`: this repository, at this commit
                ref = uses.rsplit("@", 1)[1]
                assert len(ref) == 40 and int(ref, 16) >= 0, f"{uses} is not pinned by SHA"


def test_no_ticket_text_in_scripts() -> None:
    for path in WORKFLOWS:
        text = path.read_text(encoding="utf-8")
        assert "github.event.issue.body" not in text
        assert "github.event.issue.title" not in text
        assert "github.event.comment" not in text


def test_reusable_workflow_shape() -> None:
    doc = yaml.safe_load((ROOT / ".github/workflows/billingops-reusable.yml").read_text())
    call = doc[True]["workflow_call"]  # YAML 1.1 reads `on` as True
    assert set(call["secrets"]) == {
        "STRIPE_READ_KEY",
        "STRIPE_WRITE_KEY",
        "BILLINGOPS_APP_CLIENT_ID",
        "BILLINGOPS_APP_PRIVATE_KEY",
        "BILLINGOPS_DESK_TOKEN",
    }
    # Only a public repository with a private desk passes a cross-repository token (§5b).
    assert call["secrets"]["BILLINGOPS_DESK_TOKEN"]["required"] is False
    triage, apply = doc["jobs"]["triage"], doc["jobs"]["apply"]
    # The write key only in the apply job, which runs in the Environment.
    assert "STRIPE_WRITE_KEY" not in yaml.safe_dump(triage)
    assert "STRIPE_READ_KEY" not in yaml.safe_dump(apply)
    assert apply["environment"] == "${{ inputs.environment }}"
    # Both jobs run this repository's action at this commit; nothing installs by name.
    text = (ROOT / ".github/workflows/billingops-reusable.yml").read_text()
    assert "pip install" not in text and "setup-python" not in text
    [gate] = [s for s in triage["steps"] if s.get("uses") == "$/"]
    [act] = [s for s in apply["steps"] if s.get("uses") == "$/"]
    # The read-only job triages and checks approvals; the write job only applies, and
    # only when the read-only job found approved steps waiting.
    assert gate["with"]["command"] == "gate"
    assert gate["with"]["stripe-api-key"] == "${{ secrets.STRIPE_READ_KEY }}"
    assert act["with"]["command"] == "apply"
    assert act["with"]["stripe-api-key"] == "${{ secrets.STRIPE_WRITE_KEY }}"
    assert (
        triage["outputs"]["apply-pending"]
        == "${{ steps." + gate["id"] + ".outputs.apply-pending }}"
    )
    assert apply["needs"] == "triage"
    assert apply["if"] == "needs.triage.outputs.apply-pending == 'true'"
    caller = yaml.safe_load((ROOT / ".github/workflows/billingops.yml").read_text())
    assert "${{ github.event.issue.number }}" in caller["concurrency"]["group"]


# actions/create-github-app-token v3.1.1 (tag v3.1.1 of github.com/actions/create-github-app-token)
APP_TOKEN_ACTION = "actions/create-github-app-token@1b10c78c7865c340bc4f6099eb2f838309f1e8c3"


def test_each_job_mints_its_own_app_token_when_the_identity_is_app() -> None:
    """Issue 21: billingops' own identity. Each job mints a short-lived installation token
    (an hour at most; a stored one would expire) with GitHub's own action, pinned by commit,
    limited to Issues: write and Metadata: read; billingops runs with it. The Actions token
    stays the fallback (identity: actions, the default for callers written before)."""
    doc = yaml.safe_load((ROOT / ".github/workflows/billingops-reusable.yml").read_text())
    inputs = doc[True]["workflow_call"]["inputs"]
    assert inputs["identity"]["default"] == "actions"
    for name in ("triage", "apply"):
        steps = doc["jobs"][name]["steps"]
        [mint] = [s for s in steps if s.get("id") == "app-token"]
        assert mint["uses"] == APP_TOKEN_ACTION
        assert mint["if"] == "inputs.identity != 'actions'"  # a typo mints (and fails loudly)
        assert mint["with"]["client-id"] == "${{ secrets.BILLINGOPS_APP_CLIENT_ID }}"
        assert mint["with"]["private-key"] == "${{ secrets.BILLINGOPS_APP_PRIVATE_KEY }}"
        assert {k: v for k, v in mint["with"].items() if k.startswith("permission-")} == {
            "permission-issues": "write",
            "permission-metadata": "read",
        }
        assert "github.event.repository.name" in mint["with"]["repositories"]
        [run] = [s for s in steps if s.get("uses") == "$/"]
        assert steps.index(mint) < steps.index(run)
        assert run["with"]["github-token"] == (
            "${{ steps.app-token.outputs.token || secrets.BILLINGOPS_DESK_TOKEN || github.token }}"
        )


def test_action_runs_a_fixed_command_list() -> None:
    """The action's inputs reach the shell only through `env:`; the command is one of a
    fixed list, mapped to billingops arguments in scripts/action-run.sh."""
    action = yaml.safe_load((ROOT / "action.yml").read_text())
    steps = action["runs"]["steps"]
    assert action["runs"]["using"] == "composite"
    for step in steps:
        assert "${{" not in step.get("run", "")
    setup = steps[0]
    assert setup["uses"].startswith("astral-sh/setup-uv@")
    assert setup["with"]["enable-cache"] is False  # no cache an issue opener could write
    run = (ROOT / "scripts" / "action-run.sh").read_text()
    assert "handle --read-only" in run and "apply --event" in run


def test_release_is_trusted_publishing_with_attestations() -> None:
    """Tag -> build once -> PyPI by OIDC; no stored token; the write permission only in
    the publish job, behind the `pypi` Environment."""
    text = (ROOT / ".github/workflows/release.yml").read_text()
    doc = yaml.safe_load(text)
    assert doc[True] == {"push": {"tags": ["v*"]}}
    build, publish = doc["jobs"]["build"], doc["jobs"]["publish"]
    assert build["permissions"] == {"contents": "read"}
    assert publish["permissions"] == {"id-token": "write"}
    assert publish["environment"]["name"] == "pypi"
    assert publish["needs"] == "build"
    [step] = [s for s in publish["steps"] if "gh-action-pypi-publish" in s.get("uses", "")]
    assert step["with"] == {"attestations": True}  # no password, no token
    assert "secrets." not in text
    # The release builds what the tag says: tag, pyproject and __version__ agree.
    assert "The tag is the package version" in yaml.safe_dump(build)
