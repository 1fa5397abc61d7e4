"""Report scale (SPEC §8, issue 9 item 3): `billingops report`'s listing + aggregation over
1k / 10k / 100k subscriptions served by the local fake list server
(`billingops/sandbox/list_server.py`, a server-enforced limit of 25 and 100 req/s).

    .venv/bin/python -m benchmarks.report_scale            # full: 1k, 10k, 100k; 3 runs
    .venv/bin/python -m benchmarks.report_scale --quick    # 1k and 10k, 1 run (smoke)

Every measurement runs in a fresh child process (so peak RSS means something) that starts
its own server process (so the server's allocations are not counted). Per size and limit:

- wall time, requests, pages, 429s and the server's busiest one-second window (accepted
  requests; the server rejects anything beyond the limit);
- throughput: requests per second and its ratio to the limit (target ≥ 80%);
- memory, in a separate run with tracemalloc on (it slows Python down, so it is not in
  the timed runs): the peak of Python allocations during the listing, and the process's
  peak RSS. The per-subscription join keys live in a temporary sqlite file
  (`billingops/report_store.py`): sqlite's own allocations (its page cache, capped) are
  not seen by tracemalloc but are in the RSS. Flat means neither grows with the number
  of subscriptions (growth reported as bytes per subscription between the two largest
  sizes, where the pages in flight are the same).

Figures are medians of `--runs` runs. Output: a Markdown section on stdout.
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
import time
import tracemalloc
import urllib.request
from collections.abc import Sequence
from typing import Any

SIZES = (1_000, 10_000, 100_000)
QUICK_SIZES = (1_000, 10_000)
LIMITS = (25, 100)


def _start_server(count: int, rate: float) -> tuple[subprocess.Popen[str], str]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "billingops.sandbox.list_server", str(count), str(rate)],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    url = proc.stdout.readline().strip()
    if not url.startswith("http://127.0.0.1:"):
        proc.kill()
        raise RuntimeError(f"list server did not start: {url!r}")
    return proc, url


def one(count: int, rate: float, trace: bool) -> dict[str, Any]:
    """One measurement in this process: list and aggregate `count` subscriptions."""
    from billingops._billing.stripe_gateway import StripeGateway
    from billingops.commands.report import build_report
    from billingops.sandbox.list_server import created_of

    proc, url = _start_server(count, rate)
    try:
        gateway = StripeGateway(
            "sk_test_bench", url, compat=False, clock=lambda: float(created_of(count) + 60)
        )
        if trace:
            tracemalloc.start()
        started = time.perf_counter()
        report, stats = build_report(
            gateway,
            rate_per_second=rate,
            as_of=created_of(count),
            trial_days=7,
            conversion_window_days=31,
            top=20,
        )
        wall = time.perf_counter() - started
        peak = tracemalloc.get_traced_memory()[1] if trace else None
        if trace:
            tracemalloc.stop()
        with urllib.request.urlopen(f"{url}/_stats", timeout=10) as resp:
            server = json.loads(resp.read())
    finally:
        proc.kill()
        proc.wait()
    s = stats.as_dict()
    assert report.scanned == count, (report.scanned, count)
    return {
        "count": count,
        "rate": rate,
        "wall": wall,
        "requests": s["requests"],
        "pages": s["pages"],
        "ranges": s["ranges"],
        "throttled": s["throttled"],
        "server_rejected": server["rejected"],
        "server_max_window": server["max_in_window"],
        "peak_traced": peak,
        "max_rss_kib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
    }


def _child(count: int, rate: float, trace: bool) -> dict[str, Any]:
    args = [sys.executable, "-m", "benchmarks.report_scale", "--one", str(count), str(rate)]
    done = subprocess.run(
        [*args, *(["--trace"] if trace else [])], capture_output=True, text=True, check=True
    )
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def _progress(message: str) -> None:
    print(f"[report-scale] {message}", file=sys.stderr, flush=True)


def _mib(n: float | None) -> str:
    return "—" if n is None else f"{n / 1024 / 1024:.1f} MiB"


def run(sizes: Sequence[int], limits: Sequence[int], runs: int) -> list[str]:
    lines = [
        "## Report scale (SPEC §8)",
        "",
        "`billingops report`'s listing and aggregation against the local fake list server "
        "(`billingops/sandbox/list_server.py`), limit enforced by the server (429 + "
        "Retry-After beyond it). Command: `.venv/bin/python -m benchmarks.report_scale`. "
        f"Medians of {runs} run(s); peak RSS is the median of the timed runs; peak traced "
        "(Python allocations) from one extra run with tracemalloc.",
        "",
        "| Subscriptions | Limit (req/s) | Wall | Requests (pages) | Req/s | of limit "
        "| Subs/s | 429s | Busiest 1 s (server) | Peak traced | Peak RSS | RSS (traced run) |",
        "|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|",
    ]
    peaks: dict[tuple[int, int], int] = {}
    rss: dict[tuple[int, int], int] = {}
    ratios: list[float] = []
    for rate in limits:
        for count in sizes:
            timed = []
            for n in range(runs):
                _progress(f"{count} subscriptions at {rate} req/s, run {n + 1}/{runs}")
                timed.append(_child(count, rate, trace=False))
            _progress(f"{count} subscriptions at {rate} req/s, tracemalloc run")
            traced = _child(count, rate, trace=True)
            wall = statistics.median(r["wall"] for r in timed)
            reqs = statistics.median(r["requests"] for r in timed)
            pages = statistics.median(r["pages"] for r in timed)
            per_s = statistics.median(r["requests"] / r["wall"] for r in timed)
            ratios.append(per_s / rate)
            throttled = statistics.median(r["throttled"] for r in timed)
            busiest = max(r["server_max_window"] for r in timed)
            peaks[(count, rate)] = traced["peak_traced"]
            rss[(count, rate)] = statistics.median(r["max_rss_kib"] * 1024 for r in timed)
            lines.append(
                f"| {count:,} | {rate} | {wall:.1f} s | {reqs:.0f} ({pages:.0f}) | "
                f"{per_s:.1f} | {per_s / rate:.0%} | {count / wall:,.0f} | {throttled:.0f} | "
                f"{busiest} | {_mib(traced['peak_traced'])} | "
                f"{_mib(rss[(count, rate)])} | {_mib(traced['max_rss_kib'] * 1024)} |"
            )
    lines.append("")
    ordered = sorted(sizes)
    small, mid, large = ordered[0], ordered[-2] if len(ordered) > 1 else ordered[0], ordered[-1]
    for rate in limits:
        a, m, b = peaks[(small, rate)], peaks[(mid, rate)], peaks[(large, rate)]
        ra, rm, rb = (rss[(n, rate)] for n in (small, mid, large))
        per_sub = (b - m) / max(large - mid, 1)
        rss_per_sub = (rb - rm) / max(large - mid, 1)
        lines.append(
            f"- Memory at {rate} req/s: peak traced {_mib(a)} / {_mib(m)} / {_mib(b)} and "
            f"peak RSS {_mib(ra)} / {_mib(rm)} / {_mib(rb)} for {small:,} / {mid:,} / "
            f"{large:,} subscriptions; from {mid:,} to {large:,}: {per_sub:+.0f} bytes "
            f"(traced) and {rss_per_sub:+.0f} bytes (RSS) per subscription. The join keys "
            "are in a temporary sqlite file; what is left is bounded by the pages in "
            "flight (one per worker plus the queue), reached from ~10k on."
        )
    lines.append(
        f"- Throughput: {min(ratios):.0%}–{max(ratios):.0%} of the rate limit in requests/s "
        "(target ≥ 80%). The busiest one-second window the server accepted never exceeds "
        "the limit (it rejects beyond it); 429s are the client's pacing meeting the "
        "server's window edge, each one backed off and retried."
    )
    lines.append("")
    return lines


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.report_scale")
    parser.add_argument("--quick", action="store_true", help="1k and 10k, one run")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--one", nargs=2, metavar=("COUNT", "RATE"), help=argparse.SUPPRESS)
    parser.add_argument("--trace", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.one:
        print(json.dumps(one(int(args.one[0]), float(args.one[1]), args.trace)))
        return 0
    sizes = QUICK_SIZES if args.quick else SIZES
    runs = 1 if args.quick else args.runs
    print("\n".join(run(sizes, LIMITS, runs)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
