"""A small current-API Stripe stand-in: the shapes of API `2026-10-28.endive` (stripe-python
16.1) served over HTTP to the real SDK, where localstripe speaks an older API.

It is a store of JSON objects (built by the tests from stripe-python's resource
definitions) plus the parts of Stripe's behaviour that matter for safety:

- lists are newest first (`created` descending), paged with `limit` / `starting_after` and
  `has_more`, filtered by `customer`, `charge`, `email`, `status` and `created[gte|lt]`;
- `expand` of stored ids (`customer`, `data.latest_invoice`, ...), `refunds` of a charge
  and `payments` of an invoice as list objects; a price's `tiers` and `currency_options`
  only when a price is retrieved with them expanded (never inside a subscription list);
- the Search API for `email:"…"` and `metadata["key"]:"…"` (case-insensitive);
- writes: `POST /v1/refunds` (400 `charge_disputed`, `charge_already_refunded`,
  `amount_too_large` as Stripe answers them), `POST /v1/subscriptions/:id` and
  `DELETE /v1/subscriptions/:id`;
- subscriptions as Stripe has them (SPEC §5c): `DELETE` of a canceled subscription is a
  404 `resource_missing`; a canceled one still takes `metadata` and
  `cancellation_details` (nothing else); one with a `schedule` refuses
  `cancel_at_period_end`; `paused` is a status like any other;
- every request checked against stripe-python 16's description of the endpoint
  (`stripe_contract`): what Stripe would refuse is a 400 `invalid_request_error`, kept in
  `violations` (leaving the `with` block with violations fails the test);
- idempotency as Stripe documents it: a POST with a key seen before gets the first answer
  again, errors included (`Idempotent-Replayed: true`), except a request refused before
  it executed (a validation error: nothing is stored, a retry runs afresh); the same key
  with other parameters is a 400 `idempotency_error`; DELETE ignores the key;
- faults injected at the HTTP layer: `fail_next(method, path, status, body)`.

Every request is recorded (`requests`) so tests can count and inspect them.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from billingops.sandbox.loopback import LoopbackService

_PREFIX_COLLECTION = {
    "cus_": "customers",
    "sub_": "subscriptions",
    "in_": "invoices",
    "ch_": "charges",
    "py_": "charges",
    "pi_": "payment_intents",
    "re_": "refunds",
    "dp_": "disputes",
    "price_": "prices",
    "prod_": "products",
    "pm_": "payment_methods",
    "inpay_": "invoice_payments",
    "bpc_": "billing_portal/configurations",
}
COLLECTIONS = sorted(set(_PREFIX_COLLECTION.values()))


def collection_of(object_id: str) -> str | None:
    return next((c for p, c in _PREFIX_COLLECTION.items() if object_id.startswith(p)), None)


def parse_params(pairs: list[tuple[str, str]]) -> dict[str, Any]:
    """Stripe form encoding back to nested values: `a[b][0]=x` → {"a": {"b": ["x"]}}."""
    root: dict[str, Any] = {}
    for raw_key, value in pairs:
        parts = raw_key.replace("]", "").split("[")
        node = root
        for part in parts[:-1]:
            node = node.setdefault(part, {})
        node[parts[-1]] = value

    def lists(v: Any) -> Any:
        if isinstance(v, dict):
            if v and all(k.isdigit() for k in v):
                return [lists(v[k]) for k in sorted(v, key=int)]
            return {k: lists(x) for k, x in v.items()}
        return v

    out: dict[str, Any] = lists(root)
    return out


def error(status: int, message: str, code: str | None = None, kind: str = "") -> dict[str, Any]:
    err: dict[str, Any] = {"type": kind or "invalid_request_error", "message": message}
    if code:
        err["code"] = code
    return {"error": err}


@dataclass
class Recorded:
    method: str
    path: str
    params: dict[str, Any]
    idempotency_key: str | None
    replayed: bool = False


class CurrentApiServer(LoopbackService):
    """`with CurrentApiServer() as api: api.add(obj, ...); StripeGateway(key, api.base_url)`."""

    def __init__(
        self, *, refund_status: str = "succeeded", now: int = 1_790_000_000, strict: bool = True
    ) -> None:
        # Every request is checked against what stripe-python says the endpoint takes
        # (`stripe_contract`); what Stripe would refuse is answered 400 and kept here.
        self.strict = strict
        self.violations: list[str] = []
        self.objects: dict[str, dict[str, Any]] = {}
        self.requests: list[Recorded] = []
        self.refund_status = refund_status
        self.now = now
        self._faults: list[tuple[str, str, int, dict[str, Any]]] = []
        # (path prefix, expansion or None): a restricted key without that permission.
        self._denied: list[tuple[str, str | None]] = []
        # Search finds a customer only this many seconds after it was created (Stripe: up
        # to a minute).
        self.search_lag = 0
        self._keys: dict[str, tuple[str, str, str, int, dict[str, Any]]] = {}
        self._counter = 0
        self._lock = threading.RLock()

    # -- set-up -------------------------------------------------------------------------

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self._port}"

    def add(self, *objects: Mapping[str, Any]) -> None:
        with self._lock:
            for obj in objects:
                self.objects[str(obj["id"])] = json.loads(json.dumps(obj))

    def fail_next(
        self, method: str, path: str, status: int, body: dict[str, Any] | None = None
    ) -> None:
        """The next `method path` request (path prefix) gets this answer instead."""
        with self._lock:
            self._faults.append((method.upper(), path, status, body or error(status, "fault")))

    def deny(self, path: str, expansion: str | None = None) -> None:
        """403 for GETs under `path` (only those expanding `expansion`, if given), as
        Stripe answers a restricted key that lacks the permission."""
        with self._lock:
            self._denied.append((path, expansion))

    def calls(self, method: str = "", path: str = "") -> list[Recorded]:
        with self._lock:
            return [
                r
                for r in self.requests
                if (not method or r.method == method.upper()) and r.path.startswith(path)
            ]

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        return _make_handler(self)

    def __exit__(self, *exc: object) -> None:
        self.stop()
        if self.violations and exc[0] is None:
            raise AssertionError(
                "requests Stripe would refuse (stripe-python 16's description): "
                + "; ".join(self.violations)
            )

    # -- behaviour ----------------------------------------------------------------------

    def handle(
        self, method: str, path: str, params: dict[str, Any], key: str | None
    ) -> tuple[int, dict[str, Any], dict[str, str]]:
        with self._lock:
            record = Recorded(method, path, params, key)
            self.requests.append(record)
            if self.strict and not path.startswith("/_"):
                from billingops.sandbox import stripe_contract

                found = stripe_contract.check(method, path, params)
                if found:
                    # Refused before executing: nothing stored under the key (Stripe saves
                    # an idempotent result only once the endpoint started executing).
                    self.violations += [f"{method} {path}: {v}" for v in found]
                    return 400, stripe_contract.error_body(found), {}
            fingerprint = json.dumps(params, sort_keys=True)
            # Stripe honours Idempotency-Key on POST only (a DELETE runs again).
            if method == "POST" and key and key in self._keys:
                m, p, f, status, body = self._keys[key]
                if (m, p, f) != (method, path, fingerprint):
                    return (
                        400,
                        error(
                            400,
                            "Keys for idempotent requests can only be used with the same "
                            "parameters they were first used with.",
                            kind="idempotency_error",
                        ),
                        {},
                    )
                record.replayed = True
                return status, body, {"Idempotent-Replayed": "true"}
            status, body = self._answer(method, path, params)
            if method == "POST" and key:
                self._keys[key] = (method, path, fingerprint, status, body)
            return status, body, {}

    def _answer(self, method: str, path: str, params: dict[str, Any]) -> tuple[int, Any]:
        for prefix, expansion in self._denied:
            expand = params.get("expand") or []
            if (
                method == "GET"
                and path.startswith(prefix)
                and (expansion is None or expansion in expand)
            ):
                return 403, error(
                    403,
                    "The provided key does not have the required permissions for this endpoint.",
                    kind="invalid_request_error",
                )
        for i, (m, prefix, status, body) in enumerate(self._faults):
            if m == method and path.startswith(prefix):
                del self._faults[i]
                return status, body
        parts = path.strip("/").split("/")[1:]  # drop "v1"
        if method == "POST" and parts == ["refunds"]:
            return self._create_refund(params)
        if method in ("POST", "DELETE") and len(parts) == 2 and parts[0] == "subscriptions":
            return self._write_subscription(method, parts[1], params)
        if method != "GET":
            return 404, error(404, "Unrecognized request URL")
        if parts == ["customers", "search"]:
            return 200, self._search(params)
        collection = "/".join(parts)
        if collection in COLLECTIONS:
            return 200, self._list(collection, params)
        obj_id = parts[-1]
        found = self.objects.get(obj_id)
        if found is None or collection_of(obj_id) != "/".join(parts[:-1]):
            return 404, error(404, f"No such object: '{obj_id}'", "resource_missing")
        return 200, self._expand(found, _expansions(params, ""), top=True)

    # reads

    def _matches(self, obj: Mapping[str, Any], collection: str, params: dict[str, Any]) -> bool:
        if collection_of(str(obj["id"])) != collection:
            return False
        for name in ("customer", "charge", "payment_intent", "invoice"):
            if name in params and _ref(obj.get(name)) != params[name]:
                return False
        if "email" in params and obj.get("email") != params["email"]:
            return False
        if collection == "subscriptions":
            wanted = params.get("status")
            if wanted is None and obj.get("status") in ("canceled", "incomplete_expired"):
                return False
            if wanted not in (None, "all") and obj.get("status") != wanted:
                return False
        if "active" in params and str(obj.get("active", True)).lower() != params["active"]:
            return False
        created = params.get("created")
        if isinstance(created, dict):
            c = int(obj.get("created") or 0)
            if "gte" in created and c < int(created["gte"]):
                return False
            if "lt" in created and c >= int(created["lt"]):
                return False
        return True

    def _page(self, found: list[dict[str, Any]], params: dict[str, Any], url: str) -> Any:
        found.sort(key=lambda o: (-int(o.get("created") or 0), str(o["id"])), reverse=False)
        if "starting_after" in params:
            ids = [str(o["id"]) for o in found]
            at = ids.index(params["starting_after"]) + 1 if params["starting_after"] in ids else 0
            found = found[at:]
        limit = int(params.get("limit", 10))
        page = found[:limit]
        expand = _expansions(params, "data.")
        return {
            "object": "list",
            "url": url,
            "has_more": len(found) > limit,
            "data": [self._expand(o, expand) for o in page],
        }

    def _list(self, collection: str, params: dict[str, Any]) -> Any:
        found = [o for o in self.objects.values() if self._matches(o, collection, params)]
        return self._page(found, params, f"/v1/{collection}")

    def _search(self, params: dict[str, Any]) -> Any:
        query = str(params.get("query", ""))
        field, _, value = query.partition(":")
        value = json.loads(value) if value.startswith('"') else value
        found = []
        for o in self.objects.values():
            if collection_of(str(o["id"])) != "customers" or o.get("deleted"):
                continue
            if int(o.get("created") or 0) > self.now - self.search_lag:
                continue  # not indexed yet
            if field == "email":
                have = o.get("email")
            elif field.startswith("metadata["):
                have = (o.get("metadata") or {}).get(json.loads(field[len("metadata[") : -1]))
            else:
                have = None
            if isinstance(have, str) and have.casefold() == str(value).casefold():
                found.append(o)
        page = self._page(found, params, "/v1/customers/search")
        page["object"] = "search_result"
        return page

    def _expand(
        self, obj: Mapping[str, Any], paths: list[list[str]], *, top: bool = False
    ) -> dict[str, Any]:
        out = json.loads(json.dumps(obj))
        oid = str(out.get("id", ""))
        # Includable fields of a price: only there when asked for (`expand[]=tiers`).
        if collection_of(oid) == "prices" and top:
            for name in _INCLUDABLE:
                if [name] not in paths:
                    out[name] = None
        if collection_of(oid) == "subscriptions":
            for it in _get_items(out):
                price = it.get("price")
                if isinstance(price, dict):
                    for name in _INCLUDABLE:
                        price[name] = None
        # Sub-lists Stripe includes when expanded (current API: not by default).
        if collection_of(oid) == "charges" and any(p[:1] == ["refunds"] for p in paths):
            out["refunds"] = self._list("refunds", {"charge": oid, "limit": 100})
        if collection_of(oid) == "invoices" and any(p[:1] == ["payments"] for p in paths):
            out["payments"] = self._list(
                "invoice_payments", {"invoice": oid, "limit": 100, "expand": []}
            )
        for path in paths:
            head, rest = path[0], path[1:]
            value = out.get(head)
            if isinstance(value, str) and value in self.objects:
                out[head] = self._expand(self.objects[value], [rest] if rest else [])
            elif isinstance(value, dict) and rest:
                if value.get("object") == "list":
                    value["data"] = [self._expand(v, [rest[1:]]) for v in value.get("data", [])]
                else:
                    out[head] = self._expand(value, [rest])
        return dict(out)

    # writes

    def _new_id(self, prefix: str) -> str:
        self._counter += 1
        return f"{prefix}{self._counter:014d}"

    def _create_refund(self, params: dict[str, Any]) -> tuple[int, Any]:
        charge = self.objects.get(str(params.get("charge", "")))
        if charge is None:
            return 404, error(404, "No such charge", "resource_missing")
        if charge.get("disputed"):
            return 400, error(400, "This charge has been disputed.", "charge_disputed")
        left = int(charge["amount_captured"]) - int(charge.get("amount_refunded") or 0)
        if left <= 0 or charge.get("refunded"):
            return 400, error(400, "Charge has already been refunded.", "charge_already_refunded")
        amount = int(params.get("amount", left))
        if amount > left:
            return 400, error(400, "Refund amount is greater than unrefunded amount.",
                              "amount_too_large")  # fmt: skip
        refund = {
            "id": self._new_id("re_"),
            "object": "refund",
            "amount": amount,
            "charge": charge["id"],
            "created": self.now,
            "currency": charge["currency"],
            "metadata": params.get("metadata") or {},
            "payment_intent": charge.get("payment_intent"),
            "reason": params.get("reason"),
            "status": self.refund_status,
            "failure_reason": None,
        }
        self.objects[refund["id"]] = refund
        if self.refund_status not in ("failed", "canceled"):
            charge["amount_refunded"] = int(charge.get("amount_refunded") or 0) + amount
            charge["refunded"] = charge["amount_refunded"] >= int(charge["amount_captured"])
        return 200, refund

    def _write_subscription(
        self, method: str, sub_id: str, params: dict[str, Any]
    ) -> tuple[int, Any]:
        sub = self.objects.get(sub_id)
        if sub is None or collection_of(sub_id) != "subscriptions":
            return 404, error(404, f"No such subscription: '{sub_id}'", "resource_missing")
        ended = sub.get("status") in ("canceled", "incomplete_expired")
        if ended and method == "DELETE":
            # Stripe: a canceled subscription is gone for the cancel endpoint.
            return 404, error(404, f"No such subscription: '{sub_id}'", "resource_missing")
        if ended and set(params) - {"metadata", "cancellation_details", "expand"}:
            return 400, error(
                400,
                "A canceled subscription can only update its cancellation_details and metadata.",
            )
        if method == "POST" and "cancel_at_period_end" in params and sub.get("schedule"):
            return 400, error(
                400,
                "The subscription is managed by the subscription schedule "
                f"`{_ref(sub['schedule'])}`, and updating any cancelation behavior directly is "
                "not allowed. Please update the schedule instead.",
            )
        if "metadata" in params:
            merged = {**(sub.get("metadata") or {}), **params["metadata"]}
            sub["metadata"] = {k: v for k, v in merged.items() if v != ""}  # "" unsets
        if "cancellation_details" in params:
            sub["cancellation_details"] = {
                "comment": None,
                "feedback": None,
                "reason": "cancellation_requested",
                **params["cancellation_details"],
            }
        if method == "DELETE":
            sub.update(status="canceled", canceled_at=self.now, ended_at=self.now)
        elif str(params.get("cancel_at_period_end")) == "true":
            ends = [i.get("current_period_end") for i in sub["items"]["data"]]
            sub.update(cancel_at_period_end=True, cancel_at=min(e for e in ends if e))
        return 200, self._expand(sub, [])


_INCLUDABLE = ("tiers", "currency_options")


def _get_items(sub: Mapping[str, Any]) -> list[dict[str, Any]]:
    items = sub.get("items")
    data = items.get("data") if isinstance(items, Mapping) else None
    return [i for i in data if isinstance(i, dict)] if isinstance(data, list) else []


def _ref(value: Any) -> Any:
    return value.get("id") if isinstance(value, Mapping) else value


def _expansions(params: Mapping[str, Any], prefix: str) -> list[list[str]]:
    raw = params.get("expand") or []
    paths = []
    for e in raw if isinstance(raw, list) else [raw]:
        e = str(e)
        if prefix and not e.startswith(prefix):
            continue
        paths.append(e[len(prefix) :].split("."))
    return paths


def _make_handler(server: CurrentApiServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def _serve(self, method: str) -> None:
            url = urlsplit(self.path)
            pairs = parse_qsl(url.query, keep_blank_values=True)
            length = int(self.headers.get("Content-Length") or 0)
            if length:
                pairs += parse_qsl(self.rfile.read(length).decode(), keep_blank_values=True)
            status, body, headers = server.handle(
                method, url.path, parse_params(pairs), self.headers.get("Idempotency-Key")
            )
            raw = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(raw)))
            self.send_header("Request-Id", f"req_{len(server.requests)}")
            for k, v in headers.items():
                self.send_header(k, v)
            self.end_headers()
            self.wfile.write(raw)

        def do_GET(self) -> None:
            self._serve("GET")

        def do_POST(self) -> None:
            self._serve("POST")

        def do_DELETE(self) -> None:
            self._serve("DELETE")

        def log_message(self, format: str, *args: Any) -> None:
            pass

    return Handler
