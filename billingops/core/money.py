"""Money in Stripe's minor units: exponents per currency, formatting, per-currency sums.

Stripe's exponent is not always ISO 4217's (ISK is two-decimal in the API for backwards
compatibility, MGA is zero-decimal), so the exponent comes from Stripe's documented lists,
and babel only supplies the symbol and the digit grouping of the `en` locale.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from decimal import Decimal

from babel.numbers import format_decimal, get_currency_symbol

from billingops.models.billing import BillingState, Charge

# https://docs.stripe.com/currencies#zero-decimal
ZERO_DECIMAL = frozenset(
    {
        "bif", "clp", "djf", "gnf", "jpy", "kmf", "krw", "mga",
        "pyg", "rwf", "ugx", "vnd", "vuv", "xaf", "xof", "xpf",
    }
)  # fmt: skip
# https://docs.stripe.com/currencies#three-decimal
THREE_DECIMAL = frozenset({"bhd", "jod", "kwd", "omr", "tnd"})

LOCALE = "en"


def refund_uncertainty(state: BillingState, charge: Charge) -> str | None:
    """Why the amount to refund on this charge is not simply what is left on it, if so:
    the invoice it paid was paid partly from customer balance, was already credited by
    credit notes, or was (partly) paid outside Stripe; or the charge history was not read
    back far enough to know. A human decides the amount then (issue 15)."""
    cur = charge.currency
    invoice = next((i for i in state.invoices if i.id == charge.invoice_id), None)
    if invoice is not None:
        if invoice.starting_balance < 0:
            credit = format_money(-invoice.starting_balance, invoice.currency)
            return f"{invoice.id} was paid partly from customer balance ({credit})"
        if invoice.credit_notes_amount > 0:
            noted = format_money(invoice.credit_notes_amount, invoice.currency)
            return f"{invoice.id} was already credited {noted} by credit notes"
        if invoice.paid_off_stripe > 0:
            off = format_money(invoice.paid_off_stripe, invoice.currency)
            return f"{invoice.id} was paid {off} outside Stripe"
    if any(t == f"charges of {charge.customer_id}" for t in state.history_truncated):
        return f"the charge history of {charge.customer_id} was not read to the end ({cur})"
    return None


def exponent(currency: str) -> int:
    """Digits after the decimal point in Stripe's minor unit for this currency."""
    cur = currency.lower()
    if cur in ZERO_DECIMAL:
        return 0
    if cur in THREE_DECIMAL:
        return 3
    return 2


def to_major(amount: int, currency: str) -> Decimal:
    """Minor units to an exact Decimal in major units (no float ever)."""
    return Decimal(amount).scaleb(-exponent(currency))


def format_money(amount: int, currency: str) -> str:
    """`$20.00`, `¥2,000`, `KWD 1.500`, `-€3.50`: deterministic, `en` locale."""
    exp = exponent(currency)
    code = currency.upper()
    pattern = "#,##0" + ("." + "0" * exp if exp else "")
    number = format_decimal(to_major(abs(amount), currency), format=pattern, locale=LOCALE)
    symbol = get_currency_symbol(code, locale=LOCALE)
    # A code-like symbol ("KWD") reads badly glued to the digits; "$" and "CA$" do not.
    sep = " " if symbol[-1:].isalpha() else ""
    sign = "-" if amount < 0 else ""
    return f"{sign}{symbol}{sep}{number}"


def sum_by_currency(items: Iterable[tuple[str, int]]) -> dict[str, int]:
    """Sum (currency, amount) pairs per currency: amounts of two currencies never mix.

    Keys are lower-case and sorted, so the result (and anything hashed from it) is stable.
    """
    totals: dict[str, int] = {}
    for currency, amount in items:
        cur = currency.lower()
        totals[cur] = totals.get(cur, 0) + amount
    return dict(sorted(totals.items()))


def format_totals(totals: Mapping[str, int], empty: str = "none") -> str:
    """`$20.00 + ¥2,000`: one term per currency, in currency order."""
    if not totals:
        return empty
    return " + ".join(format_money(totals[c], c) for c in sorted(totals))
