"""The one JSON object `--json` prints (SPEC §3)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from billingops.models.billing import Resolution
from billingops.models.decision import (
    Action,
    Approval,
    Classification,
    Executed,
    GapRef,
    Plan,
)
from billingops.models.ticket import Requester


class RunResult(BaseModel):
    action: Action
    issue: int | None = None
    resolution: Resolution | None = None
    classification: Classification | None = None
    plan: Plan | None = None
    executed: list[Executed] = Field(default_factory=list)
    gaps: list[GapRef] = Field(default_factory=list)
    requester: Requester | None = None
    reason: str = ""
    # What a --dry-run would have written (comment bodies, labels), for the terminal.
    would_write: list[str] = Field(default_factory=list)

    @property
    def waiting(self) -> list[Executed]:
        """Approved steps this run did not execute but would: a dry run's, or those a run
        without the write key leaves to the apply job (`pending`)."""
        return [e for e in self.executed if e.status == "would_do"]

    def contract(self, labels: dict[Approval, str]) -> dict[str, Any]:
        res = self.resolution
        return {
            "action": self.action,
            "issue": self.issue,
            "customer": {
                "found": bool(res and res.found),
                "ids": list(res.customer_ids) if res else [],
                "resolved_by": res.resolved_by.value if res and res.resolved_by else None,
            },
            "classification": (
                {
                    "case": self.classification.case.value,
                    "confidence": self.classification.confidence,
                    "evidence": list(self.classification.evidence),
                }
                if self.classification
                else None
            ),
            "plan": (
                {"hash": self.plan.hash, "steps": [s.contract(labels) for s in self.plan.steps]}
                if self.plan
                else None
            ),
            "executed": [e.contract() for e in self.executed],
            "gaps": [{"key": g.key, "issue": g.issue} for g in self.gaps],
            "requester": self.requester.contract() if self.requester else None,
            "reason": self.reason,
        }
