"""Issue 20, attacks 3 and 4: who a person is, decided by what cannot be faked.

3. A look-alike email is another person: `\\u212Aate@example.com` (Kelvin sign) is not
   `kate@example.com`, whatever Unicode case folding says.
4. A reused login is not the customer: where Stripe holds the customer's numeric GitHub
   account id, a login match with another id is `unverified`.

Through the real desk and gateways, localstripe and the fake GitHub.
"""

from __future__ import annotations

from typing import Any

from billingops.models.decision import StepKind
from billingops.models.ticket import Identity, RequestKind
from billingops.sandbox.scenarios import DAY, Seeded, Seeder, SuggestedTicket, _pro_monthly
from tests.plugins.desk import World

KELVIN = "\u212a"  # KELVIN SIGN: casefold() and lower() make it "k"
REAL = "kate@example.com"
LOOK_ALIKE = f"{KELVIN}ate@example.com"
OLD_LOGIN = "octo-kate"
OLD_ID = 5_000_000_001  # GitHub ids exceed 2**31


# -- 3: look-alike emails -------------------------------------------------------------------


def _two_kates(world: World) -> Seeded:
    """Kate's subscription, and three minutes later the same plan for a look-alike email
    (someone who created a Stripe customer through a public checkout)."""
    s = Seeder(world.sandbox.base_url)
    now = world.sandbox.now
    seeded = Seeded("look_alike")
    plan = _pro_monthly(s)
    s.clock(now - 2 * DAY)
    kate = s.customer(REAL, name="Kate Real")
    s.subscribe(seeded, kate, plan)
    s.advance(180)
    other = s.customer(LOOK_ALIKE, name="Not Kate")
    s.subscribe(seeded, other, plan)
    s.clock(now)
    seeded.customers += [kate, other]
    return seeded


def _ticket(*emails: str, request: RequestKind = RequestKind.refund) -> SuggestedTicket:
    return SuggestedTicket(
        title="Charged twice",
        request=request,
        description="I see two subscriptions to Pro: " + " and ".join(emails),
        email=emails[0],
    )


def test_a_ticket_naming_kate_and_a_look_alike_gets_no_clean_up_across_the_two(
    world: World,
) -> None:
    seeded = _two_kates(world)
    number = world.file_ticket(_ticket(REAL, LOOK_ALIKE), author="kate")
    result = world.triage(number)
    assert result.plan is not None and result.resolution is not None
    assert result.resolution.conflicting  # two people, not one with two subscriptions
    moving = [
        s for s in result.plan.steps if s.kind in (StepKind.cancel_subscription, StepKind.refund)
    ]
    assert moving == []  # two people: nothing is cancelled or refunded for either
    assert result.classification is not None
    assert result.classification.case.value != "duplicate_subscription"
    for sub_id in seeded.subscriptions:
        assert world.subscription(sub_id)["status"] == "active"


def test_a_ticket_naming_kate_finds_only_kate_not_the_look_alike(world: World) -> None:
    seeded = _two_kates(world)
    number = world.file_ticket(_ticket(REAL), author="kate")
    result = world.triage(number)
    assert result.resolution is not None
    assert list(result.resolution.customer_ids) == [seeded.customers[0]]
    assert result.plan is not None
    assert not [s for s in result.plan.steps if s.kind is StepKind.cancel_subscription]


def test_the_handoff_shows_a_look_alike_emails_non_ascii_letters_escaped(world: World) -> None:
    _two_kates(world)
    number = world.file_ticket(_ticket(LOOK_ALIKE), author="maya")  # staff: emails shown
    result = world.triage(number)
    assert result.resolution is not None and len(result.resolution.customer_ids) == 1
    [comment] = world.bot_comments(number)
    assert "\\\\u212a" in comment or "\\u212a" in comment  # the escape, as text
    assert KELVIN not in comment and "K***@example.com" not in comment
    assert "k***@example.com" not in comment  # never shown as if it were Kate


def test_email_keys_are_ascii_lower_cased_and_non_ascii_emails_stay_apart() -> None:
    from billingops.models.text import email_key, same_email

    assert same_email("Kate@Example.COM", "kate@example.com")
    assert not same_email(LOOK_ALIKE, REAL)
    assert not same_email(LOOK_ALIKE.upper(), LOOK_ALIKE)  # no Unicode case mapping at all
    assert same_email(LOOK_ALIKE, LOOK_ALIKE)
    assert email_key(LOOK_ALIKE) != email_key(REAL)


# -- 4: a reused login ------------------------------------------------------------------------


def _customer_with_login(world: World, metadata: dict[str, str]) -> Seeded:
    s = Seeder(world.sandbox.base_url)
    now = world.sandbox.now
    seeded = Seeded("login")
    s.clock(now - 30 * DAY)
    cus = s.customer("kate@example.com", name="Kate Real", metadata=metadata)
    seeded.customers.append(cus)
    s.subscribe(seeded, cus, _pro_monthly(s))
    s.clock(now)
    return seeded


def _cancel_from(world: World, login: str, user_id: int | None = None) -> Any:
    if user_id is not None:
        world.fake.add_user(login, id=user_id)
    ticket = SuggestedTicket(
        title="Please cancel",
        request=RequestKind.cancel,
        description="Please cancel my subscription.",
    )
    number = world.file_ticket(ticket, author=login)  # no email: looked up by login
    return number, world.triage(number)


def test_a_reused_login_with_another_account_id_is_unverified_and_cannot_cancel(
    world: World,
) -> None:
    # Kate renamed her GitHub account; someone registered `octo-kate` (a new account id).
    seeded = _customer_with_login(
        world, {"github_username": OLD_LOGIN, "github_user_id": str(OLD_ID)}
    )
    number, result = _cancel_from(world, OLD_LOGIN, user_id=77_000_000_123)
    assert result.resolution is not None and result.resolution.found
    assert result.requester is not None and result.requester.identity is Identity.unverified
    assert result.plan is not None
    assert not [s for s in result.plan.steps if s.kind is StepKind.cancel_subscription]
    [comment] = world.bot_comments(number)
    assert "**unverified**" in comment and "github_user_id" in comment
    assert "account id" in comment  # says why: the login matched, the account did not
    [sub_id] = seeded.subscriptions
    assert world.subscription(sub_id)["status"] == "active"


def test_the_same_login_with_the_stored_account_id_is_verified(world: World) -> None:
    # The control: the owner of the stored id (beyond 2**31, as GitHub ids are) is verified.
    _customer_with_login(world, {"github_username": OLD_LOGIN, "github_user_id": str(OLD_ID)})
    number, result = _cancel_from(world, OLD_LOGIN, user_id=OLD_ID)
    assert world.payload(number)["user"]["id"] == OLD_ID
    assert result.requester is not None and result.requester.identity is Identity.verified
    assert result.plan is not None
    assert [s for s in result.plan.steps if s.kind is StepKind.cancel_subscription]


def test_a_login_without_a_stored_account_id_is_verified_by_the_login_as_before(
    world: World,
) -> None:
    _customer_with_login(world, {"github_username": OLD_LOGIN})
    _, result = _cancel_from(world, OLD_LOGIN)
    assert result.requester is not None and result.requester.identity is Identity.verified
