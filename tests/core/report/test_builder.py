"""The report builder: the same report whatever the order of the stream."""

from __future__ import annotations

from hypothesis import given, settings

from billingops.core.report import (
    Listed,
)
from tests.core.report.strategies import build, listings


@settings(max_examples=40, deadline=None)
@given(listings())
def test_the_order_of_the_stream_does_not_matter(items: list[Listed]) -> None:
    assert build(items).build() == build(list(reversed(items))).build()
