"""`billingops doctor`: the approval gate around the write key, and the pinned workflow.

What protects `STRIPE_WRITE_KEY` depends on the GitHub plan and the repository's
visibility (README, "The approval gate on your GitHub plan"): an Environment with required
reviewers, an Environment limited to deployment branches, or the label gate alone. The
label gate (SPEC §5, §5a) never depends on the Environment; these checks say which row the
repository is on and fail where the write key is readable outside the Environment.

Two sources, because the tokens differ in what they may see:
- the workflow files of the clone (no token at all): the reusable workflow (or, on GitHub
  Enterprise Server, billingops' action) pinned by a full commit SHA, and no job that
  hands the write key to its steps outside an Environment;
- GitHub's REST API: `GET /repos/{o}/{r}/environments/{name}` needs Actions: Read and
  `GET /repos/{o}/{r}/actions/secrets/{name}` needs Secrets: Read. The App's token (Issues
  and Metadata only) sees neither: doctor then says what it could not see (a warning).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from billingops.config import BUILT_IN_ROLES, Config
from billingops.core.audience import visibility_shown
from billingops.errors import BillingopsError
from billingops.onboarding.checks import Check, Texts, fail, passed, warn

if TYPE_CHECKING:
    from billingops._tracker.github_gateway import GitHubGateway

WRITE_KEY = "STRIPE_WRITE_KEY"
DEFAULT_ENVIRONMENT = "billing-approvals"
_SHA = re.compile(r"^[0-9a-f]{40}$")
_REUSABLE = "/.github/workflows/billingops-reusable.yml"
# The action's commands that a support repository's workflow runs (triage and apply jobs).
_ACTION_COMMANDS = ("gate", "apply")
_APP_TOKEN_ACTION = "actions/create-github-app-token@"


# The texts of these checks: templates/checks/doctor_gate.txt.j2, one macro per outcome.
_check = Texts("doctor_gate")


@dataclass(frozen=True)
class Caller:
    """A job of the clone's workflows that calls billingops' reusable workflow, or (GitHub
    Enterprise Server, `init --enterprise-server`) a workflow whose jobs call billingops'
    action directly: one Caller per file and pinned ref, however many jobs use it."""

    file: str
    uses: str
    environment: str
    identity: str
    action: bool = False  # calls the action (OWNER/NAME@REF), not the reusable workflow


def repository_root(config_path: Path, cwd: Path) -> Path:
    """The clone doctor looks at: the one whose `.github/` holds the config, else `cwd`."""
    if config_path.parent.name == ".github":
        return config_path.parent.parent
    return cwd


def _workflows(root: Path) -> list[tuple[str, dict[str, Any]]]:
    folder = root / ".github" / "workflows"
    out = []
    for path in sorted([*folder.glob("*.yml"), *folder.glob("*.yaml")]):
        try:
            doc = yaml.safe_load(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, yaml.YAMLError):
            continue
        if isinstance(doc, dict) and isinstance(doc.get("jobs"), dict):
            out.append((f".github/workflows/{path.name}", doc))
    return out


def workflow_checks(root: Path) -> tuple[list[Check], list[Caller]]:
    """The pin of the reusable workflow (or of the action, `init --enterprise-server`), and
    the write key kept inside an Environment."""
    callers: list[Caller] = []
    exposed: list[tuple[str, str]] = []  # (file, job)
    for name, doc in _workflows(root):
        callers += _action_callers(name, doc["jobs"])
        for job_id, job in doc["jobs"].items():
            if not isinstance(job, dict):
                continue
            uses = str(job.get("uses") or "")
            if _REUSABLE in uses:
                with_ = job.get("with")
                given: dict[str, Any] = with_ if isinstance(with_, dict) else {}
                callers.append(
                    Caller(
                        name,
                        uses,
                        str(given.get("environment") or DEFAULT_ENVIRONMENT),
                        str(given.get("identity") or "actions"),
                    )
                )
            # A job that hands the write key to its own steps without an Environment gives
            # it to any run of the workflow, on any branch, without reviewers.
            steps = job.get("steps")
            if steps and not job.get("environment") and f"secrets.{WRITE_KEY}" in str(steps):
                exposed.append((name, str(job_id)))
    out: list[Check] = []
    if not callers:
        folder = root / ".github" / "workflows"
        out.append(_check(warn, "workflow.pin", "no_caller", folder=folder))
    for caller in callers:
        out.append(_pin_check(caller))
        out.append(_identity_check(caller))
    if exposed:
        out.append(
            _check(
                fail,
                "workflow.write_key",
                "write_key_exposed",
                jobs=exposed,
                key=WRITE_KEY,
            )
        )
    return out, callers


def _steps(job: object) -> list[dict[str, Any]]:
    steps = job.get("steps") if isinstance(job, dict) else None
    return [s for s in steps if isinstance(s, dict)] if isinstance(steps, list) else []


def _action_call(step: dict[str, Any]) -> str | None:
    """`uses` of a step that runs billingops' action from another repository (a gate or
    apply job written by `init --enterprise-server`), else None. The action is known by
    its inputs, not its name: a mirror on GitHub Enterprise Server may rename it. `$/` and
    `./` are the reusable workflow's own calls, pinned by whoever calls it."""
    uses = str(step.get("uses") or "")
    given = step.get("with")
    if not uses or uses.startswith(("./", "$/")) or not isinstance(given, dict):
        return None
    if str(given.get("command")) in _ACTION_COMMANDS and "stripe-api-key" in given:
        return uses
    return None


def _environment_name(job: dict[str, Any]) -> str | None:
    env = job.get("environment")
    if isinstance(env, dict):
        env = env.get("name")
    return str(env) if env else None


def _action_callers(file: str, jobs: dict[str, Any]) -> list[Caller]:
    """One Caller per pinned ref of billingops' action in this file."""
    found: dict[str, str | None] = {}  # uses -> the Environment of a job that uses it
    app = False
    for job in jobs.values():
        for step in _steps(job):
            app = app or str(step.get("uses") or "").startswith(_APP_TOKEN_ACTION)
            uses = _action_call(step)
            if uses is not None:
                found[uses] = found.get(uses) or _environment_name(job)
    return [
        Caller(file, uses, env or DEFAULT_ENVIRONMENT, "app" if app else "actions", action=True)
        for uses, env in found.items()
    ]


def _pin_check(caller: Caller) -> Check:
    target, _, ref = caller.uses.partition("@")
    if caller.uses.startswith(("./", "$/")):
        return _check(passed, "workflow.pin", "pin_local", file=caller.file)
    repo = target.split(_REUSABLE)[0]
    if repo.startswith("OWNER/") or "REPLACE" in ref or not _SHA.match(ref):
        return _check(
            fail,
            "workflow.pin",
            "pin_bad",
            file=caller.file,
            uses=caller.uses,
            placeholder=repo.startswith("OWNER/") or "REPLACE" in ref,
            ref=ref,
            enterprise_server=caller.action,
        )
    return _check(passed, "workflow.pin", "pin_ok", file=caller.file, repo=repo, ref=ref[:12])


def _identity_check(caller: Caller) -> Check:
    if caller.identity == "app":
        return _check(passed, "workflow.identity", "identity_app", file=caller.file)
    return _check(warn, "workflow.identity", "identity_actions", file=caller.file)


# ------------------------------------------------------------------------- the gate (API)


def gate_checks(gh: GitHubGateway, config: Config, callers: list[Caller]) -> list[Check]:
    """Which row of the README's table the repository is on, and where the write key is."""
    if config.private_repository is not None:
        return [_check(passed, "github.gate", "gate_in_desk", desk=config.private_repository)]
    environment = callers[0].environment if callers else DEFAULT_ENVIRONMENT
    try:
        seen = gh.visibility()
        status, env = gh.environment(environment)
        secret = gh.repository_secret(WRITE_KEY)
    except BillingopsError as exc:
        return [_check(fail, "github.gate", "gate_unreadable", error=str(exc))]
    shown = visibility_shown(seen)
    public = shown == "public"
    return [
        _environment_check(environment, status, env, public),
        _secret_check(environment, secret),
    ]


def _environment_check(name: str, status: int, env: dict[str, Any] | None, public: bool) -> Check:
    if status == 403:
        return _check(warn, "github.gate", "env_hidden", name=name)
    if status == 404 or env is None:
        return _check(warn, "github.gate", "env_missing", name=name, public=public)
    rules = env.get("protection_rules") or []
    kinds = {str(r.get("type")) for r in rules}
    if "required_reviewers" in kinds:
        reviewers = [
            str((r.get("reviewer") or {}).get("login") or (r.get("reviewer") or {}).get("slug"))
            for rule in rules
            if rule.get("type") == "required_reviewers"
            for r in rule.get("reviewers") or []
        ]
        return _check(
            passed,
            "github.gate",
            "env_reviewers",
            name=name,
            reviewers=reviewers,
            public=public,
        )
    if env.get("deployment_branch_policy") or "branch_policy" in kinds:
        return _check(passed, "github.gate", "env_branches", name=name, public=public)
    return _check(warn, "github.gate", "env_open", name=name, public=public)


def _secret_check(environment: str, status: int) -> Check:
    values: dict[str, Any] = {"key": WRITE_KEY, "environment": environment}
    if status == 200:
        return _check(fail, "github.write_key", "secret_repo", **values)
    if status == 403:
        return _check(warn, "github.write_key", "secret_hidden", **values)
    return _check(passed, "github.write_key", "secret_ok", key=WRITE_KEY)


# ----------------------------------------------------------------------------- custom roles


def custom_role_checks(gh: GitHubGateway, config: Config) -> list[Check]:
    """A custom role name counts only once the organisation is seen to define it."""
    if not config.custom_roles:
        return []
    org = gh.repository.split("/")[0]
    built_in = list(BUILT_IN_ROLES)
    named = config.custom_roles
    try:
        status, roles = gh.custom_repository_roles(org)
    except BillingopsError as exc:
        return [_check(fail, "github.custom_roles", "roles_unreadable", error=str(exc))]
    if status != 200:
        return [
            _check(
                warn,
                "github.custom_roles",
                "roles_unseen",
                named=named,
                org=org,
                status=status,
                built_in=built_in,
            )
        ]
    have = {r.lower() for r in roles}
    missing = [r for r in config.custom_roles if r not in have]
    if missing:
        return [
            _check(
                fail,
                "github.custom_roles",
                "roles_missing",
                missing=missing,
                org=org,
                have=roles,
                built_in=built_in,
            )
        ]
    return [_check(passed, "github.custom_roles", "roles_ok", org=org, named=named)]
