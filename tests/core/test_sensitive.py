"""Secrets, card numbers and emails: found, redacted, never kept; no false positives."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from billingops.core.sensitive import (
    PLACEHOLDERS,
    find_sensitive,
    iter_email_spans,
    luhn_valid,
    redact,
    redact_emails,
    scrub,
)
from billingops.models.ticket import SensitiveKind

# Stripe's documented test cards, one per network and length.
CARDS = [
    "4242424242424242",  # Visa
    "4000056655665556",  # Visa debit
    "5555555555554444",  # Mastercard
    "2223003122003222",  # Mastercard 2-series
    "378282246310005",  # Amex, 15 digits
    "6011111111111117",  # Discover
    "3056930009020004",  # Diners, 16 digits
    "36227206271667",  # Diners, 14 digits
    "3566002020360505",  # JCB
    "6200000000000005",  # UnionPay
    "6205500000000000004",  # UnionPay, 19 digits
    "4222222222222",  # Visa, 13 digits
]


def spaced(number: str, sep: str = " ", size: int = 4) -> str:
    return sep.join(number[i : i + size] for i in range(0, len(number), size))


@pytest.mark.parametrize("number", CARDS)
@pytest.mark.parametrize("fmt", ["plain", "spaces", "dashes", "glued"])
def test_cards_are_found_and_redacted(number: str, fmt: str) -> None:
    shown = {
        "plain": number,
        "spaces": spaced(number),
        "dashes": spaced(number, "-"),
        "glued": f"card:{number}.",
    }[fmt]
    text = f"Please charge {shown} again"
    result = redact(text)
    assert result.kinds == (SensitiveKind.card_number,)
    assert number not in result.text.replace(" ", "").replace("-", "")
    assert PLACEHOLDERS[SensitiveKind.card_number] in result.text
    assert result.text.startswith("Please charge ") and result.text.endswith(" again")


def test_amex_grouping_and_expiry_after_the_number() -> None:
    assert redact("3782 822463 10005").text == "[redacted card number]"
    # The expiry date continues the digit run; the card is still found as whole groups.
    out = redact("4242 4242 4242 4242 12 25 cvc 123").text
    assert out == "[redacted card number] 12 25 cvc 123"


def test_two_cards_in_one_run_and_wide_digits() -> None:
    assert redact("4242 4242 4242 4242 5555 5555 5555 4444").text.count("[redacted") == 2
    full_width = "".join(chr(ord("０") + int(c)) for c in "4242424242424242")
    assert redact(f"カード番号{full_width}です").text == "カード番号[redacted card number]です"
    arabic_indic = "".join(chr(0x0660 + int(c)) for c in "4242424242424242")
    assert redact(f"رقم البطاقة {arabic_indic}").kinds == (SensitiveKind.card_number,)


@pytest.mark.parametrize(
    "text",
    [
        "4242424242424241",  # fails Luhn
        "order 4242 4242 4242 4241",
        "ref 42424242424242424242",  # 20 digits: not a card, not a window
        "ref 424242424242424242424242",
        "at 1716200000008",  # a Luhn-valid millisecond timestamp
        "at 20240501123002",  # a Luhn-valid compact timestamp
        "2024-05-01 12:30:00",
        "call +1 415 555 0100 or 030 1234567",
        "cus_NffrFeUfNV2Hib sub_1MowQVLkdIwHu7ixeRlqHVzs ch_3MmlLrLkdIwHu7ix0snN0B15",
        "pi_3MtwBwLkdIwHu7ix28a3tqPa in_1MtHbELkdIwHu7ixl4OzzPMv",
        "424242424242",  # 12 digits
        "9999999999999995",  # Luhn-valid, but no card network starts with 9
        "4242  4242  4242  4242",  # double spaces: four short numbers
    ],
)
def test_not_cards(text: str) -> None:
    assert find_sensitive(text) == []
    assert redact(text).text == text


@pytest.mark.parametrize(
    ("secret", "kind"),
    [
        ("sk_live_51HxYzAbCdEfGhIjKlMnOpQrStUvWxYz0123456789", SensitiveKind.stripe_secret_key),
        ("sk_test_4eC39HqLyjWDarjtT1zdp7dc", SensitiveKind.stripe_secret_key),
        ("rk_live_51HxYzAbCdEfGhIjKlMn", SensitiveKind.stripe_restricted_key),
        ("rk_test_abcdefgh12345678", SensitiveKind.stripe_restricted_key),
        ("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLSbx", SensitiveKind.webhook_secret),
    ],
)
def test_secrets(secret: str, kind: SensitiveKind) -> None:
    for text in (secret, f"key={secret}", f"`{secret}`.", f"my{secret}x"):
        result = redact(text)
        assert result.kinds == (kind,)
        assert secret not in result.text
        assert "_live_" not in result.text and "_test_" not in result.text
        assert PLACEHOLDERS[kind] in result.text


@pytest.mark.parametrize(
    "text",
    [
        "pk_live_51HxYzAbCdEfGhIjKlMn",  # publishable keys are public
        "sk_live_ and sk_test_... are your secret keys",
        "sk_live_abc",
        "whsec_",
        "the sk_prod key",
    ],
)
def test_not_secrets(text: str) -> None:
    assert find_sensitive(text) == []


def test_kinds_in_order_of_appearance_and_overlaps_merged() -> None:
    text = "whsec_abcdefgh1234 then 4242424242424242 then sk_test_abcdefgh then 4242-4242"
    result = redact(text)
    assert result.kinds == (
        SensitiveKind.webhook_secret,
        SensitiveKind.card_number,
        SensitiveKind.stripe_secret_key,
    )
    # A key made of digits is one secret, not a secret and a card.
    spans = find_sensitive("sk_live_4242424242424242")
    assert [s.kind for s in spans] == [SensitiveKind.stripe_secret_key]


def test_luhn() -> None:
    assert all(luhn_valid(c) for c in CARDS)
    assert not luhn_valid("4242424242424241")
    assert not luhn_valid("")


def test_emails() -> None:
    text = (
        "Mail _me@Example.com_ or <foo.bar+x@mail.example.co.uk>. Not bad@host.c0m, a@b, x@-y.com"
    )
    found = [text[s:e] for s, e in iter_email_spans(text)]
    assert found == ["me@Example.com", "foo.bar+x@mail.example.co.uk"]
    assert redact_emails(text) == (
        "Mail _***@Example.com_ or <***@mail.example.co.uk>. Not bad@host.c0m, a@b, x@-y.com"
    )
    assert redact_emails("to jane@example.com.", keep_domain=False) == "to [redacted email]."


def test_scrub_for_logs() -> None:
    line = "refund for jane@example.com card 4242 4242 4242 4242 key sk_live_abcdefgh1234"
    assert scrub(line) == (
        "refund for ***@example.com card [redacted card number] key [redacted secret key]"
    )


def test_large_and_adversarial_inputs_finish() -> None:
    # Linear time: these would take minutes with a backtracking pattern (no timing assert).
    for text in (
        "4 " * 200_000,
        "4242 " * 100_000,
        "a" * 500_000,
        "a@" * 250_000,
        "sk_live_" * 60_000,
    ):
        redact(text)
        list(iter_email_spans(text))


@given(st.text())
def test_redacted_text_has_nothing_left_to_redact(text: str) -> None:
    assert find_sensitive(redact(text).text) == []


@given(
    st.text(),
    st.sampled_from(CARDS),
    st.sampled_from(["", " ", "-"]),
    st.text(),
)
def test_a_card_in_any_text_is_redacted(before: str, number: str, sep: str, after: str) -> None:
    shown = spaced(number, sep) if sep else number
    out = redact(f"{before}({shown}){after}").text
    assert shown not in out
    assert find_sensitive(out) == []
