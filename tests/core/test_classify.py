from __future__ import annotations

import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from billingops.core.anomalies import live_groups
from billingops.core.classify import CONFIDENCE_FLOOR, classify, signals
from billingops.core.duplicates import group_evidence
from billingops.core.intake import parse_body
from billingops.core.plan import make_plan
from billingops.core.render import render_triage
from billingops.models.billing import BillingState, Resolution
from billingops.models.decision import Case, Classification
from billingops.models.ticket import RequestKind, Ticket
from tests.core import corpus
from tests.core.builders import (
    DAY,
    MIN,
    NOW,
    charge,
    config,
    customer,
    invoice,
    paid_sub,
    resolved,
    state,
    sub,
    ticket,
)
from tests.core.form_render import render as render_form


def run(t: Ticket, s: BillingState, r: Resolution | None = None) -> Classification:
    return classify(t, r or resolved("cus_1"), s, config())


def dup_state(**kw: object) -> BillingState:
    return state(
        paid_sub(1, started=NOW - 2 * DAY),
        paid_sub(2, started=NOW - 2 * DAY + 5 * MIN, **kw),  # type: ignore[arg-type]
    )


# --- duplicate vs team ----------------------------------------------------------------------


def test_accidental_duplicate() -> None:
    c = run(ticket("I was charged twice this month", request=RequestKind.refund), dup_state())
    assert c.case is Case.duplicate_subscription
    assert c.confidence == 0.9
    assert any("sub_1, sub_2" in e for e in c.evidence)


def test_duplicate_from_state_alone_is_less_confident() -> None:
    c = run(ticket("something is off with my bill"), dup_state())
    assert c.case is Case.duplicate_subscription
    assert c.confidence < 0.9


def test_duplicate_across_two_customers_with_one_email() -> None:
    s = state(
        paid_sub(1, customer="cus_a", started=NOW - DAY),
        paid_sub(2, customer="cus_b", started=NOW - DAY + MIN),
        customers=[customer("cus_a", "jane@example.com"), customer("cus_b", "JANE@example.com")],
    )
    c = run(ticket("double charge"), s, resolved("cus_a", "cus_b"))
    assert c.case is Case.duplicate_subscription
    assert any("one email across 2 customers" in e for e in c.evidence)


@pytest.mark.parametrize(
    ("why", "t", "s"),
    [
        ("quantity", ticket("charged twice"), dup_state(quantity=3)),
        ("metadata", ticket("charged twice"), dup_state(metadata={"team": "design"})),
        (
            "far apart",
            ticket("charged twice"),
            state(paid_sub(1, started=NOW - 40 * DAY), paid_sub(2, started=NOW - 5 * DAY)),
        ),
        (
            "weeks apart, bought for a colleague",
            ticket("I bought a second one for my colleague, why two charges?"),
            state(paid_sub(1, started=NOW - 40 * DAY), paid_sub(2, started=NOW - 5 * DAY)),
        ),
    ],
)
def test_team_purchase_is_not_a_duplicate(why: str, t: Ticket, s: BillingState) -> None:
    c = run(t, s)
    assert c.case is Case.team_seats, why


def test_team_purchase_with_cancel_and_refund_needs_a_human() -> None:
    t = ticket("cancel everything for my team and refund us", request=RequestKind.refund)
    assert run(t, dup_state(quantity=3)).case is Case.needs_human


def test_annual_duplicate_needs_a_human() -> None:
    s = state(
        paid_sub(1, started=NOW - DAY, interval="year"),
        paid_sub(2, started=NOW - DAY + MIN, interval="year"),
    )
    c = run(ticket("charged twice", request=RequestKind.refund), s)
    assert c.case is Case.needs_human
    assert any("annual" in e for e in c.evidence)


def test_single_seat_subscription_questioned_is_team_seats() -> None:
    c = run(ticket("why was I charged so much?"), state(paid_sub(1, quantity=5)))
    assert c.case is Case.team_seats


# --- needs_human ----------------------------------------------------------------------------


def test_no_identifier() -> None:
    c = classify(ticket("help", emails=[]), Resolution(), state(), config())
    assert c.case is Case.needs_human and c.confidence == 1.0


def test_customer_not_found() -> None:
    r = Resolution(problems=["email matched nobody"])
    c = classify(ticket("help"), r, BillingState(), config())
    assert c.case is Case.needs_human
    assert "matched nobody" not in " ".join(c.evidence)  # notes may hold PII; only a count


def test_conflicting_identities() -> None:
    r = resolved("cus_a", "cus_b", conflicting=True)
    assert run(ticket("refund"), dup_state(), r).case is Case.needs_human


def test_deleted_customer() -> None:
    s = state(paid_sub(1), customers=[customer("cus_1", deleted=True)])
    assert run(ticket("cancel"), s).case is Case.needs_human


def test_disputed_charge_wins_over_everything() -> None:
    s = state(paid_sub(1, started=NOW - DAY), paid_sub(2, started=NOW - DAY, disputed=True))
    c = run(ticket("charged twice, refund"), s)
    assert c.case is Case.needs_human
    assert any("disputed" in e for e in c.evidence)


@pytest.mark.parametrize("shape", [{"interval": "year"}, {"item_count": 2}])
def test_contract_shape_with_refund_needs_a_human(shape: dict[str, object]) -> None:
    t = ticket("please cancel and refund me", request=RequestKind.cancel)
    c = run(t, state(paid_sub(1, **shape)))  # type: ignore[arg-type]
    assert c.case is Case.needs_human


def test_team_with_cancel_and_refund_needs_a_human() -> None:
    t = ticket("cancel it and refund", request=RequestKind.refund)
    assert run(t, state(paid_sub(1, quantity=4))).case is Case.needs_human


def test_annual_cancel_only_is_self_serve() -> None:
    t = ticket("please cancel my plan", request=RequestKind.cancel)
    assert run(t, state(paid_sub(1, interval="year"))).case is Case.missing_self_serve


def test_refund_with_nothing_wrong_needs_a_human() -> None:
    c = run(ticket("I want my money back", request=RequestKind.refund), state(paid_sub(1)))
    assert c.case is Case.needs_human


# --- failed payment -------------------------------------------------------------------------


@pytest.mark.parametrize("status", ["past_due", "unpaid", "incomplete"])
def test_failed_status(status: str) -> None:
    c = run(ticket("my account is locked"), state(sub("sub_1", status=status)))
    assert c.case is Case.failed_payment
    assert f"sub_1 is {status}" in c.evidence[0]


def test_incomplete_expired_without_live_subscription() -> None:
    c = run(ticket("checkout failed"), state(sub("sub_1", status="incomplete_expired")))
    assert c.case is Case.failed_payment


def test_open_invoice_with_failed_attempts() -> None:
    s = state(sub("sub_1"), invoice("in_1", subscription="sub_1", status="open", attempt_count=3))
    assert run(ticket("card?"), s).case is Case.failed_payment


def test_latest_charge_failed() -> None:
    s = state(paid_sub(1), charge("ch_f", status="failed", created=NOW - DAY))
    assert run(ticket("payment problem"), s).case is Case.failed_payment


def test_old_failed_charge_followed_by_success_is_fine() -> None:
    s = state(charge("ch_f", status="failed", created=NOW - 20 * DAY), paid_sub(1))
    assert run(ticket("where are my invoices?"), s).case is Case.missing_self_serve


# --- self-serve and product failure ---------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("how do I cancel?", None),
        ("", RequestKind.cancel),
        ("I need my invoices for VAT", None),
        ("update my card please", None),
        ("add two more seats", RequestKind.seats_or_plan),
    ],
)
def test_missing_self_serve(text: str, kind: RequestKind | None) -> None:
    assert run(ticket(text, request=kind), state(paid_sub(1))).case is Case.missing_self_serve


def test_charge_after_cancel_is_product_failure() -> None:
    s1, i1, c1 = paid_sub(1, canceled_at=NOW - 35 * DAY, started=NOW - 60 * DAY)
    late = [
        invoice("in_l", subscription="sub_1", charge="ch_l", created=NOW - DAY),
        charge("ch_l", invoice="in_l", created=NOW - DAY),
    ]
    c = run(ticket("refund please"), state(s1, i1, c1, *late))
    assert c.case is Case.product_failure
    assert c.confidence == 0.9


@pytest.mark.parametrize(
    "text",
    [
        "the export feature never worked",
        "I was charged even though I had already cancelled",
        "it renewed without any notice",
    ],
)
def test_product_failure_from_the_ticket(text: str) -> None:
    assert run(ticket(text), state(paid_sub(1))).case is Case.product_failure


# --- properties -----------------------------------------------------------------------------


def test_deterministic_whatever_the_order() -> None:
    parts = [paid_sub(i, started=NOW - DAY + i * MIN) for i in range(1, 5)]
    t = ticket("charged 4 times")
    first = run(t, state(*parts))
    for seed in range(5):
        shuffled = parts[:]
        random.Random(seed).shuffle(shuffled)
        assert run(t, state(*shuffled)) == first


def test_evidence_has_no_email() -> None:
    s = state(
        paid_sub(1, customer="cus_a", started=NOW - DAY),
        paid_sub(2, customer="cus_b", started=NOW - DAY),
        customers=[customer("cus_a", "jane@example.com"), customer("cus_b", "jane@example.com")],
    )
    c = run(ticket("double charge jane@example.com"), s, resolved("cus_a", "cus_b"))
    assert "@" not in " ".join(c.evidence)


def test_signals_read_form_and_text() -> None:
    s = signals(ticket("", request=RequestKind.refund))
    assert s.wants_refund and not s.wants_cancel
    s = signals(ticket("Our team needs 3 more seats", title="Seats"))
    assert s.wants_seats and s.others
    assert not s.team  # naming seats is not a claim that an extra subscription is someone's
    assert signals(ticket("I bought the second one for my colleague")).team


# --- evidence first (issue #16) ---------------------------------------------------------------

OTHER_PEOPLE = [
    # Words about other people in other roles: who helped, who noticed, who uses the product.
    "My colleague Tom helped me because checkout froze; now there are two subscriptions.",
    "Our team uses the product every day and loves it, but I see two subscriptions.",
    "Forwarding from our accountant: two receipts on the same day, is one a mistake?",
    "The people who use it on my team say it is great. Why two charges though?",
    "Mein Kollege hat mir geholfen, jetzt habe ich zwei Abos. Das ganze Team nutzt es.",
    "Ma collègue m'a aidée à créer le compte ; toute l'équipe l'utilise. Deux abonnements.",
    "Mi compañero me ayudó con el pago y ahora tengo dos suscripciones.",
    "Um colega me ajudou; a equipe toda usa. Tenho duas assinaturas.",
    "Un collega mi ha aiutato; tutto il team lo usa. Due abbonamenti.",
    "Een collega heeft me geholpen, het hele team gebruikt het. Twee abonnementen.",
    "Kolega mi pomógł, cały zespół korzysta. Mam dwie subskrypcje.",
    "同僚に手伝ってもらいました。チーム全員で使っています。サブスクリプションが2つあります。",
    "同事帮我注册的，整个团队都在用。现在有两个订阅。",
]


@pytest.mark.parametrize("text", OTHER_PEOPLE)
def test_words_about_other_people_do_not_overrule_a_duplicate(text: str) -> None:
    """The issue's bug: a textbook duplicate came out team_seats as soon as the ticket
    mentioned a colleague or a team in any role."""
    c = run(ticket(text), dup_state())
    assert c.case is Case.duplicate_subscription, c
    assert c.decided_by == "billing evidence"
    assert any("about other people" in w for w in c.words)
    assert "quantity 1 each, no seat or team metadata, one card" in c.evidence


@pytest.mark.parametrize(
    "text",
    [
        "I bought the second one for my intern right after mine, why two charges?",
        "Wir haben das zweite Abo für meine neue Kollegin gebucht.",
        "J'ai acheté un deuxième abonnement pour mon collègue juste après le mien.",
        "Ik heb een tweede abonnement genomen voor mijn collega.",
        "自分の契約の直後に、同僚用にもう1つ契約しました。",
        "我给新同事买了一个账号。",
    ],
)
def test_a_claim_that_contradicts_a_textbook_duplicate_goes_to_a_human(text: str) -> None:
    """Billing says duplicate, the customer says the extra is someone's: nothing is
    cancelled by rule, and never team_seats (which would leave the duplicate running)."""
    c = run(ticket(text), dup_state())
    assert c.case is Case.needs_human, c
    assert c.would_decide and "sub_2" in c.would_decide[0]
    assert any("a claim about the account" in w for w in c.words)


@pytest.mark.parametrize(
    "t",
    [
        ticket("charged twice, refund the duplicate please"),
        ticket("doppelt abgebucht, bitte erstatten"),
        ticket("dwa razy pobrano opłatę, proszę o zwrot"),
    ],
)
def test_team_shaped_evidence_is_team_seats_whatever_the_words(t: Ticket) -> None:
    for s in (
        dup_state(quantity=2),
        dup_state(metadata={"seat": "2"}),
        state(paid_sub(1, started=NOW - 45 * DAY), paid_sub(2, started=NOW - 2 * DAY)),
    ):
        c = run(t, s)
        assert c.case is Case.team_seats, (t.description, c)
        assert c.decided_by == "billing evidence"


def test_between_a_retried_checkout_and_weeks_apart_a_human_decides() -> None:
    s = state(paid_sub(1, started=NOW - 8 * DAY), paid_sub(2, started=NOW - 3 * DAY))
    c = run(ticket("charged twice, please refund"), s)
    assert c.case is Case.needs_human
    assert any("later than a retried checkout" in e for e in c.evidence)
    assert c.would_decide
    # Only here may words move the decision, toward the safer case.
    claim = run(ticket("I bought the second one for my colleague"), s)
    assert claim.case is Case.team_seats


def test_two_customers_paying_with_different_cards_is_not_a_textbook_duplicate() -> None:
    def two(cards: tuple[str, str]) -> BillingState:
        return state(
            paid_sub(1, customer="cus_a", started=NOW - DAY),
            paid_sub(2, customer="cus_b", started=NOW - DAY + 3 * MIN),
            customers=[
                customer("cus_a", "jane@example.com", card=("visa", cards[0])),
                customer("cus_b", "jane@example.com", card=("visa", cards[1])),
            ],
        )

    r = resolved("cus_a", "cus_b")
    assert run(ticket("double charge"), two(("4242", "4242")), r).case is (
        Case.duplicate_subscription
    )
    c = run(ticket("double charge"), two(("4242", "1881")), r)
    assert c.case is Case.needs_human
    assert any("2 different cards" in e for e in c.evidence)


def test_low_confidence_is_needs_human_with_what_would_decide() -> None:
    """An error reported next to a self-serve ask, no money asked back: the report may be
    only context. Below the floor the case is needs_human and says what would decide."""
    c = run(
        ticket("There is an error on my invoice, can you send a corrected one?"), state(paid_sub(1))
    )
    assert c.case is Case.needs_human
    assert c.confidence < CONFIDENCE_FLOOR
    assert any("looked like product_failure" in e for e in c.evidence)
    assert c.would_decide == ["whether the product failed, or the customer only needs invoices"]
    # The same report with money asked back is a product failure, above the floor.
    c = run(ticket("The export has an error all week, refund this month"), state(paid_sub(1)))
    assert c.case is Case.product_failure and c.confidence >= CONFIDENCE_FLOOR


@pytest.mark.parametrize(
    ("text", "negated"),
    [
        ("Not asking for a refund, just cancel at the end of the month.", True),
        ("Keine Erstattung nötig, ich möchte nur das Abo beenden.", True),
        ("返金は不要です。解約だけお願いします。", True),
        ("I want a refund, and please cancel.", False),
    ],
)
def test_a_negated_refund_is_not_a_refund(text: str, negated: bool) -> None:
    t = parse_body(text).model_copy(update={"emails": ["jane@example.com"]})
    c = run(t, state(paid_sub(1)))
    assert c.case is Case.missing_self_serve
    assert any("refund" in w and "(negated)" in w for w in c.words) is negated
    assert signals(t).wants_refund is not negated
    assert any("a refund is asked too" in e for e in c.evidence) is not negated


def test_the_dropdown_outranks_the_words() -> None:
    body = render_form(
        {"email": "jane@example.com", "request": "Cancel my subscription",
         "description": "It has been slow and broken lately, so I am leaving."}
    )  # fmt: skip
    t = parse_body(body)
    assert t.request is RequestKind.cancel
    c = run(t, state(paid_sub(1)))
    assert c.case is Case.missing_self_serve
    assert c.decided_by == "the form's request (cancel) and words"
    # Without the form, the same words report a failure.
    free = parse_body("It has been slow and broken lately. jane@example.com")
    assert run(free, state(paid_sub(1))).case is Case.product_failure


LANGUAGE_ASKS = [
    # (text, signal that must be on), one row per language and kind of ask.
    ("Please refund me", "wants_refund"),
    ("Bitte erstatten Sie mir den Betrag", "wants_refund"),
    ("Remboursez-moi s'il vous plaît", "wants_refund"),
    ("Quiero un reembolso", "wants_refund"),
    ("Quero o estorno", "wants_refund"),
    ("Vorrei un rimborso", "wants_refund"),
    ("Graag terugbetalen", "wants_refund"),
    ("Proszę o zwrot", "wants_refund"),
    ("返金してください", "wants_refund"),
    ("请退款", "wants_refund"),
    ("How do I cancel?", "wants_cancel"),
    ("Ich möchte kündigen", "wants_cancel"),
    ("Je veux résilier", "wants_cancel"),
    ("Quiero darme de baja", "wants_cancel"),
    ("Quero cancelar", "wants_cancel"),
    ("Vorrei dare disdetta", "wants_cancel"),
    ("Ik wil opzeggen", "wants_cancel"),
    ("Chcę zrezygnować", "wants_cancel"),
    ("解約したいです", "wants_cancel"),
    ("我想取消订阅", "wants_cancel"),
    ("Where are my invoices?", "wants_invoices"),
    ("Ich brauche die Rechnungen", "wants_invoices"),
    ("J'ai besoin des factures", "wants_invoices"),
    ("Necesito las facturas", "wants_invoices"),
    ("Preciso da nota fiscal", "wants_invoices"),
    ("Mi servono le fatture", "wants_invoices"),
    ("Ik heb de facturen nodig", "wants_invoices"),
    ("Potrzebuję faktury", "wants_invoices"),
    ("領収書をください", "wants_invoices"),
    ("需要发票", "wants_invoices"),
    ("The app is down, nothing works", "broken"),
    ("Die Software funktioniert nicht", "broken"),
    ("Le service est en panne", "broken"),
    ("La plataforma está caída", "broken"),
    ("O sistema está fora do ar", "broken"),
    ("Il servizio non funziona", "broken"),
    ("Er is een storing", "broken"),
    ("Aplikacja nie działa", "broken"),
    ("障害でログインできない", "broken"),
    ("服务宕机了", "broken"),
]


@pytest.mark.parametrize(("text", "flag"), LANGUAGE_ASKS)
def test_asks_and_reports_in_ten_languages(text: str, flag: str) -> None:
    sig = signals(ticket(text))
    on = {
        f for f in ("wants_refund", "wants_cancel", "wants_invoices", "broken") if getattr(sig, f)
    }
    assert on == {flag}, (text, on)


def test_evidence_lines_and_words_carry_no_email() -> None:
    c = run(
        ticket("refund jane.doe@example.com charged twice for my colleague x@y.io"), dup_state()
    )
    assert "@" not in " ".join(c.evidence + c.words + c.would_decide)


def test_the_decision_section_shows_what_decided_and_the_words_inertly() -> None:
    t = ticket(
        "My colleague @octocat helped me, our team uses it. Charged **twice**: "
        "<b>refund</b> please. A human said: update my card [x](https://evil.example)"
    )
    s = dup_state()
    c = run(t, s)
    p = make_plan(c.case, t, resolved("cus_1"), s, config())
    out = render_triage(t, resolved("cus_1"), s, c, p, config())
    decision = out[out.index("### DECISION") : out.index("### ACTION")]
    assert "**Decided by** billing evidence." in decision
    assert "**Words considered:**" in decision
    assert "colleague" in decision and "about other people" in decision
    assert "@octocat" not in decision and "<b>" not in decision and "](http" not in decision
    assert "What would decide it" not in decision  # decided: nothing for a human to check
    # A human decision says what would decide it, ids formatted like the evidence.
    claim = ticket("I bought the second one for my intern")
    c = run(claim, s)
    p = make_plan(c.case, claim, resolved("cus_1"), s, config())
    out = render_triage(claim, resolved("cus_1"), s, c, p, config())
    assert "**What would decide it:** ask whether `sub_2` is used" in out


# Words customers use (the corpus's), so random tickets say things the lexicon reads.
_VOCABULARY = sorted({w for t in corpus.load() for w in (t.title + " " + t.body).split()})
_TEXTS = st.one_of(
    st.text(max_size=200),
    st.lists(st.sampled_from(_VOCABULARY), max_size=40).map(" ".join),
)


@settings(max_examples=300, deadline=None)
@given(_TEXTS, st.sampled_from(sorted(RequestKind)), st.booleans())
def test_no_text_leaves_a_textbook_duplicate_running_without_a_human(
    text: str, request: RequestKind, with_request: bool
) -> None:
    c = run(ticket(text, request=request if with_request else None), dup_state())
    assert c.case in (Case.duplicate_subscription, Case.needs_human)


def test_saying_you_cancelled_is_not_a_complaint_without_a_charge() -> None:
    canceled = state(sub("sub_1", status="canceled", canceled_at=NOW - 20 * DAY))
    c = run(ticket("I cancelled last month. How do I export my data?"), canceled)
    assert c.case is Case.needs_human  # nothing live to cancel, nothing charged
    c = run(ticket("I cancelled in March and you charged me again yesterday"), canceled)
    assert c.case is Case.product_failure
    assert "the ticket reports a charge after cancelling" in c.evidence


@pytest.mark.parametrize(
    ("s", "kind"),
    [
        (dup_state(), "duplicate"),
        (dup_state(quantity=2), "team"),
        (dup_state(metadata={"workspace": "design"}), "team"),
        (state(paid_sub(1, started=NOW - 30 * DAY), paid_sub(2, started=NOW - DAY)), "team"),
        (state(paid_sub(1, started=NOW - 6 * DAY), paid_sub(2, started=NOW - DAY)), "ambiguous"),
    ],
)
def test_group_evidence_reads_billing_alone(s: BillingState, kind: str) -> None:
    [group] = live_groups(s)
    assert group_evidence(s, group).kind == kind


# --- a failure word about the customer's own business (issue 22) ----------------------------


@pytest.mark.parametrize(
    "text",
    [
        "My side business is not working out, so please cancel at the end of the month.",
        "Our funding round fell apart and the company is broken. Cancel at period end please.",
        "Unser Projekt funktioniert nicht mehr, bitte zum Monatsende kündigen.",
        "Notre entreprise ne marche pas, merci de résilier à la fin du mois.",
        "El proyecto no funciona y cerramos; cancelen la suscripción al final del mes.",
        "我们的项目彻底崩溃了，请在月底取消订阅。",
    ],
)
def test_a_failure_of_the_customers_own_business_is_not_a_product_failure(text: str) -> None:
    c = run(ticket(text), state(paid_sub(1)))
    assert c.case is Case.missing_self_serve, c
    assert any("own business" in w for w in c.words)


@pytest.mark.parametrize(
    "text",
    [
        "Our company can't log in since this morning. Cancel and refund this month.",
        "My project page is broken, I want a refund and to cancel.",
        "Our business runs on it and your export is broken: cancel and refund.",
        "Unser Projekt-Dashboard ist kaputt, bitte kündigen und erstatten.",
        "The app crashed during our launch, cancel and refund please.",
        "项目页面一直报错，请取消订阅并退款。",
    ],
)
def test_the_customers_business_named_next_to_a_product_failure_stays_one(text: str) -> None:
    assert run(ticket(text), state(paid_sub(1))).case is Case.product_failure
