"""Who is asking (SPEC §5a), the pure rules."""

from __future__ import annotations

from billingops.config import Config, RefundPolicy
from billingops.core.approval import Verdict, check_approval, needs_second_approver
from billingops.core.requester import identify, vouch_problem
from billingops.models.billing import BillingState, Customer
from billingops.models.issue import LabelEvent
from billingops.models.ticket import Identity

CONFIG = Config()
MONA = Customer(id="cus_1", metadata={"github_username": "Octo-Mona"})


def _state(*customers: Customer) -> BillingState:
    return BillingState(customers=list(customers))


def test_verified_only_when_every_resolved_customer_names_the_author() -> None:
    assert identify("octo-mona", None, _state(MONA), CONFIG).identity is Identity.verified
    other = Customer(id="cus_2", metadata={})
    assert identify("octo-mona", None, _state(MONA, other), CONFIG).identity is (
        Identity.unverified
    )
    assert identify("mallory", None, _state(MONA), CONFIG).identity is Identity.unverified


def test_staff_roles_vouch_and_read_roles_do_not() -> None:
    for role in ("triage", "write", "maintain", "admin"):
        r = identify("maya", role, _state(MONA), CONFIG)
        assert (r.identity, r.staff) == (Identity.vouched, True)
    assert identify("rita", "read", _state(MONA), CONFIG).identity is Identity.unverified


def _labeled(actor: str, at: int, label: str = "verified-requester") -> LabelEvent:
    return LabelEvent(event="labeled", label=label, actor=actor, created_at=at, id=at)


def test_the_verified_label_counts_only_from_an_approver_after_the_last_edit() -> None:
    roles = {"ada": "admin", "tim": "triage"}
    ok = vouch_problem([_labeled("ada", 100)], roles, CONFIG, author="x", ticket_version_at=99)
    assert ok is None
    assert "edited" in (
        vouch_problem([_labeled("ada", 100)], roles, CONFIG, author="x", ticket_version_at=100)
        or ""
    )  # the same second is not after
    assert vouch_problem([_labeled("tim", 100)], roles, CONFIG, author="x", ticket_version_at=0)
    assert vouch_problem(
        [_labeled("x", 100)], {"x": "admin"}, CONFIG, author="x", ticket_version_at=0
    )


def test_approval_ties_and_self_approval_are_refused() -> None:
    roles = {"ada": "admin", "maya": "maintain"}
    events = [_labeled("ada", 100, "approve-refund")]
    tie = check_approval("approve-refund", events, roles, CONFIG, plan_posted_at=100)
    after = check_approval("approve-refund", events, roles, CONFIG, plan_posted_at=99)
    assert (tie.verdict, after.verdict) == (Verdict.refused, Verdict.granted)
    own = check_approval("approve-refund", events, roles, CONFIG, plan_posted_at=99, author="ada")
    assert own.verdict is Verdict.refused and "opened this ticket" in own.reason
    allowed = Config(forbid_self_approval=False)
    assert (
        check_approval(
            "approve-refund", events, roles, allowed, plan_posted_at=99, author="ada"
        ).verdict
        is Verdict.granted
    )
    unposted = check_approval("approve-refund", events, roles, CONFIG, plan_posted_at=None)
    assert unposted.verdict is Verdict.refused


def test_second_approver_threshold_is_per_currency_over_the_whole_plan() -> None:
    config = Config(refund=RefundPolicy(second_approver_above={"default": 50000, "JPY": 50000}))
    three = [("usd", 40000)] * 3
    assert needs_second_approver(three, config) == ["usd"]
    assert needs_second_approver([("usd", 40000)], config) == []
    assert needs_second_approver([("jpy", 40000), ("usd", 40000)], config) == []
    assert needs_second_approver([("kwd", 50001)], config) == ["kwd"]  # `default`
    assert Config(refund=RefundPolicy(second_approver_above=100)).refund.threshold("eur") == 100
