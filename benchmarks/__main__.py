"""`python -m benchmarks`: run the SPEC §8 benchmarks and write benchmarks/RESULTS.md."""

from __future__ import annotations

import argparse
import re
import shlex
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

from benchmarks import machine, public_budget, startup, ticket_corpus, triage_budget

HERE = Path(__file__).resolve().parent
REPORT_SCALE = HERE / "report_scale.py"
ANALYSIS = HERE / "ANALYSIS.md"  # hand-written reading of the figures, appended as is
COMMAND = ".venv/bin/python -m benchmarks"


def _progress(message: str) -> None:
    print(f"[bench] {message}", file=sys.stderr, flush=True)


def report_scale_section(quick: bool) -> list[str]:
    """The report-scale benchmark is its own script (benchmarks/report_scale.py); its
    output is included as it prints it, when the script is there."""
    command = [sys.executable, "-m", "benchmarks.report_scale", *(["--quick"] if quick else [])]
    shown = " ".join([".venv/bin/python", *command[1:]])
    if not REPORT_SCALE.exists():
        return [
            "## Report scale (SPEC §8)",
            "",
            f"TODO: not measured yet; run `{shown}` (benchmarks/report_scale.py) and add "
            "its results here.",
            "",
        ]
    _progress(f"report scale: {shlex.join(command)}")
    done = subprocess.run(command, capture_output=True, text=True, check=False, cwd=HERE.parent)
    if done.returncode != 0:
        return [
            "## Report scale (SPEC §8)",
            "",
            f"TODO: `{shown}` failed (exit {done.returncode}); stderr ends with:",
            "",
            "```",
            *done.stderr.strip().splitlines()[-15:],
            "```",
            "",
        ]
    return [done.stdout.rstrip(), ""]


# Each kind's section heading and summary lines, to keep what a partial run did not measure.
KINDS = {
    "triage": ("## Triage budget", "- Triage"),
    "public": ("## Public mode", "- Public mode"),
    "startup": ("## Start-up", "- Start-up"),
    "report": ("## Report scale", "- Report scale"),
    "corpus": ("## Decision quality", "- Decision quality"),
}


def _sections(text: str) -> list[str]:
    """`text` cut before each `## ` heading (the first piece is what comes before any)."""
    pieces = re.split(r"(?m)^(?=## )", text)
    return [p.rstrip("\n") + "\n" for p in pieces if p.strip()]


def keep_unmeasured(previous: str, text: str, measured: set[str]) -> str:
    """`text` (a run of the `measured` kinds only) with the sections and summary lines of
    every other kind kept from `previous`, and the summary lines no kind writes (e.g. the
    CI time, written by hand): `--only triage` must not drop the corpus floor's figures."""
    old = _sections(previous)
    new = _sections(text)

    def find(pieces: list[str], heading: str) -> str | None:
        return next((p for p in pieces if p.startswith(heading)), None)

    own = tuple(KINDS[k][1] for k in measured)
    others = tuple(line for k, (_, line) in KINDS.items() if k not in measured)
    summary_old = find(old, "## Summary") or ""
    kept_lines = [
        ln
        for ln in summary_old.splitlines()[1:]
        if ln.startswith("- ") and not ln.startswith(own) and ln not in text
    ]
    out: list[str] = []
    for piece in new:
        if piece.startswith("## Summary"):
            lines = [ln for ln in piece.rstrip("\n").split("\n") if ln.strip()]
            extra = [ln for ln in kept_lines if ln.startswith(others)] + [
                ln for ln in kept_lines if not ln.startswith(others)
            ]
            out.append("\n".join([lines[0], "", *lines[1:], *extra]) + "\n")
        elif piece.startswith("## Analysis"):
            for kind, (heading, _) in KINDS.items():
                if kind not in measured and (kept := find(old, heading)) is not None:
                    out.append(kept)
            out.append(piece)
        else:
            out.append(piece)
    if find(new, "## Analysis") is None:
        out += [
            kept
            for kind, (heading, _) in KINDS.items()
            if kind not in measured and (kept := find(old, heading)) is not None
        ]
    return "\n".join(out)


def _options(argv: Sequence[str]) -> str:
    return f" with `{shlex.join(argv)}`" if argv else " (default options)"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    parser.add_argument(
        "--only", choices=("triage", "public", "startup", "report", "corpus"), action="append"
    )
    parser.add_argument("--runs", type=int, default=7, help="triage runs per configuration")
    parser.add_argument("--startup-runs", type=int, default=20)
    parser.add_argument("--latency-ms", type=float, default=100.0)
    parser.add_argument(
        "--quick", action="store_true", help="2 runs each, 50 ms: a smoke run, not a result"
    )
    parser.add_argument(
        "--output",
        type=Path,
        help="default: benchmarks/RESULTS.md; with --quick: standard output only",
    )
    args = parser.parse_args(argv)
    if args.quick:
        args.runs, args.startup_runs, args.latency_ms = 2, 2, 50.0
    only = set(args.only or ("triage", "public", "startup", "report", "corpus"))

    load_before = machine.load()
    sections: list[str] = []
    verdicts: list[str] = []
    if "triage" in only:
        triage = triage_budget.run(
            runs=args.runs, latency=args.latency_ms / 1000, progress=_progress
        )
        sections.append(triage_budget.markdown(triage))
        missed = [what for what, ok, _ in triage_budget.verdicts(triage) if not ok]
        verdicts += [f"- Triage: **missed**: {what}" for what in missed] or [
            "- Triage budget: every target met"
        ]
    if "public" in only:
        _progress("public mode")
        latency = args.latency_ms / 1000
        public = public_budget.run(runs=min(args.runs, 3), latency=latency)
        sections.append("\n".join(public_budget.section(public, latency)))
        verdicts += public_budget.verdicts(public, latency)
    if "startup" in only:
        start = startup.run(runs=args.startup_runs, progress=_progress)
        sections.append(startup.markdown(start))
        help_ok = start.timings[1].median < startup.TARGET_HELP
        lazy = not any(i.heavy for i in start.imports)
        verdicts.append(
            f"- Start-up: `--help` {start.timings[1].median * 1000:.0f} ms "
            f"({'met' if help_ok else '**missed**'}); no stripe/github import: "
            f"{'met' if lazy else '**missed**'}"
        )
    if "report" in only:
        sections.append("\n".join(report_scale_section(args.quick)))
    if "corpus" in only:
        _progress("ticket corpus")
        sections.append("\n".join(ticket_corpus.section()))
        verdicts.append(ticket_corpus.verdict())

    text = "\n".join(
        [
            "# billingops benchmark results",
            "",
            f"Produced by `{COMMAND}`"
            + (" --quick (a smoke run: too few runs to be a result)" if args.quick else "")
            + _options(argv if argv is not None else sys.argv[1:])
            + ".",
            "Nothing here runs in the test suite; everything is on loopback.",
            "",
            "## Machine",
            "",
            *machine.describe(),
            f"- Load average before the benchmarks (1/5/15 min): {load_before}",
            "",
            "## Summary",
            "",
            *verdicts,
            "",
            "\n".join(sections),
            ANALYSIS.read_text("utf-8") if ANALYSIS.exists() else "",
        ]
    )
    output = args.output or (None if args.quick else HERE / "RESULTS.md")
    if output is not None and args.only and output.exists():
        text = keep_unmeasured(output.read_text("utf-8"), text, only)
    if output is None:
        print(text)
    else:
        output.write_text(text, "utf-8")
        _progress(f"wrote {output}")
    print("\n".join(verdicts))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
