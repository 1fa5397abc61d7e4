"""A scenario's ticket as GitHub renders the billing issue form (for the demo and tests)."""

from __future__ import annotations

from typing import Any

import yaml

from billingops.models.ticket import RequestKind
from billingops.sandbox.scenarios import SuggestedTicket
from billingops.templates_path import template_file

NO_RESPONSE = "_No response_"
_OPTION_INDEX = {
    RequestKind.refund: 0,
    RequestKind.cancel: 1,
    RequestKind.failed_payment: 2,
    RequestKind.invoices: 3,
    RequestKind.seats_or_plan: 4,
    RequestKind.other: 5,
}


def issue_form() -> dict[str, Any]:
    form: dict[str, Any] = yaml.safe_load(template_file("repo/billing.yml").read_text("utf-8"))
    return form


def form_body(ticket: SuggestedTicket) -> str:
    """`### Label` sections with `_No response_` for empty fields, as GitHub writes them."""
    values: dict[str, str | None] = {
        "email": ticket.email,
        "stripe_ids": "\n".join(ticket.stripe_ids) or None,
        "github_username": ticket.github_username,
        "request": None,
        "description": ticket.description,
    }
    out = []
    for field in issue_form()["body"]:
        if field["type"] == "markdown":
            continue
        value = values.get(field["id"])
        if field["id"] == "request" and ticket.request is not None:
            value = field["attributes"]["options"][_OPTION_INDEX[ticket.request]]
        out.append(f"### {field['attributes']['label']}\n\n{value or NO_RESPONSE}")
    return "\n\n".join(out)
