"""`billingops doctor`: every check of a support repository's set-up, with the fix.

Reads only, except with `fix=True` (creates missing labels). This module is the order of
the checklist: the config, the Stripe half (`stripe_checks.py`), the workflow files and
the approval gate (`gate.py`), the GitHub half (`github_checks.py`); the Stripe and GitHub
halves run side by side.
"""

from __future__ import annotations

from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from billingops.config import Config, Environment, load_config
from billingops.errors import ConfigError
from billingops.onboarding import gate
from billingops.onboarding.checks import Check, Texts, fail, passed
from billingops.onboarding.github_checks import github_checks
from billingops.onboarding.stripe_checks import stripe_checks

_check = Texts("doctor")


def config_check(env: Environment, cwd: Path) -> tuple[Check, Config]:
    path = env.config_path
    resolved = Path(path) if Path(path).is_absolute() else cwd / path
    try:
        config = load_config(path, cwd=cwd, required=env.config_required)
    except ConfigError as exc:
        required_missing = env.config_required and not resolved.exists()
        check = _check(
            fail,
            "config",
            "config_invalid",
            error=str(exc),
            required_missing=required_missing,
            path=path,
        )
        return check, Config()
    if not resolved.is_file():
        return _check(passed, "config", "config_absent", path=path), config
    return _check(passed, "config", "config_valid", path=path), config


def run(env_map: Mapping[str, str], cwd: Path, *, fix: bool = False) -> list[Check]:
    env = Environment.from_mapping(env_map)
    config_line, config = config_check(env, cwd)
    path = Path(env.config_path)
    root = gate.repository_root(path if path.is_absolute() else cwd / path, cwd)
    workflow, callers = gate.workflow_checks(root)
    with ThreadPoolExecutor(max_workers=2) as pool:
        stripe = pool.submit(stripe_checks, env, config)
        github = pool.submit(github_checks, env, config, fix=fix, callers=callers)
        return [config_line, *stripe.result(), *workflow, *github.result()]
