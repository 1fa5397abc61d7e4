"""Classification (SPEC §4): exactly one case, with a confidence and evidence lines.

Rules run in a fixed order, the first that matches decides: identity and disputes first
(no rule may act on them), then what Stripe shows (duplicates, failed payments), then what
the ticket asks for. Evidence lines are short facts with Stripe ids only, never emails or
names, because they are printed in a public comment and in the `--json` output.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from billingops.config import Config
from billingops.core.anomalies import (
    DUPLICATE_WINDOW,
    ago,
    by_age,
    charges_after_cancel,
    contract_shape,
    has_team_metadata,
    live_groups,
    product_key,
    started,
)
from billingops.models.billing import (
    FAILED_STATUSES,
    BillingState,
    Resolution,
    Subscription,
)
from billingops.models.decision import Case, Classification
from billingops.models.ticket import RequestKind, Ticket


def _rx(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern, re.IGNORECASE)


# Ticket cues. Deliberately plain keyword rules: deterministic and easy to audit.
_REFUND = _rx(r"\brefund|money back|reimburs|charge ?back")
_CANCEL = _rx(
    r"\bcancel|unsubscribe|terminate|close my account|stop (my |the )?(subscription|plan)"
)
_TEAM = _rx(r"\b(team|teams|seats?|colleagues?|co-?workers?|employees?|staff|members)\b")
_DUPLICATE = _rx(
    r"\b(twice|double[ds]?|duplicated?|two (subscriptions|charges|accounts)|charged two"
    r"|\d+x|\d+ times)\b"
)
_BROKEN = _rx(
    r"\b(broken|not working|(doesn'?t|didn'?t|does not|did not|never) work(ed|s)?|outage|crash\w*"
    r"|bug|(couldn'?t|can'?t|cannot|could not) (use|log ?in|access)|never (received|delivered))"
)
_SURPRISE = _rx(
    r"unexpected(ly)? (charge|renewal|renewed)|surprise|renewed without|without (any )?"
    r"(notice|warning|reminder)|(didn'?t|did not) (expect|know|realize)"
)
_AFTER_CANCEL = _rx(r"(after|since|though) (i|we) (had )?(already )?cancel")
_INVOICES = _rx(r"\b(invoices?|receipts?|vat)\b")
_CARD = _rx(r"\b(card|payment method|update (my )?payment|billing details)\b")
_SEATS = _rx(r"\b(seats?|add users?|remove users?|upgrade|downgrade|change (my |the )?plan)\b")
_CONFUSED = _rx(
    r"why (was|am|were|is|are|did) (i|we|you)|(don'?t|do not) understand|what am i paying"
    r"|too much|overcharg"
)


@dataclass(frozen=True)
class Signals:
    """What the ticket asks for or reports, from the form's dropdown and its free text."""

    wants_refund: bool = False
    wants_cancel: bool = False
    wants_invoices: bool = False
    wants_card: bool = False
    wants_seats: bool = False
    team: bool = False
    duplicate: bool = False
    broken: bool = False
    surprise: bool = False
    after_cancel: bool = False
    confused: bool = False


def ticket_text(ticket: Ticket) -> str:
    parts = [ticket.title, ticket.description, *(ticket.fields[k] for k in sorted(ticket.fields))]
    return "\n".join(p for p in parts if p)


def signals(ticket: Ticket) -> Signals:
    text = ticket_text(ticket)
    req = ticket.request

    def has(rx: re.Pattern[str]) -> bool:
        return bool(rx.search(text))

    return Signals(
        wants_refund=req is RequestKind.refund or has(_REFUND),
        wants_cancel=req is RequestKind.cancel or has(_CANCEL),
        wants_invoices=req is RequestKind.invoices or has(_INVOICES),
        wants_card=req is RequestKind.failed_payment or has(_CARD),
        wants_seats=req is RequestKind.seats_or_plan or has(_SEATS),
        team=has(_TEAM),
        duplicate=has(_DUPLICATE),
        broken=has(_BROKEN),
        surprise=has(_SURPRISE),
        after_cancel=has(_AFTER_CANCEL),
        confused=has(_CONFUSED),
    )


@dataclass(frozen=True)
class _Ctx:
    ticket: Ticket
    sig: Signals
    resolution: Resolution
    state: BillingState

    @property
    def live(self) -> list[Subscription]:
        return by_age(s for s in self.state.subscriptions if s.live)

    @property
    def relevant(self) -> list[Subscription]:
        """The live subscriptions, or else the most recent one (what the ticket is about)."""
        if self.live:
            return self.live
        subs = by_age(self.state.subscriptions)
        return subs[-1:]


_Rule = Callable[[_Ctx], Classification | None]


def _c(case: Case, confidence: float, *evidence: str) -> Classification:
    return Classification(case=case, confidence=confidence, evidence=list(evidence))


def _identity(ctx: _Ctx) -> Classification | None:
    res = ctx.resolution
    if not res.found:
        if not ctx.ticket.has_identifier:
            return _c(Case.needs_human, 1.0, "the ticket has no billing email or Stripe ID")
        notes = f"{len(res.problems)} identifier(s) led nowhere" if res.problems else ""
        return _c(
            Case.needs_human,
            0.95,
            *filter(None, ["no Stripe customer matches the ticket's identifiers", notes]),
        )
    if res.conflicting:
        return _c(
            Case.needs_human,
            0.95,
            "the identifiers point at different customers: " + ", ".join(res.customer_ids),
            "a human must confirm who the ticket is about",
        )
    if ctx.state.customers and all(c.deleted for c in ctx.state.customers):
        ids = ", ".join(c.id for c in ctx.state.customers)
        return _c(Case.needs_human, 0.9, f"customer {ids} is deleted in Stripe")
    return None


def _dispute(ctx: _Ctx) -> Classification | None:
    disputed = sorted(c.id for c in ctx.state.charges if c.disputed)
    if not disputed:
        return None
    return _c(
        Case.needs_human,
        0.95,
        "disputed charge: " + ", ".join(disputed),
        "the dispute process decides; no refund or cancel by rule",
    )


def _duplicates(ctx: _Ctx) -> Classification | None:
    groups = live_groups(ctx.state)
    if not groups:
        return None
    evidence: list[str] = []
    team: list[str] = []
    shapes: list[str] = []
    for g in groups:
        span = started(g[-1]) - started(g[0])
        ids = ", ".join(s.id for s in g)
        evidence.append(f"{len(g)} live subscriptions to {product_key(g[0])} ({ids})")
        evidence.append(f"started {ago(span)} apart")
        customers = sorted({s.customer_id for s in g})
        if len(customers) > 1:
            evidence.append(f"one email across {len(customers)} customers ({', '.join(customers)})")
        team += [f"quantity {s.quantity} on {s.id}" for s in g if s.quantity > 1]
        team += [f"seat/team metadata on {s.id}" for s in g if has_team_metadata(s)]
        if span > DUPLICATE_WINDOW:
            team.append(f"started {ago(span)} apart (more than 48 h)")
        # The oldest is kept; only the extras would be canceled and refunded.
        shapes += [f"{s.id} is {shape}" for s in g[1:] if (shape := contract_shape(ctx.state, s))]
    if ctx.sig.team:
        team.append("the ticket speaks of a team or seats")
    if team:
        if ctx.sig.wants_cancel and ctx.sig.wants_refund:
            return _c(
                Case.needs_human,
                0.8,
                *evidence,
                *team,
                "a team purchase and the ticket asks to cancel and refund: a human decides",
            )
        return _c(Case.team_seats, 0.85 if len(team) > 1 else 0.75, *evidence, *team)
    if shapes:
        return _c(
            Case.needs_human,
            0.8,
            *evidence,
            *shapes,
            "cancelling now with a full refund of this contract needs a human",
        )
    evidence.append("quantity 1 each, no seat or team metadata, no team in the ticket")
    confident = ctx.sig.duplicate or ctx.sig.wants_refund
    return _c(Case.duplicate_subscription, 0.9 if confident else 0.75, *evidence)


def _failed_payment(ctx: _Ctx) -> Classification | None:
    st = ctx.state
    evidence = [
        f"subscription {s.id} is {s.status}" for s in ctx.live if s.status in FAILED_STATUSES
    ]
    if not ctx.live:
        evidence += [
            f"subscription {s.id} is {s.status}"
            for s in ctx.relevant
            if s.status == "incomplete_expired"
        ]
    evidence += [
        f"invoice {i.id} is open after {i.attempt_count} failed attempt(s)"
        for i in sorted(st.invoices, key=lambda i: i.id)
        if i.status == "open" and i.attempt_count > 0
    ]
    # A failed charge matters only when nothing succeeded after it.
    latest = max(st.charges, key=lambda c: (c.created, c.id), default=None)
    if latest is not None and latest.status == "failed":
        evidence.append(f"the latest charge {latest.id} failed")
    if not evidence:
        return None
    return _c(Case.failed_payment, 0.9, *evidence)


def _contract(ctx: _Ctx) -> Classification | None:
    """Annual, team and prorated shapes: a refund there is a contract decision (§4)."""
    if not ctx.sig.wants_refund:
        return None
    for sub in ctx.relevant:
        shape = contract_shape(ctx.state, sub)
        if shape in ("annual", "prorated") or (shape == "team" and ctx.sig.wants_cancel):
            what = "cancel and refund" if ctx.sig.wants_cancel else "a refund"
            return _c(
                Case.needs_human,
                0.8,
                f"subscription {sub.id} is {shape} ({sub.interval}, quantity {sub.quantity})",
                f"the ticket asks for {what}: a human must decide the amount",
            )
    return None


def _team_single(ctx: _Ctx) -> Classification | None:
    """One subscription billed per seat, and a customer surprised by the amount."""
    if not (ctx.sig.duplicate or ctx.sig.wants_refund or ctx.sig.confused):
        return None
    for sub in ctx.live:
        if sub.quantity > 1 or has_team_metadata(sub):
            return _c(
                Case.team_seats,
                0.75,
                f"subscription {sub.id} has quantity {sub.quantity}: billed per seat",
                "the ticket questions the amount; no duplicate subscription",
            )
    return None


def _product_failure(ctx: _Ctx) -> Classification | None:
    after = charges_after_cancel(ctx.state)
    if after:
        lines = [
            f"charge {ch.id} was made {ago(ch.created - (sub.canceled_at or 0))} after "
            f"{sub.id} was canceled"
            for ch, sub in after
        ]
        return _c(Case.product_failure, 0.9, *lines)
    sig = ctx.sig
    reasons = []
    if sig.broken:
        reasons.append("the ticket reports that the product did not work")
    if sig.after_cancel:
        reasons.append("the ticket reports a charge after cancelling")
    if sig.surprise:
        reasons.append("the ticket reports an unexpected renewal or charge")
    if not reasons:
        return None
    return _c(Case.product_failure, 0.7, *reasons)


def _self_serve(ctx: _Ctx) -> Classification | None:
    sig = ctx.sig
    wants = [
        ("a cancellation", sig.wants_cancel),
        ("invoices", sig.wants_invoices),
        ("a card change", sig.wants_card),
        ("a seat or plan change", sig.wants_seats),
    ]
    asked = [w for w, on in wants if on]
    if not asked:
        return None
    return _c(
        Case.missing_self_serve,
        0.85,
        "the ticket asks for " + ", ".join(asked),
        "no duplicate, failed payment or dispute in billing",
    )


_RULES: tuple[_Rule, ...] = (
    _identity,
    _dispute,
    _duplicates,
    _failed_payment,
    _contract,
    _team_single,
    _product_failure,
    _self_serve,
)


def classify(
    ticket: Ticket, resolution: Resolution, state: BillingState, config: Config
) -> Classification:
    """Exactly one case of SPEC §4. Pure and deterministic."""
    del config  # part of the contract; no rule depends on it yet
    ctx = _Ctx(ticket=ticket, sig=signals(ticket), resolution=resolution, state=state)
    for rule in _RULES:
        found = rule(ctx)
        if found is not None:
            return found
    if ctx.sig.wants_refund:
        return _c(
            Case.needs_human,
            0.6,
            "a refund request, but nothing in billing is wrong and no failure is reported",
        )
    return _c(Case.needs_human, 0.5, "nothing in billing explains the ticket")
