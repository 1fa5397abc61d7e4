"""`SqliteKeys`: the report's per-subscription join keys in a temporary sqlite file.

`core/report/` keeps bounded counters; the rows its joins need (one per subscription:
ids, a 64-bit email hash, start / end times, flags; see `core/report_keys.py`) go here
instead of the Python heap, so `billingops report` stays flat in memory from 1k to 100k+
subscriptions. The file lives in a private temporary directory and is deleted on `close()`
(use it as a context manager).

Loading: rows are buffered and written with `executemany` in batches, all in one
transaction, journal and fsync off (the file is scratch: nothing to recover after a
crash); indexes are created once, after loading. Reading: each answer is one query that
lets SQL do the grouping (`GROUP BY` / `EXISTS` on the indexes) and streams only the groups
that matter, ordered by group, so the caller holds one group at a time. The page cache
and sorter are capped (`cache_size`) and temporary sort data goes to files.

Results are identical to `InMemoryKeys` (tested on generated accounts): every answer is a
function of the set of rows.
"""

from __future__ import annotations

import itertools
import os
import shutil
import tempfile
from collections.abc import Iterable, Iterator
from types import TracebackType
from typing import TYPE_CHECKING, Any

from billingops.core.report_keys import Member, MonthlyEnd, Person, Yearly

if TYPE_CHECKING:
    import sqlite3

BATCH_ROWS = 5_000  # buffered rows (all tables) before one executemany round
CACHE_KIB = 2_048  # sqlite page cache (and sorter memory) per connection
_IN_CHUNK = 500  # ids per `IN (...)` query (well below sqlite's variable limit)
_U64 = 1 << 64

_SCHEMA = (
    # `person` has no declared type: 64-bit email keys stay integers, "customer:…" text.
    "CREATE TABLE members (person, product TEXT, sub_id TEXT, customer_id TEXT,"
    " started INTEGER, quantity INTEGER, flags INTEGER)",
    "CREATE TABLE emails (ekey INTEGER, customer_id TEXT)",
    "CREATE TABLE monthly (person, product TEXT, sub_id TEXT, customer_id TEXT,"
    " end_at INTEGER, pending INTEGER)",
    "CREATE TABLE yearly (person, product TEXT, sub_id TEXT, customer_id TEXT, start_at INTEGER)",
)
_INDEXES = (
    "CREATE INDEX members_group ON members (person, product)",
    "CREATE INDEX members_customer ON members (customer_id)",
    "CREATE INDEX emails_key ON emails (ekey, customer_id)",
    "CREATE INDEX monthly_group ON monthly (person, product)",
    "CREATE INDEX yearly_group ON yearly (person, product)",
)
_INSERT = {
    "members": "INSERT INTO members VALUES (?, ?, ?, ?, ?, ?, ?)",
    "emails": "INSERT INTO emails VALUES (?, ?)",
    "monthly": "INSERT INTO monthly VALUES (?, ?, ?, ?, ?, ?)",
    "yearly": "INSERT INTO yearly VALUES (?, ?, ?, ?, ?)",
}
_GROUPS = """
SELECT person, product, sub_id, customer_id, started, quantity, flags
FROM members AS m
WHERE EXISTS (
    SELECT 1 FROM members AS o
    WHERE o.person = m.person AND o.product = m.product AND o.rowid <> m.rowid
)
ORDER BY person, product
"""
_LIVE_HISTOGRAM = """
SELECT n, COUNT(*) FROM (SELECT COUNT(*) AS n FROM members GROUP BY customer_id)
WHERE n > 1 GROUP BY n
"""
# One row per subscription, so a customer may repeat: MIN <> MAX means 2+ customers, and
# the outer GROUP BY makes the pairs distinct (both walk the index, no pairwise scan).
_EMAIL_GROUPS = """
SELECT ekey, customer_id
FROM emails
WHERE ekey IN (SELECT ekey FROM emails GROUP BY ekey HAVING MIN(customer_id) <> MAX(customer_id))
GROUP BY ekey, customer_id
ORDER BY ekey, customer_id
"""
_CONVERSIONS = """
SELECT person, product, 0, sub_id, customer_id, start_at, 0
FROM yearly AS y
WHERE EXISTS (SELECT 1 FROM monthly AS m WHERE m.person = y.person AND m.product = y.product)
UNION ALL
SELECT person, product, 1, sub_id, customer_id, end_at, pending
FROM monthly AS m
WHERE EXISTS (SELECT 1 FROM yearly AS y WHERE y.person = m.person AND y.product = m.product)
ORDER BY 1, 2
"""


def _person(person: Person) -> Person:
    """sqlite integers are signed 64-bit: map an unsigned email key onto them (1:1)."""
    if isinstance(person, int) and person >= 1 << 63:
        return person - _U64
    return person


class SqliteKeys:
    """A `KeyStore` (`core/report_keys.py`) in a temporary sqlite file. Not thread-safe:
    one thread adds and reads (the report's aggregating thread)."""

    def __init__(self, directory: str | None = None, *, batch_rows: int = BATCH_ROWS) -> None:
        import sqlite3

        self._dir = tempfile.mkdtemp(prefix="billingops-report-", dir=directory)
        self.path = os.path.join(self._dir, "keys.sqlite")
        self._batch_rows = batch_rows
        self._db: sqlite3.Connection | None = sqlite3.connect(self.path, isolation_level=None)
        for pragma in (
            "journal_mode = OFF",
            "synchronous = OFF",
            "temp_store = FILE",
            f"cache_size = -{CACHE_KIB}",
            "locking_mode = EXCLUSIVE",
        ):
            self._db.execute(f"PRAGMA {pragma}")
        for statement in _SCHEMA:
            self._db.execute(statement)
        self._db.execute("BEGIN")
        self._buffers: dict[str, list[tuple[Any, ...]]] = {name: [] for name in _INSERT}
        self._buffered = 0
        self._loading = True

    # -- lifecycle ------------------------------------------------------------------------

    def __enter__(self) -> SqliteKeys:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        """Close the database and delete its directory (idempotent)."""
        if self._db is not None:
            self._db.close()
            self._db = None
        shutil.rmtree(self._dir, ignore_errors=True)

    @property
    def db(self) -> sqlite3.Connection:
        if self._db is None:
            raise RuntimeError("the report key store is closed")
        return self._db

    # -- loading --------------------------------------------------------------------------

    def _add(self, table: str, row: tuple[Any, ...]) -> None:
        if not self._loading:
            raise RuntimeError("the report key store was already read")
        self._buffers[table].append(row)
        self._buffered += 1
        if self._buffered >= self._batch_rows:
            self._flush()

    def _flush(self) -> None:
        for table, rows in self._buffers.items():
            if rows:
                self.db.executemany(_INSERT[table], rows)
                rows.clear()
        self._buffered = 0

    def add_member(self, person: Person, product: str, member: Member) -> None:
        self._add("members", (_person(person), product, *member))

    def add_email(self, email_key: int, customer_id: str) -> None:
        self._add("emails", (_person(email_key), customer_id))

    def add_monthly_end(self, person: Person, product: str, end: MonthlyEnd) -> None:
        self._add("monthly", (_person(person), product, *end))

    def add_yearly(self, person: Person, product: str, yearly: Yearly) -> None:
        self._add("yearly", (_person(person), product, *yearly))

    def _loaded(self) -> sqlite3.Connection:
        """End loading (once): last batch, commit, then the indexes the queries use."""
        db = self.db
        if self._loading:
            self._flush()
            db.execute("COMMIT")
            for statement in _INDEXES:
                db.execute(statement)
            db.execute("ANALYZE")
            self._loading = False
        return db

    # -- reading --------------------------------------------------------------------------

    def groups(self) -> Iterator[tuple[str, list[Member]]]:
        rows = self._loaded().execute(_GROUPS)
        for (_, product), members in itertools.groupby(rows, key=lambda r: (r[0], r[1])):
            yield product, [Member(*r[2:]) for r in members]

    def customers_by_live_count(self) -> dict[int, int]:
        return {int(n): int(c) for n, c in self._loaded().execute(_LIVE_HISTOGRAM)}

    def email_groups(self) -> Iterator[list[str]]:
        rows = self._loaded().execute(_EMAIL_GROUPS)
        for _, ids in itertools.groupby(rows, key=lambda r: r[0]):
            yield sorted(r[1] for r in ids)

    def live_counts(self, customer_ids: Iterable[str]) -> dict[str, int]:
        db = self._loaded()
        wanted = sorted(set(customer_ids))
        out = dict.fromkeys(wanted, 0)
        for start in range(0, len(wanted), _IN_CHUNK):
            chunk = wanted[start : start + _IN_CHUNK]
            marks = ", ".join("?" * len(chunk))
            query = (
                f"SELECT customer_id, COUNT(*) FROM members WHERE customer_id IN ({marks})"
                " GROUP BY customer_id"
            )
            for cid, n in db.execute(query, chunk):
                out[cid] = int(n)
        return out

    def conversion_candidates(self) -> Iterator[tuple[str, list[Yearly], list[MonthlyEnd]]]:
        rows = self._loaded().execute(_CONVERSIONS)
        for (_, product), group in itertools.groupby(rows, key=lambda r: (r[0], r[1])):
            yearly: list[Yearly] = []
            ends: list[MonthlyEnd] = []
            for _, _, kind, sub_id, customer_id, at, pending in group:
                if kind == 0:
                    yearly.append(Yearly(sub_id, customer_id, at))
                else:
                    ends.append(MonthlyEnd(sub_id, customer_id, at, bool(pending)))
            yield product, yearly, ends
