"""`billingops init`: the files a support repository needs, planned, shown, then written.

A file that exists and differs is kept as it is (the person edited it) unless `--force`;
the files that are missing are still written, so `--with-report` after editing the config
adds the report workflow alone. Nothing is written unless every file can be: a directory
that is not a git repository or cannot be written stops the whole run with one line
(exit 2) before the first write.
"""

from __future__ import annotations

import contextlib
import os
import re
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

from billingops.errors import BadInput
from billingops.onboarding.home import PLACEHOLDER, home_repository
from billingops.onboarding.texts import message
from billingops.templates_path import template_file

FORM_PATH = ".github/ISSUE_TEMPLATE/billing.yml"
WORKFLOW_PATH = ".github/workflows/billingops.yml"
CONFIG_PATH = ".github/billingops.yml"
REPORT_PATH = ".github/workflows/billingops-report.yml"

# Placeholders a person must replace; the caller workflow is not zizmor-clean until the
# ref is a commit SHA (on purpose: an unpinned reusable workflow can change under you).
REF_PLACEHOLDER = "REPLACE-WITH-A-COMMIT-SHA"
WORKFLOW_REPO_PLACEHOLDER = PLACEHOLDER
DEFAULT_ENVIRONMENT = "billing-approvals"
# Who billingops acts as on GitHub: its own GitHub App (recommended) or the Actions token.
IDENTITIES = ("app", "actions")

_SHA = re.compile(r"^[0-9a-f]{40}$")
_REPO = re.compile(r"^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+$")
_ENVIRONMENT = re.compile(r"^[A-Za-z0-9_.-]{1,255}$")


class Status(StrEnum):
    create = "create"
    unchanged = "unchanged"
    overwrite = "overwrite"
    kept = "kept"  # exists and differs; left as it is (no --force)


def default_workflow_repo() -> str:
    """billingops' own repository (pyproject `[project.urls] Repository`)."""
    return home_repository()


@dataclass(frozen=True)
class Options:
    ref: str | None = None
    workflow_repo: str = WORKFLOW_REPO_PLACEHOLDER
    environment: str = DEFAULT_ENVIRONMENT
    with_report: bool = False
    report_issue: int | None = None
    # SPEC §5b: the private desk that gets the handoff of a public repository's tickets.
    private_repository: str | None = None
    desk: bool = False  # the files of the private desk itself (its workflow and config)
    identity: str = "app"
    # The public support repository (owner/name): with identity app, the desk's token must
    # reach it to post the outcome back.
    support_repository: str | None = None
    # GitHub Enterprise Server: no `uses: $/` there, so the workflow holds the reusable
    # workflow's jobs itself and calls billingops' action at the pinned commit.
    enterprise_server: bool = False

    def placeholders(self) -> list[str]:
        """The placeholders the workflow would carry (to replace before it can run)."""
        return [
            name
            for name, missing in (
                (WORKFLOW_REPO_PLACEHOLDER, self.workflow_repo == WORKFLOW_REPO_PLACEHOLDER),
                (REF_PLACEHOLDER, self.ref is None),
            )
            if missing
        ]

    def app_other_repository(self) -> str | None:
        """identity app: the other repository (owner/name) the job's token must reach."""
        if self.identity != "app":
            return None
        return self.support_repository if self.desk else self.private_repository

    def validate(self) -> None:
        if self.ref is not None and not _SHA.match(self.ref):
            raise BadInput(
                message("init", "ref_not_sha", ref=self.ref, workflow_repo=self.workflow_repo)
            )
        if not _REPO.match(self.workflow_repo):
            raise BadInput(
                message(
                    "init", "not_a_repository", option="--workflow-repo", value=self.workflow_repo
                )
            )
        if not _ENVIRONMENT.match(self.environment):
            raise BadInput(message("init", "bad_environment", environment=self.environment))
        if self.private_repository is not None and not _REPO.match(self.private_repository):
            raise BadInput(
                message(
                    "init",
                    "not_a_repository",
                    option="--private-repository",
                    value=self.private_repository,
                )
            )
        if self.report_issue is not None and self.report_issue < 1:
            raise BadInput(message("init", "bad_report_issue"))
        if self.identity not in IDENTITIES:
            raise BadInput(message("init", "bad_identity", identity=self.identity))
        if self.support_repository is not None and not _REPO.match(self.support_repository):
            raise BadInput(
                message(
                    "init",
                    "not_a_repository",
                    option="--support-repository",
                    value=self.support_repository,
                )
            )
        pair = [r for r in (self.private_repository, self.support_repository) if r]
        if self.identity == "app" and len({r.split("/")[0].lower() for r in pair}) > 1:
            raise BadInput(message("init", "app_owners_differ", pair=pair))


@dataclass(frozen=True)
class PlannedFile:
    path: str  # relative to the repository root, POSIX separators
    content: str
    status: Status
    why: str  # what the file is for


def _jinja_render(name: str, **values: object) -> str:
    import jinja2

    # The files are GitHub workflows full of `${{ }}`: billingops' own placeholders use
    # `[[ ]]` / `[% %]` so GitHub's expressions pass through untouched.
    env = jinja2.Environment(
        variable_start_string="[[",
        variable_end_string="]]",
        block_start_string="[%",
        block_end_string="%]",
        comment_start_string="[#",
        comment_end_string="#]",
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        autoescape=False,  # YAML, not HTML; every value is validated by `Options.validate`
    )
    return env.from_string(template_file(f"repo/{name}").read_text(encoding="utf-8")).render(
        **values
    )


def _why(file: str) -> str:
    """What a file is for (templates/messages/init.txt.j2)."""
    return message("init", "why", file=file)


def render_files(options: Options) -> list[tuple[str, str, str]]:
    """(path, content, what it is for) of every file init writes, in order."""
    options.validate()
    values = {
        "ref": options.ref or REF_PLACEHOLDER,
        "workflow_repo": options.workflow_repo,
        "environment": options.environment,
        "report_issue": options.report_issue,
        "desk_token": options.private_repository is not None or options.desk,
        "app": options.identity == "app",
        "app_other": options.app_other_repository(),
        "app_repositories": (options.app_other_repository() or "/").split("/", 1)[1],
        "private_repository": options.private_repository,
        # The public repository of a private desk never executes anything: approvals are
        # applied on the handoff issue, so its workflow gets no write key (SPEC §5b).
        "write_key": options.desk or options.private_repository is None,
    }
    config = template_file("repo/config.yml").read_text(encoding="utf-8")
    if options.private_repository is not None:
        config = config.replace(
            "private_repository: null", f"private_repository: {options.private_repository}"
        )
    workflow = "workflow-ghes.yml.j2" if options.enterprise_server else "workflow.yml.j2"
    if options.desk:
        # The private desk: handoff issues are triaged and approved here (SPEC §5b).
        return [
            (WORKFLOW_PATH, _jinja_render(workflow, **values), _why("desk_workflow")),
            (CONFIG_PATH, config, _why("desk_config")),
        ]
    files = [
        (
            FORM_PATH,
            template_file("repo/billing.yml").read_text(encoding="utf-8"),
            _why("form"),
        ),
        (WORKFLOW_PATH, _jinja_render(workflow, **values), _why("workflow")),
        (CONFIG_PATH, config, _why("config")),
    ]
    if options.with_report or options.report_issue is not None:
        files.append(
            (REPORT_PATH, _jinja_render("report-workflow.yml.j2", **values), _why("report"))
        )
    return files


def repository_root(path: Path) -> Path:
    """`path` itself when it is the root of a git repository (a `.git` directory, or the
    `.git` file of a worktree or submodule); otherwise one clear error."""
    path = path.expanduser()
    if not path.exists():
        raise BadInput(message("init", "path_missing", path=path))
    if not path.is_dir():
        raise BadInput(message("init", "not_a_directory", path=path))
    path = path.resolve()
    if (path / ".git").exists():
        return path
    for parent in path.parents:
        if (parent / ".git").exists():
            raise BadInput(message("init", "not_at_root", path=path, parent=parent))
    raise BadInput(message("init", "not_a_git_repository", path=path))


def plan(root: Path, options: Options, *, force: bool = False) -> list[PlannedFile]:
    planned = []
    for rel, content, why in render_files(options):
        target = root / rel
        if not target.exists():
            status = Status.create
        elif not target.is_file():
            raise BadInput(message("init", "not_a_file", path=rel))
        else:
            try:
                existing = target.read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError):
                existing = None
            if existing == content:
                status = Status.unchanged
            else:
                status = Status.overwrite if force else Status.kept
        planned.append(PlannedFile(rel, content, status, why))
    return planned


def kept_notes(planned: list[PlannedFile]) -> list[str]:
    """One line per file that differs and was left as it is."""
    return [
        message("init", "kept", path=p.path, form=p.path == FORM_PATH)
        for p in planned
        if p.status is Status.kept
    ]


def _nearest_existing(path: Path) -> Path:
    while not path.exists():
        path = path.parent
    return path


def check_writable(root: Path, planned: list[PlannedFile]) -> None:
    for p in planned:
        if p.status is Status.unchanged:
            continue
        target = root / p.path
        where = target if target.exists() else _nearest_existing(target.parent)
        if not os.access(where, os.W_OK):
            raise BadInput(
                message("init", "cannot_write", path=p.path, reason=where, read_only=True)
            )


def write(root: Path, planned: list[PlannedFile]) -> list[PlannedFile]:
    """Write what changed (create / overwrite); returns the files written."""
    written = []
    for p in planned:
        if p.status not in (Status.create, Status.overwrite):
            continue
        target = root / p.path
        tmp = target.with_name(f".{target.name}.billingops-tmp")
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            tmp.write_text(p.content, encoding="utf-8")
            os.replace(tmp, target)
        except OSError as exc:
            with contextlib.suppress(OSError):
                tmp.unlink(missing_ok=True)
            raise BadInput(
                message(
                    "init",
                    "cannot_write",
                    path=p.path,
                    reason=exc.strerror or exc,
                    read_only=False,
                )
            ) from None
        written.append(p)
    return written
