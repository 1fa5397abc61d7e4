"""Product gaps (SPEC §7): what the product lacked that made this ticket necessary.

Detection only; filing and deduplicating backlog issues happens elsewhere. Each gap says
where its evidence came from: `stripe` (the account's portal configuration or the billing
state), `config` (the operator's `portal:` settings, used when Stripe cannot tell), or
`unknown` (nothing confirms the capability either way; the ticket text alone suggests it).
"""

from __future__ import annotations

import re

from billingops.config import Config
from billingops.core.classify import Signals, signals, ticket_text
from billingops.models.billing import BillingState, PortalCapabilities
from billingops.models.decision import Case, Classification, Gap, GapKey, Source
from billingops.models.ticket import Ticket

__all__ = ["Gap", "GapKey", "Source", "detect_gaps", "merge_portal"]

_USAGE = re.compile(
    r"\b(usage|how much (have|did) (i|we) use|overage|consumption|quota)\b", re.IGNORECASE
)
_CANT_FIND = re.compile(
    r"(can'?t|cannot|could ?n[o']t|unable to) find|no way to|how (do|can) (i|we)",
    re.IGNORECASE,
)


def merge_portal(portal: PortalCapabilities, config: Config) -> PortalCapabilities:
    """Fill what Stripe could not tell from the config's `portal:` settings."""
    cfg = config.portal
    fills: dict[str, object] = {}
    if portal.allows_cancellation is None and cfg.allows_cancellation is not None:
        fills["allows_cancellation"] = cfg.allows_cancellation
    if portal.allows_invoice_history is None and cfg.allows_invoice_history is not None:
        fills["allows_invoice_history"] = cfg.allows_invoice_history
    if portal.login_url is None and cfg.login_url is not None:
        fills["login_url"] = cfg.login_url
    if not fills:
        return portal
    if portal.source == "unknown":
        fills["source"] = "config"
    return portal.model_copy(update=fills)


def _portal_missing(portal: PortalCapabilities) -> tuple[str, Source] | None:
    if portal.active is False:
        return "the Stripe customer portal is not active", portal.source
    if portal.active is None and portal.login_url is None:
        return "no customer portal is known (no Stripe configuration, no login_url)", "unknown"
    return None


def _capability(
    allowed: bool | None,
    portal: PortalCapabilities,
    sig_text: bool,
    what: str,
) -> tuple[str, Source] | None:
    """A capability is a gap when known off, or unknown and the customer could not find it."""
    if allowed is False:
        return f"the portal does not offer {what}", portal.source
    if allowed is None and sig_text:
        return f"the customer could not find {what}; the portal setting is unknown", "unknown"
    return None


def detect_gaps(
    ticket: Ticket,
    state: BillingState,
    classification: Classification,
    portal: PortalCapabilities | None = None,
) -> list[Gap]:
    """Gaps this ticket shows, in key order. `portal` defaults to `state.portal`."""
    portal = portal or state.portal
    sig: Signals = signals(ticket)
    text = ticket_text(ticket)
    cant_find = bool(_CANT_FIND.search(text))
    case = classification.case
    found: list[Gap] = []

    def add(key: GapKey, hit: tuple[str, Source] | None) -> None:
        if hit is not None:
            found.append(Gap(key=key, evidence=hit[0], source=hit[1]))

    self_serve = case in (Case.missing_self_serve, Case.failed_payment) or (
        sig.wants_cancel or sig.wants_invoices or sig.wants_card
    )
    if self_serve and case is not Case.needs_human:
        add(GapKey.no_billing_portal, _portal_missing(portal))
    portal_usable = _portal_missing(portal) is None
    if sig.wants_cancel and portal_usable:
        add(
            GapKey.no_cancellation_flow,
            _capability(portal.allows_cancellation, portal, cant_find, "a cancellation path"),
        )
    if sig.wants_invoices and portal_usable:
        add(
            GapKey.no_invoice_access,
            _capability(portal.allows_invoice_history, portal, cant_find, "invoice history"),
        )
    if case is Case.duplicate_subscription:
        add(
            GapKey.no_duplicate_guard,
            ("checkout let one customer buy the same product twice", "stripe"),
        )
    if _USAGE.search(text):
        add(
            GapKey.no_usage_visibility,
            ("the customer asks what they used; the product does not show it", "unknown"),
        )
    if case is Case.team_seats or (sig.confused and case is not Case.needs_human) or sig.surprise:
        why = (
            "the customer did not understand the per-seat billing"
            if case is Case.team_seats
            else "the customer did not understand a charge or renewal"
        )
        add(GapKey.no_plan_explanation, (why, "unknown"))
    order = list(GapKey)
    return sorted(found, key=lambda g: order.index(g.key))
