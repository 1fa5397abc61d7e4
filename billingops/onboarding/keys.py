"""What a Stripe key is, from its shape alone (never printed beyond `rk_test`)."""

from __future__ import annotations

import re
from typing import NamedTuple

from billingops.onboarding import texts

_KEY = re.compile(r"^(sk|rk|pk)_(test|live)_[A-Za-z0-9_]+$")

# The Stripe Dashboard's names for a restricted key's permissions.
# Every one is probed by `billingops doctor` with the call triage makes (issue 15).
TRIAGE_PERMISSIONS = (
    "Customers: Read",
    "Subscriptions: Read",
    "Invoices: Read",
    "Charges: Read",
    "Refunds: Read",
    "PaymentIntents: Read",
    "PaymentMethods: Read",
    "Coupons: Read",
    "Prices: Read",
    "Customer portal: Read",
)
APPLY_PERMISSIONS = (*TRIAGE_PERMISSIONS[:-1], "Refunds: Write", "Subscriptions: Write")
PORTAL_CREATE_PERMISSIONS = ("Customer portal: Write", "Prices: Read", "Products: Read")


class KeyShape(NamedTuple):
    kind: str  # secret, restricted, publishable, webhook, unknown
    mode: str | None  # test, live
    label: str  # safe to print: "rk_test", "sk_live", "pk_test", "whsec", "unrecognised"


def classify(key: str) -> KeyShape:
    m = _KEY.match(key.strip())
    if m:
        kind = {"sk": "secret", "rk": "restricted", "pk": "publishable"}[m[1]]
        return KeyShape(kind, m[2], f"{m[1]}_{m[2]}")
    if key.startswith("whsec_"):
        return KeyShape("webhook", None, "whsec")
    return KeyShape("unknown", None, "unrecognised")


def permissions_line() -> str:
    """What triage and apply need of a key, in the Dashboard's words (a fix's tail)."""
    return texts.text("doctor", "permissions", triage=TRIAGE_PERMISSIONS)
