"""SPEC §8 start-up: whole-process wall time of the console script, and lazy SDK imports.

Each run is a fresh subprocess of the installed `billingops` console script (the file pip
wrote into the venv's bin/, run by the venv's Python), with a minimal environment, timed
from spawn to exit. Warm file-system cache and compiled bytecode, as on a runner after
`pip install` (pip compiles .pyc files at install time).

- `--help`
- `handle` on an ignored event: a `push` event file (`GITHUB_EVENT_NAME=push`), which
  routes to "ignored" before any gateway is built.
- the bare interpreter (`python -c pass`), for scale.

The import check runs each command once more under `python -X importtime` and reads the
modules imported: neither `stripe` nor `github` (nor their submodules) may appear. The
slowest imports by cumulative time are listed, so a regression shows where it comes from.
"""

from __future__ import annotations

import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

TARGET_HELP = 0.3
HEAVY = ("stripe", "github")


@dataclass(frozen=True)
class Timing:
    name: str
    argv: tuple[str, ...]
    runs: list[float]
    cpu: list[float]  # user + system CPU seconds of each child

    @property
    def median(self) -> float:
        return statistics.median(self.runs)

    @property
    def median_cpu(self) -> float:
        return statistics.median(self.cpu)


@dataclass(frozen=True)
class Imports:
    name: str
    heavy: list[str]  # top-level heavy packages imported
    count: int  # modules imported
    top: list[tuple[int, str]]  # (cumulative µs, module), three tree levels, slowest first


@dataclass(frozen=True)
class StartupReport:
    timings: list[Timing]
    imports: list[Imports]


def console_script() -> Path:
    """The `billingops` script next to this interpreter (the venv's bin/)."""
    script = Path(sys.executable).parent / "billingops"
    if not script.exists():
        raise SystemExit(f"{script} not found: install the package (pip install -e .)")
    return script


def _env(extra: dict[str, str]) -> dict[str, str]:
    base = {k: os.environ[k] for k in ("PATH", "HOME", "LANG", "TMPDIR") if k in os.environ}
    return {**base, **extra}


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _time(argv: Sequence[str], env: dict[str, str], runs: int) -> tuple[list[float], list[float]]:
    """(wall seconds, CPU seconds) per run."""
    wall, cpu = [], []
    for _ in range(runs):
        cpu_before = _cpu()
        start = time.perf_counter()
        done = subprocess.run(argv, env=env, capture_output=True, check=False)
        wall.append(time.perf_counter() - start)
        cpu.append(_cpu() - cpu_before)
        if done.returncode != 0:
            raise SystemExit(f"{' '.join(argv)} exited {done.returncode}: {done.stderr[-500:]!r}")
    return wall, cpu


def _imports(name: str, argv: Sequence[str], env: dict[str, str]) -> Imports:
    done = subprocess.run(
        [sys.executable, "-X", "importtime", *argv], env=env, capture_output=True, check=True
    )
    rows: list[tuple[int, int, str]] = []  # (depth, cumulative µs, module)
    for line in done.stderr.decode(errors="replace").splitlines():
        if not line.startswith("import time:") or line.count("|") != 2:
            continue
        _, cumulative, raw = line.split(":", 1)[1].split("|")
        if cumulative.strip().isdigit():
            depth = len(raw) - len(raw.lstrip())  # importtime indents nested imports
            rows.append((depth, int(cumulative), raw.strip()))
    modules = {m for _, _, m in rows}
    heavy = sorted(h for h in HEAVY if any(m == h or m.startswith(h + ".") for m in modules))
    # The first three levels of the import tree, slowest first (cumulative time).
    outer = min((d for d, _, _ in rows), default=0)
    top = sorted(((us, m) for d, us, m in rows if d <= outer + 4), reverse=True)[:12]
    return Imports(name, heavy, len(modules), top)


def run(*, runs: int = 20, progress: Callable[[str], None] = lambda _: None) -> StartupReport:
    script = str(console_script())
    python = sys.executable
    with tempfile.TemporaryDirectory() as tmp:
        event = Path(tmp, "push.json")
        event.write_text(json.dumps({"ref": "refs/heads/main", "commits": []}), "utf-8")
        plain = _env({})
        push = _env({"GITHUB_EVENT_NAME": "push", "GITHUB_EVENT_PATH": str(event)})
        commands = [
            ("python -c pass", (python, "-c", "pass"), plain),
            ("billingops --help", (script, "--help"), plain),
            ("billingops handle (push event, ignored)", (script, "handle"), push),
        ]
        timings = []
        for name, argv, env in commands:
            progress(f"start-up: {name} x{runs}")
            _time(argv, env, 2)  # warm the file-system cache
            timings.append(Timing(name, argv, *_time(argv, env, runs)))
        progress("start-up: import check")
        imports = [
            _imports("billingops --help", (script, "--help"), plain),
            _imports("billingops handle (push event, ignored)", (script, "handle"), push),
        ]
    return StartupReport(timings, imports)


def markdown(report: StartupReport) -> str:
    base = report.timings[0].median
    lines = [
        "## Start-up (SPEC §8)",
        "",
        f"Whole-process wall time of the installed console script, {len(report.timings[0].runs)} "
        "runs each (subprocess, spawn to exit, minimal environment, warm cache and "
        "bytecode); median, with min–max. CPU = user + system time of the process, which "
        "other load on the machine inflates much less than wall time (load average in the "
        "machine section).",
        "",
        "| command | median | min–max | CPU (median) | over bare Python |",
        "|---|---:|---:|---:|---:|",
    ]
    for t in report.timings:
        lines.append(
            f"| `{t.name}` | {t.median * 1000:.0f} ms | {min(t.runs) * 1000:.0f}–"
            f"{max(t.runs) * 1000:.0f} ms | {t.median_cpu * 1000:.0f} ms | {t.median / base:.1f}× "
            f"(+{(t.median - base) * 1000:.0f} ms) |"
        )
    help_ = report.timings[1]
    ok = help_.median < TARGET_HELP
    lines += [
        "",
        f"- `billingops --help` < {TARGET_HELP * 1000:.0f} ms: {help_.median * 1000:.0f} ms — "
        + ("met" if ok else "**missed**"),
    ]
    for imp in report.imports:
        verdict = "none — met" if not imp.heavy else f"**{', '.join(imp.heavy)} — missed**"
        lines.append(
            f"- `{imp.name}` imports `stripe` / `github` (`-X importtime`, {imp.count} "
            f"modules): {verdict}"
        )
    lines += [
        "",
        "Slowest imports of `billingops --help` (first three levels of the import tree, "
        "cumulative, one `-X importtime` run, which inflates times):",
        "",
    ]
    lines += [f"- `{m}`: {us / 1000:.1f} ms" for us, m in report.imports[0].top]
    lines.append("")
    return "\n".join(lines)
