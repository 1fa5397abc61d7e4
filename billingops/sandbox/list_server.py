"""A fast fake of Stripe's subscription list, with a server-enforced rate limit.

localstripe is too slow to seed 100k subscriptions, so the report's concurrent listing is
tested and benchmarked against this: `GET /v1/subscriptions` (with `status`, `limit`,
`starting_after`, `created[gte]`, `created[lt]`, `expand[]` for `data.customer` and
`data.latest_invoice`), `GET /v1/customers` and `GET /v1/products`, answered from
*generated* objects. Object `i` is a pure function of `i`, and the list is ordered newest
first (descending `i`), so the server holds no objects: 100k subscriptions cost no memory
here either.

`created` is shared by three consecutive objects (ties, as real checkouts have), so a
client that pages by `created` alone and not by cursor would drop or repeat objects.

Rate limit: at most `rate_limit` requests are *accepted* in any sliding one-second window;
others get Stripe's 429 (`rate_limit` error) with `Retry-After`. `accepted` holds the
arrival time of every accepted request (monotonic seconds) and `rejected` counts the 429s,
so a test can check that nothing beyond the limit was served.
"""

from __future__ import annotations

import json
import threading
import time
from collections import deque
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from billingops.sandbox.loopback import LoopbackService, ThreadedServer

START = 1_600_000_000  # 2020-09-13: the first object's `created`
SPACING = 60  # seconds between checkouts (three objects share each `created`)
PRODUCTS = (("prod_pro", "Pro"), ("prod_team", "Team"), ("prod_addon", "Storage add-on"))
# (price id, product, amount, currency, interval)
PRICES = (
    ("price_pro_month_usd", "prod_pro", 2000, "usd", "month"),
    ("price_pro_year_usd", "prod_pro", 20000, "usd", "year"),
    ("price_team_month_usd", "prod_team", 1200, "usd", "month"),
    ("price_pro_month_eur", "prod_pro", 1800, "eur", "month"),
    ("price_pro_month_jpy", "prod_pro", 2500, "jpy", "month"),
    ("price_addon_month_usd", "prod_addon", 500, "usd", "month"),
)


def created_of(i: int) -> int:
    return START + (i // 3) * SPACING


def subscription(i: int, *, expand: frozenset[str] = frozenset()) -> dict[str, Any]:
    """Object `i`: a deterministic mix of plans, statuses, seats and customers."""
    created = created_of(i)
    price_id, product, amount, currency, interval = PRICES[i % 7 % len(PRICES)]
    cus = f"cus_{i // 2:08d}"  # two subscriptions per customer
    status = "active"
    if i % 11 == 0:
        status = "canceled"
    elif i % 13 == 0:
        status = "past_due"
    elif i % 17 == 0:
        status = "trialing"
    elif i % 19 == 0:
        status = "incomplete"
    quantity = 5 if price_id.startswith("price_team") else 1
    period = 31 * 86400 if interval == "month" else 365 * 86400
    sub: dict[str, Any] = {
        "id": f"sub_{i:08d}",
        "object": "subscription",
        "customer": cus,
        "status": status,
        "created": created,
        "start_date": created,
        "cancel_at_period_end": i % 23 == 0,
        "cancel_at": None,
        "canceled_at": created + 86400 if status == "canceled" else None,
        "ended_at": created + 86400 if status == "canceled" else None,
        "trial_end": created + 14 * 86400 if status == "trialing" else None,
        "metadata": {"seats": "5"} if quantity > 1 else {},
        "latest_invoice": f"in_{i:08d}",
        "items": {
            "object": "list",
            "data": [
                {
                    "id": f"si_{i:08d}",
                    "object": "subscription_item",
                    "quantity": quantity,
                    "current_period_start": created,
                    "current_period_end": created + period,
                    "price": {
                        "id": price_id,
                        "object": "price",
                        "nickname": None,
                        "product": product,
                        "currency": currency,
                        "unit_amount": amount,
                        "recurring": {"interval": interval, "interval_count": 1},
                    },
                }
            ],
            "has_more": False,
        },
    }
    if "data.customer" in expand:
        sub["customer"] = {
            "id": cus,
            "object": "customer",
            # One email over two customers now and then (a retried checkout).
            "email": f"user{(i // 2) - (i // 2) % 2 * (i % 29 == 0)}@example.com",
            "created": created,
            "metadata": {},
        }
    if "data.latest_invoice" in expand:
        failed = status == "past_due"
        sub["latest_invoice"] = {
            "id": f"in_{i:08d}",
            "object": "invoice",
            "status": "open" if failed else "paid",
            "attempt_count": 2 if failed else 1,
            "amount_due": amount * quantity,
            "currency": currency,
            "created": created,
        }
    return sub


def _index_bounds(count: int, gte: int | None, lt: int | None) -> tuple[int, int]:
    """Indices [lo, hi) whose `created` is in [gte, lt)."""

    def first_index_at_or_after(t: int) -> int:
        if t <= START:
            return 0
        groups = -(-(t - START) // SPACING)  # ceil
        return groups * 3

    lo = 0 if gte is None else first_index_at_or_after(gte)
    hi = count if lt is None else first_index_at_or_after(lt)
    return max(0, min(lo, count)), max(0, min(hi, count))


class ListServer(LoopbackService):
    """`with ListServer(100_000, rate_limit=25) as server: server.base_url ...`"""

    def __init__(
        self,
        count: int,
        *,
        rate_limit: float | None = None,
        retry_after: int = 1,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.count = count
        self.rate_limit = rate_limit
        self.retry_after = retry_after
        self.clock = clock
        self.accepted: list[float] = []
        self.rejected = 0
        self.served_objects = 0
        self._window: deque[float] = deque()
        self._lock = threading.Lock()
        self._server: ThreadedServer | None = None
        # Requests Stripe would refuse (stripe-python 16's description: `stripe_contract`),
        # answered 400; leaving the `with` block with any fails the test.
        self.violations: list[str] = []

    def __exit__(self, *exc: object) -> None:
        self.stop()
        if self.violations and exc[0] is None:
            raise AssertionError("requests Stripe would refuse: " + "; ".join(self.violations))

    def refused(self, path: str, pairs: list[tuple[str, str]]) -> dict[str, Any] | None:
        """Stripe's 400 body when Stripe would refuse this GET (and record why)."""
        from billingops.sandbox import stripe_contract
        from billingops.sandbox.current_api import parse_params

        found = stripe_contract.check("GET", path, parse_params(pairs))
        if not found:
            return None
        with self._lock:
            self.violations += [f"GET {path}: {v}" for v in found]
        return stripe_contract.error_body(found)

    # -- lifecycle ------------------------------------------------------------------------

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        return _make_handler(self)

    @property
    def base_url(self) -> str:
        assert self._server is not None, "server not started"
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    # -- rate limit -----------------------------------------------------------------------

    def admit(self) -> bool:
        """Whether one more request fits in the sliding one-second window (and count it)."""
        with self._lock:
            now = self.clock()
            if self.rate_limit is not None:
                while self._window and self._window[0] <= now - 1.0:
                    self._window.popleft()
                if len(self._window) >= self.rate_limit:
                    self.rejected += 1
                    return False
                self._window.append(now)
            self.accepted.append(now)
            return True

    def max_in_window(self, seconds: float = 1.0) -> int:
        """The most accepted requests in any sliding window of `seconds` (half-open)."""
        times = sorted(self.accepted)
        best, j = 0, 0
        for i, t in enumerate(times):
            while times[j] <= t - seconds:
                j += 1
            best = max(best, i - j + 1)
        return best

    def stats(self) -> dict[str, Any]:
        with self._lock:
            accepted, rejected = len(self.accepted), self.rejected
        return {
            "accepted": accepted,
            "rejected": rejected,
            "max_in_window": self.max_in_window(),
            "served_objects": self.served_objects,
        }

    # -- answers --------------------------------------------------------------------------

    def list_subscriptions(self, query: dict[str, list[str]]) -> dict[str, Any]:
        def one(name: str) -> str | None:
            values = query.get(name)
            return values[-1] if values else None

        limit = max(1, min(int(one("limit") or 10), 100))
        gte = one("created[gte]")
        lt = one("created[lt]")
        lo, hi = _index_bounds(
            self.count, int(gte) if gte is not None else None, int(lt) if lt is not None else None
        )
        after = one("starting_after")
        top = hi - 1  # newest first: descending index
        if after:
            top = min(top, int(after.rsplit("_", 1)[-1]) - 1)
        expand = frozenset(
            v for k, vs in query.items() if k == "expand" or k.startswith("expand[") for v in vs
        )
        indices = range(top, max(lo, top - limit + 1) - 1, -1) if top >= lo else range(0)
        data = [subscription(i, expand=expand) for i in indices]
        with self._lock:
            self.served_objects += len(data)
        more = bool(data) and indices[-1] > lo
        return {"object": "list", "url": "/v1/subscriptions", "has_more": more, "data": data}

    def list_customers(self, query: dict[str, list[str]]) -> dict[str, Any]:
        """Customer `j` owns subscriptions 2j and 2j+1 (compat reads emails this way)."""
        limit = max(1, min(int((query.get("limit") or ["10"])[-1]), 100))
        top = (self.count + 1) // 2 - 1
        after = (query.get("starting_after") or [""])[-1]
        if after:
            top = min(top, int(after.rsplit("_", 1)[-1]) - 1)
        indices = range(top, max(0, top - limit + 1) - 1, -1) if top >= 0 else range(0)
        data = [
            subscription(2 * j, expand=frozenset({"data.customer"}))["customer"] for j in indices
        ]
        more = bool(data) and indices[-1] > 0
        return {"object": "list", "url": "/v1/customers", "has_more": more, "data": data}

    def list_products(self) -> dict[str, Any]:
        data = [{"id": pid, "object": "product", "name": name} for pid, name in PRODUCTS]
        return {"object": "list", "url": "/v1/products", "has_more": False, "data": data}


def _make_handler(server: ListServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self) -> None:
            url = urlsplit(self.path)
            query: dict[str, list[str]] = {}
            for k, v in parse_qsl(url.query, keep_blank_values=True):
                query.setdefault(k, []).append(v)
            if url.path == "/_stats":  # not an API call: never rate limited
                self._send(200, server.stats())
                return
            refused = server.refused(url.path, parse_qsl(url.query, keep_blank_values=True))
            if refused is not None:
                self._send(400, refused)
                return
            if not server.admit():
                self._send(
                    429,
                    {
                        "error": {
                            "type": "invalid_request_error",
                            "code": "rate_limit",
                            "message": "Too many requests hit the API too quickly.",
                        }
                    },
                    {"Retry-After": str(server.retry_after)},
                )
                return
            if url.path == "/v1/subscriptions":
                self._send(200, server.list_subscriptions(query))
            elif url.path == "/v1/customers":
                self._send(200, server.list_customers(query))
            elif url.path == "/v1/products":
                self._send(200, server.list_products())
            else:
                self._send(
                    404,
                    {"error": {"type": "invalid_request_error", "message": "Unrecognized URL"}},
                )

        def _send(self, status: int, body: Any, headers: dict[str, str] | None = None) -> None:
            raw = json.dumps(body, separators=(",", ":")).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(raw)))
            for k, v in (headers or {}).items():
                self.send_header(k, v)
            self.end_headers()
            self.wfile.write(raw)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    return Handler


def main(argv: list[str] | None = None) -> None:
    """`python -m billingops.sandbox.list_server COUNT [RATE]`: serve until killed; the
    first line on stdout is the base URL. `GET /_stats` answers the counters."""
    import sys

    args = sys.argv[1:] if argv is None else argv
    rate = float(args[1]) if len(args) > 1 else None
    with ListServer(int(args[0]), rate_limit=rate) as server:
        print(server.base_url, flush=True)
        threading.Event().wait()


if __name__ == "__main__":
    main()
