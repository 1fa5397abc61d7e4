"""billingops' own marks on Stripe objects, and the state as it was before them.

Every write carries metadata naming the issue and the plan step, so a later run can
tell "we already did this" even after Stripe has forgotten the idempotency key (24 h),
and so the drift check can look at the state *before* our own writes: steps billingops
executed are part of the plan, not drift (SPEC §5).
"""

from __future__ import annotations

import hashlib
from typing import Literal

from billingops.models.billing import BillingState, Charge, Refund, Subscription
from billingops.models.decision import Step

ISSUE_KEY = "billingops_issue"
STEP_KEY = "billingops_step"
PRIOR_STATUS_KEY = "billingops_prior_status"
PERIOD_END_KEY = "billingops_at_period_end"
_OURS = (ISSUE_KEY, STEP_KEY, PRIOR_STATUS_KEY, PERIOD_END_KEY)
# Refund statuses where the money did not (and will not) go back.
REFUND_UNDONE = frozenset({"failed", "canceled"})
# Still on its way: Stripe may yet fail it (re-checked on later runs).
REFUND_UNSETTLED = frozenset({"pending", "requires_action"})


def issue_ref(repository: str, number: int) -> str:
    return f"{repository}#{number}"


def step_metadata(ref: str, step: Step) -> dict[str, str]:
    return {ISSUE_KEY: ref, STEP_KEY: step.key}


def idempotency_key(ref: str, plan_hash: str, step: Step, part: str = "") -> str:
    """Deterministic per repository, issue, plan and step: a retried job reuses it."""
    raw = "\x1f".join([ref, plan_hash, step.key, part])
    return "billingops-" + hashlib.sha256(raw.encode()).hexdigest()[:40]


def _ours(metadata: dict[str, str], ref: str, step: Step | None = None) -> bool:
    if metadata.get(ISSUE_KEY) != ref:
        return False
    return step is None or metadata.get(STEP_KEY) == step.key


def own_refunds(state: BillingState, ref: str, step: Step) -> list[Refund]:
    """Every refund this step made (any status), newest first."""
    found = [
        r
        for charge in state.charges
        if charge.id == step.target
        for r in charge.refunds
        if _ours(r.metadata, ref, step)
    ]
    return sorted(found, key=lambda r: (-r.created, r.id))


def find_own_refund(state: BillingState, ref: str, step: Step) -> str | None:
    """The id of a refund this step already made that did not fail, if any."""
    for refund in own_refunds(state, ref, step):
        if refund.status not in REFUND_UNDONE:
            return refund.id
    return None


def refund_outcome(refund: Refund) -> tuple[Literal["done", "failed"], str | None]:
    """What a refund Stripe created means for its step: `failed` when the money will not go
    back (Stripe's failure reason), `done` otherwise, with a note while it is unsettled."""
    if refund.status in REFUND_UNDONE:
        why = f": {refund.failure_reason}" if refund.failure_reason else ""
        return "failed", f"refund {refund.id} is {refund.status} at Stripe{why}"
    if refund.status in REFUND_UNSETTLED:
        return "done", f"refund {refund.id} is {refund.status} at Stripe (re-checked next run)"
    return "done", None


def recheck_refund(
    state: BillingState, ref: str, step: Step
) -> tuple[Literal["already_done", "failed"], str | None, str | None]:
    """A refund step recorded as done, against Stripe's state now: (status, reason, id).
    A refund that has failed or been canceled since is `failed` with the reason; an
    unsettled one is `already_done` with a note."""
    mine = own_refunds(state, ref, step)
    live = [r for r in mine if r.status not in REFUND_UNDONE]
    if live:
        _, note = refund_outcome(live[0])
        return "already_done", note, live[0].id
    if mine:
        _, note = refund_outcome(mine[0])
        return "failed", note, mine[0].id
    return "already_done", None, None


def own_cancellation_done(state: BillingState, ref: str, step: Step) -> bool:
    """True when the subscription carries this step's mark and is canceled as planned."""
    for sub in state.subscriptions:
        if sub.id == step.target and _ours(sub.metadata, ref, step):
            return sub.ending if step.at_period_end else not sub.live
    return False


def _strip(metadata: dict[str, str]) -> dict[str, str]:
    return {k: v for k, v in metadata.items() if k not in _OURS}


def _undo_charge(charge: Charge, ref: str) -> Charge:
    mine = [r for r in charge.refunds if _ours(r.metadata, ref) and r.status not in REFUND_UNDONE]
    if not mine and not charge.refunds:
        return charge
    taken = sum(r.amount for r in mine)
    refunded_before = max(charge.amount_refunded - taken, 0)
    return charge.model_copy(
        update={
            "refunds": [r for r in charge.refunds if r not in mine],
            "amount_refunded": refunded_before,
            "refunded": charge.refunded and refunded_before >= charge.amount,
        }
    )


def _undo_subscription(sub: Subscription, ref: str) -> Subscription:
    if not _ours(sub.metadata, ref):
        return sub
    update: dict[str, object] = {"metadata": _strip(sub.metadata)}
    if sub.metadata.get(PERIOD_END_KEY) == "true":
        update.update(cancel_at_period_end=False, cancel_at=None)
    elif sub.ended:  # canceled by us; a paused one was never canceled
        update.update(
            status=sub.metadata.get(PRIOR_STATUS_KEY, "active"), canceled_at=None, ended_at=None
        )
    return sub.model_copy(update=update)


def without_own_effects(state: BillingState, ref: str) -> BillingState:
    """The billing state as it was before billingops acted on this issue."""
    return state.model_copy(
        update={
            "charges": [_undo_charge(c, ref) for c in state.charges],
            "subscriptions": [_undo_subscription(s, ref) for s in state.subscriptions],
        }
    )
