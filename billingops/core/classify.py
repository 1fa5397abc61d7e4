"""Classification (SPEC §4): exactly one case, with a confidence and evidence lines.

Evidence first. Rules run in a fixed order and the first that matches decides: identity
and disputes (no rule may act on them), then what Stripe shows (duplicates, failed
payments, charges after a cancellation, contract shapes), and only then what the ticket
asks for. Where billing decides, the ticket's words only choose among the cases that
billing allows: a textbook duplicate stays a duplicate however the ticket is worded, and a
word moves a decision only toward the safer case, only when the evidence is ambiguous.
Words about other people (who helped, an accountant, the people who use the product) are
shown as considered, never read as a claim about the account's shape.

Below `CONFIDENCE_FLOOR` the case is `needs_human`, with what would decide it.

Evidence lines are short facts with Stripe ids only, never emails or names, because they
are printed in a public comment and in the `--json` output.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from billingops.config import Config
from billingops.core.anomalies import (
    ago,
    by_age,
    charges_after_cancel,
    contract_shape,
    has_team_metadata,
    live_groups,
)
from billingops.core.duplicates import TEAM_APART, GroupEvidence, group_evidence
from billingops.core.signals import Signals, signals, ticket_text
from billingops.models.billing import (
    FAILED_STATUSES,
    BillingState,
    Resolution,
    Subscription,
)
from billingops.models.decision import Case, Classification
from billingops.models.ticket import RequestKind, Ticket

__all__ = [
    "CONFIDENCE_FLOOR",
    "TEAM_APART",
    "GroupEvidence",
    "Signals",
    "classify",
    "group_evidence",
    "signals",
    "ticket_text",
]

# Below this, a decision is not trusted to a rule: `needs_human`, with what would decide.
CONFIDENCE_FLOOR = 0.6

_BILLING = "billing evidence"
_WORDS = "the ticket's words (nothing in billing decides)"


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


def _c(
    case: Case,
    confidence: float,
    *evidence: str,
    decided_by: str = _BILLING,
    words: list[str] | None = None,
    would_decide: list[str] | None = None,
) -> Classification:
    return Classification(
        case=case,
        confidence=confidence,
        evidence=list(evidence),
        decided_by=decided_by,
        words=words or [],
        would_decide=would_decide or [],
    )


def _identity(ctx: _Ctx) -> Classification | None:
    res = ctx.resolution
    if not res.found:
        if not ctx.ticket.has_identifier:
            return _c(
                Case.needs_human,
                1.0,
                "the ticket has no billing email or Stripe ID",
                decided_by="identity",
                would_decide=["the customer's billing email or a Stripe ID"],
            )
        notes = f"{len(res.problems)} identifier(s) led nowhere" if res.problems else ""
        return _c(
            Case.needs_human,
            0.95,
            *filter(None, ["no Stripe customer matches the ticket's identifiers", notes]),
            decided_by="identity",
            would_decide=["an identifier that finds the customer in Stripe"],
        )
    if res.conflicting:
        return _c(
            Case.needs_human,
            0.95,
            "the identifiers point at different customers: " + ", ".join(res.customer_ids),
            "a human must confirm who the ticket is about",
            decided_by="identity",
            would_decide=["which customer the ticket is about"],
        )
    if ctx.state.customers and all(c.deleted for c in ctx.state.customers):
        ids = ", ".join(c.id for c in ctx.state.customers)
        return _c(
            Case.needs_human,
            0.9,
            f"customer {ids} is deleted in Stripe",
            decided_by="identity",
            would_decide=["whether the customer has another, live Stripe account"],
        )
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
        would_decide=["the outcome of the dispute"],
    )


# --- duplicates: the billing evidence decides -----------------------------------------------


def _other_people(sig: Signals) -> list[str]:
    return [w + " (about other people, not the shape of the account)" for w in sig.words("others")]


def _duplicates(ctx: _Ctx) -> Classification | None:
    groups = [group_evidence(ctx.state, g) for g in live_groups(ctx.state)]
    if not groups:
        return None
    sig = ctx.sig
    facts = [f for g in groups for f in g.facts]
    team_facts = [f for g in groups for f in g.team_facts]
    doubts = [f for g in groups for f in g.doubts]
    claim = sig.words("team")
    dup_words = sig.words("duplicate", "refund", "cancel")
    others = _other_people(sig)
    kinds = {g.kind for g in groups}
    extras = [s for g in groups for s in g.subs[1:]]

    if kinds == {"duplicate"}:
        # The oldest is kept; only the extras would be canceled and refunded.
        shapes = [f"{s.id} is {shape}" for s in extras if (shape := contract_shape(ctx.state, s))]
        if shapes:
            return _c(
                Case.needs_human,
                0.8,
                *facts,
                *shapes,
                "cancelling now with a full refund of this contract needs a human",
                words=dup_words + others,
                would_decide=["whether to cancel the extra now or at period end, and the refund"],
            )
        if claim:
            # Billing says duplicate; the customer says the extra is someone's on purpose.
            return _c(
                Case.needs_human,
                0.6,
                *facts,
                "the ticket says the extra subscription is for someone else",
                words=[w + " (a claim about the account)" for w in claim] + dup_words + others,
                would_decide=[
                    "ask whether "
                    + ", ".join(s.id for s in extras)
                    + " is used by the person the ticket names; if not, it is a duplicate"
                ],
            )
        confident = sig.duplicate or sig.wants_refund or sig.wants_cancel
        return _c(
            Case.duplicate_subscription,
            0.9 if confident else 0.8,
            *facts,
            words=dup_words + others,
        )

    if "team" in kinds and "duplicate" not in kinds and "ambiguous" not in kinds:
        if sig.wants_cancel and sig.wants_refund:
            return _c(
                Case.needs_human,
                0.8,
                *facts,
                *team_facts,
                "a team purchase and the ticket asks to cancel and refund: a human decides",
                words=dup_words + claim + others,
                would_decide=["which seats or subscriptions the customer no longer uses"],
            )
        return _c(
            Case.team_seats,
            0.85 if len(team_facts) > 1 or claim else 0.75,
            *facts,
            *team_facts,
            words=claim + dup_words + others,
        )

    intent = claim or sig.words("seats")
    if kinds == {"ambiguous"} and intent:
        # Only here may words move the decision, and only toward the safer case.
        return _c(
            Case.team_seats,
            0.7,
            *facts,
            *doubts,
            "the ticket says the extra subscription is for someone else",
            words=[w + " (a claim about the account)" for w in intent] + dup_words + others,
        )
    return _c(
        Case.needs_human,
        0.55,
        *facts,
        *team_facts,
        *doubts,
        "billing does not settle duplicate against deliberate second purchase",
        words=claim + dup_words + others,
        would_decide=[
            "ask whether "
            + ", ".join(s.id for s in extras)
            + " is used by someone; unused and unwanted is a duplicate"
        ],
    )


# --- other billing evidence -----------------------------------------------------------------


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
    return _c(Case.failed_payment, 0.9, *evidence, words=ctx.sig.words())


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
                words=ctx.sig.words("refund", "cancel", "broken", "surprise", "after_cancel"),
                would_decide=[f"the refund amount for the {shape} contract, if any"],
            )
    return None


def _team_single(ctx: _Ctx) -> Classification | None:
    """One subscription billed per seat, and a customer surprised by the amount."""
    sig = ctx.sig
    if not (sig.duplicate or sig.wants_refund or sig.confused):
        return None
    if sig.broken or sig.after_cancel:
        return None
    for sub in ctx.live:
        if sub.quantity > 1 or has_team_metadata(sub):
            return _c(
                Case.team_seats,
                0.75,
                f"subscription {sub.id} has quantity {sub.quantity}: billed per seat",
                "the ticket questions the amount; no duplicate subscription",
                words=sig.words("duplicate", "refund", "confused", "team") + _other_people(sig),
            )
    return None


def _charged_after_cancel(ctx: _Ctx) -> Classification | None:
    after = charges_after_cancel(ctx.state)
    if not after:
        return None
    lines = [
        f"charge {ch.id} was made {ago(ch.created - (sub.canceled_at or 0))} after "
        f"{sub.id} was canceled"
        for ch, sub in after
    ]
    return _c(Case.product_failure, 0.9, *lines, words=ctx.sig.words())


# --- the ticket's words, when billing shows nothing wrong -----------------------------------


def _words(ctx: _Ctx) -> Classification:
    """Nothing in billing decides: the dropdown, then the words, choose the case."""
    sig = ctx.sig
    failure = [
        ("the ticket reports that the product did not work", sig.broken),
        ("the ticket reports a charge after cancelling", sig.after_cancel),
        ("the ticket reports an unexpected renewal or charge", sig.surprise),
    ]
    reasons = [r for r, on in failure if on]
    # Nothing live to cancel: "I cancelled last month" is history, not an ask.
    anything_live = any(not s.ended for s in ctx.state.subscriptions)  # paused too
    asks = [
        ("a cancellation", sig.wants_cancel and anything_live),
        ("invoices", sig.wants_invoices),
        ("a card change", sig.wants_card),
        ("a seat or plan change", sig.wants_seats),
    ]
    asked = [w for w, on in asks if on]
    words = sig.words()
    dropdown = sig.dropdown
    by = _WORDS if dropdown is None else f"the form's request ({dropdown.value}) and words"
    # The dropdown outranks the words: a self-serve request on the form is self-serve,
    # unless the words also report a failure and ask for money back.
    self_serve_dropdown = dropdown in (
        RequestKind.cancel,
        RequestKind.invoices,
        RequestKind.seats_or_plan,
        RequestKind.failed_payment,
    )
    if reasons and not (self_serve_dropdown and not sig.wants_refund):
        # A failure report next to a self-serve ask, with no money asked back, may be only
        # context for the ask ("an error on my invoice"): below the floor, a human decides.
        strong = sig.wants_refund or sig.after_cancel or sig.surprise or not asked
        return _c(
            Case.product_failure,
            0.75 if strong else 0.55,
            *reasons,
            *([] if strong else ["the ticket also asks for " + ", ".join(asked)]),
            decided_by=by,
            words=words,
            would_decide=[]
            if strong
            else ["whether the product failed, or the customer only needs " + " and ".join(asked)],
        )
    if asked:
        lines = ["the ticket asks for " + ", ".join(asked)]
        if sig.wants_refund:
            lines.append("a refund is asked too: no rule grants it when nothing is wrong")
        lines.append("no duplicate, failed payment or dispute in billing")
        return _c(Case.missing_self_serve, 0.85, *lines, decided_by=by, words=words)
    if sig.wants_refund:
        return _c(
            Case.needs_human,
            0.6,
            "a refund request, but nothing in billing is wrong and no failure is reported",
            decided_by=by,
            words=words,
            would_decide=["why the customer wants the money back (a failure, a mistake?)"],
        )
    return _c(
        Case.needs_human,
        0.5,
        "nothing in billing explains the ticket",
        decided_by=by,
        words=words,
        would_decide=["what the customer is asking for"],
    )


_RULES: tuple[_Rule, ...] = (
    _identity,
    _dispute,
    _duplicates,
    _failed_payment,
    _contract,
    _team_single,
    _charged_after_cancel,
)


def _floor(found: Classification) -> Classification:
    """Low confidence is honest: below the floor a human decides, told what would decide."""
    if found.case is Case.needs_human or found.confidence >= CONFIDENCE_FLOOR:
        return found
    return found.model_copy(
        update={
            "case": Case.needs_human,
            "evidence": [
                *found.evidence,
                f"looked like {found.case.value} at {found.confidence:.2f}, below "
                f"{CONFIDENCE_FLOOR:.2f}",
            ],
            "would_decide": found.would_decide or [f"confirm it is {found.case.value}"],
        }
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
            return _floor(found)
    return _floor(_words(ctx))
