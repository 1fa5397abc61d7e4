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


def zizmor_findings(directory: Path) -> str:
    """'' when clean; zizmor's report otherwise. Offline: nothing leaves the machine."""
    run = subprocess.run(
        [tool("zizmor"), "--offline", "--no-progress", "--format", "plain", str(directory)],
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


def test_zizmor_is_clean() -> None:
    assert zizmor_findings(ROOT / ".github" / "workflows") == ""


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
            if uses:
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
    assert set(call["secrets"]) == {"STRIPE_READ_KEY", "STRIPE_WRITE_KEY", "BILLINGOPS_DESK_TOKEN"}
    # Only a public repository with a private desk passes a cross-repository token (§5b).
    assert call["secrets"]["BILLINGOPS_DESK_TOKEN"]["required"] is False
    triage, apply = doc["jobs"]["triage"], doc["jobs"]["apply"]
    # The write key only in the apply job, which runs in the Environment.
    assert "STRIPE_WRITE_KEY" not in yaml.safe_dump(triage)
    assert "STRIPE_READ_KEY" not in yaml.safe_dump(apply)
    assert apply["environment"] == "${{ inputs.environment }}"
    # The read-only job only triages; the write job routes and reconciles approvals.
    assert "billingops triage --event" in yaml.safe_dump(triage)
    assert "billingops handle" not in yaml.safe_dump(triage)
    assert "billingops handle" in yaml.safe_dump(apply)
    for job in (triage, apply):
        setup = next(s for s in job["steps"] if "setup-python" in s.get("uses", ""))
        assert setup["with"]["cache"] == "pip"
    caller = yaml.safe_load((ROOT / ".github/workflows/billingops.yml").read_text())
    assert "${{ github.event.issue.number }}" in caller["concurrency"]["group"]
