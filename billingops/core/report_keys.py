"""The report's per-subscription join keys, behind a small interface.

Most of `billingops report` is bounded counters (per plan, per status) kept by
`core/report/`. Four answers need one small row per subscription instead, because the join
is only known at the end of the listing:

- customers with several live subscriptions, and same-person same-product groups
  (duplicate candidates vs teams): `add_member`, `groups`, `customers_by_live_count`;
- one email over several customers: `add_email`, `email_groups`, `live_counts`;
- monthly→yearly conversions: `add_monthly_end`, `add_yearly`, `conversion_candidates`.

A `KeyStore` takes those rows as they stream in and, at the end, hands back only the
groups that matter (two or more members, or both a monthly end and a yearly start), each
group as one small list, as an iterator: the rules (triage's duplicate rules, conversion
matching, ordering, top N) stay in `core/report/groups.py`, and a store that keeps its rows
off the Python heap (`billingops/report_store.py`, a temporary sqlite file) keeps the report's
memory flat. `InMemoryKeys` here is the reference, used by unit tests and small runs.

A "person" is the 64-bit key of the normalised billing email (`report.email_key`), else
`"customer:" + customer id`. Row order never matters: every answer is a function of the
set of rows.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator
from typing import NamedTuple, Protocol

Person = str | int


class Member(NamedTuple):
    """One live subscription in a (person, product) group. Flags: bit 0 team metadata,
    bit 1 annual, bit 2 several items."""

    sub_id: str
    customer_id: str
    started: int
    quantity: int
    flags: int


class MonthlyEnd(NamedTuple):
    """A monthly subscription that ended, was canceled or is set to cancel."""

    sub_id: str
    customer_id: str
    end: int
    pending: bool


class Yearly(NamedTuple):
    """A yearly subscription (not incomplete) and when it started."""

    sub_id: str
    customer_id: str
    start: int


class KeyStore(Protocol):
    """Rows in while the listing streams; groups out at the end (each once, any order)."""

    def add_member(self, person: Person, product: str, member: Member) -> None: ...

    def add_email(self, email_key: int, customer_id: str) -> None: ...

    def add_monthly_end(self, person: Person, product: str, end: MonthlyEnd) -> None: ...

    def add_yearly(self, person: Person, product: str, yearly: Yearly) -> None: ...

    def groups(self) -> Iterator[tuple[str, list[Member]]]:
        """(product, members) of every (person, product) with two or more members."""
        ...

    def customers_by_live_count(self) -> dict[int, int]:
        """Live subscriptions per customer → how many customers hold that many (n ≥ 2)."""
        ...

    def email_groups(self) -> Iterator[list[str]]:
        """The distinct customer ids (sorted) of every email seen on two or more."""
        ...

    def live_counts(self, customer_ids: Iterable[str]) -> dict[str, int]:
        """Live subscriptions of each of these customers (0 where none)."""
        ...

    def conversion_candidates(self) -> Iterator[tuple[str, list[Yearly], list[MonthlyEnd]]]:
        """(product, yearly, monthly ends) of every (person, product) that has both."""
        ...


class InMemoryKeys:
    """The reference `KeyStore`: dicts in the Python heap (grows with the customers)."""

    def __init__(self) -> None:
        self._live: Counter[str] = Counter()
        self._groups: dict[tuple[Person, str], list[Member]] = {}
        self._emails: dict[int, set[str]] = {}
        self._monthly: dict[tuple[Person, str], list[MonthlyEnd]] = {}
        self._yearly: dict[tuple[Person, str], list[Yearly]] = {}

    def add_member(self, person: Person, product: str, member: Member) -> None:
        self._live[member.customer_id] += 1
        self._groups.setdefault((person, product), []).append(member)

    def add_email(self, email_key: int, customer_id: str) -> None:
        self._emails.setdefault(email_key, set()).add(customer_id)

    def add_monthly_end(self, person: Person, product: str, end: MonthlyEnd) -> None:
        self._monthly.setdefault((person, product), []).append(end)

    def add_yearly(self, person: Person, product: str, yearly: Yearly) -> None:
        self._yearly.setdefault((person, product), []).append(yearly)

    def groups(self) -> Iterator[tuple[str, list[Member]]]:
        for (_, product), members in self._groups.items():
            if len(members) > 1:
                yield product, list(members)

    def customers_by_live_count(self) -> dict[int, int]:
        return dict(Counter(n for n in self._live.values() if n > 1))

    def email_groups(self) -> Iterator[list[str]]:
        for ids in self._emails.values():
            if len(ids) > 1:
                yield sorted(ids)

    def live_counts(self, customer_ids: Iterable[str]) -> dict[str, int]:
        return {c: self._live[c] for c in customer_ids}

    def conversion_candidates(self) -> Iterator[tuple[str, list[Yearly], list[MonthlyEnd]]]:
        for key, yearly in self._yearly.items():
            ends = self._monthly.get(key)
            if ends:
                yield key[1], list(yearly), list(ends)
