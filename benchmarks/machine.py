"""The machine a result was measured on."""

from __future__ import annotations

import os
import platform
import sys
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path

PACKAGES = ("billingops", "stripe", "PyGithub", "localstripe", "click", "pydantic")


def _first(path: str, key: str) -> str | None:
    try:
        for line in Path(path).read_text("utf-8", errors="replace").splitlines():
            if line.startswith(key):
                return line.split(":", 1)[1].strip()
    except OSError:
        return None
    return None


def _version(name: str) -> str:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return "not installed"


def describe() -> list[str]:
    """Markdown bullet lines."""
    cpu = _first("/proc/cpuinfo", "model name") or platform.processor() or "unknown CPU"
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    mem = _first("/proc/meminfo", "MemTotal")
    memory = f"{int(mem.split()[0]) / 1024 / 1024:.1f} GiB" if mem else "unknown"
    python = f"{platform.python_implementation()} {platform.python_version()}"
    packages = ", ".join(f"{p} {_version(p)}" for p in PACKAGES)
    return [
        f"- Date: {datetime.now(UTC):%Y-%m-%d %H:%M} UTC",
        f"- CPU: {cpu}; {os.cpu_count()} logical cores ({usable} usable by this process)",
        f"- Memory: {memory}",
        f"- OS: {platform.platform()}",
        f"- Python: {python} ({sys.executable})",
        f"- Packages: {packages}",
        f"- Load average when this section was written (1/5/15 min): {load()}",
    ]


def load() -> str:
    try:
        return " / ".join(f"{x:.2f}" for x in os.getloadavg())
    except OSError:
        return "unknown"
