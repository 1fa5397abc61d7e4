"""SPEC §5b: a public support repository learns nothing about a customer's billing.

Through the real desks, the real gateways over HTTP, localstripe and the fake GitHub with
two repositories: the public support repository and the private desk. The fake records
every request body, so "nothing billingops wrote in public carries billing data" is checked
on the wire, for every case of the sandbox.
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
import json
import re
import threading
from pathlib import Path
from typing import Any

import pytest

from billingops.cli import main
from billingops.config import Config, PortalSettings
from billingops.core.audience import Audience, audience_of
from billingops.core.money import format_money
from billingops.core.public import HANDOFF_LABEL, handoff_of
from billingops.desk.backlog import revenue_at_risk
from billingops.desk.desk import Desk
from billingops.desk.handoff import HandoffDesk
from billingops.desk.public import PublicDesk, open_desk
from billingops.errors import ConfigError, ExitStatus
from billingops.models.billing import BillingState
from billingops.sandbox.scenarios import SCENARIOS
from billingops.sandbox.tickets import form_body
from tests.plugins.desk import ADMIN, MAINTAINER, World
from tests.plugins.github import TEST_TOKEN, gateway_for
from tests.plugins.threads import run_at_once

PUBLIC = "acme/support"
PRIVATE = "acme/billing-desk"
STRIPE_ID = re.compile(r"\b(cus|sub|ch|in|pi|re|price|prod|pm|card|si|ii)_[A-Za-z0-9]{6,}")
EMAIL = re.compile(r"[A-Za-z0-9._%+*-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}")
CASE_LABEL = re.compile(r"billing:(duplicate_subscription|team_seats|failed_payment|"
                        r"missing_self_serve|product_failure|needs_human)")  # fmt: skip


def _config(**kw: Any) -> Config:
    return Config(private_repository=PRIVATE, **kw)


@pytest.fixture
def desk_world(world: World) -> World:
    world.fake.add_repo(PRIVATE)
    for login, role in ((MAINTAINER, "maintain"), (ADMIN, "admin")):
        world.fake.add_collaborator(login, role, repo=PRIVATE)
    return world


def _public(world: World, config: Config | None = None) -> PublicDesk:
    return PublicDesk(world.stripe, gateway_for(world.fake), config or _config(), PUBLIC)


def _handoff_desk(world: World, config: Config | None = None) -> HandoffDesk:
    tracker = gateway_for(world.fake).for_repository(PRIVATE)
    return HandoffDesk(world.stripe, tracker, config or _config(), PRIVATE)


def _handoffs(world: World, number: int, *, open_only: bool = True) -> list[int]:
    out = []
    for n in world.fake.numbers(repo=PRIVATE):
        issue = world.fake.issue_json(n, repo=PRIVATE)
        if open_only and issue["state"] != "open":
            continue
        if handoff_of(issue["body"]) == (PUBLIC, number):
            out.append(n)
    return out


def _label(world: World, handoff: int, label: str, actor: str) -> None:
    """A maintainer reads the handoff for a minute, then applies a label there."""
    world.fake.advance(60)
    world.fake.label_issue(handoff, label, actor=actor, repo=PRIVATE)


def _triage_comment(world: World, handoff: int) -> str:
    [body] = [
        b
        for b in world.fake.comments_of(handoff, repo=PRIVATE)
        if b.startswith("<!-- billingops:triage")
    ]
    return body


def _public_writes(world: World, repository: str = PUBLIC) -> list[str]:
    """Every body billingops sent to a public repository (comments, labels, issues, edits),
    with what hidden markers carry (base64 data) decoded next to it."""
    bodies = [
        r.body
        for r in world.fake.requests
        if r.method in ("POST", "PATCH", "PUT")
        and r.path.startswith(f"/repos/{repository}/")
        and r.body
    ]
    return [*bodies, *(_decoded(b) for b in bodies if "data=" in b)]


_MARKER_DATA = re.compile(r"data=([A-Za-z0-9_-]+={0,2})")


def _decoded(body: str) -> str:
    """The payloads of a body's hidden markers, decoded (a hidden list is still written)."""
    text = json.loads(body).get("body", "") if body.startswith("{") else body
    out = []
    for m in _MARKER_DATA.finditer(text or ""):
        try:
            out.append(base64.urlsafe_b64decode(m[1].encode()).decode("utf-8", "replace"))
        except (ValueError, binascii.Error):
            out.append(m[1])
    return json.dumps({"decoded": out})


def _forbidden(state: BillingState, emails: list[str]) -> list[str]:
    """What must never appear in public: amounts, card brand and last four, plan names,
    customer names, emails (whole or masked)."""
    words: set[str] = set()
    for c in state.charges:
        words.add(format_money(c.amount, c.currency))
        if c.amount >= 100:
            words.add(str(c.amount))
    for s in state.subscriptions:
        words.add(format_money(s.unit_amount, s.currency))
        if s.product_name:
            words.add(s.product_name)
        if s.price_id:
            words.add(s.price_id)
    for cus in state.customers:
        if cus.name:
            words.add(cus.name)
        if cus.default_payment_method:
            words.add(cus.default_payment_method.last4)
            words.add(cus.default_payment_method.brand)
    for e in emails:
        local, _, domain = e.partition("@")
        words.update({e, f"{local[:1]}***@{domain}"})
    return sorted(w for w in words if w)


def _scan(world: World, forbidden: list[str], repository: str = PUBLIC) -> list[str]:
    found = []
    for body in _public_writes(world, repository):
        text = json.loads(body) if body.startswith(("{", "[")) else body
        found += scan_text(json.dumps(text, ensure_ascii=False), forbidden)
    return found


def scan_text(flat: str, forbidden: list[str]) -> list[str]:
    """Billing data in one public text: Stripe ids, emails, case labels, forbidden words.
    (Also run on a public repository's debug log: tests/cli/test_debug_log.py.)"""
    found = []
    for pattern in (STRIPE_ID, EMAIL, CASE_LABEL):
        found += [m.group(0) for m in pattern.finditer(flat)]
    found += [w for w in forbidden if re.search(rf"(?<![\w]){re.escape(w)}(?![\w])", flat, re.I)]
    return found


# -- audience -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("repository", "expected"),
    [
        ({"private": True, "visibility": "private"}, Audience.staff),
        ({"private": False, "visibility": "public"}, Audience.public),
        ({"private": True, "visibility": "internal"}, Audience.public),  # internal is public
        ({"private": False}, Audience.public),
        ({"full_name": "acme/support"}, Audience.public),  # unknown: the safe side
        (None, Audience.public),
    ],
)
def test_audience_comes_from_the_event_payload(repository: Any, expected: Audience) -> None:
    assert audience_of(repository, Config()) is expected


def test_ticket_audience_overrides_the_payload() -> None:
    private = {"private": True, "visibility": "private"}
    assert audience_of(private, Config(ticket_audience="public")) is Audience.public
    assert audience_of({"private": False}, Config(ticket_audience="staff")) is Audience.staff


def test_a_forged_handoff_marker_in_a_public_repository_gets_the_public_desk(
    desk_world: World,
) -> None:
    event = {
        "repository": {"private": False},
        "issue": {"number": 1, "body": f"<!-- billingops:handoff {PUBLIC}#2 -->"},
    }
    desk = open_desk(event, desk_world.stripe, gateway_for(desk_world.fake), _config(), PUBLIC)
    assert isinstance(desk, PublicDesk)
    staff = {**event, "repository": {"private": True}}
    assert isinstance(
        open_desk(staff, desk_world.stripe, gateway_for(desk_world.fake), _config(), PRIVATE),
        HandoffDesk,
    )
    plain = {"repository": {"private": True}, "issue": {"number": 1, "body": "hello"}}
    assert isinstance(
        open_desk(plain, desk_world.stripe, gateway_for(desk_world.fake), _config(), PUBLIC),
        Desk,
    )


# -- the scan: every case of the sandbox, triaged and approved -----------------------------


def test_no_public_write_carries_billing_data_in_any_sandbox_case(desk_world: World) -> None:
    world = desk_world
    config = _config(portal=PortalSettings(login_url="https://billing.example.com/login"))
    forbidden: set[str] = set()
    handoffs = 0
    executed = 0
    for name in SCENARIOS:
        number, seeded = world.file(name)
        state = world.stripe.read_state(list(seeded.customers))
        emails = [c.email for c in state.customers if c.email]
        if seeded.ticket.email:
            emails.append(seeded.ticket.email)
        forbidden.update(_forbidden(state, emails))
        result = _public(world, config).triage(world.payload(number))
        assert result.resolution is None and result.plan is None and result.requester is None
        [handoff] = _handoffs(world, number)
        handoffs += 1
        triage = _triage_comment(world, handoff)
        assert triage.startswith("<!-- billingops:triage")  # the full handoff is private
        for label in ("approve-cancel", "approve-refund"):
            if label in triage:
                _label(world, handoff, label, ADMIN)
                world.fake.label_issue(handoff, label, actor=MAINTAINER, repo=PRIVATE)
        if "approve-" in triage:
            out = _handoff_desk(world, config).apply(handoff)
            executed += len([e for e in out.executed if e.status == "done"])
    assert handoffs == len(SCENARIOS)
    assert executed >= 3  # refunds and cancellations really ran and were reported back
    assert len(_public_writes(world)) >= 2 * len(SCENARIOS)  # a reply and a label each
    assert _scan(world, sorted(forbidden)) == []
    outcomes = [
        b
        for n in world.fake.numbers()
        for b in world.fake.comments_of(n)
        if b.startswith("<!-- billingops:public-outcome")
    ]
    assert outcomes and all("refund" in b.lower() or "subscription" in b for b in outcomes)


PRODUCT = "acme/product"  # a public product tracker used as the gap backlog


def _forbidden_in_scenarios(world: World, seeded: Any) -> set[str]:
    state = world.stripe.read_state(list(seeded.customers))
    emails = [c.email for c in state.customers if c.email]
    if seeded.ticket.email:
        emails.append(seeded.ticket.email)
    words = set(_forbidden(state, emails))
    for cur, amount in revenue_at_risk(state).items():  # the MRR a gap issue would list
        words.add(format_money(amount, cur))
        if amount >= 100:
            words.add(str(amount))
    return words


@pytest.mark.parametrize("mode", ["private support, public backlog", "public support as backlog"])
def test_no_write_to_a_public_backlog_carries_billing_data_in_any_sandbox_case(
    desk_world: World, mode: str
) -> None:
    """Issue 20, attack 2: gap issues in a public repository list tickets and counts, never
    revenue, and never an email (masked or not), not even in the hidden ticket list. Each
    ticket's title names the customer's email, as customers write them."""
    world = desk_world
    forbidden: set[str] = set()
    for name in SCENARIOS:
        seeded = world.sandbox.seed(name)
        email = seeded.ticket.email or "jane.doe@example.com"
        ticket = dataclasses.replace(seeded.ticket, title=f"{seeded.ticket.title} ({email})")
        forbidden |= _forbidden_in_scenarios(world, seeded) | {email}
        if mode == "private support, public backlog":
            world.fake.add_repo(PRODUCT, visibility="public")
            number = world.file_ticket(ticket, author="customer")
            world.desk(Config(backlog_repository=PRODUCT)).triage(world.payload(number))
            target = PRODUCT
        else:
            world.fake.set_visibility("public")
            number = world.file_ticket(ticket, author="customer")
            _public(world, _config(backlog_repository=PUBLIC)).triage(world.payload(number))
            target = PUBLIC
    gap_issues = [
        n
        for n in world.fake.numbers(repo=target)
        if "billingops:gap " in (world.fake.issue_json(n, repo=target)["body"] or "")
    ]
    assert len(gap_issues) >= 3  # gap issues were really filed, listing tickets
    assert _scan(world, sorted(forbidden), target) == []


def test_a_public_backlog_costs_no_request_of_its_own(world: World) -> None:
    """SPEC §8: at most 5 GitHub requests when a triage files a new gap (4 since issue 22:
    no listing after the create), also when the backlog is
    another, public repository: its visibility comes with the gap listing in the thread's
    GraphQL read, not from `GET /repos/{owner}/{repo}`."""
    world.fake.add_repo(PRODUCT, visibility="public")
    number, _ = world.file("duplicate_subscriptions")
    world.fake.reset_requests()
    result = world.desk(Config(backlog_repository=PRODUCT)).triage(world.payload(number))
    assert result.gaps and result.gaps[0].issue is not None
    calls = sorted((r.method, r.path) for r in world.fake.requests)
    assert calls == [
        ("POST", "/graphql"),  # the thread, and the backlog's listing and visibility
        ("POST", f"/repos/{PRODUCT}/issues"),  # the new gap issue: references only
        ("POST", f"/repos/{PUBLIC}/issues/{number}/comments"),
        ("POST", f"/repos/{PUBLIC}/issues/{number}/labels"),
    ]
    [gap] = [
        world.fake.issue_json(n, repo=PRODUCT)["body"] for n in world.fake.numbers(repo=PRODUCT)
    ]
    assert "reference only" in gap and "$" not in gap


def test_a_private_backlog_stores_masked_titles(world: World) -> None:
    seeded = world.sandbox.seed("duplicate_subscriptions")
    ticket = dataclasses.replace(seeded.ticket, title="Charged twice, I am bob@example.com")
    number = world.file_ticket(ticket, author="customer")
    world.triage(number)
    gap_bodies = [
        world.fake.issue_json(n)["body"]
        for n in world.fake.numbers()
        if "billingops:gap " in (world.fake.issue_json(n)["body"] or "")
    ]
    assert gap_bodies
    for body in gap_bodies:
        hidden = _decoded(body)
        assert "bob@example.com" not in hidden and "bob@example.com" not in body
        assert "b***@example.com" in hidden  # masked, as everywhere
        assert "$40.00" in body  # a private backlog still shows the revenue at risk (2 x $20)


def test_the_scan_catches_what_the_staff_desk_writes(world: World) -> None:
    # The control: the same scan on the staff desk's comment finds the billing data.
    number, seeded = world.file("duplicate_subscriptions")
    state = world.stripe.read_state(list(seeded.customers))
    world.triage(number)
    found = _scan(world, _forbidden(state, ["bob@example.com"]))
    assert any(STRIPE_ID.fullmatch(x) for x in found)
    assert "$20.00" in found and any(CASE_LABEL.fullmatch(x) for x in found)


# -- the handoff issue ---------------------------------------------------------------------


def test_the_public_ticket_gets_a_neutral_reply_and_links_the_handoff(desk_world: World) -> None:
    world = desk_world
    number, _ = world.file("duplicate_subscriptions")
    result = _public(world).triage(world.payload(number))
    assert result.action == "triage"
    [handoff] = _handoffs(world, number)
    [reply] = world.fake.comments_of(number)
    assert reply.startswith("<!-- billingops:public v1 -->")
    assert f"https://github.com/{PRIVATE}/issues/{handoff}" in reply
    assert world.fake.labels_of(number) == ["billing", "billing:received"]
    assert world.fake.labels_of(handoff, repo=PRIVATE) == [
        HANDOFF_LABEL,
        "billing:duplicate_subscription",
    ]
    handoff_body = world.fake.issue_json(handoff, repo=PRIVATE)["body"]
    assert f"{PUBLIC}#{number}" in handoff_body and "`customer`" in handoff_body
    assert "duplicate_subscription" in _triage_comment(world, handoff)


def test_the_handoff_is_filed_once_under_redelivery_and_edits(desk_world: World) -> None:
    world = desk_world
    number, _ = world.file("duplicate_subscriptions")
    for _ in range(3):
        _public(world).triage(world.payload(number))
    [handoff] = _handoffs(world, number, open_only=False)
    world.fake.edit_issue(
        number, body=world.fake.issue_json(number)["body"] + "\nAny news?", editor="customer"
    )
    _public(world).triage(world.payload(number))
    assert _handoffs(world, number, open_only=False) == [handoff]
    assert len(world.fake.comments_of(number)) == 1  # the acknowledgement, edited in place
    assert "Any news" not in world.fake.issue_json(handoff, repo=PRIVATE)["body"]
    bot = [
        b
        for b in world.fake.comments_of(handoff, repo=PRIVATE)
        if b.startswith("<!-- billingops:triage")
    ]
    assert len(bot) == 1


def test_concurrent_runs_converge_on_one_handoff(desk_world: World) -> None:
    world = desk_world
    number, _ = world.file("team_seats")
    payload = world.payload(number)
    barrier = threading.Barrier(3)

    def run() -> None:
        barrier.wait()
        _public(world).triage(payload)

    run_at_once([run, run, run])
    # A run lists no handoff again after filing one (issue 22: a round trip less): racers
    # may each have filed one; the next run keeps the oldest and closes the others.
    kept = min(_handoffs(world, number))
    _public(world).triage(payload)
    assert _handoffs(world, number) == [kept]
    # Racing runs may each post an acknowledgement (as the staff desk's comment would:
    # Actions' per-issue concurrency group is what serialises runs); all point at one desk.
    replies = [b for b in world.fake.comments_of(number) if "billingops:public v1" in b]
    assert replies and all(f"/{PRIVATE}/issues/{kept}" in b for b in replies)


def test_a_ticket_without_identifier_is_asked_without_learning_anything(
    desk_world: World,
) -> None:
    world = desk_world
    number = world.fake.add_issue(
        "billing question", "I was charged, please help", author="customer", labels=["billing"]
    )
    result = _public(world).triage(world.payload(number))
    assert result.action == "needs_info"
    [reply] = world.fake.comments_of(number)
    assert "billed to" in reply and "could not find" not in reply.lower()
    assert sorted(world.fake.labels_of(number)) == ["billing", "billing:received", "needs-info"]
    # An identifier that matches nobody gets exactly the reply one that matches gets.
    ghost = world.fake.add_issue(
        "charged twice", "my email is nobody@example.org", author="customer", labels=["billing"]
    )
    found, _ = world.file("duplicate_subscriptions")
    _public(world).triage(world.payload(ghost))
    _public(world).triage(world.payload(found))

    def strip_link(n: int) -> str:
        [body] = world.fake.comments_of(n)
        return re.sub(r"/issues/[0-9]+", "/issues/N", body)

    assert strip_link(ghost) == strip_link(found)
    assert world.fake.labels_of(ghost) == world.fake.labels_of(found)


def test_a_secret_in_the_ticket_gets_the_warning_and_is_not_repeated(desk_world: World) -> None:
    world = desk_world
    key = "sk_live_" + "4eC39HqLyjWDarjtT1zdp7dc"
    number = world.fake.add_issue(
        "help", f"my key is {key} and email bob@example.com", author="c", labels=["billing"]
    )
    _public(world).triage(world.payload(number))
    [reply] = world.fake.comments_of(number)
    assert "[!CAUTION]" in reply and "Stripe secret key" in reply
    assert key not in reply and "sk_live" not in reply


# -- approval in the private desk, outcome in public -----------------------------------------


def test_approval_on_the_handoff_executes_once_and_reports_back(desk_world: World) -> None:
    world = desk_world
    number, seeded = world.file("duplicate_subscriptions")
    _public(world).triage(world.payload(number))
    [handoff] = _handoffs(world, number)
    _label(world, handoff, "approve-cancel", ADMIN)
    world.fake.label_issue(handoff, "approve-refund", actor=ADMIN, repo=PRIVATE)
    first = _handoff_desk(world).apply(handoff)
    assert {e.status for e in first.executed} == {"done"}
    again = _handoff_desk(world).apply(handoff)  # redelivered
    assert again.action == "ignored"  # the labels went once the steps were done
    world.fake.label_issue(handoff, "approve-refund", actor=ADMIN, repo=PRIVATE)  # re-applied
    third = _handoff_desk(world).apply(handoff)
    assert all(e.status == "already_done" for e in third.executed)
    refunds = [r for ch in seeded.charges for r in world.stripe.find_refunds_for(ch)]
    assert len(refunds) == 1
    outcomes = [
        b for b in world.fake.comments_of(number) if b.startswith("<!-- billingops:public-outcome")
    ]
    assert len(outcomes) == 1
    assert "refund has been issued" in outcomes[0] and "cancelled" in outcomes[0]
    assert "Everything we planned" in outcomes[0]
    assert "billing:done" in world.fake.labels_of(number)
    assert "billing:done" in world.fake.labels_of(handoff, repo=PRIVATE)
    assert "re_" not in outcomes[0] and "$" not in outcomes[0]


def test_an_approval_label_on_the_public_ticket_is_removed_and_never_acted_on(
    desk_world: World,
) -> None:
    world = desk_world
    number, seeded = world.file("duplicate_subscriptions")
    _public(world).triage(world.payload(number))
    [handoff] = _handoffs(world, number)
    world.label(number, "approve-refund", actor=ADMIN)
    result = _public(world).apply(number)
    assert result.action == "refused"
    assert "approve-refund" not in world.fake.labels_of(number)
    assert [r for ch in seeded.charges for r in world.stripe.find_refunds_for(ch)] == []
    notice = world.fake.comments_of(number)[-1]
    assert f"/{PRIVATE}/issues/{handoff}" in notice


def test_a_handoff_marker_on_an_issue_someone_else_filed_is_refused(desk_world: World) -> None:
    world = desk_world
    number, _ = world.file("duplicate_subscriptions")
    forged = world.fake.add_issue(
        "handoff", f"<!-- billingops:handoff {PUBLIC}#{number} -->", author=ADMIN, repo=PRIVATE
    )
    world.fake.reset_requests()
    result = _handoff_desk(world).triage(world.fake.issue_json(forged, repo=PRIVATE))
    assert result.action == "ignored" and "not billingops" in result.reason
    world.fake.label_issue(forged, "approve-refund", actor=ADMIN, repo=PRIVATE)
    assert _handoff_desk(world).apply(forged).action == "ignored"
    assert world.fake.comments_of(forged, repo=PRIVATE) == []
    assert world.fake.comments_of(number) == []  # nothing reached the public ticket
    assert not [r for r in world.fake.requests if r.path.startswith(f"/repos/{PUBLIC}/")]


# -- failing safe ----------------------------------------------------------------------------


def test_without_a_private_desk_only_the_acknowledgement_is_posted(desk_world: World) -> None:
    world = desk_world
    number, _ = world.file("duplicate_subscriptions")
    world.fake.reset_requests()
    result = _public(world, Config()).triage(world.payload(number))
    assert result.action == "triage" and "doctor" in result.reason
    [reply] = world.fake.comments_of(number)
    assert "billingops doctor" in reply
    assert world.fake.numbers(repo=PRIVATE) == []
    assert not [r for r in world.fake.requests if PRIVATE in r.path]


def test_an_unreachable_private_desk_acknowledges_and_fails_with_the_fix(
    desk_world: World,
) -> None:
    world = desk_world
    number, _ = world.file("duplicate_subscriptions")
    with pytest.raises(ConfigError, match="Issues: read and write"):
        _public(world, Config(private_repository="acme/nowhere")).triage(world.payload(number))
    [reply] = world.fake.comments_of(number)
    assert reply.startswith("<!-- billingops:public v1 -->") and "/issues/" not in reply


# -- through the command line ---------------------------------------------------------------


def _env(world: World, tmp_path: Path, config: str) -> dict[str, str]:
    (tmp_path / "billingops.yml").write_text(config)
    return {
        "STRIPE_API_KEY": world.sandbox.api_key,
        "STRIPE_API_BASE": world.sandbox.base_url,
        "GITHUB_TOKEN": TEST_TOKEN,
        "GITHUB_API_URL": world.fake.url,
        "GITHUB_REPOSITORY": PUBLIC,
        "BILLINGOPS_CONFIG": str(tmp_path / "billingops.yml"),
        "BILLINGOPS_SANDBOX": "localstripe",
    }


def _event(world: World, tmp_path: Path, number: int, repo: str, **visibility: Any) -> str:
    event = {
        "action": "opened",
        "issue": world.fake.issue_json(number, repo=repo),
        "repository": {"full_name": repo, **visibility},
    }
    path = tmp_path / f"event-{repo.replace('/', '-')}-{number}.json"
    path.write_text(json.dumps(event))
    return str(path)


def test_internal_visibility_is_public_through_the_cli(
    desk_world: World, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    world = desk_world
    number, _ = world.file("duplicate_subscriptions")
    env = _env(world, tmp_path, f"private_repository: {PRIVATE}\n")
    path = _event(world, tmp_path, number, PUBLIC, private=True, visibility="internal")
    status = main(["handle", "--event", path, "--event-name", "issues", "--json"], env)
    out, err = capsys.readouterr()
    assert status is ExitStatus.OK, err
    printed = json.loads(out)
    # The Actions log of a public repository is public too: the JSON says nothing either.
    assert printed["customer"] == {"found": False, "ids": [], "resolved_by": None}
    assert printed["classification"] is None and printed["plan"] is None
    assert not STRIPE_ID.search(out + err)
    [reply] = world.fake.comments_of(number)
    assert reply.startswith("<!-- billingops:public v1 -->")
    [handoff] = _handoffs(world, number)
    # The private desk's own event (the handoff issue) runs the full desk there.
    path = _event(world, tmp_path, handoff, PRIVATE, private=True, visibility="private")
    status = main(["handle", "--event", path, "--event-name", "issues", "--json"], env)
    out, err = capsys.readouterr()
    assert status is ExitStatus.OK, err
    assert json.loads(out)["classification"]["case"] == "duplicate_subscription"


def test_an_unreachable_private_desk_is_exit_2_and_a_github_outage_exit_1(
    desk_world: World, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    world = desk_world
    number, _ = world.file("duplicate_subscriptions")
    env = _env(world, tmp_path, "private_repository: acme/nowhere\n")
    path = _event(world, tmp_path, number, PUBLIC, private=False, visibility="public")
    status = main(["triage", "--event", path], env)
    _, err = capsys.readouterr()
    assert status is ExitStatus.BAD_INPUT
    assert err.strip().count("\n") == 0 and "Traceback" not in err and "acme/nowhere" in err
    env = _env(world, tmp_path, f"private_repository: {PRIVATE}\n")
    # The desk's handoffs are listed with the public thread (one GraphQL request); filing
    # the handoff is the desk's first request of its own.
    world.fake.fail_next("POST", f"/repos/{PRIVATE}/issues", status=502, times=10)
    status = main(["triage", "--event", path], env)
    _, err = capsys.readouterr()
    assert status is ExitStatus.OPERATIONAL, err
    assert len(world.fake.comments_of(number)) == 1  # the acknowledgement, once
    assert _handoffs(world, number) == []


def test_the_requester_is_the_public_ticket_author_not_billingops(desk_world: World) -> None:
    # billingops files the handoff issue, but who is asking is the public ticket's author.
    world = desk_world
    seeded = world.sandbox.seed("github_username_metadata")
    number = world.fake.add_issue(
        seeded.ticket.title, form_body(seeded.ticket), author="octo-mona", labels=["billing"]
    )
    _public(world).triage(world.payload(number))
    [handoff] = _handoffs(world, number)
    assert "**verified**" in _triage_comment(world, handoff)


# -- product gaps ------------------------------------------------------------------------------


def _gap_bodies(world: World, repo: str) -> list[str]:
    return [
        world.fake.issue_json(n, repo=repo)["body"]
        for n in world.fake.numbers(repo=repo)
        if "product-gap" in world.fake.labels_of(n, repo=repo)
    ]


def test_gap_issues_in_the_public_repository_list_tickets_and_counts_only(
    desk_world: World,
) -> None:
    world = desk_world
    number, seeded = world.file("duplicate_subscriptions")
    _public(world, _config(backlog_repository=PUBLIC)).triage(world.payload(number))
    bodies = _gap_bodies(world, PUBLIC)
    assert bodies and all("Linked tickets (1)" in b for b in bodies)
    assert all("reference only" in b and "$" not in b for b in bodies)
    state = world.stripe.read_state(list(seeded.customers))
    assert _scan(world, _forbidden(state, ["bob@example.com"])) == []


def test_by_default_gap_issues_and_their_revenue_stay_in_the_private_desk(
    desk_world: World,
) -> None:
    world = desk_world
    number, _ = world.file("duplicate_subscriptions")
    _public(world).triage(world.payload(number))
    assert _gap_bodies(world, PUBLIC) == []
    bodies = _gap_bodies(world, PRIVATE)
    assert bodies and all("$" in b for b in bodies)  # the revenue ranking, in private


# -- SPEC §5a in the private desk ----------------------------------------------------------------


def _cancel_ticket(world: World, author: str) -> int:
    import dataclasses

    from billingops.models.ticket import RequestKind

    seeded = world.sandbox.seed("healthy_single")
    ticket = dataclasses.replace(
        seeded.ticket, request=RequestKind.cancel, description="Please cancel my subscription."
    )
    return world.fake.add_issue(ticket.title, form_body(ticket), author=author, labels=["billing"])


def test_verified_requester_on_the_handoff_vouches_until_the_public_ticket_is_edited(
    desk_world: World,
) -> None:
    from billingops.models.decision import StepKind
    from billingops.models.ticket import Identity

    world = desk_world
    number = _cancel_ticket(world, "mallory")
    _public(world).triage(world.payload(number))
    [handoff] = _handoffs(world, number)
    assert "**unverified**" in _triage_comment(world, handoff)
    _label(world, handoff, "verified-requester", ADMIN)
    vouched = _handoff_desk(world).triage(world.fake.issue_json(handoff, repo=PRIVATE))
    assert vouched.requester is not None and vouched.requester.login == "mallory"
    assert vouched.requester.identity is Identity.vouched
    assert vouched.plan and [
        s for s in vouched.plan.steps if s.kind is StepKind.cancel_subscription
    ]
    # The public ticket changes after the label: the handoff follows, the vouch is void.
    world.fake.advance(5)
    body = world.fake.issue_json(number)["body"] + "\nalso cancel my friend's"
    world.fake.edit_issue(number, body=body, editor="mallory")
    _public(world).triage(world.payload(number))
    again = _handoff_desk(world).triage(world.fake.issue_json(handoff, repo=PRIVATE))
    assert again.requester is not None and again.requester.identity is Identity.unverified


def test_the_public_author_cannot_approve_their_own_ticket_on_the_handoff(
    desk_world: World,
) -> None:
    world = desk_world
    number, seeded = world.file("duplicate_subscriptions")
    # The customer happens to be a maintainer of the desk: still their own ticket.
    world.fake.add_collaborator("customer", "maintain", repo=PRIVATE)
    _public(world).triage(world.payload(number))
    [handoff] = _handoffs(world, number)
    _label(world, handoff, "approve-refund", "customer")
    result = _handoff_desk(world).apply(handoff)
    assert result.action == "refused"
    assert [r for ch in seeded.charges for r in world.stripe.find_refunds_for(ch)] == []
    assert not [
        b for b in world.fake.comments_of(number) if b.startswith("<!-- billingops:public-")
        and "outcome" in b.split("\n", 1)[0]
    ]  # fmt: skip


def test_dry_run_writes_nothing_and_shows_only_public_text(desk_world: World) -> None:
    world = desk_world
    number, seeded = world.file("duplicate_subscriptions")
    world.fake.reset_requests()
    result = _public(world).triage(world.payload(number), dry_run=True)
    assert world.fake.writes() == 0
    shown = "\n".join(result.would_write)
    assert "would create comment" in shown and "would file handoff issue" in shown
    assert not STRIPE_ID.search(shown) and "$" not in shown
    _public(world).triage(world.payload(number))  # for real, then a dry rerun of an edit
    world.fake.edit_issue(number, body=world.payload(number)["body"] + "\nhello", editor="c")
    world.fake.reset_requests()
    again = _public(world).triage(world.payload(number), dry_run=True)
    assert world.fake.writes() == 0
    shown = "\n".join(again.would_write)
    assert "private desk: not shown here" in shown and not STRIPE_ID.search(shown)
    assert [r for ch in seeded.charges for r in world.stripe.find_refunds_for(ch)] == []


def test_a_triage_comment_from_before_the_repository_went_public_is_replaced(
    desk_world: World,
) -> None:
    world = desk_world
    number, _ = world.file("duplicate_subscriptions")
    world.triage(number)  # the staff desk, while the repository was private
    [old] = world.fake.comments_of(number)
    assert STRIPE_ID.search(old) and "billing:duplicate_subscription" in world.fake.labels_of(
        number
    )
    _public(world).triage(world.payload(number))
    [reply] = world.fake.comments_of(number)
    assert reply.startswith("<!-- billingops:public v1 -->") and not STRIPE_ID.search(reply)
    assert sorted(world.fake.labels_of(number)) == ["billing", "billing:received"]
