"""Review of the trust boundary (issue 12), as an attacker would try it.

Each test is a hole an adversarial review found in the first version, written as the
attack; each now holds (the fix is named in the commit that brought the test in).
"""

from __future__ import annotations

import dataclasses

import pytest

from billingops.models.decision import StepKind
from billingops.models.ticket import Identity, RequestKind
from billingops.sandbox.scenarios import Seeder
from billingops.sandbox.tickets import form_body
from tests.plugins.desk import ADMIN, World

STRANGER = "mallory"


def _continuing(world: World, sub_ids: list[str]) -> list[str]:
    """Subscriptions that will still bill after their current period."""
    out = []
    for sid in sub_ids:
        s = world.subscription(sid)
        if s["status"] in ("active", "trialing", "past_due") and not s["cancel_at_period_end"]:
            out.append(sid)
    return out


# -- 1. the unverified guard counts a subscription that is already ending as "kept" ------


def test_a_stranger_cannot_end_the_customers_service_when_one_sub_is_already_ending(
    world: World,
) -> None:
    # The victim has one subscription that renews, and one they already set to end.
    seeded = world.sandbox.seed("healthy_single")
    [keep] = seeded.subscriptions
    s = Seeder(world.sandbox.base_url)
    other_plan = s.plan(
        "addon-monthly", amount=500, currency="usd", interval="month", product="Addon"
    )
    ending = s.subscribe(seeded, seeded.customers[0], other_plan)["id"]
    s.call("POST", f"/v1/subscriptions/{ending}", {"cancel_at_period_end": True})
    ticket = dataclasses.replace(
        seeded.ticket, request=RequestKind.cancel, description="Please cancel my subscription."
    )
    number = world.file_ticket(ticket, author=STRANGER)
    result = world.triage(number)
    assert result.requester is not None and result.requester.identity is Identity.unverified
    world.label(number, "approve-cancel", actor=ADMIN)
    world.apply(number)
    # SPEC §5a: an unverified requester never gets the customer's last subscription ended.
    assert _continuing(world, [keep, ending]) != []


def test_a_stranger_duplicate_cleanup_cannot_cancel_the_only_continuing_subscription(
    world: World,
) -> None:
    seeded = world.sandbox.seed("duplicate_subscriptions")
    older, newer = seeded.subscriptions
    # The customer had already asked to stop the older one at period end.
    Seeder(world.sandbox.base_url).call(
        "POST", f"/v1/subscriptions/{older}", {"cancel_at_period_end": True}
    )
    number = world.file_ticket(seeded.ticket, author=STRANGER)
    result = world.triage(number)
    assert result.requester is not None and result.requester.identity is Identity.unverified
    assert result.plan is not None
    world.label(number, "approve-cancel", actor=ADMIN)
    world.apply(number)
    assert _continuing(world, [older, newer]) != []


def test_a_stranger_cannot_get_the_paid_sub_cancelled_in_favour_of_an_incomplete_one(
    world: World,
) -> None:
    from billingops.sandbox.scenarios import DECLINING_CARD, _pro_monthly
    from billingops.sandbox.scenarios import Seeded as _Seeded

    s = Seeder(world.sandbox.base_url)
    seeded = _Seeded("retry_after_decline")
    plan = _pro_monthly(s)
    s.clock(world.sandbox.now - 2 * 86400)
    cus = s.customer("gail@example.com", name="Gail Force", card=DECLINING_CARD)
    first = s.subscribe(seeded, cus, plan)  # declined: incomplete
    s.advance(300)
    s.set_card(cus, "4242424242424242")
    paid = s.subscribe(seeded, cus, plan)  # the retry that worked
    s.clock(world.sandbox.now)
    assert world.subscription(first["id"])["status"] == "incomplete"
    assert world.subscription(paid["id"])["status"] == "active"
    ticket = dataclasses.replace(
        world.sandbox.seed("duplicate_subscriptions").ticket, email="gail@example.com"
    )
    number = world.file_ticket(ticket, author=STRANGER)
    result = world.triage(number)
    assert result.requester is not None and result.requester.identity is Identity.unverified
    world.label(number, "approve-cancel", actor=ADMIN)
    world.apply(number)
    assert world.subscription(paid["id"])["status"] == "active"


# -- 2. a title rename is an edit of the ticket, but not in GitHub's `lastEditedAt` -------


def _rename_like_github(world: World, number: int, title: str) -> None:
    """A title change as GitHub records it: a `renamed` timeline event, no `lastEditedAt`
    (that field tracks the body only)."""
    world.fake.edit_issue(number, editor=STRANGER, title=title)


def test_renaming_the_title_after_the_vouch_voids_it(world: World) -> None:
    world.sandbox.seed("github_username_metadata")  # mona@example.com: mallory's "own" account
    victim = world.sandbox.seed("healthy_single")  # alice@example.com
    number = world.fake.add_issue(
        "Cancel for mona@example.com",
        "Please cancel my subscription.",
        author=STRANGER,
        labels=["billing"],
    )
    first = world.triage(number)
    assert first.requester is not None and first.requester.identity is Identity.unverified
    # A maintainer confirms by email that mallory owns mona@example.com, then vouches.
    world.label(number, "verified-requester", actor=ADMIN)
    assert world.triage(number).requester.identity is Identity.vouched  # type: ignore[union-attr]
    world.fake.advance(60)
    _rename_like_github(world, number, "Cancel for alice@example.com")
    renamed = world.triage(number)
    assert renamed.resolution is not None
    assert victim.customers[0] in renamed.resolution.customer_ids  # now about the victim
    # SPEC §5a: an edit of the ticket after the label voids it.
    assert renamed.requester is not None and renamed.requester.identity is Identity.unverified


# -- 3. one ticket can spend the desk's Stripe request budget ------------------------------


def test_a_ticket_full_of_identifiers_cannot_spend_the_stripe_rate_budget(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    world.sandbox.seed("healthy_single")
    calls: list[str] = []
    real_owner = world.stripe._owner
    real_email = world.stripe._by_email

    def owner(kind: str, object_id: str) -> list[str]:
        calls.append(object_id)
        return real_owner(kind, object_id)  # type: ignore[no-any-return]

    def by_email(email: str) -> list[str]:
        calls.append(email)
        return real_email(email)  # type: ignore[no-any-return]

    monkeypatch.setattr(world.stripe, "_owner", owner)
    monkeypatch.setattr(world.stripe, "_by_email", by_email)
    monkeypatch.setattr(world.stripe, "compat", False)  # per-email lookups, as in live mode
    ids = " ".join(f"cus_Zz{i:012d}" for i in range(150))
    emails = " ".join(f"x{i}@example.com" for i in range(50))
    number = world.fake.add_issue(
        "refund please",
        f"My ids: {ids}\nand my emails {emails}",
        author=STRANGER,
        labels=["billing"],
    )
    world.triage(number)
    # SPEC §8: a handful of requests per triage; a stranger's ticket may not cost 200.
    assert len(calls) <= 10, f"{len(calls)} Stripe lookups for one ticket"


# -- 4. two approvers: a withdrawn approval still counts ----------------------------------


def test_an_approval_withdrawn_by_the_approver_does_not_count_as_the_second(
    world: World,
) -> None:
    from billingops.config import Config, RefundPolicy
    from tests.plugins.desk import MAINTAINER

    world.config = Config(refund=RefundPolicy(second_approver_above={"default": 1000}))
    seeded = world.sandbox.seed("duplicate_subscriptions")  # refunds $20.00
    number = world.file_ticket(seeded.ticket, author="customer")
    plan = world.triage(number).plan
    assert plan is not None
    refund = next(s for s in plan.steps if s.kind is StepKind.refund)
    # Ada applies the label, thinks better of it, and removes it herself before any run.
    world.label(number, "approve-refund", actor=ADMIN)
    world.fake.advance(10)
    world.fake.unlabel_issue(number, "approve-refund", actor=ADMIN)
    assert world.apply(number).action == "ignored"
    # Maya approves alone, as far as she knows: the policy wants a second person.
    world.label(number, "approve-refund", actor=MAINTAINER)
    world.apply(number)
    assert world.stripe.find_refunds_for(refund.target) == []


# -- 5. an edited billingops comment still suppresses an announcement ---------------------


def test_an_edited_old_notice_cannot_suppress_the_plan_announcement(world: World) -> None:
    from billingops.desk.desk import Asker
    from tests.plugins.desk import MAINTAINER, TRIAGER

    seeded = world.sandbox.seed("healthy_single")
    number = world.file_ticket(seeded.ticket, author=MAINTAINER)
    world.triage(number)
    world.label(number, "approve-cancel", actor=TRIAGER)
    world.apply(number)  # refused: billingops posts a notice (its own comment)
    [notice_id] = [
        cid
        for cid, (body, author) in zip(
            world.fake.comment_ids(number), world.fake.comment_authors(number), strict=True
        )
        if author == "github-actions[bot]" and body.startswith("<!-- billingops:notice")
    ]
    cancel = dataclasses.replace(
        seeded.ticket, request=RequestKind.cancel, description="Please cancel my subscription."
    )
    world.fake.advance(5)
    world.fake.edit_issue(number, editor=MAINTAINER, body=form_body(cancel))
    new = world.desk().assess(world.desk_ticket(number), Asker(MAINTAINER, "maintain")).plan
    assert new is not None
    # A write-role user rewrites billingops' old notice into the next announcement's line.
    world.fake.edit_comment(
        notice_id, f"<!-- billingops:plan rev=1 hash={new.hash} -->\nnothing", editor=ADMIN
    )
    world.triage(number)
    world.label(number, "approve-cancel", actor=ADMIN)
    result = world.apply(number)
    assert result.action == "apply", result.reason


def test_a_verified_duplicate_cleanup_keeps_the_paid_subscription(world: World) -> None:
    # Not only for strangers: a declined first checkout is not the one to keep.
    from billingops.sandbox.scenarios import DECLINING_CARD, _pro_monthly
    from billingops.sandbox.scenarios import Seeded as _Seeded
    from tests.plugins.desk import MAINTAINER

    s = Seeder(world.sandbox.base_url)
    seeded = _Seeded("retry_after_decline")
    plan = _pro_monthly(s)
    s.clock(world.sandbox.now - 2 * 86400)
    cus = s.customer("gail@example.com", name="Gail Force", card=DECLINING_CARD)
    first = s.subscribe(seeded, cus, plan)
    s.advance(300)
    s.set_card(cus, "4242424242424242")
    paid = s.subscribe(seeded, cus, plan)
    s.clock(world.sandbox.now)
    ticket = dataclasses.replace(
        world.sandbox.seed("duplicate_subscriptions").ticket, email="gail@example.com"
    )
    number = world.file_ticket(ticket, author=MAINTAINER)  # staff: vouched
    result = world.triage(number)
    assert result.plan is not None
    cancels = [st.target for st in result.plan.steps if st.kind is StepKind.cancel_subscription]
    assert paid["id"] not in cancels and first["id"] in cancels
