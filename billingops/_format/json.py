"""`--format json`: one JSON object on stdout (amounts in minor units, per currency)."""

from __future__ import annotations

import json
from typing import Any

from billingops.core.audit import Audit
from billingops.core.report import Report, interval_label


def revenue(report: Report) -> dict[str, Any]:
    """The revenue in the shape issue 15 fixed: MRR per currency, per plan, and what could
    not be known (listed, never counted as 0)."""
    return {
        "mrr": report.mrr_by_currency(),
        "plans": [
            {
                "product": p.product_name or p.product_id,
                "price": p.price_id,
                "currency": p.currency,
                "interval": interval_label(p.interval, p.interval_count),
                "subscriptions": p.live,
                "mrr": p.mrr,
                "unknown": p.unknown,
            }
            for p in report.plans
        ],
        "unknown_mrr": [u.model_dump(mode="json") for u in report.unknown_mrr],
        "unknown_mrr_count": report.unknown_mrr_count,
    }


class JsonFormat:
    def report(self, report: Report, *, listing: dict[str, Any] | None = None) -> str:
        data = {
            "action": "report",
            **revenue(report),
            "kind": "report",
            "report": report.model_dump(mode="json"),
            "listing": listing,
        }
        return json.dumps(data, indent=2, sort_keys=False) + "\n"

    def audit(self, audit: Audit) -> str:
        data = {"action": "audit", "kind": "audit", "audit": audit.model_dump(mode="json")}
        return json.dumps(data, indent=2, sort_keys=False) + "\n"


FORMAT_CLASS = JsonFormat
