"""A 429 is retried after Retry-After (stripe-python does not); a long pause is not held."""

from typing import Any

import pytest
import stripe

from billingops._billing.stripe_gateway import StripeGateway
from billingops.errors import OperationalError


def gateway(slept: list[float]) -> StripeGateway:
    return StripeGateway("sk_test_x", "http://127.0.0.1:9", sleep=slept.append)


def limited(retry_after: str) -> stripe.RateLimitError:
    return stripe.RateLimitError("slow down", http_status=429, headers={"Retry-After": retry_after})


def test_a_429_is_sent_again_after_retry_after() -> None:
    slept: list[float] = []
    calls: list[int] = []

    def fn() -> Any:
        calls.append(1)
        if len(calls) < 3:
            raise limited("2")
        return "ok"

    assert gateway(slept)._call("list charges", fn) == "ok"
    assert len(calls) == 3
    assert slept and all(s >= 2 for s in slept)


def test_still_limited_after_the_retries_is_one_clean_line() -> None:
    slept: list[float] = []

    def fn() -> Any:
        raise limited("1")

    with pytest.raises(OperationalError) as err:
        gateway(slept)._call("refund ch_1", fn)
    assert str(err.value) == "Stripe rate limit while trying to refund ch_1"
    assert len(slept) == 2


def test_a_long_retry_after_is_not_held() -> None:
    slept: list[float] = []

    def fn() -> Any:
        raise limited("3600")

    with pytest.raises(OperationalError):
        gateway(slept)._call("list charges", fn)
    assert slept == []
