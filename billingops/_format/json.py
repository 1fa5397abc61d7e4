"""`--format json`: one JSON object on stdout (amounts in minor units, per currency)."""

from __future__ import annotations

import json
from typing import Any

from billingops.core.audit import Audit
from billingops.core.report import Report


class JsonFormat:
    def report(self, report: Report, *, listing: dict[str, Any] | None = None) -> str:
        data = {"kind": "report", "report": report.model_dump(mode="json"), "listing": listing}
        return json.dumps(data, indent=2, sort_keys=False) + "\n"

    def audit(self, audit: Audit) -> str:
        data = {"kind": "audit", "audit": audit.model_dump(mode="json")}
        return json.dumps(data, indent=2, sort_keys=False) + "\n"


FORMAT_CLASS = JsonFormat
