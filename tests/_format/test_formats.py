"""The output adapters: every format renders the same report, safely."""

from __future__ import annotations

import csv
import io
import json
import re

import pytest

from billingops._format.interface import FORMAT_NAMES, formatter
from billingops._format.markdown import AUDIT_MARKER, REPORT_MARKER, chart_label
from billingops.core.audit import build_audit
from billingops.core.report import Listed, Report, ReportBuilder
from tests.core.builders import DAY, MIN, NOW, sub


def _report() -> Report:
    evil = 'Pro"] ; %%{init}%% <script>@everyone'
    items = [
        Listed(sub=sub("sub_1", "cus_1"), email="a@example.com", plan_name=evil),
        Listed(
            sub=sub("sub_2", "cus_1", started=NOW - 10 * DAY + 3 * MIN),
            email="a@example.com",
            plan_name=evil,
        ),
        Listed(sub=sub("sub_3", "cus_2", interval="year", amount=24000, currency="jpy")),
        Listed(sub=sub("sub_4", "cus_3", status="trialing", trial_end=NOW + DAY)),
        Listed(sub=sub("sub_5", "cus_4", status="past_due"), latest_invoice_failed=True),
    ]
    return ReportBuilder(as_of=NOW).add_all(items).build({"prod_pro": "=HYPERLINK(1)"})


@pytest.mark.parametrize("name", FORMAT_NAMES)
def test_every_format_renders_report_and_audit(name: str) -> None:
    fmt = formatter(name)
    assert fmt.report(_report(), listing={"pages": 1, "requests": 2, "throttled": 0})
    assert fmt.audit(build_audit("acme/support", []))


def test_unknown_format() -> None:
    with pytest.raises(ValueError):
        formatter("yaml")


def test_markdown_has_marker_and_github_mermaid_charts() -> None:
    text = formatter("markdown").report(_report())
    assert text.startswith(REPORT_MARKER + "\n")
    blocks = re.findall(r"```mermaid\n(.*?)```", text, re.S)
    assert len(blocks) == 2
    pie, bars = blocks
    assert pie.startswith("pie showData\n    title ")
    assert bars.startswith("xychart-beta\n")
    assert 'x-axis ["month", "year"]' in bars and "bar [4, 1]" in bars
    for line in pie.splitlines()[2:]:
        # One quoted label per line, nothing inside that could end it.
        assert re.fullmatch(r'    "[A-Za-z0-9 .,:/()+·_-]+" : \d+', line), line
    assert "<script>" not in text and "@everyone" not in text
    assert "never" in text  # the per-currency note
    assert formatter("markdown").audit(build_audit("acme/support", [])).startswith(AUDIT_MARKER)


def test_chart_labels_are_inert() -> None:
    assert chart_label('a"b]c;d%%e\nf') == "a b c d e f"
    assert chart_label("") == "unnamed"


def test_csv_is_tidy_and_formula_safe() -> None:
    rows = list(csv.reader(io.StringIO(formatter("csv").report(_report()))))
    assert rows[0] == ["section", "item", "interval", "currency", "metric", "value"]
    assert all(len(r) == 6 for r in rows)
    assert not any(cell.startswith("=") for r in rows for cell in r)
    mrr = {(r[3]): r[5] for r in rows if r[0] == "currency_total" and r[4] == "mrr"}
    assert mrr == {"jpy": "2000", "usd": "60.00"}


def test_json_is_one_object() -> None:
    data = json.loads(formatter("json").report(_report(), listing={"pages": 1}))
    assert data["kind"] == "report"
    assert data["report"]["several"]["duplicate_candidates"] == 1
    assert data["listing"] == {"pages": 1}


def test_terminal_has_no_escape_codes_without_color() -> None:
    text = formatter("terminal").report(_report())
    assert "\x1b[" not in text
    assert "Plans (live)" in text and "Churn risk" in text
