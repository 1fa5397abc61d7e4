"""`SqliteKeys` (the report's join keys in a temporary sqlite file) gives the same report
as the in-memory reference store, and cleans up after itself."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import given, settings

from billingops._billing.stripe_gateway import to_listed
from billingops.core.report import Listed, Report, ReportBuilder
from billingops.core.report_keys import InMemoryKeys, Member, MonthlyEnd, Yearly
from billingops.report_store import SqliteKeys
from billingops.sandbox.list_server import created_of, subscription
from tests.core.builders import NOW
from tests.core.report.strategies import listings

EXPAND = frozenset({"data.customer", "data.latest_invoice"})


def _both(items: list[Listed], tmp: Path, *, as_of: int = NOW, **kw: int) -> tuple[Report, Report]:
    memory = ReportBuilder(as_of=as_of, keys=InMemoryKeys(), **kw).add_all(items).build()
    # A small batch so several executemany rounds happen even on small inputs.
    with SqliteKeys(str(tmp), batch_rows=7) as keys:
        stored = ReportBuilder(as_of=as_of, keys=keys, **kw).add_all(items).build()
    return memory, stored


@settings(max_examples=80, deadline=None)
@given(listings())
def test_same_report_as_in_memory(
    tmp_path_factory: pytest.TempPathFactory, items: list[Listed]
) -> None:
    tmp = tmp_path_factory.mktemp("keys")
    for top in (0, 2, 50):
        memory, stored = _both(items, tmp, top=top)
        assert stored == memory
    assert os.listdir(tmp) == []  # the temporary database is gone


def test_same_report_on_a_generated_account(tmp_path: Path) -> None:
    """The fake list server's account: duplicates, one email over two customers, teams,
    conversions, churn risk, all present."""
    count = 6_000
    items = [to_listed(subscription(i, expand=EXPAND)) for i in range(count)]
    memory, stored = _both(items, tmp_path, as_of=created_of(count), top=20)
    assert stored == memory
    assert memory.several.groups > 0 and memory.email_groups > 0
    assert memory.several.duplicate_candidates > 0 and memory.several.needs_human > 0
    assert memory.conversions > 0


def test_email_keys_above_the_signed_range_group_alike(tmp_path: Path) -> None:
    big, small = (1 << 64) - 5, 3
    with SqliteKeys(str(tmp_path)) as keys:
        for store in (keys, InMemoryKeys()):
            store.add_email(big, "cus_1")
            store.add_email(big, "cus_2")
            store.add_email(small, "cus_3")
            store.add_email(big - (1 << 63), "cus_4")  # a different key, same low bits
            store.add_member(big, "prod", Member("sub_1", "cus_1", 10, 1, 0))
            store.add_member(big, "prod", Member("sub_2", "cus_2", 20, 1, 0))
            store.add_member("customer:cus_3", "prod", Member("sub_3", "cus_3", 30, 1, 0))
            store.add_monthly_end(big, "prod", MonthlyEnd("sub_m", "cus_1", 100, True))
            store.add_yearly(big, "prod", Yearly("sub_y", "cus_2", 90))
            assert list(store.email_groups()) == [["cus_1", "cus_2"]]
            assert [(p, sorted(m)) for p, m in store.groups()] == [
                ("prod", [Member("sub_1", "cus_1", 10, 1, 0), Member("sub_2", "cus_2", 20, 1, 0)])
            ]
            assert store.customers_by_live_count() == {}
            assert store.live_counts(["cus_1", "cus_9"]) == {"cus_1": 1, "cus_9": 0}
            assert list(store.conversion_candidates()) == [
                ("prod", [Yearly("sub_y", "cus_2", 90)], [MonthlyEnd("sub_m", "cus_1", 100, True)])
            ]
        path = keys.path
        assert os.path.exists(path)
        with pytest.raises(RuntimeError):
            keys.add_email(1, "cus_late")  # loading ends at the first read
    assert not os.path.exists(path)
    assert os.listdir(tmp_path) == []


def test_live_counts_in_chunks(tmp_path: Path) -> None:
    with SqliteKeys(str(tmp_path)) as keys:
        for n in range(1_200):
            for k in range(n % 3 + 1):
                keys.add_member(
                    f"customer:cus_{n}", "p", Member(f"sub_{n}_{k}", f"cus_{n}", 0, 1, 0)
                )
        counts = keys.live_counts(f"cus_{n}" for n in range(1_300))
        assert counts == {f"cus_{n}": (n % 3 + 1 if n < 1_200 else 0) for n in range(1_300)}
        assert keys.customers_by_live_count() == {2: 400, 3: 400}
