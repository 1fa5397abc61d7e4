"""Classification, plan and the result of a run: the JSON contract of SPEC §3."""

from __future__ import annotations

from enum import StrEnum
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from billingops.models.ticket import Identity


class Case(StrEnum):
    duplicate_subscription = "duplicate_subscription"
    team_seats = "team_seats"
    failed_payment = "failed_payment"
    missing_self_serve = "missing_self_serve"
    product_failure = "product_failure"
    needs_human = "needs_human"


class Classification(BaseModel):
    model_config = ConfigDict(frozen=True)

    case: Case
    confidence: float = Field(ge=0.0, le=1.0)
    evidence: list[str] = Field(default_factory=list)
    # For the DECISION section (not part of the JSON contract): what decided (billing
    # evidence or the ticket's words), the ticket words read and what each was worth, and,
    # for `needs_human`, what a human must check to decide.
    decided_by: str = ""
    words: list[str] = Field(default_factory=list)
    would_decide: list[str] = Field(default_factory=list)


class StepKind(StrEnum):
    refund = "refund"
    cancel_subscription = "cancel_subscription"
    restore_self_serve = "restore_self_serve"
    none = "none"


class Approval(StrEnum):
    """Which approval a step needs; mapped to the configured label names."""

    refund = "refund"
    cancel = "cancel"


class Step(BaseModel):
    model_config = ConfigDict(frozen=True)

    kind: StepKind
    target: str | None = None
    amount: int | None = None
    currency: str | None = None
    at_period_end: bool | None = None
    needs: Approval | None = None
    # Why this step: one line for the operator (not part of the hash).
    why: str = ""

    @property
    def key(self) -> str:
        """Stable identity of the step within a plan (used for idempotency and records)."""
        return f"{self.kind.value}:{self.target or '-'}"

    def contract(self, labels: dict[Approval, str]) -> dict[str, Any]:
        """The step as SPEC §3 prints it, with the configured label names."""
        out: dict[str, Any] = {"kind": self.kind.value, "target": self.target}
        if self.kind is StepKind.refund:
            out["amount"] = self.amount
            out["currency"] = self.currency
        if self.kind is StepKind.cancel_subscription:
            out["at_period_end"] = bool(self.at_period_end)
        out["needs"] = labels[self.needs] if self.needs else None
        return out


class RevenueImpact(BaseModel):
    """Per currency, minor units. MRR counts annual plans per month."""

    model_config = ConfigDict(frozen=True)

    refund_total: dict[str, int] = Field(default_factory=dict)
    mrr_change: dict[str, int] = Field(default_factory=dict)


class Plan(BaseModel):
    model_config = ConfigDict(frozen=True)

    steps: list[Step] = Field(default_factory=list)
    impact: RevenueImpact = Field(default_factory=RevenueImpact)
    hash: str = ""
    # The requester's identity the plan was made for (SPEC §5a): part of the hash.
    requester: Identity | None = None


ExecStatus = Literal["done", "already_done", "would_do", "failed", "skipped"]
# A step that is done, by this run or an earlier one.
FINISHED: tuple[ExecStatus, ...] = ("done", "already_done")


class Executed(BaseModel):
    model_config = ConfigDict(frozen=True)

    kind: StepKind
    target: str | None = None
    status: ExecStatus
    stripe_id: str | None = None
    reason: str | None = None
    amount: int | None = None
    currency: str | None = None

    @classmethod
    def of(
        cls,
        step: Step,
        status: ExecStatus,
        stripe_id: str | None = None,
        *,
        reason: str | None = None,
    ) -> Executed:
        """The record of `step` with this status."""
        return cls(
            kind=step.kind,
            target=step.target,
            status=status,
            stripe_id=stripe_id,
            reason=reason,
            amount=step.amount,
            currency=step.currency,
        )

    @property
    def key(self) -> str:
        """The `Step.key` of the step this records."""
        return f"{self.kind.value}:{self.target or '-'}"

    def contract(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "kind": self.kind.value,
            "target": self.target,
            "status": self.status,
        }
        if self.stripe_id:
            out["stripe_id"] = self.stripe_id
        if self.reason:
            out["reason"] = self.reason
        return out


Source = Literal["stripe", "config", "unknown"]


class GapKey(StrEnum):
    no_billing_portal = "no_billing_portal"
    no_usage_visibility = "no_usage_visibility"
    no_plan_explanation = "no_plan_explanation"
    no_cancellation_flow = "no_cancellation_flow"
    no_duplicate_guard = "no_duplicate_guard"
    no_invoice_access = "no_invoice_access"


class Gap(BaseModel):
    """A product gap the ticket hit (SPEC §7), with where its evidence came from: `stripe`
    (the portal configuration or the billing state), `config` (the operator's `portal:`
    settings), or `unknown` (the ticket text alone suggests it). Detected in `core/gaps.py`."""

    model_config = ConfigDict(frozen=True)

    key: GapKey
    evidence: str
    source: Source


class GapRef(BaseModel):
    model_config = ConfigDict(frozen=True)

    key: str
    issue: int | None = None
    closed: bool = False


Action = Literal["triage", "apply", "needs_info", "ignored", "refused", "error"]
