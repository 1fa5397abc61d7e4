"""SPEC §5a, as an attacker would try it: a ticket is written by anyone.

Each test is one attack from issue 12, run through the real desk, the real gateways over
HTTP, localstripe and the fake GitHub (which stamps real UTC in whole seconds, answers the
Actions token 403 on other accounts' comments and on `GET /user`, and records who last
edited a comment).
"""

from __future__ import annotations

import dataclasses
import time
from typing import Any

import pytest

from billingops.config import Config, RefundPolicy
from billingops.core.markers import decode_state, encode_state
from billingops.desk.desk import Asker
from billingops.models.decision import StepKind
from billingops.models.ticket import Identity, RequestKind
from billingops.sandbox.scenarios import Seeded, Seeder, _pro_monthly
from billingops.sandbox.tickets import form_body
from tests.plugins.desk import ADMIN, MAINTAINER, World
from tests.plugins.github import gateway_for

STRANGER = "mallory"
BOT = "github-actions[bot]"


def _refunds(world: World, charge: str) -> list[Any]:
    return world.stripe.find_refunds_for(charge)  # type: ignore[no-any-return]


def _cancel_request(world: World) -> tuple[Seeded, Any]:
    seeded = world.sandbox.seed("healthy_single")
    ticket = dataclasses.replace(
        seeded.ticket, request=RequestKind.cancel, description="Please cancel my subscription."
    )
    return seeded, ticket


# -- who is asking ------------------------------------------------------------------------


def test_a_stranger_naming_another_customer_cannot_get_their_last_subscription_ended(
    world: World,
) -> None:
    seeded, ticket = _cancel_request(world)
    [sub_id] = seeded.subscriptions
    number = world.file_ticket(ticket, author=STRANGER)
    result = world.triage(number)
    assert result.requester is not None and result.requester.identity is Identity.unverified
    assert result.plan is not None
    assert not [s for s in result.plan.steps if s.kind is StepKind.cancel_subscription]
    [comment] = world.bot_comments(number)
    assert "**unverified**" in comment and "verified-requester" in comment
    assert "alice" not in comment.lower()  # the customer's email is withheld from a stranger
    assert "4242" not in comment  # and so is the card on file

    world.label(number, "approve-cancel", actor=ADMIN)
    refused = world.apply(number)
    assert refused.action == "refused"
    live = world.subscription(sub_id)
    assert live["status"] == "active" and not live["cancel_at_period_end"]


def test_the_same_request_from_staff_is_vouched_and_may_cancel(world: World) -> None:
    # The control for the attack above: the guard is what removed the cancel step.
    _, ticket = _cancel_request(world)
    number = world.file_ticket(ticket, author=MAINTAINER)
    result = world.triage(number)
    assert result.requester is not None and result.requester.identity is Identity.vouched
    assert result.plan is not None
    assert [s for s in result.plan.steps if s.kind is StepKind.cancel_subscription]


def test_a_customer_filing_for_themselves_is_found_by_their_login_and_verified(
    world: World,
) -> None:
    seeded = world.sandbox.seed("github_username_metadata")
    bare = dataclasses.replace(seeded.ticket, github_username=None, email=None)
    number = world.file_ticket(bare, author="octo-mona")
    result = world.triage(number)
    assert result.action == "triage", result.reason
    assert result.resolution is not None and result.resolution.resolved_by is not None
    assert result.resolution.resolved_by.value == "github_username"
    assert result.requester is not None and result.requester.identity is Identity.verified
    assert result.requester.contract() == {"login": "octo-mona", "identity": "verified"}


def test_a_staff_authors_own_login_never_identifies_a_customer(world: World) -> None:
    seeded = world.sandbox.seed("github_username_metadata")
    world.fake.add_collaborator("octo-mona", "write")  # staff who is also a customer
    bare = dataclasses.replace(seeded.ticket, github_username=None, email=None)
    number = world.file_ticket(bare, author="octo-mona")
    assert world.triage(number).action == "needs_info"


def test_verified_requester_label_vouches_until_the_ticket_is_edited(world: World) -> None:
    _, ticket = _cancel_request(world)
    number = world.file_ticket(ticket, author=STRANGER)
    assert world.triage(number).requester.identity is Identity.unverified  # type: ignore[union-attr]
    world.label(number, "verified-requester", actor=STRANGER)  # cannot vouch for oneself
    assert world.triage(number).requester.identity is Identity.unverified  # type: ignore[union-attr]
    world.fake.unlabel_issue(number, "verified-requester", actor=ADMIN)
    world.label(number, "verified-requester", actor=ADMIN)
    vouched = world.triage(number)
    assert vouched.requester is not None and vouched.requester.identity is Identity.vouched
    assert vouched.plan and [
        s for s in vouched.plan.steps if s.kind is StepKind.cancel_subscription
    ]
    world.fake.advance(5)
    world.fake.edit_issue(number, editor=STRANGER, body=form_body(ticket) + "\nalso my friend's")
    again = world.triage(number)
    assert again.requester is not None and again.requester.identity is Identity.unverified


# -- the intake gate ----------------------------------------------------------------------


def test_an_issue_without_the_billing_label_is_ignored_without_a_request(world: World) -> None:
    seeded = world.sandbox.seed("duplicate_subscriptions")
    number = world.file_ticket(seeded.ticket, author=STRANGER, labels=())
    world.fake.reset_requests()
    result = world.triage(number)
    assert result.action == "ignored" and result.resolution is None and result.plan is None
    assert world.fake.requests == []


# -- whose comment counts -----------------------------------------------------------------


def test_a_look_alike_posted_before_the_first_run_is_never_adopted(world: World) -> None:
    seeded = world.sandbox.seed("duplicate_subscriptions")
    first = world.file_ticket(seeded.ticket, author="customer")
    world.triage(first)
    [original] = world.bot_comments(first)
    second = world.file_ticket(seeded.ticket, author=STRANGER)
    forged = world.fake.add_comment(second, original, author="helpful-stranger")

    result = world.triage(second)  # with the Actions token an edit of it would be a 403
    assert result.action == "triage"
    ours = [b for b, a in world.fake.comment_authors(second) if a == BOT]
    assert len(ours) == 1 and ours[0] != original  # its own comment, for its own issue
    assert world.fake.comments_of(second)[0] == original  # the look-alike is untouched
    assert forged in world.fake.comment_ids(second)


def test_a_look_alike_after_the_first_run_changes_nothing(world: World) -> None:
    seeded = world.sandbox.seed("duplicate_subscriptions")
    number = world.file_ticket(seeded.ticket, author="customer")
    plan = world.triage(number).plan
    assert plan is not None
    [ours] = world.bot_comments(number)
    state = decode_state(ours)
    assert state is not None
    fake_state = state.model_copy(update={"plan_hash": "0" * 16, "rev": 0})
    world.fake.add_comment(number, encode_state(fake_state) + "\nfake", author=STRANGER)
    world.label(number, "approve-refund", actor=ADMIN)
    done = world.apply(number)
    assert done.action == "apply", done.reason
    assert [e.status for e in done.executed] == ["done"]


def test_state_hand_edited_by_a_write_role_user_is_not_trusted(world: World) -> None:
    seeded = world.sandbox.seed("duplicate_subscriptions")
    number = world.file_ticket(seeded.ticket, author="customer")
    plan = world.triage(number).plan
    assert plan is not None
    refund = next(s for s in plan.steps if s.kind is StepKind.refund)
    [comment_id] = world.fake.comment_ids(number)
    body = world.fake.comments_of(number)[0]
    state = decode_state(body)
    assert state is not None
    # Backdate the plan's revision so an early label would look current; the checksum is
    # recomputed, as anyone can.
    tampered = encode_state(state.model_copy(update={"rev": 0})) + body[body.index("\n") :]
    world.fake.advance(5)
    world.fake.edit_comment(comment_id, tampered, editor=ADMIN)
    world.label(number, "approve-refund", actor=ADMIN)

    refused = world.apply(number)
    assert refused.action == "refused"
    assert "edited by ada" in refused.reason
    assert _refunds(world, refund.target or "") == []
    assert "approve-refund" not in world.fake.labels_of(number)
    # billingops rewrote its comment and announced the plan in a new comment.
    assert any(b.startswith("<!-- billingops:plan rev=") for b in world.fake.comments_of(number))

    world.label(number, "approve-refund", actor=ADMIN)  # after reading the announced plan
    done = world.apply(number)
    assert done.action == "apply", done.reason
    assert len(_refunds(world, refund.target or "")) == 1


def test_the_actions_token_cannot_edit_a_look_alike(world: World) -> None:
    # What made the old ticket jam: the fake refuses it as GitHub does.
    number = world.fake.add_issue("x", "y", author=STRANGER, labels=["billing"])
    cid = world.fake.add_comment(number, "hello", author=STRANGER)
    gateway = gateway_for(world.fake)
    from billingops.errors import BadInput

    with pytest.raises(BadInput, match="403"):
        gateway.edit_comment(cid, "changed")
    assert gateway.whoami() == BOT


# -- GitHub's clock -----------------------------------------------------------------------


@pytest.mark.parametrize("skew", [-300, 300])
def test_approval_timing_ignores_the_runners_clock(
    world: World, monkeypatch: pytest.MonkeyPatch, skew: int
) -> None:
    real = time.time
    monkeypatch.setattr(time, "time", lambda: real() + skew)
    seeded = world.sandbox.seed("duplicate_subscriptions")
    number = world.file_ticket(seeded.ticket, author="customer")
    world.fake.label_issue(number, "approve-refund", actor=ADMIN)  # before any plan
    world.fake.advance(30)
    world.triage(number)
    early = world.apply(number)
    assert early.action == "refused"
    assert "before the current plan was posted" in early.reason
    world.label(number, "approve-refund", actor=ADMIN, after=30)
    assert world.apply(number).action == "apply"


def test_a_label_in_the_same_second_as_the_plan_is_not_after_it(world: World) -> None:
    seeded = world.sandbox.seed("duplicate_subscriptions")
    number = world.file_ticket(seeded.ticket, author="customer")
    world.fake.freeze()  # the plan and the label share GitHub's second
    world.triage(number)
    world.fake.label_issue(number, "approve-refund", actor=ADMIN)
    tie = world.apply(number)
    assert tie.action == "refused" and "before the current plan" in tie.reason


def test_a_plan_that_changes_under_a_pending_label_is_announced_and_refused(
    world: World,
) -> None:
    seeded = world.sandbox.seed("duplicate_subscriptions")
    number = world.file_ticket(seeded.ticket, author="customer")
    plan = world.triage(number).plan
    assert plan is not None
    world.label(number, "approve-cancel", actor=ADMIN)
    # The customer cancels the extra subscription themselves meanwhile: the plan changes.
    extra = next(s for s in plan.steps if s.kind is StepKind.cancel_subscription)
    Seeder(world.sandbox.base_url).call("DELETE", f"/v1/subscriptions/{extra.target}")
    refused = world.apply(number)
    assert refused.action == "refused" and "plan changed" in refused.reason
    announcements = [
        b for b in world.fake.comments_of(number) if b.startswith("<!-- billingops:plan rev=1 ")
    ]
    assert len(announcements) == 1
    assert "approve-cancel" not in world.fake.labels_of(number)
    # A rerun does not announce twice.
    world.triage(number)
    assert sum(b.startswith("<!-- billingops:plan ") for b in world.fake.comments_of(number)) == 1


def test_a_ticket_edit_that_changes_the_plan_voids_an_earlier_label(world: World) -> None:
    seeded = world.sandbox.seed("healthy_single")
    number = world.file_ticket(seeded.ticket, author=MAINTAINER)
    world.triage(number)
    world.label(number, "approve-cancel", actor=ADMIN)  # nothing to cancel yet
    cancel = dataclasses.replace(
        seeded.ticket, request=RequestKind.cancel, description="Please cancel my subscription."
    )
    world.fake.advance(5)
    world.fake.edit_issue(number, editor=MAINTAINER, body=form_body(cancel))
    changed = world.triage(number)
    assert changed.plan and any(s.kind is StepKind.cancel_subscription for s in changed.plan.steps)
    [note] = [b for b in world.fake.comments_of(number) if b.startswith("<!-- billingops:plan ")]
    assert "will be refused" in note and "cancel" in note
    refused = world.apply(number)
    assert refused.action == "refused" and "before the current plan" in refused.reason


# -- two approvers and self-approval ------------------------------------------------------


def _triplicate(world: World) -> tuple[int, list[Any]]:
    """Four subscriptions to one price bought minutes apart: three extras to refund."""
    s = Seeder(world.sandbox.base_url)
    seeded = Seeded("triplicate")
    plan = _pro_monthly(s)
    s.clock(world.sandbox.now - 2 * 86400)
    cus = s.customer("trip@example.com", name="Trip Lee")
    for _ in range(4):
        s.subscribe(seeded, cus, plan)
        s.advance(120)
    s.clock(world.sandbox.now)
    ticket = dataclasses.replace(
        world.sandbox.seed("duplicate_subscriptions").ticket, email="trip@example.com"
    )
    number = world.file_ticket(ticket, author="customer")
    result = world.triage(number)
    assert result.plan is not None
    refunds = [st for st in result.plan.steps if st.kind is StepKind.refund]
    return number, refunds


def test_three_refunds_under_the_threshold_each_but_over_it_together_need_two(
    world: World,
) -> None:
    world.config = Config(refund=RefundPolicy(second_approver_above={"default": 5000}))
    number, refunds = _triplicate(world)
    assert len(refunds) == 3 and all((r.amount or 0) <= 5000 for r in refunds)
    assert sum(r.amount or 0 for r in refunds) > 5000
    world.label(number, "approve-refund", actor=ADMIN)
    first = world.apply(number)
    assert first.action == "refused" and "second approver" in first.reason
    assert all(_refunds(world, r.target or "") == [] for r in refunds)
    world.label(number, "approve-refund", actor=MAINTAINER)  # the second person
    done = world.apply(number)
    assert done.action == "apply", done.reason
    assert all(len(_refunds(world, r.target or "")) == 1 for r in refunds)


def test_the_threshold_is_per_currency_in_its_minor_units(world: World) -> None:
    # ¥1,000 is not $10.00: a JPY entry applies to yen, `default` to the rest.
    world.config = Config(refund=RefundPolicy(second_approver_above={"default": 50000, "jpy": 100}))
    seeded = world.sandbox.seed("zero_decimal_currency")
    number = world.file_ticket(seeded.ticket, author="customer")
    plan = world.triage(number).plan
    assert plan and any(s.kind is StepKind.refund and s.currency == "jpy" for s in plan.steps)
    world.label(number, "approve-refund", actor=ADMIN)
    assert "second approver" in world.apply(number).reason


def test_the_author_never_approves_their_own_ticket(world: World) -> None:
    seeded = world.sandbox.seed("duplicate_subscriptions")
    number = world.file_ticket(seeded.ticket, author=MAINTAINER)  # staff, filing for a customer
    plan = world.triage(number).plan
    assert plan is not None
    refund = next(s for s in plan.steps if s.kind is StepKind.refund)
    world.label(number, "approve-refund", actor=MAINTAINER)
    refused = world.apply(number)
    assert refused.action == "refused" and "opened this ticket" in refused.reason
    assert _refunds(world, refund.target or "") == []
    world.label(number, "approve-refund", actor=ADMIN)
    assert world.apply(number).action == "apply"


def test_a_look_alike_announcement_cannot_suppress_the_real_one(world: World) -> None:
    seeded = world.sandbox.seed("healthy_single")
    number = world.file_ticket(seeded.ticket, author=MAINTAINER)
    world.triage(number)
    cancel = dataclasses.replace(
        seeded.ticket, request=RequestKind.cancel, description="Please cancel my subscription."
    )
    world.fake.advance(5)
    world.fake.edit_issue(number, editor=MAINTAINER, body=form_body(cancel))
    new = world.desk().assess(world.desk_ticket(number), Asker(MAINTAINER, "maintain")).plan
    assert new is not None
    # A stranger predicts the announcement's first line and posts it first.
    line = f"<!-- billingops:plan rev=1 hash={new.hash} -->"
    world.fake.add_comment(number, line, author=STRANGER)
    assert world.triage(number).plan == new
    ours = [b for b, a in world.fake.comment_authors(number) if a == BOT and line in b]
    assert len(ours) == 1
    world.label(number, "approve-cancel", actor=ADMIN)
    result = world.apply(number)
    assert result.action == "apply", result.reason


def test_an_unverified_requester_may_still_get_a_duplicate_cleaned_up(world: World) -> None:
    # One subscription stays live: the clean-up and the refund are proposed, flagged.
    seeded = world.sandbox.seed("duplicate_subscriptions")
    number = world.file_ticket(seeded.ticket, author=STRANGER)
    result = world.triage(number)
    assert result.requester is not None and result.requester.identity is Identity.unverified
    assert result.plan is not None
    kinds = [s.kind for s in result.plan.steps]
    assert StepKind.cancel_subscription in kinds and StepKind.refund in kinds


def test_needs_info_still_says_who_is_asking(world: World) -> None:
    number = world.fake.add_issue("help", "charged?", author=STRANGER, labels=["billing"])
    result = world.triage(number)
    assert result.action == "needs_info"
    assert result.requester is not None and result.requester.contract() == {
        "login": STRANGER,
        "identity": "unverified",
    }
