"""The report's churn risk: counted in full, listed within bounds, trials within the window."""

from __future__ import annotations

from billingops.core.report import (
    DEFAULT_TOP,
    Listed,
    ReportBuilder,
)
from tests.core.builders import DAY, NOW, sub
from tests.core.report.strategies import build


def test_risk_and_lists_are_bounded() -> None:
    items = [
        Listed(sub=sub(f"sub_{n}", f"cus_{n}", status="past_due"), latest_invoice_failed=True)
        for n in range(500)
    ]
    r = build(items, top=7).build()
    assert len(r.risk_shown) == 7
    assert {k.kind: k.subscriptions for k in r.risk}["past_due"] == 500
    assert {k.kind: k.subscriptions for k in r.risk}["failed_payment"] == 500
    assert ReportBuilder(as_of=NOW).top == DEFAULT_TOP


def test_trial_ending_within_the_window_only() -> None:
    soon = sub("sub_1", status="trialing", trial_end=NOW + 3 * DAY)
    later = sub("sub_2", "cus_2", status="trialing", trial_end=NOW + 30 * DAY)
    r = build([Listed(sub=soon), Listed(sub=later)], trial_days=7).build()
    row = {k.kind: k for k in r.risk}["trial_ending"]
    assert row.subscriptions == 1
    assert row.mrr == {"usd": 2000}  # potential MRR: a trial pays nothing yet
    assert r.currencies[0].mrr == 0
