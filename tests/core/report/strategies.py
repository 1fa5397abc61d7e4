"""Generated subscription sets for the report tests."""

from __future__ import annotations

from hypothesis import strategies as st

from billingops.core.report import (
    Listed,
    ReportBuilder,
)
from billingops.models.billing import LIVE_STATUSES, Subscription
from tests.core.builders import DAY, NOW

STATUSES = sorted({*LIVE_STATUSES, "canceled", "incomplete_expired", "paused"})
CURRENCIES = ["usd", "eur", "jpy", "kwd"]


@st.composite
def listed(draw: st.DrawFn, n: int) -> Listed:
    product = draw(st.sampled_from(["prod_a", "prod_b", "prod_c"]))
    interval = draw(st.sampled_from(["month", "year", "week", "day"]))
    currency = draw(st.sampled_from(CURRENCIES))
    customer = f"cus_{draw(st.integers(0, 12))}"
    count = draw(st.sampled_from([1, 1, 3]))
    s = Subscription(
        id=f"sub_{n}",
        customer_id=customer,
        status=draw(st.sampled_from(STATUSES)),
        product_id=product,
        price_id=f"price_{product}_{count}{interval}_{currency}",
        unit_amount=draw(st.integers(0, 10**7)),
        currency=currency,
        interval=interval,
        interval_count=count,
        quantity=draw(st.integers(1, 150)),
        created=NOW - draw(st.integers(0, 400)) * DAY,
        trial_end=NOW + draw(st.integers(-5, 20)) * DAY,
        cancel_at_period_end=draw(st.booleans()),
        metadata=draw(st.sampled_from([{}, {"seats": "4"}])),
    )
    email = draw(st.sampled_from([None, f"{customer}@example.com", "shared@example.com"]))
    return Listed(sub=s, email=email, latest_invoice_failed=draw(st.booleans()))


@st.composite
def listings(draw: st.DrawFn) -> list[Listed]:
    size = draw(st.integers(0, 40))
    return [draw(listed(n)) for n in range(size)]


def build(items: list[Listed], **kw: int) -> ReportBuilder:
    return ReportBuilder(as_of=NOW, **kw).add_all(items)
