"""`billingops doctor`: the approval gate around the write key, and the pinned workflow.

What protects `STRIPE_WRITE_KEY` depends on the GitHub plan and the repository's
visibility (README, "The approval gate on your GitHub plan"): an Environment with required
reviewers, an Environment limited to deployment branches, or the label gate alone. The
label gate (SPEC §5, §5a) never depends on the Environment; these checks say which row the
repository is on and fail where the write key is readable outside the Environment.

Two sources, because the tokens differ in what they may see:
- the workflow files of the clone (no token at all): the reusable workflow pinned by a
  full commit SHA, and no job that hands the write key to its steps outside an Environment;
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
from billingops.errors import BillingopsError
from billingops.onboarding.checks import Check, fail, passed, warn

if TYPE_CHECKING:
    from billingops._tracker.github_gateway import GitHubGateway

WRITE_KEY = "STRIPE_WRITE_KEY"
DEFAULT_ENVIRONMENT = "billing-approvals"
_SHA = re.compile(r"^[0-9a-f]{40}$")
_REUSABLE = "/.github/workflows/billingops-reusable.yml"
_TABLE = 'README, "The approval gate on your GitHub plan"'


@dataclass(frozen=True)
class Caller:
    """A job of the clone's workflows that calls billingops' reusable workflow."""

    file: str
    uses: str
    environment: str
    identity: str


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
    """The pin of the reusable workflow, and the write key kept inside an Environment."""
    callers: list[Caller] = []
    exposed: list[str] = []
    for name, doc in _workflows(root):
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
                exposed.append(f"{name} (job {job_id})")
    out: list[Check] = []
    if not callers:
        out.append(
            warn(
                "workflow.pin",
                f"workflow: no workflow in {root / '.github' / 'workflows'} calls billingops' "
                "reusable workflow",
                "run billingops init --workflow-repo OWNER/NAME --ref SHA in this clone",
            )
        )
    for caller in callers:
        out.append(_pin_check(caller))
        out.append(_identity_check(caller))
    if exposed:
        out.append(
            fail(
                "workflow.write_key",
                f"workflow: {', '.join(exposed)} gives {WRITE_KEY} to its steps outside an "
                "Environment: any run of it, on any branch, can read the write key",
                "use the key only in a job with environment: (as the reusable workflow's "
                "apply job does), and keep it as a secret of that Environment",
            )
        )
    return out, callers


def _pin_check(caller: Caller) -> Check:
    target, _, ref = caller.uses.partition("@")
    if caller.uses.startswith(("./", "$/")):
        return passed(
            "workflow.pin", f"workflow: {caller.file} calls the reusable workflow beside it"
        )
    repo = target.split(_REUSABLE)[0]
    if repo.startswith("OWNER/") or "REPLACE" in ref or not _SHA.match(ref):
        what = (
            "a placeholder"
            if repo.startswith("OWNER/") or "REPLACE" in ref
            else f"{ref or 'no ref'}, not a full commit SHA"
        )
        return fail(
            "workflow.pin",
            f"workflow: {caller.file} calls {caller.uses}: {what}; a tag or branch can move "
            "to code that reads your Stripe keys",
            "pin billingops' repository and a 40-character commit SHA: billingops init "
            "--workflow-repo OWNER/NAME --ref SHA --force (git rev-parse HEAD in its clone)",
        )
    return passed("workflow.pin", f"workflow: {caller.file} pins {repo} at {ref[:12]}")


def _identity_check(caller: Caller) -> Check:
    if caller.identity == "app":
        return passed(
            "workflow.identity",
            f"identity: {caller.file} acts as billingops' own GitHub App (a token minted per "
            "job; secrets BILLINGOPS_APP_CLIENT_ID and BILLINGOPS_APP_PRIVATE_KEY)",
        )
    return warn(
        "workflow.identity",
        f"identity: {caller.file} acts as github-actions[bot], the account every workflow "
        "of the repository shares: a comment another workflow posts cannot be told from "
        "billingops' own",
        "give billingops its own GitHub App: billingops init --identity app --force "
        '(README, "billingops\' own identity")',
    )


# ------------------------------------------------------------------------- the gate (API)


def gate_checks(gh: GitHubGateway, config: Config, callers: list[Caller]) -> list[Check]:
    """Which row of the README's table the repository is on, and where the write key is."""
    if config.private_repository is not None:
        return [
            passed(
                "github.gate",
                f"approval gate: the write key belongs to the private desk "
                f"{config.private_repository} (approvals are applied there)",
                f"run billingops doctor in a clone of {config.private_repository} to check it",
            )
        ]
    environment = callers[0].environment if callers else DEFAULT_ENVIRONMENT
    try:
        seen = gh.visibility()
        status, env = gh.environment(environment)
        secret = gh.repository_secret(WRITE_KEY)
    except BillingopsError as exc:
        return [fail("github.gate", f"approval gate: {exc}", "run doctor again")]
    public = (seen.get("visibility") or ("private" if seen.get("private") else "public")) == (
        "public"
    )
    return [
        _environment_check(environment, status, env, public),
        _secret_check(environment, secret),
    ]


def _environment_check(name: str, status: int, env: dict[str, Any] | None, public: bool) -> Check:
    where = "public repository" if public else "private repository"
    if status == 403:
        return warn(
            "github.gate",
            f"approval gate: cannot read the Environment {name} (403: the token needs "
            "Actions: Read; the App's token, with Issues and Metadata only, cannot see it)",
            f"run doctor with your own token to see which row of the table you are on ({_TABLE})",
        )
    if status == 404 or env is None:
        plan = (
            "every GitHub plan offers Environments on a public repository"
            if public
            else "GitHub Free offers no Environment on a private repository; Pro, Team and "
            "Enterprise do"
        )
        return warn(
            "github.gate",
            f"approval gate: no Environment {name} ({where}): the label gate alone "
            f"protects the write key ({plan})",
            f"create the Environment {name} (Settings → Environments) with the secret "
            f"{WRITE_KEY}; {_TABLE}",
        )
    rules = {str(r.get("type")) for r in env.get("protection_rules") or []}
    branches = env.get("deployment_branch_policy")
    if "required_reviewers" in rules:
        logins = [
            str((r.get("reviewer") or {}).get("login") or (r.get("reviewer") or {}).get("slug"))
            for rule in env.get("protection_rules") or []
            if rule.get("type") == "required_reviewers"
            for r in rule.get("reviewers") or []
        ]
        row = "any plan" if public else "GitHub Enterprise"
        return passed(
            "github.gate",
            f"approval gate: Environment {name} has required reviewers ({', '.join(logins)}); "
            f"{where}, {row}: money moves after an approver's label and a reviewer's approval",
        )
    if branches or "branch_policy" in rules:
        return passed(
            "github.gate",
            f"approval gate: Environment {name} is limited to deployment branches, no "
            f"required reviewers ({where}"
            + ("" if public else "; required reviewers on a private repository need GitHub "
               "Enterprise")
            + "): money moves on an approver's label; the write key reaches only runs of "
            "those branches",
            "limit it to the default branch (Deployment branches: Protected branches only, "
            "and protect the default branch)",
        )  # fmt: skip
    return warn(
        "github.gate",
        f"approval gate: Environment {name} has no protection rule ({where}): a run of the "
        "workflow on any branch gets the write key; the label gate alone decides",
        "add required reviewers"
        + (" (public: every plan)" if public else " (private: GitHub Enterprise)")
        + " or limit Deployment branches to protected branches; " + _TABLE,
    )  # fmt: skip


def _secret_check(environment: str, status: int) -> Check:
    if status == 200:
        return fail(
            "github.write_key",
            f"write key: {WRITE_KEY} is a repository secret: any workflow run of this "
            "repository, on any branch, can read it without the Environment",
            f"delete the repository secret and add {WRITE_KEY} to the Environment "
            f"{environment}'s secrets; where your plan has no Environment, see {_TABLE}",
        )
    if status == 403:
        return warn(
            "github.write_key",
            f"write key: cannot see whether {WRITE_KEY} is a repository secret (403: the "
            "token needs Secrets: Read; the App's token cannot see secrets)",
            f"check by hand that {WRITE_KEY} is a secret of the Environment {environment} "
            "only (Settings → Secrets and variables → Actions)",
        )
    return passed("github.write_key", f"write key: {WRITE_KEY} is not a repository secret")


# ----------------------------------------------------------------------------- custom roles


def custom_role_checks(gh: GitHubGateway, config: Config) -> list[Check]:
    """A custom role name counts only once the organisation is seen to define it."""
    if not config.custom_roles:
        return []
    org = gh.repository.split("/")[0]
    built_in = ", ".join(BUILT_IN_ROLES)
    named = ", ".join(config.custom_roles)
    try:
        status, roles = gh.custom_repository_roles(org)
    except BillingopsError as exc:
        return [fail("github.custom_roles", f"custom roles: {exc}", "run doctor again")]
    if status != 200:
        return [
            warn(
                "github.custom_roles",
                f"custom roles: cannot confirm {named} in {org} ({status}: custom repository "
                "roles exist on GitHub Enterprise only, and listing them needs an "
                f"organisation or repository admin's token); GitHub's built-in roles are "
                f"{built_in}",
                "run doctor with an admin's token, or use built-in role names",
            )
        ]
    have = {r.lower() for r in roles}
    missing = [r for r in config.custom_roles if r not in have]
    if missing:
        return [
            fail(
                "github.custom_roles",
                f"custom roles: {', '.join(missing)} is not a custom repository role of {org} "
                f"(it has: {', '.join(roles) or 'none'}; the built-in roles are {built_in})",
                "fix custom_roles, allowed_roles and staff_roles in the config",
            )
        ]
    return [passed("github.custom_roles", f"custom roles: {org} defines {named}")]
