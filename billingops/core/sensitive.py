"""Find and redact secrets, card numbers and emails in untrusted text.

Pure and linear in the size of the text: every pattern starts on a literal prefix or a
boundary lookbehind and uses possessive quantifiers (no backtracking), and card candidates
are checked with constant-time Luhn sums. Only offsets and kinds are ever returned, never
the values, so nothing downstream can keep them by accident.
"""

from __future__ import annotations

import re
from bisect import bisect_left
from collections.abc import Iterator
from dataclasses import dataclass
from itertools import accumulate

from billingops.models.ticket import SensitiveKind

PLACEHOLDERS: dict[SensitiveKind, str] = {
    SensitiveKind.stripe_secret_key: "[redacted secret key]",
    SensitiveKind.stripe_restricted_key: "[redacted restricted key]",
    SensitiveKind.webhook_secret: "[redacted webhook secret]",
    SensitiveKind.card_number: "[redacted card number]",
}
EMAIL_PLACEHOLDER = "[redacted email]"

# Every GitHub token format, as one pattern that every redaction shares (logs, the GitHub
# gateway's error lines, ticket text, the test cassettes): classic `ghp_`, OAuth `gho_`,
# user-to-server `ghu_`, installation `ghs_`, refresh `ghr_` and fine-grained
# `github_pat_`. Installation tokens have a new format since 2026: about 520 characters
# with `.` and `-` in them (JWT-like segments), so the tail takes both, and the whole
# token goes, not the part before its first dot. Possessive: linear on any input.
GITHUB_TOKEN_PATTERN = r"(?:gh[pousr]_|github_pat_)[A-Za-z0-9_.\-]{16,}+"
GITHUB_TOKEN = re.compile(GITHUB_TOKEN_PATTERN)

# Stripe keys are base62 after the prefix. `_` is included so that a key glued to more
# text is redacted whole, and no identifier can be read out of its tail. No leading
# boundary: a key glued to a word is still a key.
_SECRET = re.compile(
    r"(?P<sk>sk_(?:live|test)_)[A-Za-z0-9_]{8,}+"
    r"|(?P<rk>rk_(?:live|test)_)[A-Za-z0-9_]{8,}+"
    r"|whsec_[A-Za-z0-9_]{8,}+"
)
# A run of digits separated by single spaces or dashes. `\d` is Unicode-aware on purpose:
# full-width (４２４２) and Arabic-Indic digits are card digits too, and int() reads them.
# Groups are separated by one character as people type them ("4242 4242", "4242-4242",
# "4242.4242", "4242/4242", "4242_4242") or an invisible one (a zero-width space hides
# nothing: renderers drop it). Two separators in a row are short numbers, not a card.
_DIGIT_RUN = re.compile(r"\d++(?:[ \-./_\u200b-\u200d\u2060\ufeff]\d++)*+")
_GROUP = re.compile(r"\d++")

# The local part takes any letter or digit, not only ASCII (`\u212aate@example.com` is
# that whole address, not `ate@example.com`): a look-alike address is its own identifier
# (SPEC §5a), and is redacted whole. The domain stays ASCII.
_LOCAL = r"[\w.%+\-]"
# The lookbehind makes each attempt start at the beginning of a local part, so a long run
# without `@` is scanned once, not once per character.
_EMAIL = re.compile(rf"(?<!{_LOCAL}){_LOCAL}++@[A-Za-z0-9\-]++(?:\.[A-Za-z0-9\-]++)++")

_DOUBLED = (0, 2, 4, 6, 8, 1, 3, 5, 7, 9)
_CARD_MIN, _CARD_MAX = 13, 19


@dataclass(frozen=True, slots=True)
class Span:
    """Where a sensitive value is (end exclusive), and what it is; never the value."""

    start: int
    end: int
    kind: SensitiveKind


@dataclass(frozen=True, slots=True)
class Redacted:
    text: str
    kinds: tuple[SensitiveKind, ...]  # in order of first appearance, no repeats


def luhn_valid(digits: str) -> bool:
    """The Luhn checksum over a string of decimal digits (any Unicode digits)."""
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch)
        total += _DOUBLED[d] if i % 2 else d
    return bool(digits) and total % 10 == 0


def _plausible_card(first: int, length: int) -> bool:
    # Payment card networks issue numbers starting with 2-6 (Mastercard 2-series, Amex,
    # Diners, JCB, Visa, Mastercard, Discover, UnionPay, Maestro). This drops millisecond
    # timestamps (17...), and the 2-series is 16 digits only, which drops compact dates
    # such as 20240501123000.
    return 2 <= first <= 6 and (first != 2 or length == 16)


def _card_spans(text: str) -> Iterator[tuple[int, int]]:
    for m in _DIGIT_RUN.finditer(text):
        run = m.group()
        if len(run) < _CARD_MIN:
            continue
        groups = list(_GROUP.finditer(run))
        parts = [g.group() for g in groups]
        values = list(map(int, "".join(parts)))
        if len(values) < _CARD_MIN:
            continue
        # Group boundaries as character offsets, and digits before each group.
        starts = [m.start() + g.start() for g in groups]
        before = list(accumulate((len(p) for p in parts), initial=0))
        # Prefix sums with even (resp. odd) positions doubled: the Luhn sum of any window
        # is then one subtraction, so a long run costs O(groups), not O(groups * 19).
        doubled = [_DOUBLED[v] for v in values]
        sums = []
        for parity in (0, 1):
            terms = values[:]
            terms[parity::2] = doubled[parity::2]
            sums.append(list(accumulate(terms, initial=0)))
        open_start = open_end = -1  # overlapping windows are merged before yielding
        # Windows are whole groups (a number written "4242 4242 4242 4242 12 25" is the
        # first four groups); a group of 20 digits or more never fits in a window, so
        # long reference numbers are never cards.
        for a in range(len(parts)):
            lo = before[a]
            if not 2 <= values[lo] <= 6:
                continue
            b = bisect_left(before, lo + _CARD_MIN, lo=a + 1) - 1
            while b < len(parts) and (hi := before[b + 1]) - lo <= _CARD_MAX:
                p = sums[hi % 2]
                if _plausible_card(values[lo], hi - lo) and (p[hi] - p[lo]) % 10 == 0:
                    end = starts[b] + len(parts[b])
                    if starts[a] > open_end:
                        if open_end >= 0:
                            yield open_start, open_end
                        open_start = starts[a]
                    open_end = max(open_end, end)
                b += 1
        if open_end >= 0:
            yield open_start, open_end


def find_sensitive(text: str) -> list[Span]:
    """Every secret key and card number in `text`, sorted, overlapping finds merged."""
    found: list[Span] = []
    for m in _SECRET.finditer(text):
        if m.group("sk"):
            kind = SensitiveKind.stripe_secret_key
        elif m.group("rk"):
            kind = SensitiveKind.stripe_restricted_key
        else:
            kind = SensitiveKind.webhook_secret
        found.append(Span(m.start(), m.end(), kind))
    # Cards are looked for around the keys, not through them: a key's last digits glued to
    # a card ("sk_live_...c9" + "4242...") would otherwise make one longer, non-card run.
    around = text
    if found:
        chars = list(text)
        for span in found:
            chars[span.start : span.end] = "\x00" * (span.end - span.start)
        around = "".join(chars)
    found.extend(Span(s, e, SensitiveKind.card_number) for s, e in _card_spans(around))
    found.sort(key=lambda s: (s.start, -s.end))
    merged: list[Span] = []
    for span in found:
        if merged and span.start < merged[-1].end:
            last = merged[-1]
            if span.end > last.end:
                merged[-1] = Span(last.start, span.end, last.kind)
            continue
        merged.append(span)
    return merged


def redact(text: str) -> Redacted:
    """`text` with each secret or card number replaced by a fixed placeholder."""
    spans = find_sensitive(text)
    out: list[str] = []
    pos = 0
    kinds: dict[SensitiveKind, None] = {}
    for span in spans:
        out += (text[pos : span.start], PLACEHOLDERS[span.kind])
        pos = span.end
        kinds.setdefault(span.kind)
    out.append(text[pos:])
    return Redacted("".join(out), tuple(kinds))


def iter_email_spans(text: str) -> Iterator[tuple[int, int]]:
    """(start, end) of every plausible email address in `text` (ASCII domain; the local
    part may hold any letter, so a look-alike address is found whole)."""
    for m in _EMAIL.finditer(text):
        start, end = m.span()
        at = text.index("@", start, end)
        # Leading punctuation is markup (`_me@example.com_`), not part of the address.
        while start < at and text[start] in "._%+-":
            start += 1
        labels = text[at + 1 : end].split(".")
        if start == at or text[at - 1] == ".":
            continue
        if any(not lb or lb[0] == "-" or lb[-1] == "-" for lb in labels):
            continue
        if not (len(labels[-1]) >= 2 and labels[-1].isascii() and labels[-1].isalpha()):
            continue
        if end < len(text) and text[end].isalnum():
            continue  # the domain goes on in letters the pattern does not take: not this one
        yield start, end


def redact_emails(text: str, *, keep_domain: bool = True) -> str:
    """`text` with every email address replaced; `keep_domain` keeps `***@domain`."""
    out: list[str] = []
    pos = 0
    for start, end in iter_email_spans(text):
        at = text.index("@", start, end)
        out += (text[pos:start], "***" + text[at:end] if keep_domain else EMAIL_PLACEHOLDER)
        pos = end
    out.append(text[pos:])
    return "".join(out)


def scrub(text: str) -> str:
    """Secrets, card numbers and email local parts removed: for logs and error messages."""
    return redact_emails(redact(text).text)
