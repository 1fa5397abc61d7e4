"""Intake: the `issue` of a GitHub `issues` event into a validated, redacted `Ticket`.

GitHub renders an issue form as one `### Label` section per field, with `_No response_`
for an empty one. Bodies also come as free text (a support email pasted in), edited
forms with renamed headings, and older versions of the form, so sections are matched to
fields by the words of their label, and identifiers are read from the whole text.

Pure: no I/O. Secrets and card numbers are found on the raw text first; nothing that
overlaps one is ever extracted, and every text kept on the Ticket is redacted.
"""

from __future__ import annotations

import re
from bisect import bisect_left
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from markdown_it import MarkdownIt

from billingops.core.lexicon import find_cues
from billingops.core.sensitive import Span, find_sensitive, iter_email_spans, redact
from billingops.errors import BadInput
from billingops.models.text import email_key
from billingops.models.ticket import RequestKind, Ticket

# Field ids of .github/ISSUE_TEMPLATE/billing.yml.
EMAIL = "email"
STRIPE_IDS = "stripe_ids"
GITHUB_USERNAME = "github_username"
REQUEST = "request"
DESCRIPTION = "description"

# A heading belongs to the first field that has one of its words. Order matters:
# "GitHub ID" is the username, "Describe your request" is the description.
_FIELD_WORDS = {
    EMAIL: "email emails mail",
    GITHUB_USERNAME: "github",
    STRIPE_IDS: "stripe id ids reference references",
    DESCRIPTION: "description describe details detail happened message problem tell more else"
    " additional context explain question body",
    REQUEST: "request need topic category type reason",
}
_IDENTIFIER_FIELDS = frozenset({EMAIL, STRIPE_IDS, GITHUB_USERNAME})
_FIELD_KEYS = tuple((field, frozenset(words.split())) for field, words in _FIELD_WORDS.items())

# Only block structure is needed (headings, fences); inline parsing is most of the cost.
_MD = MarkdownIt("commonmark").disable(["inline", "text_join"], ignoreInvalid=True)

_STRIPE_ID = re.compile(
    # Not glued to a word (`check_in_...`), but `_cus_..._` (Markdown emphasis) is fine.
    r"(?<![A-Za-z0-9])(?<![A-Za-z0-9]_)(?:cus|sub|in|ch|pi)_[A-Za-z0-9]++(?!_[A-Za-z0-9])"
)
_LOGIN = r"[A-Za-z0-9](?:[A-Za-z0-9]|-(?=[A-Za-z0-9])){0,38}"
# After a login: no more login characters, and not a domain, path or URL scheme.
_LOGIN_END = r"(?![A-Za-z0-9_-])(?![./:@][A-Za-z0-9/])"
_LOGIN_FULL = re.compile(_LOGIN)
_GITHUB_LABELLED = re.compile(
    r"(?i:github)(?:[ \t]+(?i:user(?:name)?|login|handle|account))?[ \t]*[:=][ \t]*"
    rf"@?({_LOGIN}){_LOGIN_END}"
)
_MENTION = re.compile(rf"(?<![A-Za-z0-9._%+\-/@`])@({_LOGIN}){_LOGIN_END}")
_NOT_A_LOGIN = frozenset({"none", "no", "na", "nil", "null", "unknown", "nothing", "idk", "skip"})
_CHECKBOX = re.compile(r"^[ \t]*[-*+][ \t]+\[([ xX])\][ \t]+(.*)$", re.MULTILINE)
_NO_RESPONSE = frozenset({"_No response_", "*No response*"})  # GitHub's empty field
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")

# Free text and dropdown values -> request. Latin words on word boundaries; CJK has no
# spaces, so those are plain substrings.
_REQUEST_WORDS: tuple[tuple[RequestKind, re.Pattern[str]], ...] = tuple(
    (kind, re.compile(pattern, re.IGNORECASE))
    for kind, pattern in (
        (
            RequestKind.refund,
            r"\brefund|\bmoney back\b|\breimburs|erstatt|\brembours|\breembols|返金|退款|استرداد",
        ),
        (
            RequestKind.cancel,
            r"\bcancel|\bunsubscrib|\bterminate\b|\bkündig|\bannul|解約|キャンセル|取消|إلغاء",
        ),
        (
            RequestKind.failed_payment,
            r"\bdeclined?\b|\bpayment (?:has |was |keeps )?fail|\bfailed (?:payment|charge)"
            r"|\bpast[ -]due\b|\bcard (?:was |got |is )?(?:rejected|refused)"
            r"|\bzahlung fehlgeschlagen|\babgelehnt|\bpaiement (?:échoué|refusé)"
            r"|(?:決済|支払い).{0,4}失敗",
        ),
        (
            RequestKind.invoices,
            r"\binvoices?\b|\breceipts?\b|\bvat\b|\brechnung|\bquittung|\bfacture|\bfactura"
            r"|請求書|領収書|发票|فاتورة",
        ),
        (
            RequestKind.seats_or_plan,
            r"\bseats?\b|\bupgrad|\bdowngrad|\blicen[cs]es?\b|\bteam members?\b"
            r"|\b(?:change|switch)(?: my| our| the)? plan\b|\bplan change\b|プラン変更",
        ),
    )
)
# Lexicon signals that name a request (the rest are reports, not requests).
_CUE_REQUESTS = {
    "refund": RequestKind.refund,
    "cancel": RequestKind.cancel,
    "invoices": RequestKind.invoices,
    "seats": RequestKind.seats_or_plan,
}
_ASKS = frozenset({RequestKind.refund, RequestKind.cancel, RequestKind.failed_payment})
_OTHER = re.compile(r"^\W*(?:something else|other|else)\W*$", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class _Section:
    label: str | None  # None: text before the first heading
    field: str | None  # field id, None when the label is not one we know
    start: int  # content offsets in the text (after the heading line)
    end: int


@dataclass(frozen=True, slots=True)
class _Structure:
    sections: list[_Section]
    fences: list[tuple[int, int]]  # fenced code blocks, sorted
    is_form: bool


def parse_issue(issue: Mapping[str, Any], repository: str) -> Ticket:
    """The `issue` object of an `issues` webhook payload as a Ticket.

    Raises BadInput only when the payload has no issue or no issue number; any body,
    however broken, gives a Ticket.
    """
    if not isinstance(issue, Mapping):
        raise BadInput("the event has no issue object")
    number = issue.get("number")
    if not isinstance(number, int) or isinstance(number, bool) or number < 1:
        raise BadInput("the event's issue has no valid number")
    user = issue.get("user")
    login = user.get("login") if isinstance(user, Mapping) else None
    uid = user.get("id") if isinstance(user, Mapping) else None
    labels: list[str] = []
    raw_labels = issue.get("labels")
    for label in raw_labels if isinstance(raw_labels, list) else ():
        name = label.get("name") if isinstance(label, Mapping) else label
        if isinstance(name, str):
            labels.append(name)
    ticket = parse_body(_as_text(issue.get("body")), title=_as_text(issue.get("title")))
    return ticket.model_copy(
        update={
            "repository": repository,
            "number": number,
            "author": login if isinstance(login, str) else "",
            # GitHub's numeric account id of the author (a Python int: ids exceed 2**31).
            "author_id": uid if isinstance(uid, int) and not isinstance(uid, bool) else None,
            "labels": labels,
            "html_url": url if isinstance(url := issue.get("html_url"), str) else "",
        }
    )


def parse_body(body: str, *, title: str = "") -> Ticket:
    """An issue body (and title) as a Ticket without issue metadata (number 0)."""
    text, title = _clean(body), _clean(title)
    secrets, title_secrets = find_sensitive(text), find_sensitive(title)
    structure = _structure(text)
    by_field = {s.field: s for s in structure.sections if s.field is not None}

    # Identifiers: the form's own fields first, then the rest of the body, then the title.
    email_section, ids_section = by_field.get(EMAIL), by_field.get(STRIPE_IDS)

    def rank(pos: int) -> int:
        for i, section in enumerate((email_section, ids_section)):
            if section and section.start <= pos < section.end:
                return i
        return 2

    # Emails inside fenced code blocks are not taken: a fence holds a pasted log or email
    # thread, whose addresses are usually someone else's (our support address, a
    # colleague). Stripe IDs are taken everywhere: customers often fence or backtick them,
    # they are unambiguous, and resolution checks each one against Stripe.
    emails = _spans_outside(iter_email_spans(text), secrets, structure.fences)
    emails = sorted(emails, key=lambda s: (rank(s[0]), s[0]))
    stripe_ids = sorted(_stripe_id_spans(text, secrets), key=lambda s: (rank(s[0]), s[0]))
    ticket_emails = _dedupe(
        [text[s:e] for s, e in emails]
        + [title[s:e] for s, e in _spans_outside(iter_email_spans(title), title_secrets, [])],
        fold=True,
    )
    ticket_ids = _dedupe(
        [text[s:e] for s, e in stripe_ids]
        + [title[s:e] for s, e in _stripe_id_spans(title, title_secrets)],
        fold=False,
    )

    free = [s for s in structure.sections if s.field not in _IDENTIFIER_FIELDS]
    fields: dict[str, str] = {}
    description = "" if structure.is_form else redact(text).text.strip()
    if structure.is_form:
        # The description, plus any text the form did not ask for (text above the first
        # heading, sections of an older form) rather than dropping it.
        parts = []
        for s in structure.sections:
            content = redact(_no_response(text[s.start : s.end])).text
            label = redact(s.label).text if s.label is not None else None
            if label is not None:
                fields.setdefault(label, content)
            if content and s.field not in {*_IDENTIFIER_FIELDS, REQUEST}:
                parts.append(f"### {label}\n\n{content}" if label and not s.field else content)
        description = "\n\n".join(parts)

    github = None
    if github_section := by_field.get(GITHUB_USERNAME):
        github = _form_login(text, github_section, secrets)
    if github is None:
        # A form has a field for it: a bare @mention next to it is addressed to someone.
        patterns = [_GITHUB_LABELLED] if structure.is_form else [_GITHUB_LABELLED, _MENTION]
        github = _free_text_login(text, free, secrets, structure.fences, patterns)

    # The dropdown wins ("Something else" included); free text only when it says nothing.
    request = None
    if section := by_field.get(REQUEST):
        request = _request_from_field(_no_response(text[section.start : section.end]))
    if request is None:
        request = _infer_request(f"{redact(title).text}\n{description}")

    return Ticket(
        title=redact(title).text.strip(),
        fields=fields,
        emails=ticket_emails,
        stripe_ids=ticket_ids,
        github_username=github,
        request=request,
        description=description,
        sensitive=list(dict.fromkeys(s.kind for s in [*title_secrets, *secrets])),
        from_form=structure.is_form,
    )


def field_for_label(label: str) -> str | None:
    """The form field id a section heading stands for, or None."""
    words = set(re.sub(r"[^a-z0-9]+", " ", label.lower().replace("e-mail", "email")).split())
    for field, keys in _FIELD_KEYS:
        if words & keys:
            return field
    return None


def _as_text(value: object) -> str:
    return value if isinstance(value, str) else ""


def _clean(text: str) -> str:
    # Lone surrogates (valid JSON, invalid Unicode) would fail any later encode; control
    # characters are binary junk. Line ends as markdown-it counts them, so its line
    # numbers map onto our offsets.
    text = text.encode("utf-8", "replace").decode("utf-8")
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    return _CONTROL.sub("\ufffd", text)


def _no_response(content: str) -> str:
    content = content.strip()
    return "" if content in _NO_RESPONSE else content


def _structure(text: str) -> _Structure:
    line_starts = [0]
    line_starts += (m.end() for m in re.finditer("\n", text))
    line_starts.append(len(text))

    def offset(line: int) -> int:
        return line_starts[min(line, len(line_starts) - 1)]

    tokens = _MD.parse(text)
    fences: list[tuple[int, int]] = []
    headings: list[tuple[int, int, str]] = []  # (heading start, content start, label)
    for i, token in enumerate(tokens):
        if token.map is None:
            continue
        if token.type == "fence":
            fences.append((offset(token.map[0]), offset(token.map[1])))
        # Top level only: a heading quoted in a reply or nested in a list is content.
        elif token.type == "heading_open" and token.level == 0:
            headings.append((offset(token.map[0]), offset(token.map[1]), tokens[i + 1].content))

    # A heading starts a section unless it repeats a field already seen, or is unknown
    # once the description has started: both are the customer's own Markdown.
    starts: list[tuple[int, int, str, str | None]] = []
    seen: set[str] = set()
    for head, content, label in headings:
        field = field_for_label(label)
        if field in seen or (field is None and DESCRIPTION in seen):
            continue
        if field is not None:
            seen.add(field)
        starts.append((head, content, label.strip(), field))

    sections = [_Section(None, None, 0, starts[0][0] if starts else len(text))]
    for i, (_, content, label, field) in enumerate(starts):
        end = starts[i + 1][0] if i + 1 < len(starts) else len(text)
        sections.append(_Section(label, field, content, end))
    return _Structure(sections, fences, is_form=bool(seen))


def _overlaps(spans: list[tuple[int, int]], start: int, end: int) -> bool:
    """Whether [start, end) overlaps one of the sorted, disjoint `spans`."""
    i = bisect_left(spans, (end,))  # spans[:i] start before `end`; the last reaches furthest
    return i > 0 and spans[i - 1][1] > start


def _spans_outside(
    found: Iterable[tuple[int, int]], secrets: list[Span], fences: list[tuple[int, int]]
) -> list[tuple[int, int]]:
    """The `found` spans that touch neither a secret (never read an ID out of a key) nor
    one of the `fences`."""
    blocked = [(s.start, s.end) for s in secrets]
    return [
        (s, e) for s, e in found if not _overlaps(blocked, s, e) and not _overlaps(fences, s, e)
    ]


def _stripe_id_spans(text: str, secrets: list[Span]) -> list[tuple[int, int]]:
    """Stripe-shaped ids outside secrets and outside email addresses (`in_0000001@x.com`
    is an address whose local part looks like an invoice id, not an invoice)."""
    return _spans_outside(
        ((m.start(), m.end()) for m in _STRIPE_ID.finditer(text) if _stripe_shaped(m.group())),
        secrets,
        list(iter_email_spans(text)),
    )


def _stripe_shaped(candidate: str) -> bool:
    # Stripe IDs are random base62: 14 characters after the prefix (cus_, localstripe) to
    # 24+ (sub_, in_, ch_, pi_). Words such as `in_progress` have no digit and one case.
    tail = candidate.split("_", 1)[1]
    if not 6 <= len(tail) <= 255:
        return False
    mixed = len(tail) >= 12 and not tail.islower() and not tail.isupper()
    return any(c.isdigit() for c in tail) or mixed


def _dedupe(values: list[str], *, fold: bool) -> list[str]:
    seen: dict[str, str] = {}
    for v in values:
        seen.setdefault(email_key(v) if fold else v, v)
    return list(seen.values())


def _form_login(text: str, section: _Section, secrets: list[Span]) -> str | None:
    raw = text[section.start : section.end]
    value = _no_response(raw).strip("`*_ \t\n")
    start = section.start + raw.find(value) if value else section.start
    for prefix in ("https://", "http://", "www.", "github.com/", "@"):
        if value.lower().startswith(prefix):
            value, start = value[len(prefix) :], start + len(prefix)
    value = value.rstrip("/")
    if not _LOGIN_FULL.fullmatch(value) or value.lower() in _NOT_A_LOGIN:
        return None
    inside_secret = not _spans_outside([(start, start + len(value))], secrets, [])
    return None if inside_secret else value


def _free_text_login(
    text: str,
    sections: list[_Section],
    secrets: list[Span],
    fences: list[tuple[int, int]],
    patterns: list[re.Pattern[str]],
) -> str | None:
    """A login stated in free text, only when exactly one is: `GitHub: x`, else `@x`."""
    for pattern in patterns:
        found = _spans_outside(
            (m.span(1) for s in sections for m in pattern.finditer(text, s.start, s.end)),
            secrets,
            fences,
        )
        logins = _dedupe([text[s:e] for s, e in found], fold=True)
        logins = [x for x in logins if x.lower() not in _NOT_A_LOGIN]
        if logins:
            return logins[0] if len(logins) == 1 else None
    return None


def _kinds(text: str) -> Iterator[RequestKind]:
    for kind, pattern in _REQUEST_WORDS:
        if pattern.search(text):
            yield kind


def _request_from_field(value: str) -> RequestKind | None:
    """A dropdown value (or, on an older form, ticked checkboxes) as a RequestKind."""
    ticked = [label.strip() for mark, label in _CHECKBOX.findall(value) if mark != " "]
    for option in ticked or [value]:
        if _OTHER.match(option):
            return RequestKind.other
        kinds = list(_kinds(option))
        if len(kinds) == 1:
            return kinds[0]
    return None


def _infer_request(text: str) -> RequestKind | None:
    """The request free text asks for, when it asks for exactly one thing.

    Refund, cancel and failed payment are asks; invoices and plans are often only
    context ("charged twice for my plan, receipt attached"), so they count only alone.
    """
    cues = find_cues(text)
    said = {h.signal for h in cues if not h.negated}
    # "no refund needed": an ask the words turn around is not a request.
    unsaid = {_CUE_REQUESTS[h.signal] for h in cues if h.negated and h.signal not in said}
    kinds = [k for k in _kinds(text) if k not in unsaid]
    if not kinds:
        # The lexicon's ten languages (billingops.core.lexicon), when the words above say nothing.
        kinds = list(dict.fromkeys(_CUE_REQUESTS[s] for s in _CUE_REQUESTS if s in said))
    asks = [k for k in kinds if k in _ASKS]
    for candidates in (asks, kinds):
        if candidates:
            return candidates[0] if len(candidates) == 1 else None
    return None
