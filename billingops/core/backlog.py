"""Product gaps as backlog issues (SPEC §7), the pure half: a gap issue's body (its marker,
visible table and hidden ticket list), what a public backlog keeps of a ticket, which issue
is a gap's, and the revenue a ticket puts at risk. Finding, filing and linking on GitHub is
`desk/backlog.py` (whose docstring says how a gap issue is found again and how two racing
tickets are resolved).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Decimal
from fractions import Fraction

from markupsafe import Markup
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from billingops.core.plan import monthly
from billingops.core.render import _tidy, backlog_title, environment
from billingops.models.billing import BillingState
from billingops.models.decision import GapRef
from billingops.models.issue import IssueSnapshot

GAP_LABEL = "product-gap"
KEY_PREFIX = "gap:"
CASE_PREFIX = "billing:"
MAX_TITLE = 200  # characters of a ticket title kept in the hidden list
_SUM_LEN = 16
_MARKER = re.compile(r"^<!-- billingops:gap (?P<key>[a-z0-9_]{1,60}) -->\r?$", re.M)
_DATA = re.compile(
    r"^<!-- billingops:gap-tickets v1 data=(?P<data>[A-Za-z0-9_-]*={0,2})"
    r" sum=(?P<sum>[0-9a-f]{16}) -->\r?$",
    re.M,
)


# ------------------------------------------------------------------ the body (pure)


class LinkedTicket(BaseModel):
    """One ticket in a gap issue's hidden list."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    repository: str
    number: int
    title: str = ""
    revenue: dict[str, int] = Field(default_factory=dict)  # MRR at risk, minor units

    @property
    def reference(self) -> str:
        return f"{self.repository}#{self.number}"

    @property
    def ident(self) -> tuple[str, int]:
        return (self.repository.lower(), self.number)


class _TicketList(BaseModel):
    model_config = ConfigDict(extra="forbid")

    tickets: list[LinkedTicket]


def gap_marker(key: str) -> str:
    return f"<!-- billingops:gap {key} -->"


def gap_key_of(body: str | None) -> str | None:
    """The gap key of a backlog issue body (the marker line anywhere in it), or None."""
    m = _MARKER.search(body or "")
    return m["key"] if m else None


def _digest(payload: str) -> str:
    return hashlib.sha256(payload.encode("ascii")).hexdigest()[:_SUM_LEN]


def sort_tickets(tickets: Iterable[LinkedTicket]) -> list[LinkedTicket]:
    """One entry per ticket (the first wins), in (repository, number) order."""
    seen: dict[tuple[str, int], LinkedTicket] = {}
    for t in tickets:
        seen.setdefault(t.ident, t)
    return sorted(seen.values(), key=lambda t: t.ident)


def encode_tickets(tickets: Iterable[LinkedTicket]) -> str:
    """The hidden list line. base64url, so no title can end the HTML comment."""
    data = _TicketList(tickets=sort_tickets(tickets)).model_dump(mode="json")
    raw = json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    payload = base64.urlsafe_b64encode(raw.encode("ascii")).decode("ascii")
    return f"<!-- billingops:gap-tickets v1 data={payload} sum={_digest(payload)} -->"


def decode_tickets(body: str | None) -> list[LinkedTicket] | None:
    """The hidden list of a gap issue body (the last list line), or None when it is missing
    or damaged. Never raises."""
    found = list(_DATA.finditer(body or ""))
    if not found:
        return None
    m = found[-1]
    if _digest(m["data"]) != m["sum"]:
        return None
    try:
        raw = base64.urlsafe_b64decode(m["data"].encode("ascii"))
        return sort_tickets(_TicketList.model_validate(json.loads(raw)).tickets)
    except (ValueError, binascii.Error, ValidationError, UnicodeError, RecursionError):
        return None


def total_revenue(tickets: Iterable[LinkedTicket]) -> dict[str, int]:
    totals: dict[str, int] = {}
    for t in tickets:
        for cur, amount in t.revenue.items():
            totals[cur] = totals.get(cur, 0) + amount
    return dict(sorted(totals.items()))


def revenue_at_risk(state: BillingState) -> dict[str, int]:
    """MRR of the live subscriptions per currency (minor units, rounded half-even once)."""
    mrr: dict[str, Fraction] = {}
    for sub in state.subscriptions:
        if sub.live:
            cur = sub.currency.lower()
            mrr[cur] = mrr.get(cur, Fraction(0)) + monthly(sub)
    out = {cur: _round(x) for cur, x in sorted(mrr.items())}
    return {cur: v for cur, v in out.items() if v}


def _round(x: Fraction) -> int:
    q = Decimal(x.numerator) / Decimal(x.denominator)
    return int(q.quantize(Decimal(1), rounding=ROUND_HALF_EVEN))


def gap_title(key: str) -> str:
    """The backlog issue's title (plain text; GitHub does not render titles)."""
    module = environment().get_template("gaps_text.md.j2").module
    return str(module.title(key)).strip()  # type: ignore[attr-defined]


def as_listed(ticket: LinkedTicket, *, public: bool) -> LinkedTicket:
    """An entry as a backlog of that visibility keeps it: a public backlog keeps the
    ticket's reference only (no title, no revenue, SPEC §5b); any other keeps the title
    masked (`backlog_title`). Idempotent, so old entries are brought in line on rewrite."""
    title = backlog_title(ticket.title, public=public)[:MAX_TITLE]
    revenue = {} if public else ticket.revenue
    if title == ticket.title and revenue == ticket.revenue:
        return ticket
    return ticket.model_copy(update={"title": title, "revenue": revenue})


def render_gap_issue(key: str, tickets: Iterable[LinkedTicket], *, public: bool = False) -> str:
    """The whole body: marker first, visible text, hidden list last. Pure and stable.
    `public`: the backlog repository is public or internal: tickets and counts only."""
    listed = [as_listed(t, public=public) for t in sort_tickets(tickets)]
    ctx = {
        "marker": Markup(gap_marker(key)),
        "data": Markup(encode_tickets(listed)),
        "key": key,
        "tickets": listed,
        "revenue": total_revenue(listed),
        "public": public,
    }
    return _render("gap_issue.md.j2", ctx)


def _render(template: str, ctx: Mapping[str, object]) -> str:
    return _tidy(environment().get_template(template).render(ctx))


def render_seen_again(key: str, entry: LinkedTicket) -> str:
    """The one comment on a closed gap's issue when a ticket hits it again."""
    return _render(
        "gaps_seen_again.md.j2",
        {
            "marker": Markup(f"<!-- billingops:gap-seen {key} {entry.reference} -->"),
            "reference": entry.reference,
            "title": entry.title,  # empty in a public backlog
        },
    )


def render_duplicate(canonical: int) -> str:
    """The comment on a gap issue closed as a duplicate of `canonical`."""
    marker = Markup(f"<!-- billingops:gap-duplicate of={canonical} -->")
    return _render("gaps_duplicate.md.j2", {"marker": marker, "canonical": canonical})


# ------------------------------------------------------------------ gap issues as read


@dataclass(frozen=True)
class GapIssue:
    """A backlog issue that is billingops' issue for one gap key."""

    issue: IssueSnapshot
    key: str
    tickets: list[LinkedTicket]
    list_ok: bool  # False: the hidden list was missing or damaged

    @property
    def number(self) -> int:
        return self.issue.number

    @property
    def open(self) -> bool:
        return self.issue.state == "open"


def as_gap_issue(issue: IssueSnapshot, key: str | None = None) -> GapIssue | None:
    """The issue as a gap issue when it carries a gap label and the matching marker."""
    found = gap_key_of(issue.body)
    if found is None or (key is not None and found != key):
        return None
    if f"{KEY_PREFIX}{found}" not in issue.labels:
        return None
    tickets = decode_tickets(issue.body)
    return GapIssue(issue, found, tickets or [], tickets is not None)


def pick(found: Sequence[GapIssue]) -> tuple[GapIssue | None, list[GapIssue]]:
    """(the gap's issue, the open duplicates to fold into it). See the module docstring."""
    if not found:
        return None, []
    by_age = sorted(found, key=lambda g: (g.issue.created_at, g.number))
    opened = [g for g in by_age if g.open]
    if opened:
        return opened[0], opened[1:]
    last = max(by_age, key=lambda g: (g.issue.closed_at or 0, g.number))
    return last, []


def listed_ref(key: str, listing: Iterable[IssueSnapshot]) -> GapRef:
    """The gap's issue as `listing` shows it (the one `pick` keeps); no number when none is
    listed."""
    kept, _ = pick([g for g in (as_gap_issue(i, key) for i in listing) if g is not None])
    if kept is None:
        return GapRef(key=key)
    return GapRef(key=key, issue=kept.number, closed=not kept.open)


def numbered(refs: Iterable[GapRef], listing: Iterable[IssueSnapshot]) -> list[GapRef]:
    """`refs` with the issue number of each gap filed since (a triage files a new gap in the
    round that writes the ticket's comment, so the comment names it by its label until a
    later run reads the number from the gap listing it reads with the thread)."""
    listing = list(listing)
    out: list[GapRef] = []
    for ref in refs:
        if ref.issue is None and (listed := listed_ref(ref.key, listing)).issue is not None:
            ref = listed
        out.append(ref)
    return out
