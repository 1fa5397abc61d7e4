"""Every label billingops uses, with a colour and a description (`doctor --fix` creates the
missing ones)."""

from __future__ import annotations

from typing import NamedTuple

from billingops.config import Config
from billingops.models.decision import Case


class LabelSpec(NamedTuple):
    name: str
    color: str  # six hex digits, no '#'
    description: str


_CASES: dict[Case, str] = {
    Case.duplicate_subscription: "Two or more live subscriptions where one was meant",
    Case.team_seats: "Seats or team billing: explain, keep the seats",
    Case.failed_payment: "A failed or past-due payment: restore self-serve card update",
    Case.missing_self_serve: "Wants to cancel, get invoices or change card alone",
    Case.product_failure: "The product failed or trust broke: apologise, refund on approval",
    Case.needs_human: "A human must decide: identity, dispute or contract shape",
}


def required_labels(config: Config) -> list[LabelSpec]:
    """The labels a support repository needs, in a stable order."""
    labels = [
        LabelSpec(
            config.intake_label, "1d76db", "A billing support ticket (billingops triages it)"
        ),
        LabelSpec("needs-info", "fbca04", "Waiting for the customer: billing email or Stripe ID"),
    ]
    labels += [LabelSpec(f"billing:{case.value}", "c5def5", text) for case, text in _CASES.items()]
    labels += [
        LabelSpec("billing:done", "0e8a16", "billingops executed the approved steps"),
        LabelSpec(
            config.approval_labels.refund,
            "b60205",
            "Approves the proposed refunds (maintainers only; billingops re-checks)",
        ),
        LabelSpec(
            config.approval_labels.cancel,
            "d93f0b",
            "Approves the proposed cancellations (maintainers only; billingops re-checks)",
        ),
        LabelSpec(
            config.verified_requester_label,
            "0e8a16",
            "A maintainer checked that the person asking owns the billing account",
        ),
        LabelSpec("product-gap", "5319e7", "A product gap found through billing tickets"),
    ]
    return labels
