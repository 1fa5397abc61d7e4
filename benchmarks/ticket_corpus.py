"""Decision quality on the ticket corpus (SPEC §8, issue #16).

`python -m benchmarks.ticket_corpus` prints the corpus section of benchmarks/RESULTS.md:
accuracy overall, on the tuning three quarters and on the held-out quarter, per language
and per case, and the confusion table; `--write` replaces that section in RESULTS.md (the
full `python -m benchmarks` run includes it too). Also measured, not asserted anywhere:
how long the lexicon takes to import and compile, and intake + classify per ticket.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from tests.core import corpus

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "RESULTS.md"
HEADING = "## Decision quality: the ticket corpus"


def _import_ms() -> float:
    """Median wall time, in a fresh interpreter, of importing the lexicon and compiling it
    (it compiles on first use)."""
    code = "import time; t = time.perf_counter(); import billingops.core.lexicon as x; "
    code += "x.find_cues(''); print(time.perf_counter() - t)"
    runs = [
        float(subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                             check=True, cwd=HERE.parent).stdout)
        for _ in range(5)
    ]  # fmt: skip
    return statistics.median(runs) * 1000


def _per_ticket_ms(tickets: list[corpus.CorpusTicket], rounds: int = 5) -> float:
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        corpus.evaluate(tickets)
        times.append((time.perf_counter() - start) / len(tickets))
    return statistics.median(times) * 1000


# How blind the held-out quarter still is: kept by hand, it is history, not a measurement.
HOLDOUT_HISTORY = (
    "Held-out history: the first evaluation of the held-out quarter (after tuning on the "
    'other three quarters reached 135/135) gave 44/45; the miss, `es-17`, read "no sirve, '
    'cancelen y devuelvan" as a negated refund because the negation window crossed a '
    'comma. The same bug turns "No refund needed, please cancel" into no request at '
    "all, so it was fixed (negation stops at a comma; a unit test covers it), and `es-17` "
    "is no longer blind. No other held-out ticket was looked at or tuned on.\n\n"
    "First looks, the closest figure to tickets the rules have not seen: each batch was "
    "committed before its first evaluation. Round 1 (160 tickets): 117/120 on its tuning "
    'part (all three misses were "download" read as "down"). Round 2 (20 harder '
    "tickets): 18/20. Round 3 (20 more): 17/20, 4/5 on its held-out part (`pt-20`, kept "
    'as it is); its two tuning misses (`fr-20`: "I cancelled" read as a charge after '
    'cancelling; `nl-20`: "waarom betalen we" not read as a question about the amount) '
    "were fixed. Round 4 (issue 22, 40 tickets, 4 per language: a failure word about "
    "the customer's own business or project next to a cancellation or invoice ask, "
    '"our launch failed", "my startup is broken"; 10 of them held out): written before '
    "the lexicon or the rules were read and committed before its first evaluation. First "
    "look: **29/40** (tuning part 23/30, held-out part 6/10); 9 misses read the failure "
    "word as a product failure next to the ask (a human decides), 2 (`it-24`, `pl-24`) as "
    'a product failure with a refund, because "niente rimborso" and "zwrot nie jest '
    'potrzebny" are not read as negated. The fix is one rule, not phrases: a failure '
    "word within three words (CJK: eight characters) after the customer's own business, "
    "project or plans in the same clause (`OWN_AFFAIRS`, one list of about twenty nouns per "
    "language written from general vocabulary: company, shop, project, launch, "
    "fundraising, sales, exam...) does not count as a product failure, unless the words "
    'between point at the product ("your", "app", "page"...) or the failure word '
    'is about not being able to use or reach something ("our company can\'t log in"). '
    "Unit tests cover both sides with sentences not in the batch. The noun lists contain "
    "the batch's nouns (they were seen), so the batch is no longer blind; the negation "
    "gaps of `it-24` and `pl-24` were not fixed (the new rule makes both right, for the "
    "right reason: the refund is still read and said). Final: 40/40.\n\n"
    "Caveat: the corpus, the lexicon and the rules were written by one engineer in one "
    "session, the held-out quarter at the same time as the rest. Holding it out guards "
    "against tuning, not against a blind spot the tickets and the lexicon share; tickets "
    "from real customers, added here with their billing situation, are the real test."
)


def section(*, timings: bool = True) -> list[str]:
    tickets = corpus.load()
    lines = corpus.markdown(corpus.evaluate(tickets))
    lines += [HOLDOUT_HISTORY, ""]
    if timings:
        lines += [
            f"Measured on this machine (not asserted in tests): importing the lexicon and "
            f"compiling it (on first use) "
            f"{_import_ms():.0f} ms (median of 5 fresh interpreters); intake + "
            f"classify {_per_ticket_ms(tickets):.1f} ms per ticket (median of 5 passes); "
            f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores (shared).",
            "",
        ]
    return lines


def verdict() -> str:
    outcomes = corpus.evaluate(corpus.load())
    right, total = corpus.accuracy(outcomes)
    worst = min(
        corpus.accuracy(o for o in outcomes if o.ticket.lang == lang)[0]
        / max(1, sum(o.ticket.lang == lang for o in outcomes))
        for lang in corpus.LANGUAGES
    )
    left = len(corpus.duplicates_left_running(outcomes))
    ok = right / total >= 0.95 and worst >= 0.9 and left == 0
    return (
        f"- Decision quality: {corpus.pct(right, total)} overall, worst language "
        f"{100 * worst:.1f} %, duplicates left running {left} "
        f"({'met' if ok else '**missed**'}: ≥ 95 %, ≥ 90 % per language, 0)"
    )


def replace_section(text: str, new: list[str]) -> str:
    """`text` with its corpus section replaced by `new` (appended when absent)."""
    lines = text.splitlines()
    start = next((i for i, ln in enumerate(lines) if ln.startswith(HEADING)), None)
    if start is None:
        return text.rstrip("\n") + "\n\n" + "\n".join(new)
    end = next((i for i in range(start + 1, len(lines)) if lines[i].startswith("## ")), len(lines))
    return "\n".join([*lines[:start], *new, *lines[end:]]) + "\n"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.ticket_corpus")
    parser.add_argument("--write", action="store_true", help="replace the section in RESULTS.md")
    args = parser.parse_args(argv)
    lines = section()
    print("\n".join(lines))
    print(verdict())
    if args.write:
        RESULTS.write_text(replace_section(RESULTS.read_text("utf-8"), lines), "utf-8")
        print(f"wrote {RESULTS}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
