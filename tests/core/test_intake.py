"""Intake: issue form bodies, free text, real webhook payloads and bad input."""

from __future__ import annotations

import copy
import importlib.util
import json
import random
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from billingops.core.intake import field_for_label, parse_body, parse_issue
from billingops.errors import BadInput
from billingops.models.ticket import RequestKind, SensitiveKind, Ticket
from tests.core.form_render import FORM_PATH, fields, labels, load_form, options, render

EVENTS = Path(__file__).resolve().parents[1] / "data" / "events"
CUS = "cus_NffrFeUfNV2Hib"  # shapes of real IDs (Stripe's docs) and localstripe IDs
CUS_LOCAL = "cus_01hzaT1GkXxm7b"
SUB = "sub_1MowQVLkdIwHu7ixeRlqHVzs"
INV = "in_1MtHbELkdIwHu7ixl4OzzPMv"
CH = "ch_3MmlLrLkdIwHu7ix0snN0B15"
PI = "pi_3MtwBwLkdIwHu7ix28a3tqPa"


def event(name: str) -> dict[str, Any]:
    payload: dict[str, Any] = json.loads((EVENTS / name).read_text(encoding="utf-8"))
    return payload


def assert_no_identifiers(ticket: Ticket) -> None:
    assert ticket.emails == [] and ticket.stripe_ids == [] and ticket.github_username is None
    assert not ticket.has_identifier


# --- the form -----------------------------------------------------------------------


def test_form_fields_labels_and_options() -> None:
    form = load_form()
    assert form["labels"] == ["billing"]
    assert [f["id"] for f in fields(form)] == [
        "email",
        "stripe_ids",
        "github_username",
        "request",
        "description",
    ]
    # Intake maps every label of the current form to its own field.
    assert {i: field_for_label(label) for i, label in labels(form).items()} == {
        i: i for i in labels(form)
    }
    note = "".join(f["attributes"]["value"] for f in form["body"] if f["type"] == "markdown")
    assert "card number" in note and "sk_" in note


def test_every_request_option_maps_to_its_own_kind() -> None:
    kinds = [parse_body(render({"request": o})).request for o in options("request")]
    assert kinds == [
        RequestKind.refund,
        RequestKind.cancel,
        RequestKind.failed_payment,
        RequestKind.invoices,
        RequestKind.seats_or_plan,
        RequestKind.other,
    ]


@pytest.mark.skipif(
    importlib.util.find_spec("check_jsonschema") is None, reason="check-jsonschema (dev extra)"
)
def test_form_validates_against_the_issue_forms_schema() -> None:
    cmd = [
        sys.executable,
        "-m",
        "check_jsonschema",
        "--builtin-schema",
        "vendor.github-issue-forms",
    ]
    done = subprocess.run([*cmd, str(FORM_PATH)], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stdout + done.stderr


# --- form bodies --------------------------------------------------------------------


def test_rendered_form() -> None:
    body = render(
        {
            "email": "Jane.Doe@Example.com",
            "stripe_ids": f"{CUS}\n{SUB}, {INV}.",
            "github_username": "@jane-doe",
            "request": "Refund",
            "description": "I was charged twice this month.",
        }
    )
    ticket = parse_body(body)
    assert ticket.from_form
    assert ticket.emails == ["Jane.Doe@Example.com"]
    assert ticket.stripe_ids == [CUS, SUB, INV]
    assert ticket.github_username == "jane-doe"
    assert ticket.request is RequestKind.refund
    assert ticket.description == "I was charged twice this month."
    assert ticket.fields["Billing email"] == "Jane.Doe@Example.com"
    assert ticket.fields["Stripe IDs"] == f"{CUS}\n{SUB}, {INV}."
    assert ticket.sensitive == []


def test_empty_fields_are_no_response() -> None:
    ticket = parse_body(render({"request": "Something else", "description": "Hello"}))
    assert_no_identifiers(ticket)
    assert ticket.fields["Billing email"] == "" and ticket.fields["GitHub username"] == ""
    assert ticket.request is RequestKind.other
    assert ticket.description == "Hello"


def test_form_fields_come_first_then_body_then_title() -> None:
    body = render(
        {
            "email": "owner@example.com",
            "stripe_ids": SUB,
            "request": "Cancel my subscription",
            "description": f"My colleague colleague@example.com has {CUS}. Also OWNER@example.com",
        }
    )
    ticket = parse_body(body, title=f"Cancel {CH} for billing@example.com")
    assert ticket.emails == ["owner@example.com", "colleague@example.com", "billing@example.com"]
    assert ticket.stripe_ids == [SUB, CUS, CH]


def test_headings_inside_the_description_stay_in_it() -> None:
    description = (
        "Steps:\n\n### What I did\n\nUpgraded.\n\n## Billing email\n\nnot a field\n\n"
        "Other\n-----\n\n#### Request\n\nstill mine"
    )
    ticket = parse_body(
        render({"email": "a@example.com", "request": "Refund", "description": description})
    )
    assert ticket.description == description
    assert ticket.request is RequestKind.refund
    assert ticket.emails == ["a@example.com"]


def test_renamed_headings_old_form_and_checkboxes() -> None:
    body = (
        "### E-Mail Address\n\nsam@example.org\n\n"
        "### Your Stripe customer ID\n\n`cus_01hzaT1GkXxm7b`\n\n"
        "### GITHUB LOGIN\n\nhttps://github.com/sam-s/\n\n"
        "### What do you need?\n\n- [ ] Refund\n- [X] Cancel\n- [ ] Invoices\n\n"
        "### Company\n\nSam's Shop\n\n"
        "### What happened?\n\nPlease stop renewing.\n"
    )
    ticket = parse_body(body)
    assert ticket.from_form
    assert ticket.emails == ["sam@example.org"]
    assert ticket.stripe_ids == [CUS_LOCAL]
    assert ticket.github_username == "sam-s"
    assert ticket.request is RequestKind.cancel
    # An unknown section is kept (labelled) in the description, not dropped.
    assert ticket.description == "### Company\n\nSam's Shop\n\nPlease stop renewing."
    assert set(ticket.fields) == {
        "E-Mail Address",
        "Your Stripe customer ID",
        "GITHUB LOGIN",
        "What do you need?",
        "Company",
        "What happened?",
    }


def test_request_falls_back_to_the_text_when_the_dropdown_is_gone() -> None:
    body = "### Billing email\n\nx@example.com\n\n### Details\n\nMy card was declined twice."
    assert parse_body(body).request is RequestKind.failed_payment


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("octocat", "octocat"),
        ("@octocat", "octocat"),
        ("`octocat`", "octocat"),
        ("https://github.com/octocat", "octocat"),
        ("github.com/Octo-Cat/", "Octo-Cat"),
        ("N/A", None),
        ("none", None),
        ("I don't have one", None),
        ("-octocat", None),
        ("a" * 40, None),
    ],
)
def test_github_username_field(value: str, expected: str | None) -> None:
    body = render({"github_username": value, "request": "Refund", "description": "x"})
    assert parse_body(body).github_username == expected


def test_github_username_from_a_form_description() -> None:
    def login(description: str) -> str | None:
        body = render({"request": "Refund", "description": description})
        return parse_body(body).github_username

    assert login("My GitHub username: octocat") == "octocat"
    assert login("Hi @maintainer, please help") is None  # addressed to someone


# --- free text ----------------------------------------------------------------------


SUPPORT_EMAIL = f"""\
From: Maria Garcia <Maria.Garcia@shop.example>
Sent: Tuesday, 4 June 2024 09:12
To: support@ourapp.example
Subject: Charged twice

Hi there,

I was charged twice for my plan this month (receipt {CH}). Could I get a refund for
the second charge? My customer ID is {CUS}, my GitHub is @mgarcia.

Thanks,
Maria
"""


def test_support_email_pasted_as_the_body() -> None:
    ticket = parse_body(SUPPORT_EMAIL, title="Fwd: Charged twice")
    assert not ticket.from_form
    assert ticket.fields == {}
    assert ticket.emails == ["Maria.Garcia@shop.example", "support@ourapp.example"]
    assert ticket.stripe_ids == [CH, CUS]
    assert ticket.github_username == "mgarcia"
    assert ticket.request is RequestKind.refund
    assert ticket.description == SUPPORT_EMAIL.strip()


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("GitHub: octocat", "octocat"),
        ("my github username: @octocat.", "octocat"),
        ("Github login = octocat", "octocat"),
        ("thanks @octocat", "octocat"),
        ("GitHub: octocat, cc @someone-else", "octocat"),  # a stated login beats mentions
        ("@alice and @bob", None),  # ambiguous
        ("GitHub: alice. GitHub: bob", None),
        ("GitHub: https://github.com/octocat", None),
        ("GitHub Actions failed", None),
        ("mail me at me@octocat.dev", None),
        ("see @acme/billing-team", None),
        ("```\n@octocat\n```", None),
        ("`@dataclass`", None),
    ],
)
def test_github_username_in_free_text(text: str, expected: str | None) -> None:
    assert parse_body(text).github_username == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Please refund the last payment", RequestKind.refund),
        ("How do I cancel?", RequestKind.cancel),
        ("My card was declined", RequestKind.failed_payment),
        ("payment failed again", RequestKind.failed_payment),
        ("Where can I download my invoices?", RequestKind.invoices),
        ("We need 5 more seats", RequestKind.seats_or_plan),
        ("I want to switch my plan", RequestKind.seats_or_plan),
        ("Cancel and refund please", None),  # two requests: unclear
        ("Charged twice for my plan, receipt attached: refund?", RequestKind.refund),
        ("Send me the invoice for the new seats", None),
        ("Hello, I have a question", None),
        ("", None),
    ],
)
def test_request_from_free_text(text: str, expected: RequestKind | None) -> None:
    assert parse_body(text).request == expected


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        (f"返金をお願いします。顧客ID: {CUS}、メール: tanaka@example.jp", RequestKind.refund),
        (
            f"Ich möchte mein Abo kündigen. Kunde {CUS}, E-Mail: tanaka@example.jp",
            RequestKind.cancel,
        ),
        (f"أريد استرداد المبلغ. رقم العميل {CUS} البريد tanaka@example.jp", RequestKind.refund),
        (f"Bonjour, je voudrais ma facture. {CUS} tanaka@example.jp", RequestKind.invoices),
    ],
)
def test_other_languages(text: str, kind: RequestKind) -> None:
    ticket = parse_body(text)
    assert ticket.stripe_ids == [CUS]
    assert ticket.emails == ["tanaka@example.jp"]
    assert ticket.request is kind
    assert ticket.description == text


def test_no_identifier_in_other_scripts() -> None:
    text = "お支払いについて質問があります。\nمرحبا، لدي سؤال حول الفاتورة\nСпасибо!"
    assert_no_identifiers(parse_body(text))


# --- identifiers --------------------------------------------------------------------


def test_ids_with_trailing_punctuation_and_markup() -> None:
    text = (
        f"cus_ABC123. ({SUB}), {INV}; **{CH}**! _{PI}_ "
        f"https://dashboard.stripe.com/customers/{CUS_LOCAL}?tab=1 `{CUS}`"
    )
    assert parse_body(text).stripe_ids == ["cus_ABC123", SUB, INV, CH, PI, CUS_LOCAL, CUS]


@pytest.mark.parametrize(
    "text",
    [
        "status in_progress, sub_category, cus_XXXXXXXX, cus_EXAMPLE, ch_",
        "check_in_12345678 and discuss_1234567890",
        f"{PI}_secret_YrKJUKribcBjcG8HVhfZluoGH",  # a client secret, not a bare ID
        "cus_AB12 (too short) and evt_1MtHbELkdIwHu7ix",
        "CUS_NffrFeUfNV2Hib",  # Stripe prefixes are lower case
    ],
)
def test_not_stripe_ids(text: str) -> None:
    assert parse_body(text).stripe_ids == []


def test_emails_are_deduplicated_case_insensitively_keeping_the_first_spelling() -> None:
    ticket = parse_body("Jane@Example.COM, jane@example.com and mailto:JANE@example.com.")
    assert ticket.emails == ["Jane@Example.COM"]


def test_code_blocks() -> None:
    # Emails in a fenced block (a pasted log or thread) are not the customer's; inline
    # code and indented text are; Stripe IDs count everywhere.
    body = (
        "My email is `me@example.com`.\n\n"
        "```\nERROR 402 for billing-bot@ourapp.example customer cus_01hzaT1GkXxm7b\n```\n\n"
        "````markdown\n```\nnested@example.com\n```\nstill code other@example.com\n````\n\n"
        "    indented@example.com\n"
    )
    ticket = parse_body(body)
    assert ticket.emails == ["me@example.com", "indented@example.com"]
    assert ticket.stripe_ids == [CUS_LOCAL]


def test_unclosed_fence_swallows_the_rest_like_github_does() -> None:
    ticket = parse_body("```\nlog line\n\nreach me at me@example.com " + CUS)
    assert ticket.emails == []
    assert ticket.stripe_ids == [CUS]


# --- secrets and card numbers ---------------------------------------------------------


def test_secrets_and_cards_are_recorded_and_redacted_everywhere() -> None:
    secret = "sk_live_51HxYzAbCdEfGhIjKlMnOpQrStUv"
    body = render(
        {
            "email": "4242 4242 4242 4242",
            "stripe_ids": f"{CUS} {secret}",
            "github_username": "4242424242424242",
            "request": "Refund",
            "description": f"card 5555-5555-5555-4444, webhook whsec_abcdefgh12345678, {secret}",
        }
    )
    ticket = parse_body(body, title="rk_test_abcdefgh12345678 refund")
    assert ticket.sensitive == [
        SensitiveKind.stripe_restricted_key,
        SensitiveKind.card_number,
        SensitiveKind.stripe_secret_key,
        SensitiveKind.webhook_secret,
    ]
    dumped = ticket.model_dump_json()
    for value in (secret, "whsec_abcdefgh", "rk_test_abc", "4242", "5555-5555", "4444"):
        assert value not in dumped
    assert ticket.github_username is None
    assert ticket.stripe_ids == [CUS]
    assert ticket.title == "[redacted restricted key] refund"


def test_no_identifier_is_read_out_of_a_secret_or_a_card() -> None:
    text = (
        "sk_test_cus_NffrFeUfNV2Hib and rk_live_AbCd1234me@example.com "
        "cus_AbCd4242424242424242 and 4242424242424242@example.com"
    )
    ticket = parse_body(text)
    assert ticket.stripe_ids == [] and ticket.emails == []
    assert set(ticket.sensitive) == {
        SensitiveKind.stripe_secret_key,
        SensitiveKind.stripe_restricted_key,
        SensitiveKind.card_number,
    }


# --- bad input ----------------------------------------------------------------------


@pytest.mark.parametrize("body", ["", " ", "\n\n\t  \n", "\u3000\u00a0\u2028", "\r\n\r\n"])
def test_blank_bodies(body: str) -> None:
    ticket = parse_body(body)
    assert_no_identifiers(ticket)
    assert ticket.request is None
    assert ticket.description == "" or ticket.description.isspace()


def test_binary_junk_and_nul_bytes() -> None:
    rng = random.Random(4242)
    junk = bytes(rng.randrange(256) for _ in range(20_000)).decode("latin-1")
    for body in (junk, "\x00" * 1000, f"\x00{CUS}\x00me@example.com\x00", "\ud800 lone surrogate"):
        ticket = parse_body(body, title=body[:100])
        assert "\x00" not in ticket.description
        ticket.model_dump_json()  # encodable
    ticket = parse_body(f"\x00{CUS}\x00me@example.com\x00")
    assert ticket.stripe_ids == [CUS] and ticket.emails == ["me@example.com"]


def test_one_megabyte_body() -> None:
    filler = (
        "Lorem ipsum dolor sit amet, 12345 consectetur > adipiscing `elit` ### sed.\n"
    ) * 14_000
    body = render(
        {"email": "big@example.com", "request": "Invoices or receipts", "description": filler + CUS}
    )
    assert len(body) > 1_000_000
    ticket = parse_body(body)
    assert ticket.emails == ["big@example.com"]
    assert ticket.stripe_ids == [CUS]
    assert ticket.request is RequestKind.invoices


@pytest.mark.parametrize(
    "body",
    [
        "> " * 50_000 + "cus_ABC123",
        "- " * 50_000,
        "`" * 100_000,
        "```\n" * 20_000,
        "### " * 50_000,
        "".join(" " * i + "- x\n" for i in range(300)),
        "[" * 50_000 + "](" * 50_000,
        "<!--" * 20_000,
        "@" * 100_000 + "a" * 100_000,
        "cus_" * 100_000,
        "a@b." * 100_000,
        "### Billing email\n\n" + "### Company\nx\n" * 50_000,
        "### Details\n\n" + "### Billing email\n" * 50_000,
    ],
)
def test_pathological_markdown(body: str) -> None:
    ticket = parse_body(body)
    for value in ticket.stripe_ids + ticket.emails:
        assert value in body


# --- real webhook payloads ------------------------------------------------------------


@pytest.mark.parametrize(
    "name",
    [
        "issues.opened.json",
        "issues.opened.no-body.json",
        "issues.edited.json",
        "issues.labeled.json",
    ],
)
def test_real_payloads(name: str) -> None:
    payload = event(name)
    ticket = parse_issue(payload["issue"], payload["repository"]["full_name"])
    assert ticket.repository == "Codertocat/Hello-World"
    assert ticket.number == payload["issue"]["number"] == 1
    assert ticket.author == "Codertocat"
    assert ticket.title == "Spelling error in the README file"
    assert ticket.labels == ["bug"]
    assert not ticket.from_form
    assert_no_identifiers(ticket)
    body = payload["issue"]["body"]
    assert ticket.description == (body or "").strip()


def test_real_payload_with_a_billing_form_body() -> None:
    payload = event("issues.opened.json")
    issue = copy.deepcopy(payload["issue"])
    issue["title"] = "Billing: double charge"
    issue["body"] = render(
        {
            "email": "codertocat@example.com",
            "stripe_ids": SUB,
            "request": "Refund",
            "description": "Charged twice.",
        }
    ).replace("\n", "\r\n")  # browsers submit CRLF
    issue["labels"] = [*issue["labels"], {**issue["labels"][0], "name": "billing"}]
    ticket = parse_issue(issue, "acme/support")
    assert (ticket.repository, ticket.number, ticket.author) == ("acme/support", 1, "Codertocat")
    assert ticket.labels == ["bug", "billing"]
    assert ticket.emails == ["codertocat@example.com"]
    assert ticket.stripe_ids == [SUB]
    assert ticket.request is RequestKind.refund
    assert ticket.description == "Charged twice."


@pytest.mark.parametrize(
    "issue",
    [None, [], "issue", {}, {"number": "1"}, {"number": True}, {"number": 0}],
)
def test_malformed_issue_is_bad_input(issue: Any) -> None:
    with pytest.raises(BadInput):
        parse_issue(issue, "acme/support")


def test_missing_optional_parts_of_an_issue() -> None:
    ticket = parse_issue(
        {"number": 7, "title": None, "body": 42, "user": None, "labels": [None, "vip", {}]}, "a/b"
    )
    assert (ticket.number, ticket.title, ticket.author, ticket.labels) == (7, "", "", ["vip"])
    ticket = parse_issue({"number": 8, "user": {"login": 3}, "labels": 5}, "a/b")
    assert (ticket.author, ticket.labels, ticket.description) == ("", [], "")


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("Proszę o zwrot pieniędzy za ostatni miesiąc.", RequestKind.refund),
        ("Ik wil mijn abonnement opzeggen.", RequestKind.cancel),
        ("Mi servono le fatture di marzo.", RequestKind.invoices),
        ("需要升级套餐。", RequestKind.seats_or_plan),
        # A negated ask is not a request: what is left is the cancellation.
        ("No refund needed, please cancel at the end of the month.", RequestKind.cancel),
        ("返金は不要です。解約だけお願いします。", RequestKind.cancel),
    ],
)
def test_free_text_requests_in_the_lexicon_languages(text: str, kind: RequestKind) -> None:
    assert parse_body(text).request is kind


def test_the_dropdown_wins_over_free_text() -> None:
    body = render(
        {"email": "a@example.com", "request": "Invoices or receipts",
         "description": "Bitte kündigen und erstatten."}
    )  # fmt: skip
    assert parse_body(body).request is RequestKind.invoices


@pytest.mark.parametrize("email", ["in_000000@0.com", "cus_Q4bT9xK2mN7p@example.com"])
def test_an_email_whose_local_part_looks_like_a_stripe_id_is_an_email_only(email: str) -> None:
    """Found by the render-then-parse property (hypothesis): `in_000000@0.com` also gave
    the invoice id `in_000000`, an identifier the customer never wrote."""
    ticket = parse_body(f"### Billing email\n\n{email}\n\n### What happened\n\nRefund please")
    assert ticket.emails == [email]
    assert ticket.stripe_ids == []
