"""The Stripe gateway: the `BillingSource` over a `stripe.StripeClient`, assembled from its
parts, one concern each:

- `translate`: pure Stripe JSON → models (no I/O, no SDK);
- `client`: the SDK client, error mapping, retries on 429, concurrency, limits;
- `reads`: lookup, billing state, subscription iteration;
- `writes`: refund and cancel, reconciled before a retry;
- `probes`: `billingops doctor`'s key probes and the billing portal configuration;
- `listing`: the report's rate-limited, range-split listing of every subscription.

Only `_billing/` imports `stripe`, lazily (in `client`), so `billingops --help` stays fast.

Request budget (SPEC §8: at most 6 Stripe requests per triage, in 2-3 rounds):

- lookup round, all identifiers concurrently:
  cus_ → 1 retrieve (default payment method expanded, so the state round does not
  re-read the customer); sub_/in_/ch_/pi_ → 1 retrieve with `customer` expanded;
  email → `customers.list(email=…)` for the email as given + 1 Search API query
  (`email:"…"`, any letter case; it lags a minute, up to an hour in incidents, hence the
  fresh list): 2 requests; only when Search finds nobody (or there is no Search), 1 more
  list of the email with its ASCII letters lower-cased, before `needs_info` (SPEC §5c);
  GitHub username → 1 search on `metadata[key]`, + 1 list of the customers created in
  the last SEARCH_LAG seconds when search finds nobody (without search: up to
  SCAN_PAGES pages of 100 customers, newest first).
- state round, all customers concurrently: per customer `subscriptions.list(status=all)`
  (latest invoice and its payments, the subscription's card and its coupons expanded),
  `charges.list` (refunds expanded) and `invoices.list` (payments expanded), pages of
  100; the customer only if the lookup did not read it; plus 1
  `billing_portal.configurations.list` for the account.
- only when needed: further pages of charges and invoices back to the start of the oldest
  live subscription (HISTORY_PAGES at most, else `history_truncated` says so), the rest
  of the subscriptions, and the prices whose tiers or currency option a list does not
  carry (one request per price).

One customer found by ID: 1 + 4 = 5 requests; by email: 2 + 4 = 6.

`compat` mode (only when asked for: `BILLINGOPS_SANDBOX=localstripe`; `api_base` alone
changes only the address, so a proxy or a fixture server gets Stripe's real requests): no
Search API, no billing portal read (localstripe has neither), no `payments` expansion, no
`reason` / `cancellation_details` on writes, no server-side `created` filter; emails and
GitHub usernames are matched, case-insensitively, in one shared page of 100 customers (a
sandbox is small).
"""

from __future__ import annotations

from billingops._billing.client import (
    API_VERSION,
    HISTORY_PAGE_SIZE,
    HISTORY_PAGES,
    MAX_NETWORK_RETRIES,
    PRICE_EXPAND,
    REFUND_REASON,
    SCAN_LIMIT,
    SCAN_PAGES,
    SEARCH_LAG,
    TIMEOUT_SECONDS,
)
from billingops._billing.listing import (
    REPORT_MAX_ATTEMPTS,
    REPORT_MAX_CONNECT_ATTEMPTS,
    ListingStats,
    RateLimiter,
    default_report_workers,
    iter_report_subscriptions,
    report_products,
)
from billingops._billing.probes import (
    IdentityProbe,
    KeyProbe,
    KeyProblem,
    LoginCoverage,
    Probes,
    permission_for,
)
from billingops._billing.reads import Reads
from billingops._billing.translate import (
    complete_prices,
    link_charges,
    prices_to_complete,
    redact,
    to_charge,
    to_customer,
    to_discount,
    to_invoice,
    to_item,
    to_listed,
    to_payment_method,
    to_portal,
    to_refund,
    to_subscription,
)
from billingops._billing.writes import Writes

__all__ = [
    "API_VERSION",
    "HISTORY_PAGES",
    "HISTORY_PAGE_SIZE",
    "MAX_NETWORK_RETRIES",
    "PRICE_EXPAND",
    "REFUND_REASON",
    "REPORT_MAX_ATTEMPTS",
    "REPORT_MAX_CONNECT_ATTEMPTS",
    "SCAN_LIMIT",
    "SCAN_PAGES",
    "SEARCH_LAG",
    "TIMEOUT_SECONDS",
    "KeyProbe",
    "KeyProblem",
    "ListingStats",
    "LoginCoverage",
    "RateLimiter",
    "StripeGateway",
    "complete_prices",
    "default_report_workers",
    "iter_report_subscriptions",
    "link_charges",
    "permission_for",
    "prices_to_complete",
    "redact",
    "report_products",
    "to_charge",
    "to_customer",
    "to_discount",
    "to_invoice",
    "to_item",
    "to_listed",
    "to_payment_method",
    "to_portal",
    "to_refund",
    "to_subscription",
]


class StripeGateway(Reads, Writes, Probes, IdentityProbe):
    """`BillingSource` over the Stripe API (or another address: `api_base`)."""
