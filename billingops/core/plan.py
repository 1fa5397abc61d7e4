"""Planning: the ordered steps for a case, their revenue impact and a stable hash.

Order: restore self-serve first (no money moves), then fix the broken state (cancel),
then refund only the affected charge(s). Every plan is checked against the guardrails of
SPEC §4 before it is returned; a plan that would break one is replaced by a `none` step
that says why, so a bug in a builder can never reach Stripe.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from decimal import ROUND_HALF_EVEN, Decimal
from fractions import Fraction

from billingops.config import Config
from billingops.core import revenue
from billingops.core.anomalies import (
    by_age,
    charges_after_cancel,
    charges_of,
    contract_shape,
    live_groups,
)
from billingops.core.classify import signals
from billingops.core.money import refund_uncertainty, sum_by_currency
from billingops.models.billing import BillingState, Charge, Resolution, Subscription
from billingops.models.decision import (
    Approval,
    Case,
    Plan,
    RevenueImpact,
    Step,
    StepKind,
)
from billingops.models.ticket import Identity, Requester, Ticket

HASH_LENGTH = 16


# --- steps --------------------------------------------------------------------------------


def _restore(customer_id: str, why: str) -> Step:
    return Step(kind=StepKind.restore_self_serve, target=customer_id, why=why)


def _cancel(sub: Subscription, *, at_period_end: bool, why: str) -> Step:
    return Step(
        kind=StepKind.cancel_subscription,
        target=sub.id,
        at_period_end=at_period_end,
        needs=Approval.cancel,
        why=why,
    )


def _refund(charge: Charge, why: str) -> Step:
    return Step(
        kind=StepKind.refund,
        target=charge.id,
        amount=charge.refundable,
        currency=charge.currency.lower(),
        needs=Approval.refund,
        why=why,
    )


def _none(why: str) -> Step:
    return Step(kind=StepKind.none, why=why)


def _main_customer(resolution: Resolution, state: BillingState) -> str | None:
    live = by_age(s for s in state.subscriptions if s.live)
    if live:
        return live[0].customer_id
    if resolution.customer_ids:
        return resolution.customer_ids[0]
    return state.customers[0].id if state.customers else None


def _duplicate(ticket: Ticket, resolution: Resolution, state: BillingState) -> list[Step]:
    cancels: list[Step] = []
    refunds: list[Step] = []
    for group in live_groups(state):
        # Keep the oldest one that continues (paid, not already ending): never cancel them
        # all, and never keep a checkout that was never paid over the one that was.
        keep = next((s for s in group if _continuing(s)), group[0])
        extras = [s for s in group if s.id != keep.id]
        for sub in extras:
            cancels.append(
                _cancel(sub, at_period_end=False, why=f"duplicate of {keep.id}, which is kept")
            )
            refunds += [
                _refund(ch, f"paid for the duplicate {sub.id}")
                for ch in charges_of(state, sub)
                if ch.refundable > 0
            ]
    first = _main_customer(resolution, state)
    restore = [_restore(first, "customer manages the kept subscription alone")] if first else []
    return restore + cancels + refunds


def _team(ticket: Ticket, resolution: Resolution, state: BillingState) -> list[Step]:
    return [_none("seats are deliberate: explain the per-seat billing; no refund, no cancel")]


def _failed(ticket: Ticket, resolution: Resolution, state: BillingState) -> list[Step]:
    failing = [s for s in by_age(state.subscriptions) if s.status != "active" and s.live]
    target = failing[0].customer_id if failing else _main_customer(resolution, state)
    if target is None:
        return [_none("no customer to restore")]
    return [_restore(target, "customer updates the payment method; Stripe retries the invoice")]


def _cancel_if_asked(ticket: Ticket, state: BillingState) -> list[Step]:
    """Cancel at period end, only when the ticket asked, and only an unambiguous target."""
    if not signals(ticket).wants_cancel:
        return []
    # Paused is not ended (SPEC §5c): a paused subscription can be canceled too.
    live = [s for s in by_age(state.subscriptions) if not s.ended and not s.cancel_at_period_end]
    if not live:
        return []
    if len(live) > 1:
        return [_none("the ticket asks to cancel but there are several subscriptions: ask which")]
    if live[0].schedule_id:
        return [_none(scheduled_cancel_why(live[0]))]
    return [_cancel(live[0], at_period_end=True, why="the customer asked to cancel")]


def scheduled_cancel_why(sub: Subscription) -> str:
    return (
        f"the customer asked to cancel, but subscription schedule {sub.schedule_id} manages "
        f"{sub.id} and Stripe refuses to set it to cancel at period end: a human must end it "
        "through the schedule"
    )


def _self_serve(ticket: Ticket, resolution: Resolution, state: BillingState) -> list[Step]:
    cus = _main_customer(resolution, state)
    steps = [_restore(cus, "portal / invoice access / cancellation path")] if cus else []
    return steps + _cancel_if_asked(ticket, state)


def _affected_charges(state: BillingState) -> list[Charge]:
    """Charges made after a cancellation, else the latest paid charge."""
    after = [ch for ch, _ in charges_after_cancel(state) if ch.refundable > 0]
    if after:
        return after
    paid = sorted((c for c in state.charges if c.refundable > 0), key=lambda c: (c.created, c.id))
    return paid[-1:]


def _product(ticket: Ticket, resolution: Resolution, state: BillingState) -> list[Step]:
    steps = _cancel_if_asked(ticket, state)
    affected = _affected_charges(state)
    if not affected:
        steps.append(_none("no refundable charge: apologise and log the product issue"))
    steps += [_refund(ch, "the product failed the customer") for ch in affected]
    return steps


def _human(ticket: Ticket, resolution: Resolution, state: BillingState) -> list[Step]:
    return [_none("no Stripe action: a human must check the evidence above")]


_BUILDERS: dict[Case, Callable[[Ticket, Resolution, BillingState], list[Step]]] = {
    Case.duplicate_subscription: _duplicate,
    Case.team_seats: _team,
    Case.failed_payment: _failed,
    Case.missing_self_serve: _self_serve,
    Case.product_failure: _product,
    Case.needs_human: _human,
}

_ORDER = {
    StepKind.restore_self_serve: 0,
    StepKind.none: 1,
    StepKind.cancel_subscription: 2,
    StepKind.refund: 3,
}


# --- guardrails ---------------------------------------------------------------------------


def guardrail_violations(case: Case, steps: list[Step], state: BillingState) -> list[str]:
    """Every guardrail of SPEC §4 the steps would break (empty: safe to propose)."""
    out: list[str] = []
    charges = {c.id: c for c in state.charges}
    subs = {s.id: s for s in state.subscriptions}
    refunded: dict[str, int] = {}
    for st in steps:
        if st.kind is StepKind.refund:
            ch = charges.get(st.target or "")
            if ch is None:
                out.append(f"refund of unknown charge {st.target}")
                continue
            if ch.disputed:
                out.append(f"refund of disputed charge {ch.id}")
            if ch.refunded:
                out.append(f"refund of already refunded charge {ch.id}")
            if uncertain := refund_uncertainty(state, ch):  # issue 15: a human sets the amount
                out.append(f"refund of {ch.id} needs a human: {uncertain}")
            refunded[ch.id] = refunded.get(ch.id, 0) + (st.amount or 0)
            if not st.amount or st.amount <= 0:
                out.append(f"refund of {ch.id} without a positive amount")
            if (st.currency or "").lower() != ch.currency.lower():
                out.append(f"refund of {ch.id} in the wrong currency")
            if st.needs is not Approval.refund:
                out.append(f"refund of {ch.id} without refund approval")
        elif st.kind is StepKind.cancel_subscription:
            sub = subs.get(st.target or "")
            if sub is None or sub.ended:
                out.append(f"cancel of unknown or ended subscription {st.target}")
            elif st.at_period_end and sub.schedule_id:
                out.append(
                    f"cancel at period end of {sub.id}, which its schedule {sub.schedule_id} "
                    "manages"
                )
            if st.needs is not Approval.cancel:
                out.append(f"cancel of {st.target} without cancel approval")
    out += [
        f"refunds on {cid} exceed what is left unrefunded"
        for cid, total in sorted(refunded.items())
        if total > charges[cid].refundable
    ]
    now = {
        st.target
        for st in steps
        if st.kind is StepKind.cancel_subscription and not st.at_period_end
    }
    live = {s.id for s in state.subscriptions if s.live}
    if live and live <= now:
        out.append("every live subscription would be canceled now")
    for group in live_groups(state):
        if case is Case.duplicate_subscription and {s.id for s in group} <= now:
            out.append(f"every subscription to {group[0].id}'s product would be canceled")
    # Annual, team and prorated: never an immediate cancel with a refund by rule.
    for sid in sorted(t for t in now if t):
        sub = subs.get(sid)
        if sub is None:
            continue
        refunds_it = any(
            st.kind is StepKind.refund and st.target in {c.id for c in charges_of(state, sub)}
            for st in steps
        )
        if refunds_it and (shape := contract_shape(state, sub)):
            out.append(f"{sid} is {shape}: immediate cancel and refund needs a human")
    money = {StepKind.refund, StepKind.cancel_subscription}
    if case in (Case.needs_human, Case.team_seats) and any(s.kind in money for s in steps):
        out.append(f"a {case.value} plan must not move money")
    if case is Case.failed_payment and any(s.kind is StepKind.refund for s in steps):
        out.append("a failed_payment plan must not refund")
    return out


# --- impact and hash ----------------------------------------------------------------------


def monthly(sub: Subscription) -> Fraction:
    """What the subscription brings per month, exact (rounded once, per currency, later):
    every item and price shape, after discounts (`core.revenue`). An amount that cannot be
    known (metered usage) counts 0 here; the report lists it instead (issue 15)."""
    return revenue.monthly(sub).value or Fraction(0)


def _round(x: Fraction) -> int:
    # Half-even on an exact value: deterministic, and unbiased over many plans.
    q = Decimal(x.numerator) / Decimal(x.denominator)
    return int(q.quantize(Decimal(1), rounding=ROUND_HALF_EVEN))


def revenue_impact(
    steps: list[Step], state: BillingState, *, realised: bool = False
) -> RevenueImpact:
    """What `steps` change: refunds, and the MRR their cancels take away. `realised`: the
    steps ran already, so a subscription Stripe now shows canceled counts what it brought
    per month before (its price), not the 0 of a canceled one."""
    subs = {s.id: s for s in state.subscriptions}
    mrr: dict[str, Fraction] = {}
    for st in steps:
        sub = subs.get(st.target or "")
        if st.kind is StepKind.cancel_subscription and sub is not None:
            if realised and sub.status == "canceled":
                sub = sub.model_copy(update={"status": "active"})
            cur = sub.currency.lower()
            mrr[cur] = mrr.get(cur, Fraction(0)) - monthly(sub)
    refunds = sum_by_currency(
        (st.currency or "", st.amount or 0) for st in steps if st.kind is StepKind.refund
    )
    return RevenueImpact(
        refund_total=refunds,
        mrr_change={c: _round(v) for c, v in sorted(mrr.items())},
    )


def plan_hash(steps: list[Step], requester: Identity | None = None) -> str:
    """sha256 over what the plan would do and for whom it was made (the requester's
    identity, SPEC §5a); not the `why`, labels or timestamps."""
    doing = [
        {
            "kind": s.kind.value,
            "target": s.target,
            "amount": s.amount,
            "currency": s.currency,
            "at_period_end": s.at_period_end,
        }
        for s in steps
    ]
    data: dict[str, object] = {"v": 1, "steps": doing}
    if requester is not None:
        data["requester"] = requester.value
    canon = json.dumps(data, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canon.encode()).hexdigest()[:HASH_LENGTH]


# A subscription that keeps the customer's service going: paying (or trying to) and not
# already set to end. An `incomplete` one never started; one set to cancel at period end
# is ending anyway: neither counts as "the subscription that stays".
_CONTINUING = frozenset({"active", "trialing", "past_due"})


def _continuing(sub: Subscription) -> bool:
    return sub.status in _CONTINUING and not sub.cancel_at_period_end


def ends_last_subscription(steps: list[Step], state: BillingState) -> bool:
    """Whether the plan leaves the customer the ticket resolved to without a continuing
    subscription when they had one (one email over several Stripe customers is one
    customer: keeping one subscription across them is keeping one)."""
    cancelled = {s.target for s in steps if s.kind is StepKind.cancel_subscription}
    # A paused subscription is still the customer's (SPEC §5c: not ended).
    going = [s for s in state.subscriptions if _continuing(s) or s.status == "paused"]
    return bool(cancelled) and bool(going) and all(s.id in cancelled for s in going)


def guard_requester(steps: list[Step], state: BillingState, requester: Requester) -> list[Step]:
    """An unverified requester never gets a plan that ends a customer's last live
    subscription (SPEC §5a): those cancel steps are left out, and the plan says so.
    Cleaning up a duplicate that keeps one subscription live, and refunds, stay."""
    if requester.identity is not Identity.unverified or not ends_last_subscription(steps, state):
        return steps
    kept = [s for s in steps if s.kind is not StepKind.cancel_subscription]
    return [
        *kept,
        _none(
            "not proposed: cancelling the customer's last subscription needs a verified "
            "requester (the person asking has not been shown to own the account)"
        ),
    ]


def finish(
    case: Case, steps: list[Step], state: BillingState, requester: Requester | None = None
) -> Plan:
    """Order, check and hash candidate steps into a Plan."""
    if requester is not None:
        steps = guard_requester(steps, state, requester)
    steps = sorted(steps, key=lambda s: _ORDER[s.kind])  # stable: builders' order within a kind
    broken = guardrail_violations(case, steps, state)
    if broken:
        steps = [_none("guardrail: " + "; ".join(broken))]
    if not steps:
        steps = [_none("nothing to do in Stripe")]
    identity = requester.identity if requester is not None else None
    return Plan(
        steps=steps,
        impact=revenue_impact(steps, state),
        hash=plan_hash(steps, identity),
        requester=identity,
    )


def make_plan(
    case: Case,
    ticket: Ticket,
    resolution: Resolution,
    state: BillingState,
    config: Config,
    requester: Requester | None = None,
) -> Plan:
    """The proposed plan for a classified ticket. Pure and deterministic."""
    del config  # approval label names are applied when printing (`Step.contract`)
    return finish(case, _BUILDERS[case](ticket, resolution, state), state, requester)
