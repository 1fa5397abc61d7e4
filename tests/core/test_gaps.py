from __future__ import annotations

from billingops.core.gaps import GapKey, detect_gaps, merge_portal
from billingops.models.billing import BillingState, PortalCapabilities
from billingops.models.decision import Case, Classification
from billingops.models.ticket import RequestKind, Ticket
from tests.core.builders import config, paid_sub, state, ticket

ACTIVE = PortalCapabilities(
    source="stripe", active=True, allows_cancellation=True, allows_invoice_history=True
)


def gaps(
    t: Ticket, case: Case, portal: PortalCapabilities = ACTIVE, s: BillingState | None = None
) -> dict[GapKey, tuple[str, str]]:
    cls = Classification(case=case, confidence=0.9)
    found = detect_gaps(t, s or state(paid_sub(1)), cls, portal)
    return {g.key: (g.evidence, g.source) for g in found}


def test_nothing_when_the_portal_does_everything() -> None:
    assert gaps(ticket("please cancel", request=RequestKind.cancel), Case.missing_self_serve) == {}


def test_no_billing_portal_from_stripe() -> None:
    off = PortalCapabilities(source="stripe", active=False)
    found = gaps(ticket("update my card"), Case.failed_payment, off)
    assert found[GapKey.no_billing_portal][1] == "stripe"


def test_no_billing_portal_unknown() -> None:
    found = gaps(ticket("cancel"), Case.missing_self_serve, PortalCapabilities())
    assert found[GapKey.no_billing_portal][1] == "unknown"
    assert GapKey.no_cancellation_flow not in found  # the portal gap already covers it


def test_no_cancellation_flow_from_config() -> None:
    portal = merge_portal(
        PortalCapabilities(source="unknown", active=True),
        config(portal={"allows_cancellation": False}),
    )
    found = gaps(ticket("cancel", request=RequestKind.cancel), Case.missing_self_serve, portal)
    assert found[GapKey.no_cancellation_flow][1] == "config"


def test_cancellation_unknown_only_when_customer_could_not_find_it() -> None:
    portal = PortalCapabilities(source="stripe", active=True)
    assert GapKey.no_cancellation_flow not in gaps(
        ticket("cancel"), Case.missing_self_serve, portal
    )
    found = gaps(ticket("I can't find how to cancel"), Case.missing_self_serve, portal)
    assert found[GapKey.no_cancellation_flow][1] == "unknown"


def test_no_invoice_access() -> None:
    portal = PortalCapabilities(source="stripe", active=True, allows_invoice_history=False)
    found = gaps(ticket("I need my invoices", request=RequestKind.invoices),
                 Case.missing_self_serve, portal)  # fmt: skip
    assert found[GapKey.no_invoice_access] == (
        "the portal does not offer invoice history",
        "stripe",
    )


def test_no_duplicate_guard() -> None:
    found = gaps(ticket("charged twice"), Case.duplicate_subscription)
    assert found[GapKey.no_duplicate_guard][1] == "stripe"


def test_no_usage_visibility() -> None:
    assert GapKey.no_usage_visibility in gaps(ticket("what is my usage this month?"),
                                              Case.needs_human)  # fmt: skip


def test_no_plan_explanation() -> None:
    assert GapKey.no_plan_explanation in gaps(ticket("why 5x?"), Case.team_seats)
    assert GapKey.no_plan_explanation in gaps(ticket("it renewed without notice"),
                                              Case.product_failure)  # fmt: skip


def test_merge_portal_keeps_stripe_answers() -> None:
    merged = merge_portal(ACTIVE, config(portal={"allows_cancellation": False}))
    assert merged == ACTIVE
    merged = merge_portal(PortalCapabilities(), config(portal={"login_url": "https://x.test"}))
    assert merged.login_url == "https://x.test" and merged.source == "config"


def test_gaps_are_in_key_order() -> None:
    t = ticket("why? usage? cancel?", request=RequestKind.cancel)
    keys = list(gaps(t, Case.duplicate_subscription, PortalCapabilities()))
    assert keys == sorted(keys, key=list(GapKey).index)
