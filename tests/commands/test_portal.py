"""`billingops portal validate | create`.

localstripe has no billing portal API, so two kinds of test:
- against localstripe: the "unavailable" paths (validate warns, create refuses clearly);
- against `PortalStub` below, a tiny loopback HTTP server that records the form body of
  the create request and answers in Stripe's shapes. It is the one place where a
  hand-written Stripe stand-in is acceptable: it checks the request shape we send, not
  Stripe's behaviour, which localstripe cannot provide for this endpoint.
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest

from billingops.cli import main
from billingops.errors import ExitStatus
from billingops.onboarding.portal import UNKNOWN
from tests.plugins.sandbox import Sandbox

LOGIN_URL = "https://billing.stripe.com/p/login/test_00g5kA"
PRICES: dict[str, dict[str, Any]] = {
    "price_monthly": {"recurring": {"interval": "month"}, "product": "prod_team", "active": True},
    "price_yearly": {"recurring": {"interval": "year"}, "product": "prod_team", "active": True},
    "price_pro": {"recurring": {"interval": "month"}, "product": "prod_pro", "active": True},
    "price_setup": {"recurring": None, "product": "prod_team", "active": True},
}


class PortalStub:
    """Records requests; answers the price and portal configuration endpoints."""

    def __init__(self) -> None:
        self.requests: list[tuple[str, str, list[tuple[str, str]], dict[str, str]]] = []
        self.configurations: list[dict[str, Any]] = []
        stub = self

        class Handler(BaseHTTPRequestHandler):
            def _reply(self, status: int, body: Any) -> None:
                raw = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(raw)))
                self.end_headers()
                self.wfile.write(raw)

            def do_GET(self) -> None:
                path = urlsplit(self.path).path
                stub.requests.append(("GET", path, [], dict(self.headers)))
                if path.startswith("/v1/prices/"):
                    pid = path.rsplit("/", 1)[1]
                    if pid not in PRICES:
                        error = {"type": "invalid_request_error", "code": "resource_missing"}
                        self._reply(404, {"error": error | {"message": f"No such price: '{pid}'"}})
                        return
                    self._reply(200, {"id": pid, "object": "price", **PRICES[pid]})
                elif path == "/v1/billing_portal/configurations":
                    self._reply(
                        200,
                        {"object": "list", "data": stub.configurations, "has_more": False},
                    )
                else:
                    self._reply(404, {"error": {"type": "invalid_request_error"}})

            def do_POST(self) -> None:
                path = urlsplit(self.path).path
                length = int(self.headers.get("Content-Length") or 0)
                form = parse_qsl(self.rfile.read(length).decode(), keep_blank_values=True)
                stub.requests.append(("POST", path, form, dict(self.headers)))
                self._reply(
                    200,
                    {
                        "id": "bpc_1Created",
                        "object": "billing_portal.configuration",
                        "active": True,
                        "is_default": False,
                        "login_page": {"enabled": True, "url": LOGIN_URL},
                    },
                )

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    def posts(self) -> list[tuple[str, str, list[tuple[str, str]], dict[str, str]]]:
        return [r for r in self.requests if r[0] == "POST"]


@pytest.fixture
def stub(loopback_only: None) -> Iterator[PortalStub]:
    s = PortalStub()
    s.thread.start()
    yield s
    s.server.shutdown()
    s.server.server_close()


def env(base: str, key: str = "rk_test_portalSetup1") -> dict[str, str]:
    return {"STRIPE_API_KEY": key, "STRIPE_API_BASE": base, "BILLINGOPS_CONFIG": os.devnull}


def run(capsys: pytest.CaptureFixture[str], e: dict[str, str], *args: str) -> tuple[Any, str, str]:
    status = main(["portal", *args], e)
    out, err = capsys.readouterr()
    return status, out, err


def test_create_sends_the_default_configuration(
    stub: PortalStub, capsys: pytest.CaptureFixture[str]
) -> None:
    status, out, err = run(
        capsys,
        env(stub.url),
        "create",
        "--price",
        "price_monthly",
        "--price",
        "price_yearly",
        "--price",
        "price_pro",
        "--return-url",
        "https://example.com/account",
    )
    assert status is ExitStatus.OK, err
    ((_, path, form, headers),) = stub.posts()
    assert path == "/v1/billing_portal/configurations"
    body = dict(form)
    expected = {
        "features[subscription_cancel][enabled]": "true",
        "features[subscription_cancel][mode]": "at_period_end",
        "features[subscription_cancel][proration_behavior]": "none",
        "features[subscription_cancel][cancellation_reason][enabled]": "true",
        "features[subscription_cancel][cancellation_reason][options][0]": "too_expensive",
        "features[invoice_history][enabled]": "true",
        "features[payment_method_update][enabled]": "true",
        "features[subscription_update][enabled]": "true",
        "features[subscription_update][default_allowed_updates][0]": "price",
        "features[subscription_update][products][0][product]": "prod_team",
        "features[subscription_update][products][0][prices][0]": "price_monthly",
        "features[subscription_update][products][0][prices][1]": "price_yearly",
        "features[subscription_update][products][1][product]": "prod_pro",
        "features[subscription_update][products][1][prices][0]": "price_pro",
        "login_page[enabled]": "true",
        "default_return_url": "https://example.com/account",
        "metadata[created_by]": "billingops",
    }
    assert {k: body.get(k) for k in expected} == expected
    reasons = [v for k, v in form if "cancellation_reason][options]" in k]
    assert "other" in reasons and len(reasons) == 8
    assert headers.get("Idempotency-Key", "").startswith("billingops-portal-")
    assert f"public portal login link: {LOGIN_URL}" in out
    assert "created billing portal configuration bpc_1Created" in out
    assert "not the account's default" in err
    # Never a per-customer session: no session endpoint was called, no session link printed.
    assert not any("sessions" in r[1] for r in stub.requests)
    assert "/session" not in out


def test_create_is_idempotent_for_the_same_configuration(
    stub: PortalStub, capsys: pytest.CaptureFixture[str]
) -> None:
    run(capsys, env(stub.url), "create")
    run(capsys, env(stub.url), "create")
    keys = [r[3]["Idempotency-Key"] for r in stub.posts()]
    assert len(keys) == 2 and keys[0] == keys[1]
    assert "features[subscription_update][enabled]" not in dict(stub.posts()[0][2])


def test_create_dry_run_writes_nothing(
    stub: PortalStub, capsys: pytest.CaptureFixture[str]
) -> None:
    status, out, err = run(capsys, env(stub.url), "create", "--price", "price_pro", "--dry-run")
    assert status is ExitStatus.OK
    assert stub.posts() == []
    params = json.loads(out)
    assert params["features"]["subscription_cancel"]["mode"] == "at_period_end"
    assert params["features"]["subscription_update"]["products"] == [
        {"product": "prod_pro", "prices": ["price_pro"]}
    ]
    assert "dry run" in err


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--price", "price_setup"], "price_setup is not a recurring price"),
        (["--price", "price_gone"], "a --price does not exist"),
        (["--price", "prod_team"], "--price takes price IDs"),
        (["--return-url", "http://example.com"], "--return-url must be an https:// URL"),
    ],
)
def test_create_bad_input(
    stub: PortalStub, capsys: pytest.CaptureFixture[str], args: list[str], message: str
) -> None:
    status, _, err = run(capsys, env(stub.url), "create", *args)
    assert status is ExitStatus.BAD_INPUT
    (line,) = err.strip().splitlines()
    assert message in line
    assert stub.posts() == []


def test_validate_details(stub: PortalStub, capsys: pytest.CaptureFixture[str]) -> None:
    stub.configurations = [
        {
            "id": "bpc_default",
            "active": True,
            "is_default": True,
            "features": {
                "subscription_cancel": {
                    "enabled": True,
                    "mode": "immediately",
                    "cancellation_reason": {"enabled": False},
                },
                "invoice_history": {"enabled": True},
                "payment_method_update": {"enabled": False},
                "subscription_update": {"enabled": False},
            },
            "login_page": {"enabled": True, "url": LOGIN_URL},
        }
    ]
    status, out, _ = run(capsys, env(stub.url), "validate")
    assert status is ExitStatus.OK  # warnings only
    assert "[pass] configuration bpc_default (the default)" in out
    assert "[warn] cancellation: on, immediately, reasons not asked" in out
    assert "[pass] invoice history: on" in out
    assert "[warn] payment-method update: off" in out
    assert f"[pass] public login link: {LOGIN_URL}" in out
    assert f"portal.login_url: {LOGIN_URL}" in out


def test_validate_without_configuration_fails(
    stub: PortalStub, capsys: pytest.CaptureFixture[str]
) -> None:
    status, out, _ = run(capsys, env(stub.url), "validate", "--json")
    assert status is ExitStatus.BAD_INPUT
    data = json.loads(out)
    assert data["ok"] is False
    assert data["checks"][0]["fix"].startswith("run `billingops portal create`")


# --------------------------------------------------------------------- against localstripe


@pytest.mark.sandbox
def test_validate_on_localstripe_cannot_tell(
    stripe_sandbox: Sandbox, capsys: pytest.CaptureFixture[str]
) -> None:
    status, out, _ = run(capsys, env(stripe_sandbox.base_url, stripe_sandbox.api_key), "validate")
    assert status is ExitStatus.OK
    assert f"[warn] billing portal: {UNKNOWN}" in out


@pytest.mark.sandbox
def test_create_on_localstripe_is_unavailable(
    stripe_sandbox: Sandbox, capsys: pytest.CaptureFixture[str]
) -> None:
    status, _, err = run(capsys, env(stripe_sandbox.base_url, stripe_sandbox.api_key), "create")
    assert status is ExitStatus.BAD_INPUT
    (line,) = err.strip().splitlines()
    assert "the billing portal API is unavailable at this Stripe endpoint" in line


def test_wrong_key_type(capsys: pytest.CaptureFixture[str]) -> None:
    status, _, err = run(capsys, env("http://127.0.0.1:9", "pk_test_abc"), "validate")
    assert status is ExitStatus.BAD_INPUT
    assert "not a secret or restricted key (pk_test)" in err
    assert "pk_test_abc" not in err
