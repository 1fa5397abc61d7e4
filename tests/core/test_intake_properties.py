"""Property-based tests of intake: round trips, no crash, no invention, no leak."""

from __future__ import annotations

import re
import string

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from billingops.core.intake import parse_body
from billingops.core.sensitive import find_sensitive, luhn_valid
from billingops.models.ticket import RequestKind, Ticket
from tests.core.form_render import options, render

BASE62 = string.ascii_letters + string.digits
REQUEST_OPTIONS = options("request")
KINDS = dict(zip(REQUEST_OPTIONS, RequestKind, strict=True))

PROPERTIES = settings(deadline=None, suppress_health_check=[HealthCheck.too_slow])


@st.composite
def stripe_ids(draw: st.DrawFn) -> str:
    prefix = draw(st.sampled_from(["cus_", "sub_", "in_", "ch_", "pi_"]))
    tail = draw(st.text(BASE62, min_size=13, max_size=23))
    return prefix + draw(st.sampled_from(string.digits)) + tail


emails = st.builds(
    "{}@{}.{}".format,
    st.text(string.ascii_letters + string.digits + "._+-", min_size=1, max_size=20).filter(
        lambda s: s[0].isalnum() and s[-1] != "."
    ),
    st.text(string.ascii_lowercase + string.digits, min_size=1, max_size=15),
    st.sampled_from(["com", "de", "co.uk", "example", "jp"]),
)
logins = st.from_regex(r"[A-Za-z0-9](?:[A-Za-z0-9]|-(?=[A-Za-z0-9])){0,38}", fullmatch=True).filter(
    lambda s: (
        s.lower() not in {"none", "no", "na", "nil", "null", "unknown", "nothing", "idk", "skip"}
    )
)
# Free text that cannot itself look like an identifier, a heading or a card.
prose = st.text(string.ascii_letters + " .,!?'\n", max_size=300)


@st.composite
def cards(draw: st.DrawFn) -> str:
    length = draw(st.integers(13, 19))
    first = draw(st.sampled_from("3456")) if length != 16 else draw(st.sampled_from("23456"))
    body = first + "".join(draw(st.sampled_from(string.digits)) for _ in range(length - 2))
    number = next(body + d for d in string.digits if luhn_valid(body + d))
    sep = draw(st.sampled_from(["", " ", "-"]))
    return sep.join(number[i : i + 4] for i in range(0, len(number), 4))


secrets = st.builds(
    "{}{}".format,
    st.sampled_from(["sk_live_", "sk_test_", "rk_live_", "rk_test_", "whsec_"]),
    st.text(BASE62, min_size=8, max_size=40),
)


def text_values(ticket: Ticket) -> list[str]:
    values = [ticket.title, ticket.description, *ticket.emails, *ticket.stripe_ids]
    values += [*ticket.fields, *ticket.fields.values(), ticket.github_username or ""]
    return values


@PROPERTIES
@given(
    email=st.none() | emails,
    ids=st.lists(stripe_ids(), max_size=4, unique=True),
    sep=st.sampled_from(["\n", ", ", " ", ",\n"]),
    login=st.none() | logins,
    at=st.booleans(),
    option=st.sampled_from(REQUEST_OPTIONS),
    description=prose,
)
def test_render_then_parse_round_trips(
    email: str | None,
    ids: list[str],
    sep: str,
    login: str | None,
    at: bool,
    option: str,
    description: str,
) -> None:
    body = render(
        {
            "email": email,
            "stripe_ids": sep.join(ids),
            "github_username": f"@{login}" if login and at else login,
            "request": option,
            "description": description,
        }
    )
    ticket = parse_body(body)
    assert ticket.from_form
    assert ticket.emails == ([email] if email else [])
    assert ticket.stripe_ids == ids
    assert ticket.github_username == login
    assert ticket.request is KINDS[option]
    assert ticket.description == description.strip()
    assert ticket.sensitive == []


@PROPERTIES
@given(body=st.text(), title=st.text(max_size=200))
def test_never_crashes_and_never_invents(body: str, title: str) -> None:
    ticket = parse_body(body, title=title)
    for value in [*ticket.emails, *ticket.stripe_ids, ticket.github_username or ""]:
        assert value in body or value in title


markdownish = st.lists(
    st.one_of(
        st.text(max_size=40),
        st.sampled_from(
            [
                "\n",
                "\n\n",
                "### Billing email\n\n",
                "### Stripe IDs\n\n",
                "### GitHub username\n\n",
                "### Request\n\n",
                "### Details\n\n",
                "_No response_",
                "```\n",
                "~~~\n",
                "> ",
                "- [X] ",
                "    ",
                "`",
                "@",
                "_",
                "GitHub: ",
                "\x00",
                "\r\n",
            ]
        ),
        stripe_ids(),
        emails,
        logins,
        cards(),
        secrets,
    ),
    max_size=30,
).map("".join)


@PROPERTIES
@given(body=markdownish, title=markdownish)
def test_markdownish_bodies_never_leak_and_never_invent(body: str, title: str) -> None:
    ticket = parse_body(body, title=title)
    for value in [*ticket.emails, *ticket.stripe_ids, ticket.github_username or ""]:
        assert value in body or value in title
    for value in text_values(ticket):
        assert find_sensitive(value) == []


@PROPERTIES
@given(before=markdownish, card=cards(), secret=secrets, middle=markdownish, after=markdownish)
def test_inserted_secrets_and_cards_never_survive(
    before: str, card: str, secret: str, middle: str, after: str
) -> None:
    ticket = parse_body(f"{before}\n{card}\n{middle} {secret} {after}", title=f"({card})")
    # The card's digits may still occur inside a longer number that is not a card.
    card_alone = re.compile(rf"(?<!\d){re.escape(card)}(?!\d)")
    for value in text_values(ticket):
        assert secret not in value and not card_alone.search(value)
    assert len(ticket.sensitive) >= 2
