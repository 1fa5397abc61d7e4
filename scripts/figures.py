"""Run the reliability suite and write its figures into SECURITY.md.

    .venv/bin/python scripts/figures.py                    # default suite + quick fuzzing
    .venv/bin/python scripts/figures.py --fuzz 10000       # also the nightly fuzz run
    .venv/bin/python scripts/figures.py --check            # print, do not write

Every number is counted by the tests themselves while they run (tests/reliability/_support.py
`record`, one JSON line per measurement into the file named by BILLINGOPS_FIGURES); this
script only adds them up. It writes nothing when a test failed, so the section never states
more than the last passing run showed. The section sits between two markers in SECURITY.md;
a re-run replaces it and leaves the rest of the file alone.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from collections import defaultdict
from collections.abc import Iterable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
SECURITY = ROOT / "SECURITY.md"
START = "<!-- figures:start (written by scripts/figures.py; do not edit by hand) -->"
END = "<!-- figures:end -->"
HEADING = "## Figures"

Records = list[dict[str, Any]]


def run_suite(fuzz_examples: int, extra: Iterable[str] = ()) -> tuple[int, Records]:
    """Run tests/reliability with the figures file set; (pytest exit code, records)."""
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "figures.jsonl"
        env = dict(os.environ, BILLINGOPS_FIGURES=str(out))
        marker = "not fuzz"
        if fuzz_examples > 0:
            env["BILLINGOPS_FUZZ_EXAMPLES"] = str(fuzz_examples)
            marker = "fuzz or not fuzz"
        cmd = [
            sys.executable,
            "-m",
            "pytest",
            "tests/reliability",
            "-q",
            "-p",
            "no:cacheprovider",
            "-m",
            marker,
            *extra,
        ]
        status = subprocess.run(cmd, cwd=ROOT, env=env, check=False).returncode
        lines = out.read_text(encoding="utf-8").splitlines() if out.exists() else []
    return status, [json.loads(line) for line in lines if line.strip()]


def _sum(records: Records, key: str) -> int:
    return sum(int(r.get(key, 0)) for r in records)


def summarise(records: Records) -> dict[str, Any]:
    by: dict[str, Records] = defaultdict(list)
    for r in records:
        by[str(r["category"])].append(r)
    stripe = by["stripe_fault"]
    github = by["github_fault"]
    redelivery = by["redelivery"]
    concurrency = by["concurrency"]
    hostile = by["hostile"]
    desk = by["hostile_desk"]
    fuzz = by["fuzz"]
    logs = by["log"]
    cli = by["cli_fault"]
    return {
        "stripe_kinds": sorted({str(r["kind"]) for r in stripe}),
        "stripe_flows": sorted({str(r["flow"]) for r in stripe}),
        "stripe_positions": _sum(stripe, "positions"),
        "stripe_runs": _sum(stripe, "runs"),
        "stripe_failed_cleanly": _sum(stripe, "failed_cleanly"),
        "cli_faults": len(cli),
        "github_cases": len(github),
        "github_runs": _sum(github, "runs"),
        "github_duplicated_comments": _sum(github, "duplicated_comments"),
        "deliveries": _sum(redelivery, "deliveries"),
        "concurrent_groups": len(concurrency),
        "concurrent_runs": _sum(concurrency, "runs"),
        "concurrent_modes": sorted({str(r["mode"]) for r in concurrency}),
        "hostile_bodies": _sum(hostile, "bodies"),
        "hostile_renders": _sum(hostile, "renders"),
        "hostile_desk_bodies": _sum(desk, "bodies"),
        "fuzz_examples": _sum(fuzz, "examples"),
        "fuzz_runs": sorted({str(r["run"]) for r in fuzz}),
        "log_kinds": len({str(r["kind"]) for r in logs}),
        "log_records": _sum(logs, "records"),
        "double_actions": sum(
            _sum(by[c], "double_actions") for c in ("stripe_fault", "github_fault")
        )
        + _sum(redelivery, "double_actions")
        + _sum(concurrency, "double_actions"),
        "leaks": _sum(hostile, "leaks") + _sum(desk, "leaks") + _sum(logs, "leaks"),
        "crashes": sum(_sum(by[c], "crashes") for c in ("stripe_fault", "hostile", "hostile_desk"))
        + _sum(cli, "crashes"),
        "problems": sum(_sum(by[c], "problems") for c in by),
        "fuzz_failures": _sum(fuzz, "failures"),
    }


def render(s: dict[str, Any]) -> str:
    kinds = ", ".join(f"`{k}`" for k in s["stripe_kinds"])
    flows = ", ".join(s["stripe_flows"])
    fuzz_runs = " + ".join(s["fuzz_runs"]) or "none"
    rows = [
        (
            "Stripe faults",
            f"{len(s['stripe_kinds'])} kinds ({kinds}) × every request position of "
            f"{len(s['stripe_flows'])} flows ({flows}): {s['stripe_positions']} positions, "
            f"{s['stripe_runs']} faulted runs, each followed by a re-run",
            f"retried or one clean line ({s['stripe_failed_cleanly']} clean failures); "
            "every re-run completed; bot comment whole",
        ),
        (
            "Stripe down through the CLI",
            f"{s['cli_faults']} cases (service down through every retry)",
            "exit 1, one line on stderr, no traceback; `--json` one object",
        ),
        (
            "GitHub faults",
            f"{s['github_cases']} cases (403 secondary rate limit, 404, 410, 422, 502 before "
            f"and after the write, resets, timeouts), {s['github_runs']} runs",
            f"retried where the policy allows, else one line; "
            f"{s['github_duplicated_comments']} duplicated comments",
        ),
        (
            "Redelivery and concurrency",
            f"{s['deliveries']} redelivered events; {s['concurrent_runs']} concurrent "
            f"`apply` runs in {s['concurrent_groups']} groups "
            f"({', '.join(s['concurrent_modes'])})",
            "exactly one refund and one recorded result each time",
        ),
        (
            "Hostile tickets",
            f"{s['hostile_bodies']} corpus bodies ({s['hostile_renders']} comments rendered "
            f"by the pure core), {s['hostile_desk_bodies']} through the desk and fake GitHub",
            "no secret, card, full email, mention, raw HTML, reference or structure escape; "
            "marker decodes",
        ),
        (
            "Fuzzing parse → render",
            f"{s['fuzz_examples']} examples ({fuzz_runs})",
            "same invariants as the corpus",
        ),
        (
            "Log redaction",
            f"{s['log_kinds']} secret kinds × {s['log_records']} records "
            "(message, `%s` args, traceback, library loggers, stack), at DEBUG",
            "nothing readable back",
        ),
    ]
    table = ["| what | how much | what held |", "|---|---|---|"]
    table += [f"| {a} | {b} | {c} |" for a, b, c in rows]
    totals = (
        f"**Double actions: {s['double_actions']}. Leaks: {s['leaks']}. Crashes: {s['crashes']}.**"
    )
    return "\n".join(
        [
            START,
            "",
            "Counted by the reliability suite (`tests/reliability/`) during its last passing "
            "run, and written here by `scripts/figures.py`; re-run it after changing the "
            "suite. Nightly: `scripts/figures.py --fuzz 10000`.",
            "",
            *table,
            "",
            totals,
            "",
            END,
        ]
    )


def write(section: str, path: Path = SECURITY) -> None:
    text = path.read_text(encoding="utf-8") if path.exists() else ""
    if START in text and END in text:
        head, rest = text.split(START, 1)
        _, tail = rest.split(END, 1)
        text = head + section + tail
    else:
        text = text.rstrip("\n") + f"\n\n{HEADING}\n\n{section}\n"
    path.write_text(text, encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    parser.add_argument("--fuzz", type=int, default=0, help="also run N nightly fuzz examples")
    parser.add_argument("--check", action="store_true", help="print the section, write nothing")
    parser.add_argument("--security", type=Path, default=SECURITY, help="file to write")
    args = parser.parse_args(argv)
    status, records = run_suite(args.fuzz)
    summary = summarise(records)
    section = render(summary)
    print(section)
    if status != 0:
        print(f"figures: the suite failed (pytest exit {status}); nothing written", file=sys.stderr)
        return 1
    if summary["double_actions"] or summary["leaks"] or summary["crashes"]:
        print("figures: double actions, leaks or crashes counted; nothing written", file=sys.stderr)
        return 1
    if not args.check:
        write(section, args.security)
        print(f"figures: written to {args.security}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
