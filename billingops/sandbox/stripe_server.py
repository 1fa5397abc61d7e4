"""Run localstripe in a child process on a private loopback port.

Why a launcher of our own instead of the `localstripe` console script:

- localstripe binds `::` (every interface) and pickles its whole store to the fixed
  file /tmp/localstripe.pickle on every write, so two instances (two test sessions, the
  demo and the tests) would share and clobber one state. The child here binds a socket
  the parent already bound on 127.0.0.1 (passed by file descriptor: no port race, no
  other interface), and turns the disk store off.
- A few control routes under `/_config/billingops/` (localstripe does not authenticate
  `/_config/`) make seeding deterministic and scenarios faithful: a reset that also seeds
  the id generator and sets the clock, a settable clock, and a whitelisted patch of fields
  localstripe cannot set through its API (a `trialing` or `unpaid` status, `disputed`,
  a back-dated `created`).
- Subscription periods roll forward to the period containing "now", as renewals would on
  Stripe (localstripe computes one period from the start date, so a back-dated
  subscription would otherwise end in the past). No renewal invoice is created.

localstripe is an optional extra: the parent only checks that it is importable; only the
child process imports it.
"""

from __future__ import annotations

import contextlib
import importlib.util
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator, Mapping, Sequence
from types import TracebackType
from typing import Any

from billingops.errors import BadInput, OperationalError

# localstripe accepts any key that starts with sk_ and is longer than five characters.
SANDBOX_API_KEY = "sk_test_billingops_sandbox"
# Default seed and clock of a reset: 2025-01-15T12:00:00Z, so seeded ids and timestamps
# are the same on every run.
DEFAULT_SEED = 20250115
DEFAULT_NOW = 1736942400

_HTTP_TIMEOUT = 10.0


class SandboxUnavailable(BadInput):
    """localstripe is not installed (it is the `sandbox` extra)."""


def localstripe_installed() -> bool:
    return importlib.util.find_spec("localstripe") is not None


Params = Mapping[str, Any]


def encode_form(params: Params) -> list[tuple[str, str]]:
    """Stripe-style form encoding: nested dicts as `a[b]`, lists as `a[0]`, bools lower-case."""
    out: list[tuple[str, str]] = []

    def walk(prefix: str, value: Any) -> None:
        if value is None:
            return
        if isinstance(value, Mapping):
            for key, sub in value.items():
                walk(f"{prefix}[{key}]" if prefix else str(key), sub)
        elif isinstance(value, list | tuple):
            for i, sub in enumerate(value):
                walk(f"{prefix}[{i}]", sub)
        elif isinstance(value, bool):
            out.append((prefix, "true" if value else "false"))
        else:
            out.append((prefix, str(value)))

    walk("", params)
    return out


def sandbox_request(
    base_url: str,
    method: str,
    path: str,
    params: Params | None = None,
    *,
    json_body: Params | None = None,
) -> Any:
    """One HTTP call to the sandbox; returns the decoded JSON (None for an empty body).

    Raises `OperationalError` with localstripe's message on an HTTP error.
    """
    url = base_url.rstrip("/") + path
    data: bytes | None = None
    headers = {"Authorization": f"Bearer {SANDBOX_API_KEY}"}
    if json_body is not None:
        data = json.dumps(json_body).encode()
        headers["Content-Type"] = "application/json"
    elif params:
        encoded = urllib.parse.urlencode(encode_form(params))
        if method == "GET":
            url += "?" + encoded
        else:
            data = encoded.encode()
            headers["Content-Type"] = "application/x-www-form-urlencoded"
    req = urllib.request.Request(url, data=data, method=method, headers=headers)
    try:
        with urllib.request.urlopen(req, timeout=_HTTP_TIMEOUT) as resp:
            body = resp.read()
    except urllib.error.HTTPError as exc:
        detail = exc.read().decode(errors="replace")[:300]
        raise OperationalError(f"sandbox {method} {path}: HTTP {exc.code} {detail}") from None
    except OSError as exc:
        raise OperationalError(f"sandbox {method} {path}: {exc}") from None
    return json.loads(body) if body.strip() else None


class StripeServer:
    """localstripe in a child process on 127.0.0.1. Use as a context manager."""

    def __init__(self, *, startup_timeout: float = 20.0, stop_timeout: float = 5.0) -> None:
        self.startup_timeout = startup_timeout
        self.stop_timeout = stop_timeout
        self._proc: subprocess.Popen[bytes] | None = None
        self._stderr: Any = None
        self.port = 0

    @property
    def base_url(self) -> str:
        if self._proc is None:
            raise RuntimeError("the sandbox is not running")
        return f"http://127.0.0.1:{self.port}"

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc else None

    def start(self) -> str:
        if self._proc is not None:
            return self.base_url
        if not localstripe_installed():
            raise SandboxUnavailable(
                "localstripe is not installed; install the sandbox extra: "
                "pip install 'billingops[sandbox]'"
            )
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        try:
            sock.bind(("127.0.0.1", 0))
            sock.listen(64)
            self.port = sock.getsockname()[1]
            fd = sock.fileno()
            self._stderr = tempfile.TemporaryFile()  # noqa: SIM115 - lives as long as the child
            self._proc = subprocess.Popen(
                [sys.executable, "-m", "billingops.sandbox.stripe_server", "--fd", str(fd)],
                pass_fds=(fd,),
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=self._stderr,
                # Not in our process group's terminal signals (Ctrl-C is handled by stop()).
                start_new_session=True,
            )
        finally:
            sock.close()  # the child holds its own copy of the listening socket
        try:
            self._wait_ready()
        except BaseException:
            self.stop()
            raise
        return self.base_url

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + self.startup_timeout
        last = ""
        while time.monotonic() < deadline:
            assert self._proc is not None
            if self._proc.poll() is not None:
                raise OperationalError(f"localstripe exited at start: {self._child_error()}")
            try:
                sandbox_request(self.base_url, "GET", "/v1/customers", {"limit": 1})
                return
            except OperationalError as exc:
                last = str(exc)
            time.sleep(0.05)
        raise OperationalError(
            f"localstripe did not answer within {self.startup_timeout:.0f}s: {last}"
        )

    def _child_error(self) -> str:
        if self._stderr is None:
            return "(no output)"
        self._stderr.seek(0)
        lines = self._stderr.read().decode(errors="replace").strip().splitlines()
        return lines[-1] if lines else "(no output)"

    def reset(self, *, seed: int = DEFAULT_SEED, now: int | None = DEFAULT_NOW) -> None:
        """Empty the store, re-seed the id generator, set the clock (None: real time).

        Falls back to localstripe's own `DELETE /_config/data` (no seed, no clock) when
        the control routes are absent (a localstripe started by someone else).
        """
        reset_sandbox(self.base_url, seed=seed, now=now)

    def stop(self) -> None:
        """Terminate, then kill after `stop_timeout`, and always reap the child."""
        proc, self._proc = self._proc, None
        if proc is not None and proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(self.stop_timeout)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(self.stop_timeout)
        if self._stderr is not None:
            self._stderr.close()
            self._stderr = None

    def __enter__(self) -> StripeServer:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


@contextlib.contextmanager
def running_sandbox(*, seed: int = DEFAULT_SEED, now: int | None = DEFAULT_NOW) -> Iterator[str]:
    """Start localstripe, reset it, yield its base URL, stop it."""
    with StripeServer() as server:
        server.reset(seed=seed, now=now)
        yield server.base_url


def sandbox_violations(base_url: str) -> list[str]:
    """The requests the sandbox refused since its last reset because Stripe would have."""
    try:
        body = sandbox_request(base_url, "GET", "/_config/billingops/violations")
    except OperationalError:
        return []  # a localstripe started by someone else: not checked
    return [str(v) for v in (body or {}).get("violations", [])]


def reset_sandbox(
    base_url: str, *, seed: int = DEFAULT_SEED, now: int | None = DEFAULT_NOW
) -> None:
    try:
        sandbox_request(
            base_url, "POST", "/_config/billingops/reset", json_body={"seed": seed, "now": now}
        )
    except OperationalError as exc:
        if "HTTP 404" not in str(exc) and "HTTP 405" not in str(exc):
            raise
        sandbox_request(base_url, "DELETE", "/_config/data")


# ---------------------------------------------------------------------------------------
# The child process. Everything below runs only in `python -m ...stripe_server --fd N`.

_PATCHABLE: dict[str, frozenset[str]] = {
    "subscription": frozenset(
        [
            "status",
            "created",
            "start_date",
            "trial_start",
            "trial_end",
            "canceled_at",
            "ended_at",
            "cancel_at_period_end",
            "cancel_at",
        ]
    ),
    "charge": frozenset({"disputed", "created"}),
    "refund": frozenset({"status", "failure_reason"}),
    "customer": frozenset({"created"}),
    "invoice": frozenset({"created", "date", "billing_reason"}),
}


class _Clock:
    """Stands in for the `time` module inside localstripe.resources: frozen or real."""

    def __init__(self) -> None:
        self.frozen: float | None = None

    def time(self) -> float:
        return time.time() if self.frozen is None else self.frozen


def _install(app: Any, resources: Any) -> None:
    import calendar
    import random
    from datetime import UTC, datetime, timedelta

    from aiohttp import web

    resources.Store.dump_to_disk = lambda self: None
    resources.Store.try_load_from_disk = lambda self: None
    clock = _Clock()
    resources.time = clock  # localstripe reads the time only through `time.time()`

    def shift(base: datetime, interval: str, n: int) -> datetime:
        """`base` plus n intervals; months clamp to the month's last day, as Stripe does."""
        if interval in ("day", "week"):
            return base + timedelta(days=n * (7 if interval == "week" else 1))
        months = base.month - 1 + n * (12 if interval == "year" else 1)
        year, month = base.year + months // 12, months % 12 + 1
        day = min(base.day, calendar.monthrange(year, month)[1])
        return base.replace(year=year, month=month, day=day)

    def current_period(item: Any) -> dict[str, int]:
        if item._subscription:
            sub = resources.Subscription._api_retrieve(item._subscription)
            start, ended = int(sub.start_date), sub.ended_at
        else:
            start, ended = int(clock.time()), None
        now = int(ended or clock.time())
        base = datetime.fromtimestamp(start, tz=UTC)
        interval, count = item.plan.interval, max(int(item.plan.interval_count or 1), 1)

        def edge(k: int) -> int:
            return int(shift(base, interval, k * count).timestamp())

        k = 0
        while edge(k + 1) <= now and k < 10_000:
            k += 1
        return {"start": edge(k), "end": edge(k + 1)}

    resources.SubscriptionItem._current_period = current_period

    # A refund that failed or was canceled gives the money back to the charge on Stripe
    # (`amount_refunded` drops); localstripe sums every refund. Refunds can be set to
    # `failed` through the patch route below (issue 15: re-checking a refund's status).
    def amount_refunded(charge: Any) -> int:
        return sum(
            r.amount
            for r in charge.refunds._list
            if getattr(r, "status", "succeeded") not in ("failed", "canceled")
        )

    resources.Charge.amount_refunded = property(amount_refunded)

    # Real Stripe keeps metadata sent with a subscription update; localstripe drops it.
    # billingops marks what it cancels through that metadata (exactly once, SPEC §5).
    original_update = resources.Subscription._update

    def update_keeping_metadata(self: Any, metadata: Any = None, **kwargs: Any) -> Any:
        result = original_update(self, **kwargs)
        if metadata:
            merged = {**(self.metadata or {}), **metadata}
            # Stripe: a key set to "" is removed.
            self.metadata = {k: v for k, v in merged.items() if v != ""}
        return result

    resources.Subscription._update = update_keeping_metadata

    # Real Stripe replays a POST with a seen Idempotency-Key; localstripe ignores the key.
    from billingops.sandbox.idempotency import Handler, make_middleware

    idempotency, forget_keys = make_middleware()
    app.middlewares.insert(0, idempotency)

    # Held to Stripe's published API (stripe-python 16's description of it): a request the
    # SDK sends (it carries `Stripe-Version`) that Stripe would refuse is answered 400, as
    # Stripe does, before the idempotency layer (Stripe stores no answer for a request
    # that failed validation), and kept for the tests: `GET /_config/billingops/violations`.
    violations: list[str] = []

    @web.middleware
    async def contract(request: web.Request, handler: Handler) -> web.StreamResponse:
        if not request.path.startswith("/v1/") or "Stripe-Version" not in request.headers:
            return await handler(request)
        from urllib.parse import parse_qsl

        from billingops.sandbox import stripe_contract
        from billingops.sandbox.current_api import parse_params

        pairs = parse_qsl(request.query_string, keep_blank_values=True)
        if request.method == "POST":
            pairs += parse_qsl((await request.read()).decode(), keep_blank_values=True)
        found = stripe_contract.check(request.method, request.path, parse_params(pairs))
        if not found:
            return await handler(request)
        violations.extend(f"{request.method} {request.path}: {v}" for v in found)
        return web.json_response(stripe_contract.error_body(found), status=400)

    app.middlewares.insert(0, contract)

    # Stripe semantics localstripe lacks (SPEC §5c), inside the contract check and the
    # idempotency layer: DELETE of a canceled subscription is a 404 `resource_missing`;
    # a canceled subscription takes only `metadata` and `cancellation_details`.
    @web.middleware
    async def subscription_semantics(request: web.Request, handler: Handler) -> web.StreamResponse:
        parts = request.path.strip("/").split("/")
        if len(parts) != 3 or parts[:2] != ["v1", "subscriptions"] or parts[2] == "search":
            return await handler(request)
        sub = resources.store.get(f"subscription:{parts[2]}")
        if sub is None or sub.status not in ("canceled", "incomplete_expired"):
            return await handler(request)
        missing = {
            "type": "invalid_request_error",
            "code": "resource_missing",
            "param": "id",
            "message": f"No such subscription: '{parts[2]}'",
        }
        if request.method == "DELETE":
            return web.json_response({"error": missing}, status=404)
        if request.method == "POST":
            from urllib.parse import parse_qsl

            keys = {k.split("[", 1)[0] for k, _ in parse_qsl((await request.read()).decode())}
            if keys - {"metadata", "cancellation_details", "expand"}:
                message = (
                    "A canceled subscription can only update its cancellation_details and metadata."
                )
                body = {"error": {"type": "invalid_request_error", "message": message}}
                return web.json_response(body, status=400)
        return await handler(request)

    app.middlewares.insert(1, subscription_semantics)

    # Stripe lists are newest first; localstripe keeps insertion order (oldest first).
    # Ties on `created` keep the later-created object first, as Stripe does. Only the list
    # endpoints (`_api_list_all`), never a list inside an object (a subscription's items).
    original_list_all = resources.StripeObject._api_list_all.__func__

    def newest_first(cls: Any, /, url: Any, limit: Any = None, starting_after: Any = None,
                     **kwargs: Any) -> Any:  # fmt: skip
        li = original_list_all(cls, url, limit=limit, starting_after=starting_after, **kwargs)
        li._list = sorted(reversed(li._list), key=lambda o: -int(getattr(o, "created", 0) or 0))
        return li

    resources.StripeObject._api_list_all = classmethod(newest_first)

    async def list_violations(request: web.Request) -> web.Response:
        return web.json_response({"violations": violations})

    async def reset(request: web.Request) -> web.Response:
        body = await request.json() if request.can_read_body else {}
        resources.store.clear()
        forget_keys()  # a reset account has seen no request yet
        violations.clear()
        random.seed(body.get("seed", DEFAULT_SEED))
        clock.frozen = body.get("now")
        return web.json_response({"ok": True})

    async def set_clock(request: web.Request) -> web.Response:
        body = await request.json()
        if "advance" in body:
            clock.frozen = clock.time() + float(body["advance"])
        else:
            clock.frozen = body.get("now")
        return web.json_response({"now": int(clock.time())})

    async def patch(request: web.Request) -> web.Response:
        kind, obj_id = request.match_info["object"], request.match_info["id"]
        allowed = _PATCHABLE.get(kind)
        body = await request.json()
        if allowed is None or not set(body) <= allowed:
            return web.json_response({"error": {"message": "not patchable"}}, status=400)
        obj = resources.store.get(f"{kind}:{obj_id}")
        if obj is None:
            return web.json_response({"error": {"message": "Not Found"}}, status=404)
        for key, value in body.items():
            setattr(obj, key, value)
        return web.json_response(obj._export())

    app.router.add_post("/_config/billingops/reset", reset)
    app.router.add_get("/_config/billingops/violations", list_violations)
    app.router.add_post("/_config/billingops/clock", set_clock)
    app.router.add_post("/_config/billingops/patch/{object}/{id}", patch)


def _serve(fd: int) -> None:  # pragma: no cover - runs in the child process
    try:
        from aiohttp import web
        from localstripe import resources, server
    except ImportError as exc:
        print(f"localstripe is not installed: {exc}", file=sys.stderr)
        raise SystemExit(3) from None
    _install(server.app, resources)
    sock = socket.socket(fileno=fd)
    web.run_app(server.app, sock=sock, print=None, access_log=None, handle_signals=True)


def main(argv: Sequence[str] | None = None) -> None:  # pragma: no cover - child entry
    import argparse

    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--fd", type=int, required=True, help="listening socket to serve")
    args = parser.parse_args(argv)
    _serve(args.fd)


if __name__ == "__main__":  # pragma: no cover
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    main()
