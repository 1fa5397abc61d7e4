"""SPEC §8 triage budget: requests per triage and sequential round trips.

Set-up (all loopback): localstripe (`StripeServer`) and the fake GitHub (`FakeGitHub`),
each behind a `LatencyProxy`. A scenario is seeded once (triage never writes to Stripe);
each run files a fresh issue with the scenario's suggested ticket and triages it with new
gateways, so every run starts from "no billingops comment yet" (the first triage: list
comments, create comment, add label).

Measured per run: the gateways' own request logs (`StripeGateway.requests`, every HTTP
attempt; `FakeGitHub.requests`), the wall time of `Desk.triage` through the proxies at
latency 0 and at latency L, and the proxy log (for the waves).

- round trips = (median wall at L − median wall at 0) / L (both through the proxy).
- waves: the request chain depth from the proxy log (see `latency_proxy.waves`).

Two implementations make the same calls:

- `desk`: the real `Desk` and gateways (comment listing overlapped with the Stripe lookup,
  reads issued concurrently, comment and labels written concurrently).
- `naive`: the same `Desk` code and gateway methods with all concurrency removed: the
  gateway's `_concurrently` runs tasks one after another and the desk's pool runs each
  submitted call at once. Same requests, in sequence: the baseline for the ratio.

Two request shapes for Stripe:

- `sandbox`: the gateway as it runs against localstripe (`compat` mode: one shared
  customer page instead of the Search API, no billing portal read, no `payments` expand).
- `production`: the gateway in production mode (`compat=False`), i.e. the requests it
  makes against api.stripe.com. localstripe lacks three of them, so the Stripe proxy's
  `StripeProductionShim` answers `GET /v1/customers/search` (from one customer page,
  case-insensitively, as Stripe's search matches) and `GET /v1/billing_portal/
  configurations` (one active default configuration), and strips the `.payments` expansion
  localstripe rejects. Each shimmed request still crosses the proxy once (same latency).

The GitHub gateway runs with `seconds_between_writes=None`: in production it is 1 s (GitHub
asks integrators to space writes), which PyGithub enforces by sleeping before a write
that follows another write within a second. In a first triage the two writes (comment,
labels) are issued concurrently right after reads, so the pause could add up to 1 s of
wall time that is not a round trip; it is left out to measure round trips only.
"""

from __future__ import annotations

import json
import re
import statistics
import time
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field, replace
from typing import Any, ParamSpec, TypeVar
from urllib.parse import parse_qsl, urlencode, urlsplit

from benchmarks.latency_proxy import Answer, Forward, LatencyProxy, ProxiedRequest, ProxyLog, waves
from billingops._billing.stripe_gateway import StripeGateway
from billingops._tracker.github_gateway import GitHubGateway
from billingops.config import Config
from billingops.desk import Desk
from billingops.sandbox.fake_github import FakeGitHub
from billingops.sandbox.scenarios import SuggestedTicket, seed
from billingops.sandbox.stripe_server import (
    DEFAULT_NOW,
    SANDBOX_API_KEY,
    StripeServer,
    reset_sandbox,
)
from billingops.sandbox.tickets import form_body

SHAPES = ("sandbox", "production")
IMPLS = ("desk", "naive")
TARGET_STRIPE = 6
TARGET_GITHUB = 4
TARGET_GITHUB_NEW_GAP = 5  # SPEC §8: one more when the triage files a new product gap
TARGET_ROUNDS = 3
BENCH_TOKEN = "ghp_" + "B3nch" * 8  # the fake GitHub is started without a token check

T = TypeVar("T")
P = ParamSpec("P")


# ---------------------------------------------------------------------------------------
# The naive implementation: same calls, no concurrency


class InlineExecutor(ThreadPoolExecutor):
    """An executor that runs each submitted call at once, in the caller's thread."""

    def submit(self, fn: Callable[P, T], /, *args: P.args, **kwargs: P.kwargs) -> Future[T]:
        future: Future[T] = Future()
        try:
            future.set_result(fn(*args, **kwargs))
        except BaseException as exc:
            future.set_exception(exc)
        return future


class SequentialStripeGateway(StripeGateway):
    """The Stripe gateway with its concurrent fan-out replaced by a plain loop."""

    def _concurrently(self, tasks: list[Callable[[], T]]) -> list[T]:
        return [task() for task in tasks]


# ---------------------------------------------------------------------------------------
# What localstripe lacks of the production request shape


_EMAIL_QUERY = re.compile(r'^email:"((?:[^"\\]|\\.)*)"$')
_METADATA_QUERY = re.compile(r'^metadata\["((?:[^"\\]|\\.)*)"\]:"((?:[^"\\]|\\.)*)"$')
_PORTAL_CONFIGURATION = {
    "id": "bpc_benchmark",
    "object": "billing_portal.configuration",
    "active": True,
    "is_default": True,
    "features": {
        "subscription_cancel": {"enabled": True},
        "invoice_history": {"enabled": True},
        "payment_method_update": {"enabled": True},
    },
    "login_page": {"enabled": False, "url": None},
}


def _unquote(value: str) -> str:
    return re.sub(r"\\(.)", r"\1", value)


def _list(data: list[Any], url: str, kind: str = "list") -> Answer:
    body = {"object": kind, "data": data, "has_more": False, "url": url}
    return Answer(200, json.dumps(body).encode())


def stripe_production_shim(method: str, path: str, forward: Forward) -> Answer | str | None:
    """`latency_proxy.Responder` standing in for the Stripe endpoints localstripe lacks."""
    parts = urlsplit(path)
    query = parse_qsl(parts.query, keep_blank_values=True)
    if method == "GET" and parts.path == "/v1/customers/search":
        q = dict(query).get("query", "")
        expand = [(k, v) for k, v in query if k.startswith("expand")]
        status, body = forward("GET", "/v1/customers?" + urlencode([("limit", "100"), *expand]))
        customers = json.loads(body).get("data", []) if status == 200 else []
        if m := _EMAIL_QUERY.match(q):
            wanted = _unquote(m[1]).casefold()
            found = [c for c in customers if str(c.get("email") or "").casefold() == wanted]
        elif m := _METADATA_QUERY.match(q):
            key, value = _unquote(m[1]), _unquote(m[2])
            found = [c for c in customers if (c.get("metadata") or {}).get(key) == value]
        else:
            found = []
        return _list(found, parts.path, "search_result")
    if method == "GET" and parts.path == "/v1/billing_portal/configurations":
        return _list([_PORTAL_CONFIGURATION], parts.path)
    if method == "GET" and any(_unsupported(v) for k, v in query if k.startswith("expand")):
        fixed = [(k, _supported(v)) for k, v in query]
        kept = [(k, v) for k, v in fixed if v]
        return f"{parts.path}?{urlencode(kept)}"
    return None


# Expansions of the production requests that localstripe's older API lacks (issue 15):
# invoice payments, the subscription's own card, its coupons.
_LOCALSTRIPE_LACKS = (".payments", "data.payments", "data.default_payment_method",
                      "data.discounts.source.coupon")  # fmt: skip


def _unsupported(value: str) -> bool:
    return any(value.endswith(e) for e in _LOCALSTRIPE_LACKS)


def _supported(value: str) -> str:
    """The expansion as localstripe can serve it ("" to drop it)."""
    if value in _LOCALSTRIPE_LACKS[1:]:
        return ""
    return value.removesuffix(".payments")


# ---------------------------------------------------------------------------------------
# Runs


FLOWS = ("first", "new_gap", "retriage")
FLOW_TEXT = {
    "first": "first triage",
    "new_gap": "first triage filing a new gap",
    "retriage": "re-triage after needs-info",
}


@dataclass(frozen=True)
class Sample:
    scenario: str
    flow: str
    shape: str
    impl: str
    latency: float
    wall: float
    stripe: tuple[str, ...]
    github: tuple[str, ...]
    waves: tuple[tuple[str, ...], ...]
    outcome: str


@dataclass
class Cell:
    """All runs of one scenario x flow x shape x implementation, by added latency."""

    scenario: str
    flow: str
    shape: str
    impl: str
    latency: float  # L; runs are at 0, L and 2L
    by_latency: dict[float, list[Sample]] = field(default_factory=dict)

    def median(self, latency: float) -> float:
        return statistics.median(s.wall for s in self.by_latency[latency])

    @property
    def rounds(self) -> float:
        """(median at L - median at 0) / L: the issue's definition."""
        return (self.median(self.latency) - self.median(0.0)) / self.latency

    @property
    def slope(self) -> float:
        """(median at 2L - median at L) / L: the same, with latency on both sides, so
        client and server work that overlaps a wait does not shorten it."""
        return (self.median(2 * self.latency) - self.median(self.latency)) / self.latency

    @property
    def samples(self) -> list[Sample]:
        return [s for runs in self.by_latency.values() for s in runs]

    def counts(self, which: str) -> list[int]:
        return sorted({len(getattr(s, which)) for s in self.samples})

    @property
    def wave_counts(self) -> list[int]:
        return sorted({len(s.waves) for s in self.by_latency[self.latency]})

    @property
    def typical(self) -> Sample:
        """The run at latency L whose wall time is the median one."""
        ordered = sorted(self.by_latency[self.latency], key=lambda s: s.wall)
        return ordered[(len(ordered) - 1) // 2]

    @property
    def name(self) -> str:
        return f"{self.scenario}, {FLOW_TEXT[self.flow]} ({self.shape})"


@dataclass
class TriageReport:
    latency: float
    runs: int
    cells: list[Cell]

    def cell(self, scenario: str, flow: str, shape: str, impl: str) -> Cell | None:
        key = (scenario, flow, shape, impl)
        return next((c for c in self.cells if (c.scenario, c.flow, c.shape, c.impl) == key), None)


@dataclass
class Bench:
    """The running stand-ins and proxies."""

    stripe_url: str
    fake: FakeGitHub
    stripe_proxy: LatencyProxy
    github_proxy: LatencyProxy
    log: ProxyLog


@contextmanager
def bench() -> Iterator[Bench]:
    log = ProxyLog()
    with ExitStack() as stack:
        server = stack.enter_context(StripeServer())
        fake = stack.enter_context(FakeGitHub("acme/support", actor="github-actions[bot]"))
        stripe_proxy = stack.enter_context(LatencyProxy(server.base_url, name="stripe", log=log))
        github_proxy = stack.enter_context(LatencyProxy(fake.url, name="github", log=log))
        yield Bench(server.base_url, fake, stripe_proxy, github_proxy, log)


_ISSUE_NUMBER = re.compile(r"/(issues|comments)/\d+")


def _normal(request: str) -> str:
    """A request without the per-run issue number and query."""
    return _ISSUE_NUMBER.sub(r"/\1/N", request.split("?", 1)[0])


def _label(e: ProxiedRequest) -> str:
    return _normal(f"{e.upstream} {e.method} {e.path}")


def _gateways(b: Bench, shape: str, impl: str) -> tuple[StripeGateway, GitHubGateway]:
    gateway_class = SequentialStripeGateway if impl == "naive" else StripeGateway
    stripe = gateway_class(
        SANDBOX_API_KEY,
        b.stripe_proxy.url,
        compat=shape == "sandbox",
        clock=lambda: float(DEFAULT_NOW),
    )
    github = GitHubGateway(
        BENCH_TOKEN,
        b.fake.repository,
        b.github_proxy.url,
        timeout=30,
        backoff_factor=0.0,
        seconds_between_writes=None,  # production: 1.0 (see the module docstring)
    )
    return stripe, github


def _desk(
    b: Bench, stripe: StripeGateway, github: GitHubGateway, impl: str, config: Config | None = None
) -> Desk:
    extra: dict[str, Any] = {"_pool": InlineExecutor()} if impl == "naive" else {}
    return Desk(stripe, github, config or Config(), b.fake.repository, **extra)


def _config(b: Bench, flow: str) -> Config:
    """`new_gap`: a backlog repository of its own per run, so the triage finds no gap issue
    and files one (the same requests as a first gap in the support repository: the thread
    read lists the backlog repository's gap issues either way)."""
    if flow != "new_gap":
        return Config()
    backlog = f"acme/backlog-{len(b.fake.numbers()) + 1}"
    b.fake.add_repo(backlog)
    return Config(backlog_repository=backlog)


def _file(b: Bench, ticket: SuggestedTicket, flow: str) -> int:
    """A new issue; for `retriage`, first filed without any identifier, triaged (needs-info),
    then edited by the customer to add the email: the run measured is the next triage."""
    if flow in ("first", "new_gap"):
        body = form_body(ticket)
        return b.fake.add_issue(ticket.title, body, author="customer", labels=("billing",))
    bare = replace(ticket, email=None, stripe_ids=(), github_username=None)
    number = b.fake.add_issue(ticket.title, form_body(bare), author="customer", labels=("billing",))
    b.stripe_proxy.latency = b.github_proxy.latency = 0.0
    stripe, github = _gateways(b, "sandbox", "desk")
    first = _desk(b, stripe, github, "desk").triage(b.fake.issue_json(number))
    assert first.action == "needs_info", first
    github.edit_issue(number, body=form_body(ticket))
    return number


def triage_once(
    b: Bench,
    scenario: str,
    ticket: SuggestedTicket,
    flow: str,
    shape: str,
    impl: str,
    latency: float,
) -> Sample:
    number = _file(b, ticket, flow)
    payload = b.fake.issue_json(number)
    config = _config(b, flow)
    b.stripe_proxy.latency = b.github_proxy.latency = latency
    b.stripe_proxy.responder = stripe_production_shim if shape == "production" else None
    stripe, github = _gateways(b, shape, impl)
    desk = _desk(b, stripe, github, impl, config)
    b.fake.reset_requests()
    start = time.perf_counter()
    result = desk.triage(payload)
    wall = time.perf_counter() - start
    grouped = waves(b.log.since(start))
    case = result.classification.case.value if result.classification else "-"
    return Sample(
        scenario=scenario,
        flow=flow,
        shape=shape,
        impl=impl,
        latency=latency,
        wall=wall,
        stripe=tuple(stripe.requests),
        github=tuple(f"{r.method} {r.path}" for r in b.fake.requests),
        waves=tuple(tuple(_label(e) for e in w) for w in grouped),
        outcome=f"{result.action}/{case}",
    )


# What runs: (scenario, flow). The re-triage is measured on the one-customer scenario.
PLAN = (
    ("duplicate_subscriptions", "first"),
    ("duplicate_across_customers", "first"),
    ("duplicate_subscriptions", "new_gap"),
    ("duplicate_subscriptions", "retriage"),
)


def run(
    *,
    runs: int = 7,
    latency: float = 0.1,
    plan: Sequence[tuple[str, str]] = PLAN,
    shapes: Sequence[str] = SHAPES,
    impls: Sequence[str] = IMPLS,
    progress: Callable[[str], None] = lambda _: None,
) -> TriageReport:
    latencies = (0.0, latency, 2 * latency)
    cells = {
        (sc, fl, sh, im): Cell(sc, fl, sh, im, latency, {lat: [] for lat in latencies})
        for sc, fl in plan
        for sh in shapes
        for im in impls
    }
    current: tuple[str, SuggestedTicket] | None = None
    with bench() as b:
        for scenario, flow in plan:
            if current is None or current[0] != scenario:  # one scenario in the store at a time
                reset_sandbox(b.stripe_url)
                seeded = seed(b.stripe_url, scenario).ticket
                assert seeded is not None
                current = (scenario, seeded)
            ticket = current[1]
            for shape in shapes:  # warm-up: imports, template cache, first connections
                triage_once(b, scenario, ticket, flow, shape, "desk", 0.0)
            # Interleaved, so a slow patch of the machine hits every configuration alike.
            for i in range(runs):
                progress(f"triage {scenario} ({FLOW_TEXT[flow]}): run {i + 1}/{runs}")
                for shape in shapes:
                    for impl in impls:
                        cell = cells[(scenario, flow, shape, impl)]
                        for lat in latencies:
                            sample = triage_once(b, scenario, ticket, flow, shape, impl, lat)
                            cell.by_latency[lat].append(sample)
    return TriageReport(latency, runs, list(cells.values()))


# ---------------------------------------------------------------------------------------
# Markdown


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:.0f} ms"


def _counts(values: list[int]) -> str:
    return "/".join(str(v) for v in values)


def _mark(ok: bool) -> str:
    return "met" if ok else "**missed**"


def verdicts(report: TriageReport) -> list[tuple[str, bool, str]]:
    """(what, met, detail) per configuration, for the desk."""
    out = []
    for c in report.cells:
        if c.impl != "desk":
            continue
        stripe, gh = max(c.counts("stripe")), max(c.counts("github"))
        rounds = max(max(c.wave_counts), round(c.slope), round(c.rounds))
        out.append(
            (f"{c.name}: Stripe requests ≤ {TARGET_STRIPE}", stripe <= TARGET_STRIPE, str(stripe))
        )
        target = TARGET_GITHUB_NEW_GAP if c.flow == "new_gap" else TARGET_GITHUB
        out.append((f"{c.name}: GitHub requests ≤ {target}", gh <= target, str(gh)))
        out.append(
            (
                f"{c.name}: sequential round trips ≤ {TARGET_ROUNDS}",
                rounds <= TARGET_ROUNDS,
                f"{c.rounds:.2f} (0→L), {c.slope:.2f} (L→2L), {_counts(c.wave_counts)} waves",
            )
        )
    return out


def markdown(report: TriageReport) -> str:
    lat, lat2 = _ms(report.latency), _ms(2 * report.latency)
    lines = [
        "## Triage budget (SPEC §8)",
        "",
        f"Latency added by the proxy: L = {lat} per request, to Stripe and to GitHub alike "
        f"(runs at 0, L and 2L). {report.runs} runs per configuration and latency, "
        "interleaved; wall times are medians of `Desk.triage` with fresh gateways on a fresh "
        "issue. Request counts come from the gateways' own logs (`StripeGateway.requests`, "
        "every HTTP attempt; the fake GitHub's request log).",
        "",
        "- *round trips 0→L* = (median @L − median @0) / L: the issue's definition. Client "
        "and stand-in CPU work that runs while another request is waiting is hidden at L but "
        "not at 0 (proxies, fake GitHub and the client share one process and its GIL), so "
        "this reads low for the concurrent desk.",
        "- *round trips L→2L* = (median @2L − median @L) / L: the same with latency on both "
        "sides, so that overlap cancels.",
        "- *waves*: request chain depth from the proxy log: a request belongs to the wave "
        "after the latest one among the requests that had completed when it arrived.",
        "- GitHub gateway with `seconds_between_writes=None`. Production uses 1 s: PyGithub "
        "then sleeps before a write that follows another write within a second, which adds "
        "up to 1 s of wall time per write after the first (not a round trip).",
        "- Stripe shape *sandbox*: the gateway's `compat` mode used against localstripe. "
        "*production*: `compat=False`, the requests it makes to api.stripe.com; a shim in the "
        "proxy answers the three things localstripe lacks (Search API, billing portal "
        "configurations, the `payments` expansion), one proxied request each.",
        "",
        "| scenario | flow | Stripe shape | impl | Stripe req | GitHub req | wall @0 | "
        f"wall @{lat} | wall @{lat2} | round trips 0→L | L→2L | waves | outcome |",
        "|---|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for c in report.cells:
        lines.append(
            f"| {c.scenario} | {FLOW_TEXT[c.flow]} | {c.shape} | {c.impl} | "
            f"{_counts(c.counts('stripe'))} | {_counts(c.counts('github'))} | "
            f"{_ms(c.median(0.0))} | {_ms(c.median(c.latency))} | "
            f"{_ms(c.median(2 * c.latency))} | {c.rounds:.2f} | {c.slope:.2f} | "
            f"{_counts(c.wave_counts)} | {c.typical.outcome} |"
        )
    lines += ["", "Naive sequential vs desk (the same requests, no concurrency):", ""]
    lines += [
        "| scenario | flow | Stripe shape | same requests | round trips L→2L naive / desk | "
        f"wall @{lat} naive / desk |",
        "|---|---|---|---|---:|---:|",
    ]
    for d in report.cells:
        n = report.cell(d.scenario, d.flow, d.shape, "naive")
        if d.impl != "desk" or n is None:
            continue
        same = all(
            Counter(map(_normal, a.stripe)) == Counter(map(_normal, b.stripe))
            and Counter(map(_normal, a.github)) == Counter(map(_normal, b.github))
            for a, b in zip(d.samples, n.samples, strict=False)
        )
        lines.append(
            f"| {d.scenario} | {FLOW_TEXT[d.flow]} | {d.shape} | {'yes' if same else 'NO'} | "
            f"{n.slope:.2f} / {d.slope:.2f} = {n.slope / d.slope:.1f}× | "
            f"{_ms(n.median(d.latency))} / {_ms(d.median(d.latency))} = "
            f"{n.median(d.latency) / d.median(d.latency):.1f}× |"
        )
    lines += ["", "### Targets (desk)", ""]
    lines += [f"- {what}: {detail} — {_mark(ok)}" for what, ok, detail in verdicts(report)]
    lines += ["", f"### Where the round trips go (desk, the median run @{lat})", ""]
    for c in report.cells:
        if c.impl != "desk":
            continue
        lines += [f"{c.name}:", ""]
        for i, wave in enumerate(c.typical.waves, 1):
            tally = Counter(wave)
            what = ", ".join(f"`{k}`" + (f" ×{v}" if v > 1 else "") for k, v in tally.items())
            lines.append(f"{i}. {what}")
        lines.append("")
    lines += ["Stripe requests of the median run (gateway log):", ""]
    for c in report.cells:
        if c.impl == "desk":
            lines.append(f"- {c.name}: " + "; ".join(f"`{r}`" for r in c.typical.stripe))
    lines.append("")
    return "\n".join(lines)
