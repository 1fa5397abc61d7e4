"""Comparing emails and logins without Unicode case folding (SPEC §5a, issue 20).

`str.lower()` and `str.casefold()` map look-alikes onto ASCII letters: the Kelvin sign
`\u212a` lower-cases to `k`, so `\u212aate@example.com` would be `kate@example.com`, and a
duplicate clean-up would cancel one person's subscription for another. Here only the ASCII
letters A-Z are lower-cased; an email with any non-ASCII character is compared exactly, as
written (no case mapping, no normalisation), so it is a different person from every other
email.
"""

from __future__ import annotations

_ASCII_UPPER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")


def ascii_lower(text: str) -> str:
    """`text` with the ASCII letters A-Z lower-cased and nothing else changed."""
    return text.translate(_ASCII_UPPER)


def email_key(email: str) -> str:
    """What two emails must share to be one person's: ASCII-lower-cased when the email is
    ASCII; otherwise the email exactly as written (it equals no ASCII email's key)."""
    email = email.strip()
    return ascii_lower(email) if email.isascii() else email


def same_email(a: str | None, b: str | None) -> bool:
    return bool(a) and bool(b) and email_key(a or "") == email_key(b or "")


def escape_non_ascii(text: str) -> str:
    """`text` with every non-ASCII character shown as its `\\uXXXX` escape, so a look-alike
    letter cannot pass for an ASCII one in a handoff."""
    return "".join(
        ch if ch.isascii() else (f"\\u{ord(ch):04x}" if ord(ch) <= 0xFFFF else f"\\U{ord(ch):08x}")
        for ch in text
    )
