"""Public mode (SPEC §5b, issue 22): GitHub requests and sequential rounds of the three runs
a public ticket sees.

- *first public triage*: `PublicDesk.triage` on a new public ticket: read the public thread
  and list the private desk's handoffs, file the handoff issue, triage it in the private
  desk (its own thread read, the Stripe reads, its comment and labels), acknowledge in
  public (reply and labels).
- *unchanged re-run*: the same event delivered again, nothing changed.
- *apply with report-back*: an admin labels the handoff `approve-cancel` and
  `approve-refund`; `HandoffDesk.apply` executes and posts the outcome on the public ticket.

Same stand-ins and proxies as `triage_budget.py` (localstripe, the fake GitHub with the
public repository and the private desk, a `LatencyProxy` in front of each; sandbox request
shape). Per run: the fake's request log (every GitHub request), the Stripe gateway's log,
the waves of the proxy log, and the wall time at latency 0 and L: rounds 0→L =
(median @L − median @0) / L.

`python -m benchmarks.public_budget [--runs N] [--write]`: `--write` replaces its section of
benchmarks/RESULTS.md.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from benchmarks.latency_proxy import waves
from benchmarks.triage_budget import BENCH_TOKEN, Bench, _label, bench
from billingops._billing.stripe_gateway import StripeGateway
from billingops._tracker.github_gateway import GitHubGateway
from billingops.config import Config
from billingops.core.public import handoff_of
from billingops.desk.handoff import HandoffDesk
from billingops.desk.public import PublicDesk
from billingops.models.result import RunResult
from billingops.sandbox.scenarios import seed
from billingops.sandbox.stripe_server import DEFAULT_NOW, SANDBOX_API_KEY, reset_sandbox
from billingops.sandbox.tickets import form_body

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "RESULTS.md"
HEADING = "## Public mode (SPEC §5b, issue 22)"
PUBLIC = "acme/support"
PRIVATE = "acme/billing-desk"
ADMIN = "ada"
SCENARIO = "duplicate_subscriptions"
FLOWS = ("first", "rerun", "apply")
FLOW_TEXT = {
    "first": "first public triage",
    "rerun": "unchanged re-run",
    "apply": "apply with report-back",
}
# The issue's budget for a first public triage.
TARGET_GITHUB = 8
TARGET_ROUNDS = 4


@dataclass(frozen=True)
class Sample:
    flow: str
    latency: float
    wall: float
    github: tuple[str, ...]
    stripe: tuple[str, ...]
    waves: tuple[tuple[str, ...], ...]
    outcome: str


def _gateways(b: Bench) -> tuple[StripeGateway, GitHubGateway]:
    stripe = StripeGateway(
        SANDBOX_API_KEY, b.stripe_proxy.url, compat=True, clock=lambda: float(DEFAULT_NOW)
    )
    github = GitHubGateway(
        BENCH_TOKEN,
        PUBLIC,
        b.github_proxy.url,
        timeout=30,
        backoff_factor=0.0,
        seconds_between_writes=None,
    )
    return stripe, github


def _config() -> Config:
    return Config(private_repository=PRIVATE)


def _handoff(b: Bench, number: int) -> int:
    [found] = [
        n
        for n in b.fake.numbers(repo=PRIVATE)
        if handoff_of(b.fake.issue_json(n, repo=PRIVATE)["body"]) == (PUBLIC, number)
    ]
    return found


def _measure(
    b: Bench,
    flow: str,
    latency: float,
    run: Callable[[StripeGateway, GitHubGateway], RunResult],
) -> Sample:
    b.stripe_proxy.latency = b.github_proxy.latency = latency
    stripe, github = _gateways(b)
    b.fake.reset_requests()
    start = time.perf_counter()
    result = run(stripe, github)
    wall = time.perf_counter() - start
    return Sample(
        flow=flow,
        latency=latency,
        wall=wall,
        github=tuple(f"{r.method} {r.path}" for r in b.fake.requests),
        stripe=tuple(stripe.requests),
        waves=tuple(tuple(_label(e) for e in w) for w in waves(b.log.since(start))),
        outcome=str(result.action),
    )


def once(b: Bench, latency: float) -> list[Sample]:
    """The three runs on one new public ticket, each at `latency`."""
    ticket = seed(b.stripe_url, SCENARIO).ticket
    assert ticket is not None
    number = b.fake.add_issue(
        ticket.title, form_body(ticket), author="customer", labels=("billing",)
    )
    payload = b.fake.issue_json(number)

    def triage(stripe: StripeGateway, github: GitHubGateway) -> RunResult:
        return PublicDesk(stripe, github, _config(), PUBLIC).triage(payload)

    first = _measure(b, "first", latency, triage)
    rerun = _measure(b, "rerun", latency, triage)
    handoff = _handoff(b, number)
    b.fake.advance(60)  # the admin reads the plan for a minute, then approves
    b.fake.label_issue(handoff, "approve-cancel", actor=ADMIN, repo=PRIVATE)
    b.fake.label_issue(handoff, "approve-refund", actor=ADMIN, repo=PRIVATE)

    def apply(stripe: StripeGateway, github: GitHubGateway) -> RunResult:
        desk = HandoffDesk(stripe, github.for_repository(PRIVATE), _config(), PRIVATE)
        return desk.apply(handoff)

    applied = _measure(b, "apply", latency, apply)
    return [first, rerun, applied]


def run(*, runs: int = 3, latency: float = 0.1) -> list[Sample]:
    samples: list[Sample] = []
    with bench() as b:
        b.fake.add_repo(PUBLIC, visibility="public")
        b.fake.add_repo(PRIVATE)
        b.fake.add_collaborator(ADMIN, "admin", repo=PRIVATE)
        once(b, 0.0)  # warm-up: imports, templates, first connections
        for _ in range(runs):
            for lat in (0.0, latency):
                reset_sandbox(b.stripe_url)  # the apply cancelled and refunded: seed again
                samples += once(b, lat)
    return samples


def _median(samples: list[Sample], flow: str, latency: float) -> float:
    return statistics.median(s.wall for s in samples if s.flow == flow and s.latency == latency)


def _typical(samples: list[Sample], flow: str, latency: float) -> Sample:
    at = sorted(
        (s for s in samples if s.flow == flow and s.latency == latency), key=lambda s: s.wall
    )
    return at[len(at) // 2]


def section(samples: list[Sample], latency: float) -> list[str]:
    runs = sum(s.flow == "first" and s.latency == latency for s in samples)
    lines = [
        HEADING,
        "",
        f"Produced by `.venv/bin/python -m benchmarks.public_budget --write` ({runs} runs per "
        f"flow and latency, L = {latency * 1000:.0f} ms added per request to Stripe and GitHub, "
        "sandbox request shape). A public support repository (`acme/support`) with its "
        "private desk (`acme/billing-desk`), one new ticket per run of the "
        f"`{SCENARIO}` scenario. GitHub requests: the fake's log (both repositories). "
        "*waves*: the request chain depth from the proxy log (Stripe and GitHub); *rounds "
        "0→L*: (median wall @L − median wall @0) / L.",
        "",
        "| flow | GitHub req | Stripe req | wall @0 | wall @L | rounds 0→L | waves | outcome |",
        "|---|---:|---:|---:|---:|---:|---:|---|",
    ]
    for flow in FLOWS:
        t = _typical(samples, flow, latency)
        w0, wl = _median(samples, flow, 0.0), _median(samples, flow, latency)
        gh = sorted({len(s.github) for s in samples if s.flow == flow})
        wv = sorted({len(s.waves) for s in samples if s.flow == flow and s.latency == latency})
        lines.append(
            f"| {FLOW_TEXT[flow]} | {'/'.join(map(str, gh))} | {len(t.stripe)} | "
            f"{w0 * 1000:.0f} ms | {wl * 1000:.0f} ms | {(wl - w0) / latency:.2f} | "
            f"{'/'.join(map(str, wv))} | {t.outcome} |"
        )
    lines += [
        "",
        "Budget (issue 22), first public triage:",
        "",
        *verdicts(samples, latency),
        "",
        "Where the requests go (the median run @L):",
        "",
    ]
    for flow in FLOWS:
        t = _typical(samples, flow, latency)
        lines.append(f"{FLOW_TEXT[flow]}:")
        lines.append("")
        for i, wave in enumerate(t.waves, 1):
            counted: dict[str, int] = {}
            for r in wave:
                counted[r] = counted.get(r, 0) + 1
            parts = [f"`{r}`" + (f" ×{n}" if n > 1 else "") for r, n in counted.items()]
            lines.append(f"{i}. " + ", ".join(parts))
        lines.append("")
    return lines


def verdicts(samples: list[Sample], latency: float) -> list[str]:
    """The budget lines of a first public triage: the worst run of each measure."""
    first = [s for s in samples if s.flow == "first"]
    gh_max = max(len(s.github) for s in first)
    waves_max = max(len(s.waves) for s in first if s.latency == latency)
    ok_gh, ok_rounds = gh_max <= TARGET_GITHUB, waves_max <= TARGET_ROUNDS
    return [
        f"- Public mode, first public triage: GitHub requests ≤ {TARGET_GITHUB}: {gh_max} — "
        f"{'met' if ok_gh else '**missed**'}",
        f"- Public mode, first public triage: sequential rounds ≤ {TARGET_ROUNDS}: "
        f"{waves_max} waves — {'met' if ok_rounds else '**missed**'}",
    ]


def replace_section(text: str, new: list[str]) -> str:
    lines = text.splitlines()
    start = next((i for i, ln in enumerate(lines) if ln.startswith(HEADING)), None)
    if start is None:
        return text.rstrip("\n") + "\n\n" + "\n".join(new) + "\n"
    end = next((i for i in range(start + 1, len(lines)) if lines[i].startswith("## ")), len(lines))
    return "\n".join([*lines[:start], *new, *lines[end:]]) + "\n"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.public_budget")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--latency-ms", type=float, default=100.0)
    parser.add_argument("--write", action="store_true", help="replace the section in RESULTS.md")
    args = parser.parse_args(argv)
    latency = args.latency_ms / 1000
    lines = section(run(runs=args.runs, latency=latency), latency)
    print("\n".join(lines))
    if args.write:
        RESULTS.write_text(replace_section(RESULTS.read_text("utf-8"), lines), "utf-8")
        print(f"wrote {RESULTS}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
