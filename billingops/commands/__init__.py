"""Commands beyond the desk's own (handle, triage, apply): one module each, exposing
`command`. Modules import no SDK at import time, so `billingops --help` stays fast."""

from __future__ import annotations

import importlib

import click

# Add a module's name here when its command works end to end (the README test checks
# that every registered command is documented).
COMMAND_MODULES: list[str] = [
    "demo",
    "sandbox",
    "gaps",
    "init",
    "doctor",
    "live-check",
    "portal",
    "report",
    "audit",
]


def register(group: click.Group) -> None:
    for name in COMMAND_MODULES:
        module = importlib.import_module(f"billingops.commands.{name.replace('-', '_')}")
        group.add_command(module.command)
