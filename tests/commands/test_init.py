"""`billingops init`: the files a support repository needs, shown, never clobbered."""

from __future__ import annotations

import os
import re
import shutil
import stat
import subprocess
from pathlib import Path

import pytest
import yaml

from billingops.cli import main
from billingops.config import Config, parse_config
from billingops.errors import ExitStatus
from billingops.onboarding import repo_files
from tests.test_workflows import APP_TOKEN_ACTION, check_schema, zizmor_findings

SHA = "0123456789abcdef0123456789abcdef01234567"
PINNED = ["--workflow-repo", "acme/billingops", "--ref", SHA]
ROOT = Path(__file__).resolve().parents[2]


def git_repo(path: Path) -> Path:
    """A fresh repository (`git init` when git is installed; its `.git` otherwise)."""
    path.mkdir(parents=True, exist_ok=True)
    git = shutil.which("git")
    if git:
        subprocess.run([git, "init", "-q", str(path)], check=True)
    else:
        (path / ".git").mkdir()
    return path


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[ExitStatus, str, str]:
    status = main(list(args), {})
    out, err = capsys.readouterr()
    return status, out, err


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    return git_repo(tmp_path / "support")


def test_fresh_repository_gets_form_workflow_and_config(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    status, out, _ = run(capsys, "init", str(repo), *PINNED)
    assert status is ExitStatus.OK
    for path in (repo_files.FORM_PATH, repo_files.WORKFLOW_PATH, repo_files.CONFIG_PATH):
        assert f"create  {path}" in out
        assert (repo / path).is_file()
    assert not (repo / repo_files.REPORT_PATH).exists()
    form = (repo / repo_files.FORM_PATH).read_text()
    assert form == (ROOT / "templates" / "repo" / "billing.yml").read_text()
    workflow = yaml.safe_load((repo / repo_files.WORKFLOW_PATH).read_text())
    job = workflow["jobs"]["billing"]
    assert job["uses"] == f"acme/billingops/.github/workflows/billingops-reusable.yml@{SHA}"
    assert workflow["permissions"] == {}
    assert job["permissions"] == {"contents": "read", "issues": "write"}
    # billingops' own identity by default: the App's secrets, passed by name.
    assert job["with"] == {"environment": "billing-approvals", "identity": "app"}
    assert job["secrets"] == {
        "STRIPE_READ_KEY": "${{ secrets.STRIPE_READ_KEY }}",
        "STRIPE_WRITE_KEY": "${{ secrets.STRIPE_WRITE_KEY }}",
        "BILLINGOPS_APP_CLIENT_ID": "${{ secrets.BILLINGOPS_APP_CLIENT_ID }}",
        "BILLINGOPS_APP_PRIVATE_KEY": "${{ secrets.BILLINGOPS_APP_PRIVATE_KEY }}",
    }
    assert workflow["concurrency"]["group"] == "billingops-issue-${{ github.event.issue.number }}"


def test_every_file_validates_and_is_zizmor_clean(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(capsys, "init", str(repo), "--with-report", *PINNED)[0] is ExitStatus.OK
    workflows = sorted((repo / ".github" / "workflows").glob("*.yml"))
    assert [p.name for p in workflows] == ["billingops-report.yml", "billingops.yml"]
    check_schema("vendor.github-workflows", *workflows)
    check_schema("vendor.github-issue-forms", repo / repo_files.FORM_PATH)
    assert zizmor_findings(repo / ".github" / "workflows") == ""


def test_report_posted_on_an_issue(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(capsys, "init", str(repo), "--report-issue", "12", *PINNED)[0] is ExitStatus.OK
    path = repo / repo_files.REPORT_PATH
    report = yaml.safe_load(path.read_text())
    job = report["jobs"]["report"]
    assert job["permissions"] == {"contents": "read", "issues": "write"}
    # billingops' own action at the pinned commit: no pip install by name.
    step = job["steps"][-1]
    assert step["uses"] == f"acme/billingops@{SHA}"
    assert step["with"] == {
        "command": "report",
        "stripe-api-key": "${{ secrets.STRIPE_READ_KEY }}",
        "report-issue": "12",
    }
    assert "pip install" not in path.read_text()
    assert "schedule" in report[True]
    check_schema("vendor.github-workflows", path)
    assert zizmor_findings(repo / ".github" / "workflows") == ""


def test_report_in_the_job_summary_needs_no_write(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run(capsys, "init", str(repo), "--with-report", *PINNED)
    job = yaml.safe_load((repo / repo_files.REPORT_PATH).read_text())["jobs"]["report"]
    assert job["permissions"] == {"contents": "read"}
    assert job["steps"][-1]["with"]["command"] == "report"
    assert "report-issue" not in job["steps"][-1]["with"]  # the job summary
    # The action writes to the job summary when no issue is given.
    assert "GITHUB_STEP_SUMMARY" in (ROOT / "scripts" / "action-run.sh").read_text()


def test_config_is_the_defaults_and_documents_every_key(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run(capsys, "init", str(repo), *PINNED)
    text = (repo / repo_files.CONFIG_PATH).read_text()
    assert parse_config(text) == Config()
    lines = text.splitlines()
    for name, field in Config.model_fields.items():
        at = next(i for i, line in enumerate(lines) if line.startswith(f"{name}:"))
        assert lines[at - 1].startswith("#"), f"{name} has no comment"
        sub = getattr(field.annotation, "model_fields", {})
        for key in sub:
            assert f"  {key}:" in text, f"{name}.{key} is missing"


@pytest.mark.parametrize(
    "args", [[], ["--workflow-repo", "acme/billingops"], ["--ref", SHA]], ids=str
)
def test_without_the_pin_init_refuses_and_writes_nothing(
    repo: Path, capsys: pytest.CaptureFixture[str], args: list[str]
) -> None:
    # Issue 21: a workflow with a placeholder cannot run; init said "OK" and wrote it.
    status, _, err = run(capsys, "init", str(repo), *args)
    assert status is ExitStatus.BAD_INPUT
    assert "init needs the commit to pin: --workflow-repo OWNER/NAME" in err
    assert "--draft writes it anyway" in err and err.count("\n") == 1
    assert not (repo / ".github").exists()


def test_without_ref_a_draft_is_a_clear_placeholder_that_zizmor_flags(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    status, _, err = run(capsys, "init", str(repo), "--draft")
    assert status is ExitStatus.OK
    text = (repo / repo_files.WORKFLOW_PATH).read_text()
    assert (
        "OWNER/billingops/.github/workflows/billingops-reusable.yml@REPLACE-WITH-A-COMMIT-SHA"
        in text
    )
    assert "draft: pin the reusable workflow" in err
    check_schema("vendor.github-workflows", repo / repo_files.WORKFLOW_PATH)
    assert "unpinned-uses" in zizmor_findings(repo / ".github" / "workflows")


def test_second_run_is_unchanged(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    run(capsys, "init", str(repo), *PINNED)
    status, out, err = run(capsys, "init", str(repo), *PINNED)
    assert status is ExitStatus.OK
    assert out.count("unchanged") == 3
    assert "nothing to write" in err


def test_existing_different_form_is_kept_and_the_rest_written(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    form = repo / repo_files.FORM_PATH
    form.parent.mkdir(parents=True)
    form.write_text("name: Our own form\n")
    status, out, err = run(capsys, "init", str(repo), *PINNED)
    assert status is ExitStatus.OK
    assert f"kept  {repo_files.FORM_PATH}" in out
    [note] = [line for line in err.splitlines() if "kept" in line]
    assert "billing.yml: it differs from billingops' issue form" in note and "--force" in note
    assert form.read_text() == "name: Our own form\n"
    assert (repo / repo_files.WORKFLOW_PATH).is_file()  # the missing files are written


def test_with_report_after_editing_the_config_adds_only_the_report(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(capsys, "init", str(repo), *PINNED)[0] is ExitStatus.OK
    config = repo / repo_files.CONFIG_PATH
    edited = config.read_text().replace("mask_email: true", "mask_email: false")
    config.write_text(edited)
    status, out, err = run(capsys, "init", str(repo), "--with-report", *PINNED)
    assert status is ExitStatus.OK, err
    assert f"create  {repo_files.REPORT_PATH}" in out
    assert f"kept  {repo_files.CONFIG_PATH}" in out
    assert out.count("unchanged") == 2
    assert config.read_text() == edited  # the person's edit survives
    assert (repo / repo_files.REPORT_PATH).is_file()


def test_any_requirement_spec_is_accepted_and_not_needed(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    spec = f"billingops @ git+https://github.com/acme/billingops@{SHA}"
    status, _, err = run(capsys, "init", str(repo), "--spec", spec, *PINNED)
    assert status is ExitStatus.OK
    assert "--spec is no longer needed" in err
    text = (repo / repo_files.WORKFLOW_PATH).read_text()
    assert "billingops-spec" not in text and "pip" not in text


def test_default_workflow_repository_comes_from_project_urls(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import tomllib

    from billingops.onboarding.home import home_repository

    urls = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["urls"]
    expected = urls["Repository"].removeprefix("https://github.com/")
    assert home_repository() == expected
    run(capsys, "init", str(repo), "--ref", SHA, "--draft")  # OWNER/billingops until a home
    job = yaml.safe_load((repo / repo_files.WORKFLOW_PATH).read_text())["jobs"]["billing"]
    assert job["uses"] == f"{expected}/.github/workflows/billingops-reusable.yml@{SHA}"


def test_force_overwrites(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    form = repo / repo_files.FORM_PATH
    form.parent.mkdir(parents=True)
    form.write_text("name: Our own form\n")
    status, out, _ = run(capsys, "init", str(repo), "--force", *PINNED)
    assert status is ExitStatus.OK
    assert f"overwrite  {repo_files.FORM_PATH}" in out
    assert form.read_text().startswith("name: Billing question")


def test_dry_run_shows_and_writes_nothing(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    status, out, err = run(capsys, "init", str(repo), "--dry-run", *PINNED)
    assert status is ExitStatus.OK
    assert f"--- {repo_files.WORKFLOW_PATH} (create)" in out
    assert "billingops-reusable.yml@" + SHA in out
    assert "nothing written" in err
    assert not (repo / ".github").exists()


def test_not_a_git_repository(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    status, _, err = run(capsys, "init", str(tmp_path))
    assert status is ExitStatus.BAD_INPUT
    (line,) = err.strip().splitlines()
    assert "is not a git repository" in line and "git init" in line
    assert not (tmp_path / ".github").exists()


def test_inside_a_repository_but_not_its_root(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (repo / "docs").mkdir()
    status, _, err = run(capsys, "init", str(repo / "docs"))
    assert status is ExitStatus.BAD_INPUT
    assert f"run billingops init {repo}" in err


def test_missing_directory(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    status, _, err = run(capsys, "init", str(tmp_path / "nope"))
    assert status is ExitStatus.BAD_INPUT
    assert "does not exist" in err


def test_read_only_directory(
    repo: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    repo.chmod(stat.S_IRUSR | stat.S_IXUSR)
    if os.geteuid() == 0:  # root writes anywhere: let the permission bits decide
        monkeypatch.setattr(
            repo_files.os,
            "access",
            lambda p, mode: not (mode & os.W_OK) or bool(os.stat(p).st_mode & stat.S_IWUSR),
        )
    try:
        status, _, err = run(capsys, "init", str(repo), *PINNED)
    finally:
        repo.chmod(stat.S_IRWXU)
    assert status is ExitStatus.BAD_INPUT
    (line,) = err.strip().splitlines()
    assert "is read-only" in line and "cannot write" in line
    assert not (repo / ".github").exists()


def test_write_failure_is_one_line(
    repo: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    def refuse(self: Path, *args: object, **kwargs: object) -> int:
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(Path, "write_text", refuse)
    status, _, err = run(capsys, "init", str(repo), *PINNED)
    assert status is ExitStatus.BAD_INPUT
    (line,) = err.strip().splitlines()
    assert "cannot write .github/ISSUE_TEMPLATE/billing.yml: Permission denied" in line


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--ref", "v1"], "--ref must be a full 40-character commit SHA"),
        (["--ref", "main"], "tags and branches can move"),
        (["--workflow-repo", "nope"], "--workflow-repo must be owner/name"),
        (["--report-issue", "0"], "--report-issue must be an issue number"),
    ],
)
def test_bad_options(
    repo: Path, capsys: pytest.CaptureFixture[str], args: list[str], message: str
) -> None:
    status, _, err = run(capsys, "init", str(repo), *args)
    assert status is ExitStatus.BAD_INPUT
    assert message in err
    assert not (repo / ".github").exists()


# -- SPEC §5b: a public support repository and its private desk ------------------------------


def test_private_repository_writes_both_repositories(
    repo: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    desk = git_repo(tmp_path / "desk")
    status, out, _ = run(
        capsys,
        "init", str(repo), *PINNED, "--private-repository", "acme/billing-desk",
        "--desk-path", str(desk), "--identity", "actions",
    )  # fmt: skip
    assert status is ExitStatus.OK
    config = parse_config((repo / repo_files.CONFIG_PATH).read_text())
    assert config.private_repository == "acme/billing-desk"
    for root in (repo, desk):
        workflow = yaml.safe_load((root / repo_files.WORKFLOW_PATH).read_text())
        secrets = workflow["jobs"]["billing"]["secrets"]
        assert secrets["BILLINGOPS_DESK_TOKEN"] == "${{ secrets.BILLINGOPS_DESK_TOKEN }}"
        labeled = workflow[True]["issues"]["types"]  # YAML 1.1 reads `on` as true
        assert "labeled" in labeled  # the desk reacts to approval labels on handoff issues
    # The desk gets its workflow and config, no issue form (nobody files tickets there).
    assert not (desk / repo_files.FORM_PATH).exists()
    assert parse_config((desk / repo_files.CONFIG_PATH).read_text()).private_repository is None
    assert "Issues: Read and write" in out and "acme/billing-desk" in out
    workflows = [repo / repo_files.WORKFLOW_PATH, desk / repo_files.WORKFLOW_PATH]
    check_schema("vendor.github-workflows", *workflows)
    assert zizmor_findings(desk / ".github" / "workflows") == ""
    # The write key lives in the desk only: the public repository never executes.
    public = yaml.safe_load((repo / repo_files.WORKFLOW_PATH).read_text())["jobs"]["billing"]
    private = yaml.safe_load((desk / repo_files.WORKFLOW_PATH).read_text())["jobs"]["billing"]
    assert "STRIPE_WRITE_KEY" not in public["secrets"] and "with" not in public
    assert "STRIPE_WRITE_KEY" in private["secrets"]
    assert "write key belongs to the private desk acme/billing-desk only" in out


def test_without_a_private_desk_the_workflow_uses_the_actions_token(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(capsys, "init", str(repo), *PINNED)[0] is ExitStatus.OK
    text = (repo / repo_files.WORKFLOW_PATH).read_text()
    assert "DESK_TOKEN" not in text


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--private-repository", "not a repo"], "--private-repository must be owner/name"),
        (["--desk-path", "."], "--desk-path needs --private-repository"),
        (["--private-repository", "acme/desk", "--with-report"], "never runs in a public"),
    ],
)
def test_private_desk_options_are_checked(
    repo: Path, capsys: pytest.CaptureFixture[str], args: list[str], message: str
) -> None:
    status, _, err = run(capsys, "init", str(repo), *PINNED, *args)
    assert status is ExitStatus.BAD_INPUT
    assert message in err and "Traceback" not in err
    assert not (repo / repo_files.WORKFLOW_PATH).exists()


# -- issue 21: billingops' own identity; generated text names only inputs that are read ------


def test_app_identity_reaches_the_support_repository_and_the_desk(
    repo: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    desk = git_repo(tmp_path / "desk")
    status, out, _ = run(
        capsys,
        "init", str(repo), *PINNED, "--private-repository", "acme/billing-desk",
        "--desk-path", str(desk), "--support-repository", "acme/support",
    )  # fmt: skip
    assert status is ExitStatus.OK
    for root, other in ((repo, "billing-desk"), (desk, "support")):
        text = (root / repo_files.WORKFLOW_PATH).read_text()
        job = yaml.safe_load(text)["jobs"]["billing"]
        assert job["with"]["identity"] == "app"
        assert job["with"]["app-repositories"] == other  # the token reaches both, no more
        assert "BILLINGOPS_APP_PRIVATE_KEY" in job["secrets"]
        assert "BILLINGOPS_DESK_TOKEN" not in text  # no stored token that expires in an hour
    assert "Issues: Read and write and Metadata: Read, nothing else" in out
    assert "in both repositories" in out
    assert zizmor_findings(repo / ".github", desk / ".github") == ""


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["--private-repository", "acme/desk", "--desk-path", "."],
            "--desk-path with --identity app needs --support-repository OWNER/NAME",
        ),
        (
            ["--private-repository", "other/desk", "--support-repository", "acme/support"],
            "the GitHub App's token reaches one owner's repositories",
        ),
    ],
)
def test_app_identity_options_are_checked(
    repo: Path, capsys: pytest.CaptureFixture[str], args: list[str], message: str
) -> None:
    status, _, err = run(capsys, "init", str(repo), *PINNED, *args)
    assert status is ExitStatus.BAD_INPUT
    assert message in err and err.count("\n") == 1
    assert not (repo / ".github").exists()


GHES = "--enterprise-server"
# init's options that still apply on GitHub Enterprise Server, each with the flag.
GHES_CASES = [
    [],
    ["--identity", "actions"],
    ["--environment", "money"],
    ["--with-report", "--report-issue", "3"],
    ["--private-repository", "acme/desk"],
    ["--private-repository", "acme/desk", "--identity", "actions"],
]


def _reusable_inputs() -> tuple[set[str], set[str]]:
    """(inputs the reusable workflow reads, inputs it declares only to ignore them)."""
    doc = yaml.safe_load((ROOT / ".github/workflows/billingops-reusable.yml").read_text())
    inputs = doc[True]["workflow_call"]["inputs"]
    ignored = {n for n, i in inputs.items() if i["description"].startswith("ignored")}
    return set(inputs) - ignored, ignored


@pytest.mark.parametrize(
    "args",
    [
        [],
        ["--identity", "actions"],
        ["--with-report", "--report-issue", "3"],
        ["--private-repository", "acme/desk"],
        ["--private-repository", "acme/desk", "--identity", "actions"],
        ["--environment", "money"],
        *([GHES, *case] for case in GHES_CASES),
    ],
    ids=str,
)
def test_generated_text_never_names_an_input_the_workflow_ignores(
    repo: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], args: list[str]
) -> None:
    read, ignored = _reusable_inputs()
    assert ignored == {"refund-label", "cancel-label", "billingops-spec"}
    action_inputs = set(yaml.safe_load((ROOT / "action.yml").read_text())["inputs"])
    desk = git_repo(tmp_path / "desk")
    extra = ["--desk-path", str(desk), "--support-repository", "acme/support"]
    status, out, err = run(
        capsys, "init", str(repo), *PINNED, *args, *(extra if "acme/desk" in args else [])
    )
    assert status is ExitStatus.OK, err
    written = [p for root in (repo, desk) for p in (root / ".github").rglob("*.yml")]
    calls = 0
    for path in written:
        text = path.read_text()
        for name in ignored:
            assert name not in text, f"{path.name} names the ignored input {name}"
        doc = yaml.safe_load(text)
        for job in (doc.get("jobs") or {}).values():
            if "billingops-reusable.yml@" in job.get("uses", ""):
                assert set(job.get("with", {})) <= read, path
            for step in job.get("steps", []):
                if step.get("uses", "").startswith("acme/billingops@"):  # the action itself
                    assert set(step.get("with", {})) <= action_inputs, path
                    calls += 1
    # --enterprise-server: every job of the workflow calls the action (checked above).
    assert calls >= (1 if GHES in args else 0)
    for name in ignored:
        assert name not in out + err


# -- issue 19: GitHub Enterprise Server (`$/` is github.com only) ----------------------------


def _init_ghes(
    repo: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], args: list[str]
) -> list[Path]:
    """Run init with --enterprise-server; the workflows it wrote (support repo, then desk)."""
    desk = git_repo(tmp_path / "desk")
    extra = ["--desk-path", str(desk)]
    if "actions" not in args:
        extra += ["--support-repository", "acme/support"]
    status, _, err = run(
        capsys, "init", str(repo), *PINNED, GHES, *args, *(extra if "acme/desk" in args else [])
    )
    assert status is ExitStatus.OK, err
    roots = [repo, desk] if "acme/desk" in args else [repo]
    return [root / repo_files.WORKFLOW_PATH for root in roots]


def _steps_calling_the_action(job: dict[str, object]) -> list[dict[str, object]]:
    steps = job.get("steps") or []
    assert isinstance(steps, list)
    return [s for s in steps if str(s.get("uses", "")).startswith("acme/billingops@")]


@pytest.mark.parametrize("args", GHES_CASES, ids=str)
def test_enterprise_server_workflow_calls_the_action_at_the_pinned_commit(
    repo: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], args: list[str]
) -> None:
    """No `$/` (GitHub Enterprise Server has none): the workflow holds the reusable
    workflow's two jobs and calls billingops' action at the full commit SHA; valid against
    GitHub's schema, zizmor-clean, read key in triage, write key only behind the
    Environment."""
    workflows = _init_ghes(repo, tmp_path, capsys, args)
    check_schema("vendor.github-workflows", *workflows)
    assert zizmor_findings(*(p.parent for p in workflows)) == ""
    action_inputs = set(yaml.safe_load((ROOT / "action.yml").read_text())["inputs"])
    public = "acme/desk" in args
    for path in workflows:
        text = path.read_text()
        assert "$/" not in text and "billingops-reusable.yml" not in text
        assert "GITHUB_API_URL:" not in text  # the runner's (Actions sets it on GHES)
        doc = yaml.safe_load(text)
        assert doc["permissions"] == {}
        assert doc["concurrency"] == {
            "group": "billingops-issue-${{ github.event.issue.number }}",
            "cancel-in-progress": False,
        }
        jobs = doc["jobs"]
        in_public_repository = public and path.is_relative_to(repo)
        # The public repository of a private desk never executes: no write key, no apply.
        assert set(jobs) == ({"triage"} if in_public_repository else {"triage", "apply"})
        for name, job in jobs.items():
            assert job["permissions"] == {"contents": "read", "issues": "write"}
            checkout = job["steps"][0]
            assert checkout["uses"].startswith("actions/checkout@")
            assert checkout["with"] == {"persist-credentials": False, "sparse-checkout": ".github"}
            for step in job["steps"]:
                ref = step["uses"].rsplit("@", 1)[1]
                assert re.fullmatch(r"[0-9a-f]{40}", ref), step["uses"]
            [call] = _steps_calling_the_action(job)
            assert call["uses"] == f"acme/billingops@{SHA}"
            assert set(call["with"]) <= action_inputs
            mint = [s for s in job["steps"] if s.get("id") == "app-token"]
            if "actions" in args:
                assert mint == []
                token = call["with"].get("github-token")
                assert token == ("${{ secrets.BILLINGOPS_DESK_TOKEN }}" if public else None)
            else:
                assert mint[0]["uses"] == APP_TOKEN_ACTION
                assert call["with"]["github-token"] == "${{ steps.app-token.outputs.token }}"
                assert job["steps"].index(mint[0]) < job["steps"].index(call)
            job_text = yaml.safe_dump(job)
            if name == "triage":
                assert call["with"]["command"] == "gate"
                assert call["with"]["stripe-api-key"] == "${{ secrets.STRIPE_READ_KEY }}"
                assert "STRIPE_WRITE_KEY" not in job_text and "environment" not in job
            else:
                assert call["with"]["command"] == "apply"
                assert call["with"]["stripe-api-key"] == "${{ secrets.STRIPE_WRITE_KEY }}"
                assert "STRIPE_READ_KEY" not in job_text
                assert job["environment"] == ("money" if "money" in args else "billing-approvals")
                assert job["needs"] == "triage"
                assert job["if"] == "needs.triage.outputs.apply-pending == 'true'"
                assert jobs["triage"]["outputs"]["apply-pending"] == (
                    "${{ steps.billingops.outputs.apply-pending }}"
                )


def test_enterprise_server_workflow_needs_the_pin_like_the_caller(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    status, _, err = run(capsys, "init", str(repo), GHES)
    assert status is ExitStatus.BAD_INPUT and err.count("\n") == 1
    assert "init needs the commit to pin" in err
    assert not (repo / ".github").exists()
    status, _, err = run(capsys, "init", str(repo), GHES, "--ref", "v1")
    assert status is ExitStatus.BAD_INPUT and "--ref must be a full 40-character" in err
    assert run(capsys, "init", str(repo), GHES, "--draft")[0] is ExitStatus.OK
    text = (repo / repo_files.WORKFLOW_PATH).read_text()
    assert "uses: OWNER/billingops@REPLACE-WITH-A-COMMIT-SHA" in text
    check_schema("vendor.github-workflows", repo / repo_files.WORKFLOW_PATH)
    assert "unpinned-uses" in zizmor_findings(repo / ".github" / "workflows")


def test_enterprise_server_workflow_keeps_to_the_reusable_workflow(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The two files say the same thing twice: the same jobs, commands, keys, timeouts and
    pinned actions (checkout, the App token), so a change to one that forgets the other
    fails here."""
    status, out, _ = run(capsys, "init", str(repo), *PINNED, GHES)
    assert status is ExitStatus.OK
    # What the instance must have, said once after writing.
    assert "GitHub Enterprise Server: make acme/billingops (the pinned commit)" in out
    assert "actions/create-github-app-token available on" in out
    ghes = yaml.safe_load((repo / repo_files.WORKFLOW_PATH).read_text())["jobs"]
    reusable = yaml.safe_load((ROOT / ".github/workflows/billingops-reusable.yml").read_text())
    for name, job in reusable["jobs"].items():
        mine = ghes[name]
        for key in ("runs-on", "timeout-minutes", "permissions", "needs"):
            assert mine.get(key) == job.get(key), (name, key)
        theirs = [s for s in job["steps"] if s.get("uses") != "$/"]
        assert [s["uses"] for s in mine["steps"] if s not in _steps_calling_the_action(mine)] == [
            s["uses"] for s in theirs
        ]
        [call] = _steps_calling_the_action(mine)
        [their_call] = [s for s in job["steps"] if s.get("uses") == "$/"]
        for key in ("command", "stripe-api-key"):
            assert call["with"][key] == their_call["with"][key], (name, key)


@pytest.mark.parametrize("name", ["null", "on", "1.0"])
def test_enterprise_server_environment_stays_a_name(
    repo: Path, capsys: pytest.CaptureFixture[str], name: str
) -> None:
    """An Environment named like a YAML null, boolean or number is still that name: an
    apply job left without its Environment would hand the write key to any run."""
    assert run(capsys, "init", str(repo), *PINNED, GHES, "--environment", name)[0] is ExitStatus.OK
    jobs = yaml.safe_load((repo / repo_files.WORKFLOW_PATH).read_text())["jobs"]
    assert jobs["apply"]["environment"] == name


def test_the_readme_placeholder_copied_as_is_is_named_as_one(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A newcomer pasted `--workflow-repo OWNER/billingops --ref SHA` from the README and was
    told both options were missing."""
    status, _, err = run(
        capsys, "init", str(repo), "--workflow-repo", "OWNER/billingops", "--ref", SHA
    )
    assert status is ExitStatus.BAD_INPUT
    assert "--workflow-repo OWNER/billingops is the README's placeholder" in err
    assert err.count("\n") == 1
    assert not (repo / ".github").exists()
