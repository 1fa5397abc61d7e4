"""What a ticket says: its requests and reports, from the form's dropdown and its words.

Signals are claims, not facts: `classify` weighs them against the billing evidence. The
words behind each one are kept (`Signals.hits`) so the DECISION can show what was read.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from billingops.core.lexicon import Hit, find_cues
from billingops.models.ticket import RequestKind, Ticket


@dataclass(frozen=True)
class Signals:
    """What the ticket asks for or reports, from the form's dropdown and its free text."""

    wants_refund: bool = False
    wants_cancel: bool = False
    wants_invoices: bool = False
    wants_card: bool = False
    wants_seats: bool = False
    # A claim about the account's shape: seats, licences, "bought the second for my
    # colleague". Mentioning people in another role is `others`, not this.
    team: bool = False
    duplicate: bool = False
    broken: bool = False
    surprise: bool = False
    after_cancel: bool = False  # says they cancelled and were charged afterwards
    confused: bool = False
    others: bool = False
    # The form's dropdown, when the ticket has one (it outranks the words).
    dropdown: RequestKind | None = None
    hits: tuple[Hit, ...] = field(default=(), compare=False)

    def words(self, *signals: str) -> list[str]:
        """`signal: “words”` for the given signals (all when none given), deduplicated."""
        out: dict[str, None] = {}
        for h in self.hits:
            if not signals or h.signal in signals:
                neg = " (negated)" if h.negated else ""
                neg += " (about the customer's own business)" if h.own_affairs else ""
                out.setdefault(f"{h.signal}: \u201c{h.words}\u201d{neg}", None)
        return list(out)


_SIGNAL_OF = {RequestKind.refund: "refund", RequestKind.cancel: "cancel"}


def ticket_text(ticket: Ticket) -> str:
    parts = [ticket.title, ticket.description, *(ticket.fields[k] for k in sorted(ticket.fields))]
    return "\n".join(p for p in parts if p)


def signals(ticket: Ticket) -> Signals:
    text = ticket_text(ticket)
    hits = tuple(find_cues(text))
    found = {h.signal for h in hits if not (h.negated or h.own_affairs)}
    req = ticket.request
    dropdown = req if ticket.from_form and req not in (None, RequestKind.other) else None
    if dropdown is None and req is not None:
        # A request read from free text is only as good as its words: "no refund needed"
        # is not a refund request. The form's dropdown is never overridden.
        negated = {h.signal for h in hits if h.negated} - found
        if _SIGNAL_OF.get(req) in negated:
            req = None
    return Signals(
        wants_refund=req is RequestKind.refund or "refund" in found,
        wants_cancel=req is RequestKind.cancel or "cancel" in found,
        wants_invoices=req is RequestKind.invoices or "invoices" in found,
        wants_card=req is RequestKind.failed_payment or "card" in found,
        wants_seats=req is RequestKind.seats_or_plan or "seats" in found,
        team="team" in found,
        duplicate="duplicate" in found,
        broken="broken" in found,
        surprise="surprise" in found,
        after_cancel="after_cancel" in found and "charged" in found,
        confused="confused" in found,
        others="others" in found,
        dropdown=dropdown,
        hits=hits,
    )
