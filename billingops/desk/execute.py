"""Executing one approved plan step in Stripe, exactly once (SPEC §5): reconcile with what
Stripe already shows (our metadata survives the 24 h idempotency window), re-check before
writing, then write with a deterministic idempotency key."""

from __future__ import annotations

from typing import Any

from billingops._billing.interface import BillingSource
from billingops.core import effects
from billingops.core.money import format_money
from billingops.core.record import FINISHED as FINISHED  # re-exported: desk/ uses it
from billingops.errors import AlreadyCanceled, OperationalError, WriteRefused
from billingops.models.billing import BillingState
from billingops.models.decision import Executed, Step, StepKind


def execute_step(
    billing: BillingSource,
    ref: str,
    step: Step,
    state: BillingState,
    plan_hash: str,
    recorded: Executed | None,
    dry_run: bool,
) -> Executed | OperationalError:
    if recorded is not None and recorded.status in FINISHED:
        if step.kind is StepKind.refund:  # Stripe may have failed it since (issue 15)
            status, note, rid = effects.recheck_refund(state, ref, step)
            update = {"status": status, "reason": note, "stripe_id": rid or recorded.stripe_id}
            return recorded.model_copy(update=update)
        return recorded.model_copy(update={"status": "already_done"})
    # Stripe forgets idempotency keys after 24 hours; our metadata it keeps.
    if step.kind is StepKind.refund:
        own = effects.find_own_refund(state, ref, step)
        if own:
            return record(step, "already_done", own)
        charge = next((c for c in state.charges if c.id == step.target), None)
        if charge is None:
            return record(step, "skipped", reason="the charge is no longer on the customer")
        if charge.disputed:
            return record(step, "skipped", reason="the charge is disputed now")
        if charge.refundable < (step.amount or 0):
            return record(
                step,
                "skipped",
                reason=f"only {format_money(charge.refundable, charge.currency)} is left",
            )
    elif step.kind is StepKind.cancel_subscription:
        if effects.own_cancellation_done(state, ref, step):
            return record(step, "already_done", step.target)
        sub = next((s for s in state.subscriptions if s.id == step.target), None)
        if sub is None or sub.ended:  # a paused subscription is not gone (SPEC §5c)
            return record(step, "skipped", reason="the subscription is no longer live")
        if step.at_period_end and sub.cancel_at_period_end:
            return record(step, "skipped", reason="it is already set to cancel at period end")
    else:
        return record(step, "skipped", reason="nothing to execute in Stripe")
    if dry_run:
        return record(step, "would_do")
    key = effects.idempotency_key(ref, plan_hash, step)
    metadata = effects.step_metadata(ref, step)
    try:
        if step.kind is StepKind.refund:
            refund = billing.refund(
                charge_id=step.target or "",
                amount=step.amount or 0,
                idempotency_key=key,
                metadata=metadata,
            )
            outcome, note = effects.refund_outcome(refund)
            return record(step, outcome, refund.id, reason=note)
        prior = next(s.status for s in state.subscriptions if s.id == step.target)
        metadata[effects.PRIOR_STATUS_KEY] = prior
        if step.at_period_end:
            metadata[effects.PERIOD_END_KEY] = "true"
        sub = billing.cancel_subscription(
            subscription_id=step.target or "",
            at_period_end=bool(step.at_period_end),
            idempotency_key=key,
            metadata=metadata,
        )
        return record(step, "done", sub.id)
    except AlreadyCanceled as exc:  # Stripe had it canceled already (a 404 on the DELETE)
        if exc.ours:
            return record(step, "already_done", exc.subscription_id, reason=str(exc))
        return record(step, "skipped", reason=str(exc))
    except WriteRefused as exc:  # a 400 from a race: not done, recorded with why (issue 15)
        return record(step, "failed", reason=str(exc))
    except OperationalError as exc:
        return exc


def record(
    step: Step, status: Any, stripe_id: str | None = None, reason: str | None = None
) -> Executed:
    return Executed(
        kind=step.kind,
        target=step.target,
        status=status,
        stripe_id=stripe_id,
        reason=reason,
        amount=step.amount,
        currency=step.currency,
    )
