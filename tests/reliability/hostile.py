"""Hostile tickets: the corpus in tests/data/hostile/, the pure parse → render pipeline, and
an oracle for what a ticket contained that must never come back out.

The oracle is independent of billingops' own detectors: it reads the ticket after the
normalisation a reader's eye does (NFKC, invisible characters dropped) with its own
patterns, and the rendered comment as a reader sees it (`_support.visible`), so a value
that the product would miss is still caught.
"""

from __future__ import annotations

import json
import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

from billingops.config import Config
from billingops.core.classify import classify
from billingops.core.intake import parse_issue
from billingops.core.plan import make_plan
from billingops.core.render import render_needs_info, render_triage
from billingops.core.sensitive import GITHUB_TOKEN_PATTERN
from billingops.models.billing import (
    BillingState,
    Charge,
    Customer,
    PaymentMethodSummary,
    Resolution,
    ResolvedBy,
    Subscription,
)
from billingops.models.ticket import Ticket
from billingops.sandbox.stripe_server import DEFAULT_NOW
from tests.reliability._support import compact, violations, visible

CORPUS = Path(__file__).resolve().parents[1] / "data" / "hostile"
REPOSITORY = "acme/support"
CUSTOMER_EMAIL = "owner.name@example.com"
TITLE_LIMIT = 256  # GitHub's limit on an issue title

_INVISIBLE = re.compile("[\u00ad\u034f\u061c\u180e\u200b-\u200f\u202a-\u202e\u2060-\u206f\ufeff]")
_SECRET = re.compile(
    r"(?:sk|rk|pk)_(?:live|test)_[A-Za-z0-9_]{8,}"
    r"|whsec_[A-Za-z0-9_]{8,}"
    rf"|{GITHUB_TOKEN_PATTERN}"
)
_PREFIX = re.compile(r"^(?:(?:sk|rk|pk)_(?:live|test)_|whsec_|gh[pousr]_|github_pat_)")
# Unicode-aware (IDN and homoglyph addresses count); the lookbehind and possessive runs
# keep it linear on a 1 MB line.
_EMAIL = re.compile(r"(?<![\w.+%'-])[\w.+%'-]++@[\w-]++(?:\.[\w-]++)+")
# Test card numbers used in the corpus and the fuzzer (all Luhn-valid).
CARDS = (
    "4242424242424242",
    "4000056655665556",
    "5555555555554444",
    "5200828282828210",
    "378282246310005",
    "6011111111111117",
    "3530111333300000",
    "6111111111111116",
)
# A card as a reader finds it: its digits in order, at most three other characters between
# two digits, not part of a longer digit run (the intake's rule: a group of more digits is
# a reference number, not a card).
_CARD_RE = {c: re.compile(r"(?<!\d)" + "[^0-9A-Za-z]{0,3}".join(c) + r"(?!\d)") for c in CARDS}
KEY_TAIL = 20  # characters of a key's tail checked (every key in the corpus is longer)
WINDOW = 12  # a secret counts as leaked when 12 of its characters in a row come back


@dataclass(frozen=True)
class Body:
    name: str
    text: str

    @property
    def title(self) -> str:
        first = next((ln for ln in self.text.splitlines() if ln.strip()), "Billing question")
        return first[:TITLE_LIMIT]


def corpus() -> list[Body]:
    """Every hostile body: the files, and the large ones built from large.json."""
    bodies = [Body(p.stem, p.read_bytes().decode("utf-8")) for p in sorted(CORPUS.glob("*.md"))]
    spec = json.loads((CORPUS / "large.json").read_text(encoding="utf-8"))
    for item in spec["bodies"]:
        text = item["unit"] * int(item["times"]) + item.get("suffix", "")
        bodies.append(Body(item["name"], text))
    return bodies


# ----------------------------------------------------------------------------- oracle


def normalise(text: str) -> str:
    return _INVISIBLE.sub("", unicodedata.normalize("NFKC", text))


@dataclass
class Sensitive:
    secrets: list[str] = field(default_factory=list)
    cards: list[str] = field(default_factory=list)
    emails: list[str] = field(default_factory=list)


def sensitive_in(*texts: str) -> Sensitive:
    found = Sensitive()
    for raw in texts:
        for text in {raw, normalise(raw)}:
            found.secrets += _SECRET.findall(text)
            found.emails += [e for e in _EMAIL.findall(text) if len(e.split("@", 1)[0]) > 1]
            found.cards += [c for c in CARDS if _CARD_RE[c].search(text)]
    found.secrets = sorted(set(found.secrets))
    found.cards = sorted(set(found.cards))
    found.emails = sorted(set(found.emails))
    return found


def leaks(rendered: str, found: Sensitive) -> list[str]:
    """Sensitive values of the ticket that a reader of `rendered` could read back."""
    seen = normalise(visible(rendered))
    seen_compact = compact(seen)
    out = []
    for s in found.secrets:
        # The key's own characters: text glued after it ("...dc9cancel") is not the key.
        tail = compact(_PREFIX.sub("", s))[:KEY_TAIL]
        windows = {tail[i : i + WINDOW] for i in range(max(len(tail) - WINDOW + 1, 1))}
        # A window of the key is evidence when it is not just digits or a common word
        # (those can come back from elsewhere: an id in the title, an amount).
        telling = [w for w in windows if len(w) >= 8 and sum(ch.isalpha() for ch in w) >= 3]
        if s in seen or any(w in seen_compact for w in telling):
            out.append(f"secret {s[:12]}...")
    for c in found.cards:
        if _CARD_RE[c].search(seen):
            out.append(f"card ...{c[-4:]}")
    lowered = seen.lower()
    for e in found.emails:
        if e.lower() in lowered:
            out.append(f"email {e[:1]}***")
    return out


# ------------------------------------------------------------------- the pure pipeline


def state() -> BillingState:
    """One customer with two same-price subscriptions minutes apart: a duplicate."""
    now = DEFAULT_NOW
    customer = Customer(
        id="cus_HOSTILE1",
        email=CUSTOMER_EMAIL,
        name="Owner Name",
        created=now - 90 * 86400,
        default_payment_method=PaymentMethodSummary(brand="visa", last4="4242"),
    )
    subs = [
        Subscription(
            id=f"sub_HOSTILE{i}",
            customer_id=customer.id,
            status="active",
            product_id="prod_PRO",
            product_name="Pro",
            price_id="price_PRO",
            unit_amount=2000,
            created=now - 3 * 86400 + i * 120,
            start_date=now - 3 * 86400 + i * 120,
            current_period_start=now - 3 * 86400,
            current_period_end=now + 27 * 86400,
        )
        for i in (1, 2)
    ]
    charges = [
        Charge(
            id=f"ch_HOSTILE{i}",
            customer_id=customer.id,
            amount=2000,
            created=now - 3 * 86400 + i * 120,
        )
        for i in (1, 2)
    ]
    return BillingState(customers=[customer], subscriptions=subs, charges=charges, as_of=now)


RESOLUTION = Resolution(customer_ids=["cus_HOSTILE1"], resolved_by=ResolvedBy.email)


def parse(title: str, body: str, number: int = 7) -> Ticket:
    return parse_issue(
        {
            "number": number,
            "title": title,
            "body": body,
            "user": {"login": "customer"},
            "labels": [{"name": "billing"}],
        },
        REPOSITORY,
    )


def render_pure(title: str, body: str, config: Config | None = None) -> list[tuple[str, str]]:
    """(kind, comment) for the triage comment and the needs-info comment of a ticket."""
    config = config or Config()
    ticket = parse(title, body)
    billing = state()
    classification = classify(ticket, RESOLUTION, billing, config)
    plan = make_plan(classification.case, ticket, RESOLUTION, billing, config)
    triage = render_triage(ticket, RESOLUTION, billing, classification, plan, config)
    return [("triage", triage), ("needs_info", render_needs_info(ticket, config))]


def check(title: str, body: str, rendered: str) -> list[str]:
    """Every invariant `rendered` breaks for a ticket with this title and body."""
    found = sensitive_in(title, body)
    problems = violations(rendered, secrets=[], cards=[], emails=[])
    return problems + leaks(rendered, found)
