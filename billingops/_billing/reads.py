"""Reads: who the ticket's identifiers lead to (`lookup`), the customers' billing state
(`read_state`) and every subscription of the account (`iter_subscriptions`)."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from functools import partial
from typing import Any

from billingops._billing.client import (
    _ID_PREFIXES,
    HISTORY_PAGES,
    PRICE_EXPAND,
    SCAN_LIMIT,
    SCAN_PAGES,
    SEARCH_LAG,
    StripeClientBase,
    _Page,
)
from billingops._billing.translate import (
    _charged_card,
    _dedupe,
    _id,
    _meta,
    _quote,
    _username_of,
    complete_prices,
    link_charges,
    prices_to_complete,
    to_charge,
    to_customer,
    to_invoice,
    to_portal,
    to_subscription,
)
from billingops.errors import BadInput, NotFound
from billingops.models.billing import (
    BillingState,
    Customer,
    Invoice,
    Lookups,
    PortalCapabilities,
    Subscription,
)
from billingops.models.text import ascii_lower, email_key


class Reads(StripeClientBase):
    # -- lookup -------------------------------------------------------------------------

    def lookup(
        self,
        *,
        stripe_ids: list[str],
        emails: list[str],
        github_username: str | None,
        metadata_key: str,
    ) -> Lookups:
        by_id: dict[str, list[str]] = {}
        by_email: dict[str, list[str]] = {}
        by_user: dict[str, list[str]] = {}
        tasks: list[Callable[[], None]] = []

        for sid in _dedupe(stripe_ids):
            kind = next((k for p, k in _ID_PREFIXES.items() if sid.startswith(p)), None)
            if kind is None:
                by_id[sid] = []
                continue
            tasks.append(partial(self._owner_into, by_id, kind, sid))

        emails = _dedupe(e.strip() for e in emails if e and e.strip())
        if self.compat and (emails or github_username):
            tasks.append(
                partial(self._scan, emails, github_username, metadata_key, by_email, by_user)
            )
        else:
            for email in emails:
                tasks.append(partial(self._by_email_into, by_email, email))
            if github_username:
                tasks.append(
                    partial(self._by_username_into, by_user, github_username, metadata_key)
                )
        self._concurrently(tasks)

        with self._lock:
            every = [*by_id.values(), *by_email.values(), *by_user.values()]
            seen = {c for ids in every for c in ids}
            known = {cid: self._customers[cid] for cid in seen if cid in self._customers}
        deleted = sorted(cid for cid in seen if cid in known and known[cid].get("deleted"))
        return Lookups(
            by_id=by_id,
            by_email=by_email,
            by_github_username=by_user,
            deleted=deleted,
            emails={cid: known[cid].get("email") if cid in known else None for cid in sorted(seen)},
        )

    def _owner_into(self, out: dict[str, list[str]], kind: str, object_id: str) -> None:
        out[object_id] = self._owner(kind, object_id)

    def _by_email_into(self, out: dict[str, list[str]], email: str) -> None:
        out[email] = self._by_email(email)

    def _by_username_into(self, out: dict[str, list[str]], username: str, key: str) -> None:
        out[username] = self._by_username(username, key)

    def _owner(self, kind: str, object_id: str) -> list[str]:
        """The customer behind one Stripe id, read with its customer in one request."""
        v1 = self._client.v1
        if kind == "customer":
            try:
                cus = self._call(
                    "read a customer",
                    lambda: v1.customers.retrieve(
                        object_id, params={"expand": self._customer_expand()}
                    ),
                )
            except NotFound:
                return []
            return [cid] if (cid := self._remember(cus.to_dict())) else []
        service = {
            "subscription": v1.subscriptions,
            "invoice": v1.invoices,
            "charge": v1.charges,
            "payment_intent": v1.payment_intents,
        }[kind]
        expand = ["customer", *self._customer_expand("customer.")]
        try:
            obj = self._call(
                f"read a {kind}",
                lambda: service.retrieve(object_id, params={"expand": expand}),
            )
        except NotFound:
            # localstripe 404s the whole request when the expanded customer was deleted
            # (Stripe returns a `deleted` stub instead): read the object alone.
            try:
                obj = self._call(f"read a {kind}", lambda: service.retrieve(object_id))
            except NotFound:
                return []
            cid = _id(obj.to_dict().get("customer"))
            if cid:
                with self._lock:
                    self._customers.setdefault(cid, {"id": cid, "deleted": True})
            return [cid] if cid else []
        cid = self._remember(obj.to_dict().get("customer"))
        return [cid] if cid else []

    def _list_customers(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        params = {**params, "expand": self._customer_expand("data.")}
        page = self._call("list customers", lambda: self._client.v1.customers.list(params=params))
        return [c.to_dict() for c in page.data]

    def _search_customers(self, query: str) -> list[dict[str, Any]]:
        """Search API; [] (and no more searches) where the endpoint does not exist."""
        if not self._search:
            return []
        params = {"query": query, "limit": 100, "expand": self._customer_expand("data.")}
        try:
            page = self._call(
                "search customers", lambda: self._client.v1.customers.search(params=params)
            )
        except (NotFound, BadInput):
            # No Search API here (404), or not for this account or key (Stripe offers no
            # search to some regions; a 400 / 403): lists from now on.
            self._search = False
            return []
        return [c.to_dict() for c in page.data]

    def _by_email(self, email: str) -> list[str]:
        # The list filter is exact and case-sensitive; Search is not, but lags new and
        # changed data (a minute, up to an hour in incidents: SPEC §5c). So: the email as
        # given (fresh customers) and Search (any letter case) together; where Search finds
        # nobody (or there is none), the lower-cased email is listed too before the ticket
        # is answered `needs_info`: one more request, on a Search miss only (SPEC §8).
        found: list[dict[str, Any]] = []
        tasks: list[Callable[[], list[dict[str, Any]]]] = [
            partial(self._list_customers, {"email": email, "limit": 100}),
            partial(self._search_customers, f"email:{_quote(email)}"),
        ]
        listed, searched = self._concurrently(tasks)
        found = listed + searched
        # SPEC §5a: ASCII letters only are lower-cased; an email with any other character
        # is matched exactly as written (a look-alike letter is another person).
        wanted = email_key(email)

        def matches(c: Mapping[str, Any]) -> bool:
            return email_key(str(c.get("email") or "")) == wanted and not c.get("deleted")

        lowered = ascii_lower(email.strip())
        if not any(matches(c) for c in searched) and lowered != email:
            found += self._list_customers({"email": lowered, "limit": 100})
        ids = [self._remember(c) for c in found if matches(c)]
        return _dedupe(i for i in ids if i)

    def _by_username(self, username: str, key: str) -> list[str]:
        found = self._search_customers(f"metadata[{_quote(key)}]:{_quote(username)}")
        wanted = ascii_lower(username)
        if self._search and not any(_username_of(c, key) == wanted for c in found):
            # Search lags new customers by up to a minute: the customers created since.
            since = int(self._clock()) - SEARCH_LAG
            found += self._list_customers({"limit": SCAN_LIMIT, "created": {"gte": since}})
        if not self._search:  # no Search API: the newest customers, a bounded scan
            found = self._scan_customers(SCAN_PAGES)
        ids = [
            self._remember(c)
            for c in found
            if ascii_lower(str(_meta(c.get("metadata")).get(key, ""))) == wanted
        ]
        return _dedupe(i for i in ids if i)

    def _scan_customers(self, pages: int) -> list[dict[str, Any]]:
        """Up to `pages` pages of 100 customers, newest first."""
        out: list[dict[str, Any]] = []
        params: dict[str, Any] = {"limit": SCAN_LIMIT}
        for _ in range(pages):
            listed = {**params, "expand": self._customer_expand("data.")}
            batch, has_more = self._list_page("customers", listed)
            out += batch
            if not has_more or not batch:
                break
            params = {"limit": SCAN_LIMIT, "starting_after": batch[-1]["id"]}
        return out

    def _scan(
        self,
        emails: list[str],
        username: str | None,
        key: str,
        by_email: dict[str, list[str]],
        by_user: dict[str, list[str]],
    ) -> None:
        """compat: one page of customers, matched here case-insensitively."""
        customers = [c for c in self._list_customers({"limit": SCAN_LIMIT}) if not c.get("deleted")]
        for email in emails:
            wanted = email_key(email)
            by_email[email] = [
                str(c["id"]) for c in customers if email_key(str(c.get("email") or "")) == wanted
            ]
        if username:
            wanted = ascii_lower(username)
            by_user[username] = [
                str(c["id"])
                for c in customers
                if ascii_lower(_meta(c.get("metadata")).get(key, "")) == wanted
            ]
        for c in customers:
            self._remember(c)

    # -- state --------------------------------------------------------------------------

    def read_state(self, customer_ids: list[str]) -> BillingState:
        """Round 1, concurrently: per customer its subscriptions, a page of 100 charges
        (refunds expanded) and a page of 100 invoices (payments expanded), plus the portal.
        Round 2, only where round 1 did not reach far enough: further pages of charges back
        to the start of the customer's oldest live subscription (a past-due customer's
        failed retries must not push a paid or disputed charge out of view), and the rest of
        the subscriptions, up to HISTORY_PAGES pages each."""
        ids = _dedupe(customer_ids)
        tasks: list[Callable[[], Any]] = []
        for cid in ids:
            tasks += [
                partial(self._customer, cid),
                partial(self._first_page, "subscriptions", cid),
                partial(self._first_page, "charges", cid),
                partial(self._first_page, "invoices", cid),
            ]
        tasks.append(self.portal_capabilities)
        results = self._concurrently(tasks)
        portal: PortalCapabilities = results[-1]
        customers: list[Customer] = []
        pages: dict[tuple[str, str], _Page] = {}
        for i, cid in enumerate(ids):
            customer, subs_page, charges_page, invoices_page = results[4 * i : 4 * i + 4]
            customers.append(customer)
            pages[(cid, "subscriptions")] = subs_page
            pages[(cid, "charges")] = charges_page
            pages[(cid, "invoices")] = invoices_page
        more: list[Callable[[], None]] = []
        for cid in ids:
            if pages[(cid, "subscriptions")].has_more:
                more.append(partial(self._more, pages[(cid, "subscriptions")], cid, None))
        self._concurrently(more)
        if not self.compat:
            raw_subs = [d for cid in ids for d in pages[(cid, "subscriptions")].data]
            wanted = _dedupe(pid for d in raw_subs for pid in prices_to_complete(d))
            self._concurrently([partial(self._price, pid) for pid in wanted])
            for cid in ids:
                page = pages[(cid, "subscriptions")]
                page.data = [complete_prices(d, self._prices) for d in page.data]
        subs = [to_subscription(d) for cid in ids for d in pages[(cid, "subscriptions")].data]
        more = []
        for cid in ids:
            horizon = min((s.start_date for s in subs if s.customer_id == cid and s.live),
                          default=None)  # fmt: skip
            for kind in ("charges", "invoices"):
                page = pages[(cid, kind)]
                if page.has_more and horizon is not None and page.oldest() >= horizon:
                    more.append(partial(self._more, page, cid, horizon))
        self._concurrently(more)
        invoices: dict[str, Invoice] = {}
        for cid in ids:
            for d in pages[(cid, "subscriptions")].data:
                if isinstance(d.get("latest_invoice"), Mapping):
                    inv = to_invoice(d["latest_invoice"])
                    invoices[inv.id] = inv
            for d in pages[(cid, "invoices")].data:
                inv = to_invoice(d)
                invoices[inv.id] = inv
        charges = [to_charge(d) for cid in ids for d in pages[(cid, "charges")].data]
        customers = [_charged_card(c, subs) for c in customers]
        invoice_list = sorted(invoices.values(), key=lambda x: (-x.created, x.id))
        truncated = sorted(
            f"{kind} of {cid}" for (cid, kind), page in pages.items() if page.truncated
        )
        return BillingState(
            customers=customers,
            subscriptions=sorted(subs, key=lambda s: (s.created, s.id)),
            invoices=invoice_list,
            charges=sorted(link_charges(charges, invoice_list), key=lambda c: (-c.created, c.id)),
            portal=portal,
            as_of=int(self._clock()),
            history_truncated=truncated,
        )

    def _customer(self, cid: str) -> Customer:
        with self._lock:
            cached = self._customers.get(cid)
        if cached is None:
            try:
                cached = self._call(
                    "read a customer",
                    lambda: self._client.v1.customers.retrieve(
                        cid, params={"expand": self._customer_expand()}
                    ),
                ).to_dict()
            except NotFound:
                cached = {"id": cid, "deleted": True}
        assert cached is not None
        return to_customer(cached)

    def _price(self, price_id: str) -> dict[str, Any]:
        """One price with its tiers and currency options, read once per gateway."""
        with self._lock:
            if price_id in self._prices:
                return self._prices[price_id]
        try:
            obj = self._call(
                "read a price",
                lambda: self._client.v1.prices.retrieve(price_id, params={"expand": PRICE_EXPAND}),
            ).to_dict()
        except (NotFound, BadInput):
            obj = {}
        with self._lock:
            self._prices[price_id] = obj
        return dict(obj)

    def _first_page(self, kind: str, cid: str) -> _Page:
        try:
            data, has_more = self._list_page(kind, self._list_params(kind, cid))
        except NotFound:  # localstripe: the customer is gone
            return _Page(kind, [], False)
        return _Page(kind, data, has_more)

    def _more(self, page: _Page, cid: str, horizon: int | None) -> None:
        """Further pages (newest first) until the horizon is passed or the list ends."""
        pages = 1
        while page.has_more and (horizon is None or page.oldest() >= horizon):
            if pages >= HISTORY_PAGES:
                page.truncated = True
                return
            params = {**self._list_params(page.kind, cid), "starting_after": page.data[-1]["id"]}
            data, page.has_more = self._list_page(page.kind, params)
            page.data += data
            pages += 1
            if not data:
                return

    def portal_capabilities(self) -> PortalCapabilities:
        """The active billing portal configuration; `unknown` where it cannot be read
        (localstripe, or a restricted key without portal access): the caller uses config."""
        if self.compat:
            return PortalCapabilities(source="unknown")
        try:
            page = self._call(
                "read the billing portal configuration",
                lambda: self._client.v1.billing_portal.configurations.list(
                    params={"active": True, "limit": 10}
                ),
            )
        except (NotFound, BadInput):
            return PortalCapabilities(source="unknown")
        return to_portal(c.to_dict() for c in page.data)

    # -- report -------------------------------------------------------------------------

    def iter_subscriptions(
        self, *, created_gte: int | None = None, created_lt: int | None = None
    ) -> Iterator[Subscription]:
        """Every subscription (all statuses), 100 per page, newest first. The `created`
        bounds go to Stripe and are also applied here (compat: only here)."""
        params: dict[str, Any] = {"status": "all", "limit": 100}
        created = {k: v for k, v in (("gte", created_gte), ("lt", created_lt)) if v is not None}
        if created and not self.compat:
            params["created"] = created
        page = self._call(
            "list subscriptions", lambda: self._client.v1.subscriptions.list(params=params)
        )
        pages = page.auto_paging_iter()
        while True:
            obj = self._call("list subscriptions", lambda: next(pages, None))
            if obj is None:
                return
            sub = to_subscription(obj.to_dict())
            if created_gte is not None and sub.created < created_gte:
                continue
            if created_lt is not None and sub.created >= created_lt:
                continue
            yield sub
