"""The secrets in the environment, as pasted: a key or token with whitespace around it
(a trailing newline from a secret pasted with one) is used without it, and one line says
so. The value itself is never printed. No heavy import: this runs before every command."""

from __future__ import annotations

from collections.abc import Mapping

# The variables that hold a credential (SPEC §3).
SECRET_VARIABLES = ("STRIPE_API_KEY", "GITHUB_TOKEN")


def trim_secrets(env: Mapping[str, str]) -> tuple[Mapping[str, str], list[str]]:
    """`env` with the secrets' surrounding whitespace removed, and one note per secret
    that had some. A value that is all whitespace is left alone (the checks say it is
    missing); whitespace inside a value is not ours to fix."""
    notes: list[str] = []
    fixed: dict[str, str] = {}
    for name in SECRET_VARIABLES:
        value = env.get(name)
        if value is None or value == value.strip() or not value.strip():
            continue
        fixed[name] = value.strip()
        from billingops.commands.texts import cli_text

        notes.append(cli_text("secret_whitespace", name=name))
    if not fixed:
        return env, notes
    return {**env, **fixed}, notes
