"""Smoke test of the benchmark harness (benchmarks/): it runs end to end on a tiny input.

No timing assertion: only that the harness runs and counts what it should.
"""

from __future__ import annotations

import json
import urllib.request

import pytest

from billingops.sandbox.fake_github import FakeGitHub
from billingops.sandbox.stripe_server import localstripe_installed

benchmarks = pytest.importorskip("benchmarks.triage_budget", reason="benchmarks/ not present")
proxy = pytest.importorskip("benchmarks.latency_proxy")
startup = pytest.importorskip("benchmarks.startup")


def test_proxy_relays_and_logs(loopback_only: None) -> None:
    with FakeGitHub("acme/support") as fake, proxy.LatencyProxy(fake.url, name="github") as p:
        number = fake.add_issue("t", "b", author="customer")
        with urllib.request.urlopen(f"{p.url}/repos/acme/support/issues/{number}") as resp:
            assert json.load(resp)["number"] == number
        [entry] = p.log.entries
        assert (entry.upstream, entry.method, entry.status) == ("github", "GET", 200)
        assert proxy.waves(p.log.entries) == [[entry]]


@pytest.mark.sandbox
@pytest.mark.skipif(not localstripe_installed(), reason="localstripe is not installed")
def test_triage_budget_runs_on_one_scenario() -> None:
    report = benchmarks.run(
        runs=1,
        latency=0.01,
        plan=(("duplicate_subscriptions", "first"),),
        shapes=("sandbox",),
    )
    desk = report.cell("duplicate_subscriptions", "first", "sandbox", "desk")
    naive = report.cell("duplicate_subscriptions", "first", "sandbox", "naive")
    assert desk is not None and naive is not None
    # The harness counts requests; what the budget is belongs to RESULTS.md, not here.
    assert desk.counts("stripe") == naive.counts("stripe") != [0]
    assert desk.counts("github") == naive.counts("github") != [0]
    assert desk.wave_counts and naive.wave_counts
    assert desk.typical.outcome == "triage/duplicate_subscription"
    assert "## Triage budget" in benchmarks.markdown(report)


def test_startup_runs_once() -> None:
    report = startup.run(runs=1)
    assert [i.heavy for i in report.imports] == [[], []]
    assert "## Start-up" in startup.markdown(report)


@pytest.mark.sandbox
@pytest.mark.skipif(not localstripe_installed(), reason="localstripe is not installed")
def test_public_budget_runs_the_three_public_flows() -> None:
    public = pytest.importorskip("benchmarks.public_budget")
    samples = public.run(runs=1, latency=0.01)
    assert {s.flow for s in samples} == set(public.FLOWS)
    assert all(s.github and s.waves for s in samples)
    assert [s.outcome for s in samples if s.flow == "apply"] == ["apply", "apply"]
    text = "\n".join(public.section(samples, 0.01))
    assert public.HEADING in text and "first public triage" in text


@pytest.mark.sandbox
@pytest.mark.skipif(not localstripe_installed(), reason="localstripe is not installed")
def test_a_first_triage_filing_a_new_gap_takes_three_waves() -> None:
    """SPEC §8 (issue 22): 3 sequential round trips and 5 GitHub requests at most, also
    when the triage files a new product gap. Waves are the harness's count of request
    chains (a request after another's answer is one wave later), not a timing: a latency
    of 200 ms per request keeps scheduling jitter (the comment's render, ~3 ms warm, runs
    before its request while the labels' request is out) from splitting one wave in two."""
    report = benchmarks.run(
        runs=1,
        latency=0.2,
        plan=(("duplicate_subscriptions", "new_gap"),),
        shapes=("sandbox",),
        impls=("desk",),
    )
    desk = report.cell("duplicate_subscriptions", "new_gap", "sandbox", "desk")
    assert desk is not None
    assert desk.wave_counts == [3], desk.typical.waves
    assert desk.counts("github") == [4]  # the thread, the gap issue, the comment, the labels
    [last] = desk.typical.waves[-1:]
    assert sum("/issues/N/comments" in r for r in last) == 1  # written in the last round
    assert sum("/backlog-" in r for r in last) == 1  # with the gap issue


def test_a_partial_run_keeps_the_sections_it_did_not_measure() -> None:
    """`--only triage` once rewrote RESULTS.md with the triage section alone, dropping the
    corpus figures that tests/core/test_corpus.py holds as a floor."""
    main = pytest.importorskip("benchmarks.__main__")
    previous = (main.HERE / "RESULTS.md").read_text("utf-8")
    fresh = "\n".join(
        [
            "# billingops benchmark results",
            "",
            "## Machine",
            "",
            "- Date: now",
            "",
            "## Summary",
            "",
            "- Triage budget: every target met",
            "",
            "## Triage budget (SPEC §8)",
            "",
            "new triage figures",
            "",
            "## Analysis (hand-written; re-check it when the figures above change)",
            "",
            "the analysis",
        ]
    )
    merged = main.keep_unmeasured(previous, fresh, {"triage"})

    def headings(text: str) -> list[str]:
        return [ln for ln in text.splitlines() if ln.startswith("## ")]

    assert set(headings(merged)) == set(headings(previous))
    assert "new triage figures" in merged and "- Date: now" in merged
    summary = merged.split("## Summary", 1)[1].split("\n## ", 1)[0]
    assert "- Triage budget: every target met" in summary
    assert not any(ln.startswith("- Triage: ") for ln in summary.splitlines())  # replaced
    assert "- CI time" in summary and "- Public mode" in summary  # kept
    corpus = previous[previous.index("## Decision quality") :].split("\n## ", 1)[0]
    assert corpus in merged
