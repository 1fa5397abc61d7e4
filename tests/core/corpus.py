"""The ticket corpus (tests/data/tickets/): tickets as customers write them, each with its
billing situation and the right case, and the figures the benchmark and the floor test use.

A corpus file is a YAML list, one file per language. Each ticket:

    id: en-01                 # unique; the prefix is the language
    billing: {kind: dup, apart: 4m}   # the billing situation (see `situation`)
    expect: duplicate_subscription    # the right case (SPEC §4)
    rule: ...                 # why, for every ticket a reader could argue about
    holdout: true             # one in four: never used to tune the lexicon or the rules
    form: Refund              # optional: filed through the issue form with this dropdown
    title: ...
    body: |
      ...

The text goes through intake (`parse_body`) like a real issue, then `classify`.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from billingops.core.classify import classify
from billingops.core.intake import parse_body
from billingops.core.lexicon import LANGUAGES
from billingops.models.billing import BillingState, Resolution
from billingops.models.decision import Case, Classification
from billingops.models.ticket import Ticket
from tests.core import form_render
from tests.core.builders import (
    DAY,
    HOUR,
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
)

CORPUS_DIR = Path(__file__).resolve().parents[1] / "data" / "tickets"
# Cases that leave a duplicate running with no human: anything but these two.
SAFE_FOR_DUPLICATE = frozenset({Case.duplicate_subscription, Case.needs_human})
_UNITS = {"m": MIN, "h": HOUR, "d": DAY}


@dataclass(frozen=True)
class CorpusTicket:
    id: str
    lang: str
    expect: Case
    holdout: bool
    billing: Mapping[str, Any]
    title: str
    body: str
    form: str | None = None
    rule: str | None = None


@dataclass(frozen=True)
class Outcome:
    ticket: CorpusTicket
    got: Classification

    @property
    def right(self) -> bool:
        return self.got.case is self.ticket.expect


def load(directory: Path = CORPUS_DIR) -> list[CorpusTicket]:
    out: list[CorpusTicket] = []
    for path in sorted(directory.glob("*.yml")):
        lang = path.stem
        for raw in yaml.safe_load(path.read_text("utf-8")):
            billing = raw["billing"]
            out.append(
                CorpusTicket(
                    id=raw["id"],
                    lang=lang,
                    expect=Case(raw["expect"]),
                    holdout=bool(raw.get("holdout", False)),
                    billing=billing if isinstance(billing, dict) else {"kind": billing},
                    title=raw.get("title", ""),
                    body=raw["body"],
                    form=raw.get("form"),
                    rule=raw.get("rule"),
                )
            )
    return out


def _duration(text: str | int) -> int:
    if isinstance(text, int):
        return text * MIN
    return int(text[:-1]) * _UNITS[text[-1]]


def textbook_duplicate(billing: Mapping[str, Any]) -> bool:
    """The issue's definition, read from the situation itself (not from the classifier):
    two or more live subscriptions to one product, quantity 1, started within 48 h, one
    card, no team metadata, monthly."""
    return (
        billing["kind"] == "dup"
        and int(billing.get("qty", 1)) == 1
        and not billing.get("meta")
        and _duration(billing.get("apart", "4m")) <= 48 * HOUR
        and billing.get("cards", "same") == "same"
        and billing.get("interval", "month") == "month"
    )


def situation(billing: Mapping[str, Any]) -> tuple[Resolution, BillingState]:
    """The resolution and billing state a situation stands for."""
    kind = billing["kind"]
    qty = int(billing.get("qty", 1))
    interval = billing.get("interval", "month")
    meta = {"seats_for": "team"} if billing.get("meta") else {}
    if kind == "no_id" or kind == "not_found":
        return Resolution(problems=["nothing matched"] if kind == "not_found" else []), state()
    if kind == "conflicting":
        return resolved("cus_a", "cus_b", conflicting=True), state(
            paid_sub(1, customer="cus_a"), paid_sub(2, customer="cus_b")
        )
    if kind == "dup":
        apart = _duration(billing.get("apart", "4m"))
        count = int(billing.get("count", 2))
        two_customers = int(billing.get("customers", 1)) > 1
        start = NOW - 3 * DAY - apart * (count - 1)
        parts = []
        for n in range(1, count + 1):
            cus = f"cus_{n}" if two_customers else "cus_1"
            parts.append(
                paid_sub(
                    n,
                    customer=cus,
                    started=start + (n - 1) * apart,
                    quantity=qty,
                    interval=interval,
                    metadata=meta,
                )
            )
        customers = None
        ids = ["cus_1"]
        if two_customers:
            ids = [f"cus_{n}" for n in range(1, count + 1)]
            different = billing.get("cards", "same") == "different"
            customers = [
                customer(
                    i, "jane@example.com", card=("visa", f"42{n:02d}" if different else "4242")
                )
                for n, i in enumerate(ids)
            ]
        elif billing.get("cards") == "different":
            raise ValueError("different cards need two customers")
        return resolved(*ids), state(*parts, customers=customers)
    if kind == "single":
        status = billing.get("status", "active")
        parts: list[Any] = [
            paid_sub(
                1,
                quantity=qty,
                interval=interval,
                metadata=meta,
                status=status,
                item_count=int(billing.get("items", 1)),
            )
        ]
        return resolved("cus_1"), state(*parts)
    if kind == "failed":
        how = billing.get("how", "past_due")
        if how in ("past_due", "unpaid", "incomplete"):
            return resolved("cus_1"), state(sub("sub_1", status=how))
        if how == "incomplete_expired":
            return resolved("cus_1"), state(sub("sub_1", status="incomplete_expired"))
        if how == "open_invoice":
            return resolved("cus_1"), state(
                sub("sub_1"),
                invoice("in_9", subscription="sub_1", status="open", attempt_count=2),
            )
        if how == "failed_charge":
            return resolved("cus_1"), state(
                paid_sub(1, started=NOW - 40 * DAY),
                charge("ch_f", status="failed", created=NOW - DAY),
            )
        raise ValueError(how)
    if kind == "after_cancel":
        s1, i1, c1 = paid_sub(1, canceled_at=NOW - 35 * DAY, started=NOW - 60 * DAY)
        return resolved("cus_1"), state(
            s1,
            i1,
            c1,
            invoice("in_l", subscription="sub_1", charge="ch_l", created=NOW - DAY),
            charge("ch_l", invoice="in_l", created=NOW - DAY),
        )
    if kind == "canceled":
        return resolved("cus_1"), state(
            sub("sub_1", status="canceled", canceled_at=NOW - 20 * DAY, started=NOW - 80 * DAY)
        )
    if kind == "disputed":
        return resolved("cus_1"), state(paid_sub(1, disputed=True))
    raise ValueError(f"unknown billing situation {kind!r}")


def ticket_of(t: CorpusTicket) -> Ticket:
    if t.form is not None:
        email = "" if t.billing["kind"] == "no_id" else "customer@example.com"
        body = form_render.render({"email": email, "request": t.form, "description": t.body})
    else:
        body = t.body
    parsed = parse_body(body, title=t.title)
    if t.billing["kind"] == "no_id":
        return parsed.model_copy(update={"emails": [], "stripe_ids": [], "github_username": None})
    if not parsed.has_identifier:
        # The email came in the form's field or the mail header the corpus leaves out.
        parsed = parsed.model_copy(update={"emails": ["customer@example.com"]})
    return parsed


def run(t: CorpusTicket) -> Outcome:
    resolution, billing = situation(t.billing)
    return Outcome(t, classify(ticket_of(t), resolution, billing, config()))


def evaluate(tickets: Iterable[CorpusTicket]) -> list[Outcome]:
    return [run(t) for t in tickets]


def accuracy(outcomes: Iterable[Outcome]) -> tuple[int, int]:
    outs = list(outcomes)
    return sum(o.right for o in outs), len(outs)


def duplicates_left_running(outcomes: Iterable[Outcome]) -> list[Outcome]:
    """Textbook duplicates classified as a case that leaves them running with no human."""
    return [
        o
        for o in outcomes
        if textbook_duplicate(o.ticket.billing) and o.got.case not in SAFE_FOR_DUPLICATE
    ]


def pct(right: int, total: int) -> str:
    return f"{100 * right / total:.1f} %" if total else "—"


def markdown(outcomes: list[Outcome]) -> list[str]:
    """The corpus section of benchmarks/RESULTS.md."""
    cases = list(Case)
    tuning = [o for o in outcomes if not o.ticket.holdout]
    held = [o for o in outcomes if o.ticket.holdout]
    r_all, n_all = accuracy(outcomes)
    lines = [
        "## Decision quality: the ticket corpus (SPEC §8, issue #16)",
        "",
        f"{n_all} tickets in `tests/data/tickets/` ({len(LANGUAGES)} languages), each with "
        "its billing situation and the right case; every ticket goes through intake and "
        "`classify` as a real issue would. One ticket in four is held out: never used to "
        "tune the lexicon or the rules. `tests/core/test_corpus.py` keeps these figures as a "
        "floor. Produced by `.venv/bin/python -m benchmarks.ticket_corpus`.",
        "",
        f"- Overall: **{r_all}/{n_all} ({pct(r_all, n_all)})**",
        f"- Tuning three quarters: {accuracy(tuning)[0]}/{len(tuning)} ({pct(*accuracy(tuning))})",
        f"- Held-out quarter: {accuracy(held)[0]}/{len(held)} ({pct(*accuracy(held))})",
        f"- Textbook duplicates left running without a human: "
        f"{len(duplicates_left_running(outcomes))}",
        "",
        "| language | tickets | right | accuracy | held out: right / tickets |",
        "|---|---:|---:|---:|---:|",
    ]
    for lang in LANGUAGES:
        outs = [o for o in outcomes if o.ticket.lang == lang]
        r, n = accuracy(outs)
        hr, hn = accuracy(o for o in outs if o.ticket.holdout)
        lines.append(f"| {lang} | {n} | {r} | {pct(r, n)} | {hr} / {hn} |")
    lines += ["", "| case (expected) | tickets | right | accuracy |", "|---|---:|---:|---:|"]
    for case in cases:
        outs = [o for o in outcomes if o.ticket.expect is case]
        r, n = accuracy(outs)
        lines.append(f"| {case.value} | {n} | {r} | {pct(r, n)} |")
    confusion = Counter((o.ticket.expect, o.got.case) for o in outcomes)
    short = {c: c.value.split("_")[0] for c in cases}
    lines += [
        "",
        "Confusion (rows: expected, columns: classified):",
        "",
        "| expected \\ got | " + " | ".join(short[c] for c in cases) + " |",
        "|---|" + "---:|" * len(cases),
    ]
    for exp in cases:
        row = " | ".join(str(confusion[(exp, got)] or "·") for got in cases)
        lines.append(f"| {exp.value} | {row} |")
    wrong = [o for o in outcomes if not o.right]
    if wrong:
        lines += ["", "Misclassified:", ""]
        lines += [
            f"- `{o.ticket.id}`{' (held out)' if o.ticket.holdout else ''}: expected "
            f"`{o.ticket.expect.value}`, got `{o.got.case.value}`"
            for o in wrong
        ]
    return [*lines, ""]
