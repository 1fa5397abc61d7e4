"""The Stripe SDK client shared by the gateway's parts: the only place `stripe` is imported
(lazily, so `billingops --help` stays fast), the error mapping, and the limits."""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, TypeVar

from billingops._billing.translate import _id, _int, redact
from billingops.errors import BadInput, NotFound, OperationalError
from billingops.logs import log_request

# Pinned: responses are parsed for this version's shapes (plus the older ones above);
# a new account default must not change what we read. 2026-10-28.endive is the
# version stripe-python 16.1 was generated for.
API_VERSION = "2026-10-28.endive"
MAX_NETWORK_RETRIES = 2
TIMEOUT_SECONDS = 20.0
# History per customer: pages of 100 (charges, invoices, subscriptions), newest first; further
# pages only back to the oldest live subscription's start, and at most this many pages.
HISTORY_PAGE_SIZE = 100
HISTORY_PAGES = 10
# What a price must carry for its amount to be known (not in lists: beyond expansion depth).
PRICE_EXPAND = ["tiers", "currency_options"]
# The local fallback for matching emails / usernames without the Search API: pages of 100
# customers, newest first, at most SCAN_PAGES of them.
SCAN_LIMIT = 100
SCAN_PAGES = 10
# Search lags new customers by up to a minute (Stripe's docs); margin included.
SEARCH_LAG = 120
# Every refund says why (Stripe shows it on the dashboard and to the card network).
REFUND_REASON = "requested_by_customer"
_MARK_KEYS = ("billingops_issue", "billingops_step")

_ID_PREFIXES = {"cus_": "customer", "sub_": "subscription", "in_": "invoice"}
_ID_PREFIXES.update({"ch_": "charge", "py_": "charge", "pi_": "payment_intent"})
_SECRET = re.compile(r"\b(sk|rk|pk)_(live|test)_[A-Za-z0-9*]+")

T = TypeVar("T")


class _Refused(Exception):
    """A 4xx answer to a write, before reconciliation (never leaves the gateway)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


class _Page:
    """One list of one customer as read so far (newest first)."""

    def __init__(self, kind: str, data: list[dict[str, Any]], has_more: bool) -> None:
        self.kind = kind
        self.data = data
        self.has_more = has_more
        self.truncated = False

    def oldest(self) -> int:
        return _int(self.data[-1].get("created")) if self.data else 0


class _RateLimited(OperationalError):
    """A 429: the request was not processed, so `_call` may send it again."""

    def __init__(self, message: str, cause: Exception) -> None:
        super().__init__(message)
        self.cause = cause


# The longest wait after a 429 or a transient failure (the report listing's too).
REPORT_MAX_BACKOFF = 30.0


def pause(seconds: float) -> None:
    """Every retry pause of the gateway (after a 429) and of the report listing (429s and
    transient failures), unless a `sleep` is passed in. Read when it pauses, so the test
    suite can replace it: tests count the retries and read the messages, not the pauses."""
    time.sleep(seconds)


def _pause(seconds: float) -> None:
    pause(seconds)  # looked up at call time (see `pause`)


def _retry_after(exc: Any, attempt: int) -> float:
    """The server's Retry-After, else exponential backoff with jitter."""
    import random

    headers = getattr(exc, "headers", None) or {}
    raw = None
    for k, v in dict(headers).items():
        if str(k).lower() == "retry-after":
            raw = v
    try:
        if raw is not None:
            return min(max(float(str(raw)), 0.0), REPORT_MAX_BACKOFF)
    except (TypeError, ValueError):
        pass
    return min(0.25 * 2.0**attempt, REPORT_MAX_BACKOFF) * (0.5 + random.random() / 2)


class StripeClientBase:
    """The SDK client and its plumbing: error mapping, rate-limit retries, concurrency,
    the request counter, and the list parameters every read (and doctor's probes) use."""

    def __init__(
        self,
        api_key: str,
        api_base: str | None = None,
        *,
        compat: bool = False,
        timeout: float = TIMEOUT_SECONDS,
        max_network_retries: int = MAX_NETWORK_RETRIES,
        max_workers: int = 8,
        clock: Callable[[], float] = time.time,
        http_client: Any = None,
        rate_limit_retries: int = 2,
        max_retry_after: float = 10.0,
        sleep: Callable[[float], None] = _pause,
    ) -> None:
        if not api_key:
            raise BadInput("STRIPE_API_KEY is not set")
        import stripe  # lazy: the SDK is heavy to import

        self._stripe: Any = stripe
        # stripe-python prints every request and response body to stderr by itself when
        # `stripe.log` or the STRIPE_LOG variable says debug or info, past any logging
        # handler: never. Its records still reach `logging`, where `billingops.logs` keeps
        # only what is safe (issue 20).
        stripe.log = None
        if hasattr(stripe, "_util"):
            stripe._util.STRIPE_LOG = None
        # The SDK does not retry 429s. A rate-limited request was not processed, so it is
        # safe to send again (our writes carry their own idempotency key either way).
        self._rate_limit_retries = rate_limit_retries
        self._max_retry_after = max_retry_after
        self._sleep = sleep
        if http_client is None:
            http_client = stripe.new_default_http_client(timeout=timeout)
        self._http = http_client
        # Every HTTP attempt the SDK makes, as "METHOD /path" (retries included).
        self.requests: list[str] = []
        original = http_client.request

        def counted(method: str, url: str, headers: Any, post_data: Any = None, **kw: Any) -> Any:
            self.requests.append(f"{method.upper()} {url.split('://', 1)[-1].split('/', 1)[-1]}")
            started = time.monotonic()
            try:
                answer = original(method, url, headers, post_data, **kw)
            except Exception as exc:
                log_request("stripe", method, url, type(exc).__name__, time.monotonic() - started)
                raise
            status, rheaders = answer[1], answer[2]
            rid = next(
                (str(v) for k, v in dict(rheaders or {}).items() if k.lower() == "request-id"), None
            )
            log_request("stripe", method, url, status, time.monotonic() - started, rid)
            return answer

        http_client.request = counted
        base_addresses: dict[str, str] = {"api": api_base} if api_base else {}
        # Typed as Any: the SDK's params TypedDicts add nothing over the shapes we test.
        self._client: Any = stripe.StripeClient(
            api_key,
            stripe_version=API_VERSION,
            base_addresses=base_addresses,  # type: ignore[arg-type]
            max_network_retries=max_network_retries,
            http_client=http_client,
        )
        self.compat = compat
        self._search = not self.compat  # turned off for good on the first 404
        self._workers = max_workers
        self._clock = clock
        self._lock = threading.Lock()
        self._customers: dict[str, dict[str, Any]] = {}  # read in lookup, reused by state
        self._prices: dict[str, dict[str, Any]] = {}  # price id -> with tiers, currency options

    # -- plumbing -----------------------------------------------------------------------

    def _call(self, what: str, fn: Callable[[], Any]) -> Any:
        """Run one SDK call; map its errors to ours with one clear line (never the key)."""
        for attempt in range(self._rate_limit_retries + 1):
            try:
                return self._mapped(what, fn)
            except _RateLimited as exc:
                wait = _retry_after(exc.cause, attempt)
                if attempt == self._rate_limit_retries or wait > self._max_retry_after:
                    raise OperationalError(str(exc)) from None
                self._sleep(wait)
        raise AssertionError("unreachable")

    def _mapped(self, what: str, fn: Callable[[], Any]) -> Any:
        s = self._stripe
        try:
            return fn()
        except s.AuthenticationError:
            raise BadInput("Stripe rejected the API key (check STRIPE_API_KEY)") from None
        except s.PermissionError:
            raise BadInput(
                f"the Stripe key may not {what} (a restricted key needs read access to "
                "customers, subscriptions, invoices and charges; writes need refunds and "
                "subscriptions)"
            ) from None
        except s.RateLimitError as exc:
            raise _RateLimited(f"Stripe rate limit while trying to {what}", exc) from None
        except s.APIConnectionError:
            raise OperationalError(f"cannot reach Stripe to {what} (after retries)") from None
        except s.InvalidRequestError as exc:
            message = redact(str(getattr(exc, "user_message", "") or exc))[:200]
            if exc.http_status == 404:
                raise NotFound(f"Stripe: not found while trying to {what}") from None
            raise BadInput(f"Stripe refused to {what}: {message}") from None
        except s.StripeError as exc:
            status = getattr(exc, "http_status", None) or "?"
            if status == 404:  # e.g. an endpoint a sandbox does not have (non-JSON 404)
                raise NotFound(f"Stripe: not found while trying to {what}") from None
            if status == 200:  # the body was not valid JSON
                raise OperationalError(f"Stripe sent an unreadable answer to {what}") from None
            raise OperationalError(
                f"Stripe failed to {what} (HTTP {status}, after retries)"
            ) from None

    def _concurrently(self, tasks: list[Callable[[], T]]) -> list[T]:
        """Run tasks in threads; the first error (in task order) is raised after all end."""
        if len(tasks) <= 1:
            return [t() for t in tasks]
        with ThreadPoolExecutor(max_workers=min(self._workers, len(tasks))) as pool:
            futures: list[Future[T]] = [pool.submit(t) for t in tasks]
        return [f.result() for f in futures]

    def _remember(self, customer: Any) -> str | None:
        if not isinstance(customer, Mapping) or not customer.get("id"):
            return _id(customer)
        with self._lock:
            self._customers[str(customer["id"])] = dict(customer)
        return str(customer["id"])

    def _customer_expand(self, prefix: str = "") -> list[str]:
        return [f"{prefix}invoice_settings.default_payment_method", f"{prefix}default_source"]

    def _list_params(self, kind: str, cid: str) -> dict[str, Any]:
        params: dict[str, Any] = {"customer": cid, "limit": HISTORY_PAGE_SIZE}
        if kind == "subscriptions":
            params["status"] = "all"
            params["expand"] = (
                ["data.latest_invoice"]
                if self.compat
                else [
                    "data.latest_invoice.payments",
                    "data.default_payment_method",
                    "data.discounts.source.coupon",
                ]
            )
        elif kind == "charges":
            params["expand"] = ["data.refunds"]
        elif kind == "invoices" and not self.compat:
            params["expand"] = ["data.payments"]
        return params

    def _list_page(self, kind: str, params: dict[str, Any]) -> tuple[list[dict[str, Any]], bool]:
        service = getattr(self._client.v1, kind)
        page = self._call(f"list {kind}", lambda: service.list(params=params))
        return [o.to_dict() for o in page.data], bool(page.has_more)
