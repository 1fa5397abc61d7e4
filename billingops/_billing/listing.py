"""Report listing (`billingops report`, issue 6): every subscription of the account, split
into `created` ranges fetched concurrently within a rate limit, with backoff on 429."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator, Mapping
from typing import Any

from billingops._billing.client import PRICE_EXPAND, StripeClientBase, _pause, _retry_after
from billingops._billing.translate import (
    _data,
    _dedupe,
    _int,
    complete_prices,
    prices_to_complete,
    to_listed,
)
from billingops.core.report import Listed
from billingops.errors import BadInput, NotFound

# ---------------------------------------------------------------------------------------
# Report listing (`billingops report`, issue 6): every subscription of the account, split
# into `created` ranges fetched concurrently within a rate limit, with backoff on 429.
# Module-level functions over the client every gateway is built on (`StripeClientBase`,
# not `StripeGateway`, which re-exports this module: no import circle).
#
# How the ranges are split: one range [since, now] to start; each page (newest first,
# 100 objects) that says `has_more` leaves the objects created in [lo, last.created]. While
# fewer ranges are queued than there are workers and the rest looks like several pages
# (estimated from the page's density), that rest is cut in two: [lo, mid) from
# scratch and [mid, hi) continued after the page's last object (`starting_after`), so ties
# on `created` are neither lost nor repeated. Every object is in exactly one range; the
# upper bound is fixed at the start, so subscriptions created meanwhile are not listed.
# compat (localstripe): no server-side `created` filter, so one range, paged in sequence.

REPORT_PAGE_SIZE = 100
REPORT_EXPAND = ("data.customer", "data.latest_invoice", "data.discounts.source.coupon")
STRIPE_EPOCH = 1_293_840_000  # 2011-01-01: no Stripe object is older
REPORT_MAX_ATTEMPTS = 8  # per page, 429s and transient failures together
# Stripe not reachable at all (refused, DNS, timeout): a few quick tries, then one clear
# line, instead of the full backoff (~45 s) meant for a rate-limited account.
REPORT_MAX_CONNECT_ATTEMPTS = 4
REPORT_HEADROOM = 0.95  # pace at this share of the configured rate limit
REPORT_QUEUED_PAGES = 2  # pages read but not yet aggregated (+1 per worker in flight)
REPORT_SPLIT_PAGES = 4  # split a range only when its rest looks like this many pages


class RateLimiter:
    """Paces requests shared by threads: at most `rate` per second, evenly spaced (a token
    bucket holding one token), so no one-second window ever sees more than `rate` sent.

    The pace is `headroom` (95%) of the limit: a thread that wakes late lands its request
    in the next second, next to punctual ones, and the margin absorbs that instead of a 429.
    After a 429 the pace drops by a quarter (`throttled`); each accepted request wins back
    1% of the ceiling (`accepted`). Another client on the same account then pushes us down
    to what is left instead of into a storm of 429s.
    """

    def __init__(
        self,
        rate: float,
        *,
        headroom: float = REPORT_HEADROOM,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if rate <= 0 or not 0 < headroom <= 1:
            raise ValueError("rate and headroom must be positive, headroom at most 1")
        self.ceiling = float(rate) * headroom
        self.rate = self.ceiling
        self._clock = clock
        self._sleep = sleep
        self._next = float("-inf")
        self._lock = threading.Lock()

    def acquire(self) -> None:
        """Wait for this request's slot."""
        with self._lock:
            now = self._clock()
            at = max(now, self._next)
            self._next = at + 1.0 / self.rate
        if at > now:
            self._sleep(at - now)

    def throttled(self) -> None:
        with self._lock:
            self.rate = max(self.rate * 0.75, self.ceiling * 0.05)

    def accepted(self) -> None:
        with self._lock:
            if self.rate < self.ceiling:
                self.rate = min(self.ceiling, self.rate + self.ceiling * 0.01)


class ListingStats:
    """Counters of one listing, updated by the workers (read them for progress)."""

    def __init__(self) -> None:
        self.pages = 0
        self.objects = 0
        self.requests = 0
        self.throttled = 0  # 429 answers
        self.retries = 0  # transient failures retried (5xx, connection)
        self.ranges = 1
        self._lock = threading.Lock()

    def add(self, **counts: int) -> None:
        with self._lock:
            for name, n in counts.items():
                setattr(self, name, getattr(self, name) + n)

    def as_dict(self) -> dict[str, int]:
        with self._lock:
            return {
                "pages": self.pages,
                "objects": self.objects,
                "requests": self.requests,
                "throttled": self.throttled,
                "retries": self.retries,
                "ranges": self.ranges,
            }


def default_report_workers(rate_per_second: float) -> int:
    """Enough requests in flight to use the rate with ~0.5 s per page, within 4..32."""
    return max(4, min(32, int(rate_per_second * 0.5 + 0.999)))


def _get_list(
    gateway: StripeClientBase,
    path: str,
    params: dict[str, Any],
    limiter: RateLimiter,
    stats: ListingStats,
    sleep: Callable[[float], None] = _pause,
) -> dict[str, Any]:
    """One GET through the limiter; 429 and transient failures retried here (the SDK's own
    retries are off, so every attempt is paced)."""
    s = gateway._stripe

    def attempt_all() -> dict[str, Any]:
        attempt = 0
        while True:
            limiter.acquire()
            stats.add(requests=1)
            try:
                resp = gateway._client.raw_request("get", path, **params, max_network_retries=0)
            except s.RateLimitError as exc:
                attempt += 1
                stats.add(throttled=1)
                limiter.throttled()
                if attempt >= REPORT_MAX_ATTEMPTS:
                    raise
                sleep(_retry_after(exc, attempt))
                continue
            except (s.APIConnectionError, s.APIError) as exc:
                attempt += 1
                unreachable = isinstance(exc, s.APIConnectionError)
                if attempt >= (REPORT_MAX_CONNECT_ATTEMPTS if unreachable else REPORT_MAX_ATTEMPTS):
                    raise
                stats.add(retries=1)
                sleep(_retry_after(exc, attempt))
                continue
            limiter.accepted()
            body: dict[str, Any] = resp.data  # parsed once, by the SDK
            return body

    result: dict[str, Any] = gateway._call(f"list {path.rsplit('/', 1)[-1]}", attempt_all)
    return result


def report_products(
    gateway: StripeClientBase, limiter: RateLimiter, stats: ListingStats | None = None
) -> dict[str, str]:
    """Product id → name for every product (a few pages at most); {} where unreadable."""
    stats = stats or ListingStats()
    names: dict[str, str] = {}
    params: dict[str, Any] = {"limit": REPORT_PAGE_SIZE}
    while True:
        try:
            page = _get_list(gateway, "/v1/products", params, limiter, stats)
        except (NotFound, BadInput):
            return names
        data = [p for p in _data(page) if isinstance(p, Mapping) and p.get("id")]
        for p in data:
            names[str(p["id"])] = str(p.get("name") or p["id"])
        if not page.get("has_more") or not data:
            return names
        params = {**params, "starting_after": str(data[-1]["id"])}


def report_customer_emails(
    gateway: StripeClientBase, limiter: RateLimiter, stats: ListingStats
) -> dict[str, str]:
    """compat only (a small sandbox): customer id → email, for every customer. localstripe
    404s a whole list whose expanded customer was deleted, so it is not expanded there."""
    emails: dict[str, str] = {}
    params: dict[str, Any] = {"limit": REPORT_PAGE_SIZE}
    while True:
        try:
            page = _get_list(gateway, "/v1/customers", params, limiter, stats)
        except NotFound:
            return emails
        data = [c for c in _data(page) if isinstance(c, Mapping) and c.get("id")]
        for c in data:
            if isinstance(c.get("email"), str) and not c.get("deleted"):
                emails[str(c["id"])] = str(c["email"])
        if not page.get("has_more") or not data:
            return emails
        params = {**params, "starting_after": str(data[-1]["id"])}


def iter_report_subscriptions(
    gateway: StripeClientBase,
    *,
    rate_per_second: float,
    workers: int | None = None,
    since: int | None = None,
    until: int | None = None,
    stats: ListingStats | None = None,
    limiter: RateLimiter | None = None,
    on_page: Callable[[ListingStats], None] | None = None,
) -> Iterator[Listed]:
    """Every subscription (all statuses) created in [since, until), in no particular
    order, each exactly once. Memory is bounded: one page per worker plus
    REPORT_QUEUED_PAGES wait to be aggregated."""
    import queue

    stats = stats or ListingStats()
    limiter = limiter or RateLimiter(rate_per_second)
    workers = max(1, workers or default_report_workers(rate_per_second))
    lo = since if since is not None else STRIPE_EPOCH
    hi = until if until is not None else int(gateway._clock()) + 1
    compat = gateway.compat
    tasks: queue.Queue[tuple[int, int, str | None] | None] = queue.Queue()
    out: queue.Queue[Any] = queue.Queue(maxsize=REPORT_QUEUED_PAGES)
    stop = threading.Event()
    done = object()
    lock = threading.Lock()
    outstanding = [1]
    tasks.put((lo, hi, None))
    emails = report_customer_emails(gateway, limiter, stats) if compat else None
    expand = [e for e in REPORT_EXPAND if not compat or e == "data.latest_invoice"]

    def put(item: Any) -> None:
        while not stop.is_set():
            try:
                out.put(item, timeout=0.1)
                return
            except queue.Full:
                continue

    def fetch(lo: int, hi: int, cursor: str | None) -> None:
        params: dict[str, Any] = {
            "status": "all",
            "limit": REPORT_PAGE_SIZE,
            "expand": expand,
        }
        if not compat:
            params["created"] = {"gte": lo, "lt": hi}
        if cursor:
            params["starting_after"] = cursor
        page = _get_list(gateway, "/v1/subscriptions", params, limiter, stats)
        raw = [d for d in _data(page) if isinstance(d, Mapping) and d.get("id")]
        if page.get("has_more") and raw:
            last_id = str(raw[-1]["id"])
            last_created = _int(raw[-1].get("created"))
            new: list[tuple[int, int, str | None]]
            # Objects left in [lo, last.created], estimated from this page's density:
            # a rest of less than a few pages is not worth a range of its own.
            span = max(_int(raw[0].get("created")) - last_created, 1)
            rest = len(raw) * (last_created - lo) / span
            if (
                not compat
                and tasks.qsize() < workers
                and lo < last_created <= hi
                and rest >= REPORT_SPLIT_PAGES * REPORT_PAGE_SIZE
            ):
                mid = (lo + last_created + 1) // 2
                new = [(lo, mid, None), (mid, hi, last_id)]
            else:
                new = [(lo, hi, last_id)]
            with lock:
                outstanding[0] += len(new)
            stats.add(ranges=len(new) - 1)
            for t in new:
                tasks.put(t)
        if not compat:
            for pid in _dedupe(p for d in raw for p in prices_to_complete(d)):
                with gateway._lock:
                    known = pid in gateway._prices
                if not known:
                    try:
                        got = _get_list(gateway, f"/v1/prices/{pid}",
                                        {"expand": PRICE_EXPAND}, limiter, stats)  # fmt: skip
                    except (NotFound, BadInput):
                        got = {}
                    with gateway._lock:
                        gateway._prices[pid] = got
            raw = [complete_prices(d, gateway._prices) for d in raw]
        items = [to_listed(d, emails) for d in raw]
        if compat:  # no server-side filter: apply the bounds here
            items = [i for i in items if lo <= i.sub.created < hi]
        stats.add(pages=1, objects=len(raw))
        put(items)

    def work() -> None:
        while not stop.is_set():
            task = tasks.get()
            if task is None:
                return
            try:
                fetch(*task)
            except BaseException as exc:
                put(exc)
            finally:
                with lock:
                    outstanding[0] -= 1
                    last = outstanding[0] == 0
                if last:
                    put(done)

    threads = [
        threading.Thread(target=work, name=f"report-list-{n}", daemon=True) for n in range(workers)
    ]
    for t in threads:
        t.start()
    try:
        while True:
            item = out.get()
            if item is done:
                return
            if isinstance(item, BaseException):
                raise item
            if on_page is not None:
                on_page(stats)
            yield from item
    finally:
        stop.set()
        for _ in threads:
            tasks.put(None)
        for t in threads:
            t.join(timeout=5)
