"""`billingops report`: the concurrent, rate-limited listing against a local fake list
server (server-enforced limit), and the whole command against the localstripe sandbox."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from billingops._billing.stripe_gateway import (
    ListingStats,
    RateLimiter,
    StripeGateway,
    iter_report_subscriptions,
)
from billingops.cli import main
from billingops.commands.report import build_report
from billingops.errors import ExitStatus, OperationalError
from billingops.sandbox.fake_github import FakeGitHub
from billingops.sandbox.list_server import ListServer, created_of
from billingops.sandbox.scenarios import DAY, Seeded, Seeder
from tests.plugins.github import TEST_TOKEN
from tests.plugins.sandbox import Sandbox

pytestmark = pytest.mark.usefixtures("loopback_only")


def _gateway(server: ListServer, *, compat: bool = False) -> StripeGateway:
    return StripeGateway(
        "sk_test_fake", server.base_url, compat=compat, clock=lambda: created_of(10**7)
    )


def _list(server: ListServer, rate: float, **kw: Any) -> tuple[list[str], ListingStats]:
    stats = ListingStats()
    ids = [
        i.sub.id
        for i in iter_report_subscriptions(
            _gateway(server, compat=kw.pop("compat", False)),
            rate_per_second=rate,
            stats=stats,
            **kw,
        )
    ]
    return ids, stats


def test_every_subscription_once_and_nothing_accepted_beyond_the_limit() -> None:
    with ListServer(2_345, rate_limit=40) as server:
        ids, stats = _list(server, 40, workers=8)
    assert len(ids) == len(set(ids)) == 2_345  # ties on `created` neither lost nor repeated
    assert stats.ranges > 1  # the listing was split and fetched concurrently
    assert stats.objects == 2_345
    # The server enforces the limit; every 429 it sent was seen and retried by the client.
    assert server.max_in_window() <= 40
    assert stats.throttled == server.rejected
    assert stats.requests == len(server.accepted) + server.rejected


def test_a_client_faster_than_the_limit_is_throttled_and_still_complete() -> None:
    with ListServer(1_200, rate_limit=15) as server:
        ids, stats = _list(server, 200, workers=8)
    assert len(ids) == len(set(ids)) == 1_200
    assert server.rejected > 0
    assert stats.throttled == server.rejected  # each 429 backed off and retried
    assert server.max_in_window() <= 15


def test_bounds_are_applied() -> None:
    with ListServer(900) as server:
        ids, _ = _list(server, 1000, since=created_of(300), until=created_of(600))
    assert sorted(ids) == [f"sub_{i:08d}" for i in range(300, 600)]


def test_compat_lists_in_one_range() -> None:
    with ListServer(450) as server:
        ids, stats = _list(server, 1000, compat=True)
    assert len(set(ids)) == 450
    assert stats.ranges == 1


def test_a_limit_that_never_lifts_is_an_operational_error() -> None:
    with (
        ListServer(10, rate_limit=0, retry_after=0) as server,
        pytest.raises(OperationalError, match="rate limit"),
    ):
        _list(server, 1000)


def test_the_sqlite_key_store_gives_the_in_memory_report_and_leaves_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from billingops.core.report_keys import InMemoryKeys

    monkeypatch.setenv("TMPDIR", str(tmp_path))
    monkeypatch.setattr("tempfile.tempdir", None)  # re-read TMPDIR
    count = 1_500
    kw: dict[str, Any] = {
        "rate_per_second": 1000,
        "as_of": created_of(count),
        "trial_days": 7,
        "conversion_window_days": 31,
        "top": 5,
    }
    with ListServer(count) as server:
        stored, stats = build_report(_gateway(server), **kw)  # the default: sqlite
        memory, _ = build_report(_gateway(server), keys=InMemoryKeys(), **kw)
    assert stored == memory
    assert stored.scanned == stats.objects == count
    assert stored.several.groups > 0 and stored.email_groups > 0 and stored.conversions > 0
    assert list(tmp_path.iterdir()) == []  # the temporary database was deleted


def test_rate_limiter_spaces_requests() -> None:
    now = [0.0]
    slept: list[float] = []

    def sleep(s: float) -> None:
        slept.append(s)
        now[0] += s

    limiter = RateLimiter(10, headroom=1.0, clock=lambda: now[0], sleep=sleep)
    for _ in range(5):
        limiter.acquire()
    assert now[0] == pytest.approx(0.4)
    limiter.throttled()
    assert limiter.rate == pytest.approx(7.5)
    limiter.accepted()
    assert limiter.rate == pytest.approx(7.6)
    assert RateLimiter(100).rate == pytest.approx(95)  # a margin under the limit


# --- the sandbox account --------------------------------------------------------------------


def _seed_conversion(sandbox: Sandbox) -> Seeded:
    """A customer who went from monthly to yearly: the monthly one canceled, the yearly one
    started the same day."""
    s = Seeder(sandbox.base_url)
    seeded = Seeded("conversion")
    monthly = s.plan("pro-monthly", amount=2000, currency="usd", interval="month", product="Pro")
    yearly = s.plan("pro-yearly", amount=20000, currency="usd", interval="year", product="Pro")
    s.clock(sandbox.now - 90 * DAY)
    cus = s.customer("paul@example.com", name="Paul Conv")
    sub = s.subscribe(seeded, cus, monthly)
    s.clock(sandbox.now - 20 * DAY)
    s.call("DELETE", f"/v1/subscriptions/{sub['id']}")
    s.subscribe(seeded, cus, yearly)
    s.clock(sandbox.now)
    return seeded


SCENARIOS = (
    "healthy_single",
    "duplicate_subscriptions",
    "duplicate_across_customers",
    "team_seats",
    "past_due",
    "trialing",
    "cancel_at_period_end",
    "zero_decimal_currency",
)


@pytest.fixture
def account(stripe_sandbox: Sandbox) -> Sandbox:
    for name in SCENARIOS:
        stripe_sandbox.seed(name)
    _seed_conversion(stripe_sandbox)
    return stripe_sandbox


@pytest.mark.sandbox
def test_report_on_the_sandbox_account(account: Sandbox, stripe_gateway: StripeGateway) -> None:
    report, stats = build_report(
        stripe_gateway,
        rate_per_second=25,
        as_of=account.now,
        trial_days=14,
        conversion_window_days=31,
        top=20,
    )
    assert stats.throttled == 0
    assert report.by_status.get("canceled") == 1
    assert report.mrr_by_currency().keys() == {"usd", "jpy"}  # never one mixed total
    assert report.mrr_by_currency()["jpy"] == 3000  # two ¥1,500 duplicates
    names = {p.product_name for p in report.plans}
    assert names == {"Pro", "Team"}
    several = report.several
    assert several.duplicate_candidates == 3  # bob, carol (two customers), hiro (JPY)
    assert several.team == 1
    assert several.cross_customer_groups == 1
    assert report.email_groups == 1
    risk = {r.kind: r.subscriptions for r in report.risk}
    assert risk["past_due"] == 1
    assert risk["cancel_at_period_end"] == 1
    assert risk["trial_ending"] == 1  # 11 days left, within 14
    assert risk["failed_payment"] == 1  # the open renewal invoice of past_due
    assert report.conversions == 1
    [conv] = report.conversions_shown
    assert conv.monthly_id != conv.yearly_id
    yearly = [i for i in report.intervals if i.interval == "year"]
    assert yearly and yearly[0].mrr == 1667  # $200 a year is $16.67 a month


@pytest.fixture
def env(account: Sandbox, tmp_path: Path) -> dict[str, str]:
    return {
        "STRIPE_API_KEY": account.api_key,
        "STRIPE_API_BASE": account.base_url,
        "BILLINGOPS_SANDBOX": "localstripe",
        "BILLINGOPS_CONFIG": os.devnull,
    }


@pytest.mark.sandbox
@pytest.mark.parametrize("fmt", ["json", "csv", "markdown", "terminal"])
def test_the_command_in_every_format(
    env: dict[str, str], fmt: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["report", "--format", fmt, "--no-progress"], env) == ExitStatus.OK
    out, err = capsys.readouterr()
    assert "billingops: report:" in err
    if fmt == "json":
        data = json.loads(out)
        assert data["report"]["scanned"] >= 10
        assert data["listing"]["requests"] >= 1
    elif fmt == "markdown":
        assert out.count("```mermaid") == 2
    elif fmt == "csv":
        assert out.startswith("section,item,interval,currency,metric,value\n")
    else:
        assert "Churn risk" in out


@pytest.fixture
def fake() -> Iterator[FakeGitHub]:
    with FakeGitHub("acme/ops", token=TEST_TOKEN) as f:
        yield f


@pytest.mark.sandbox
def test_post_edits_its_own_comment_in_place(
    env: dict[str, str], fake: FakeGitHub, capsys: pytest.CaptureFixture[str]
) -> None:
    number = fake.add_issue("Weekly billing report", "", author="maya")
    env = {
        **env,
        "GITHUB_TOKEN": TEST_TOKEN,
        "GITHUB_API_URL": fake.url,
        "GITHUB_REPOSITORY": "acme/ops",
    }
    args = ["report", "--format", "json", "--no-progress", "--post", str(number)]
    assert main(args, env) == ExitStatus.OK
    assert main(args, env) == ExitStatus.OK
    [body] = fake.comments_of(number)
    assert body.startswith("<!-- billingops:report v1 -->")
    err = capsys.readouterr().err
    assert f"posted on #{number}" in err
    assert f"updated on #{number}" in err or f"unchanged on #{number}" in err


def test_bad_dates_exit_2(tmp_path: Path) -> None:
    env = {
        "STRIPE_API_KEY": "sk_test_x",
        "STRIPE_API_BASE": "http://127.0.0.1:9",
        "BILLINGOPS_CONFIG": os.devnull,
    }
    assert main(["report", "--since", "last week"], env) == ExitStatus.BAD_INPUT


@pytest.mark.sandbox
@pytest.mark.parametrize("visibility", ["public", "internal"])
def test_post_refuses_a_repository_the_public_can_read(
    env: dict[str, str], fake: FakeGitHub, visibility: str, capsys: pytest.CaptureFixture[str]
) -> None:
    # SPEC §5b: the revenue by plan never goes where the public reads it.
    fake.set_visibility(visibility)
    number = fake.add_issue("Weekly billing report", "", author="maya")
    env = {**env, "GITHUB_TOKEN": TEST_TOKEN, "GITHUB_API_URL": fake.url}
    env["GITHUB_REPOSITORY"] = "acme/ops"
    args = ["report", "--format", "markdown", "--no-progress", "--post", str(number)]
    assert main(args, env) == ExitStatus.BAD_INPUT
    out, err = capsys.readouterr()
    assert out == "" and fake.comments_of(number) == []  # nothing printed, nothing posted
    assert f"acme/ops is {visibility}" in err and err.strip().count("\n") == 0
    # In Actions the run's log and job summary are as public as the repository.
    status = main(
        ["report", "--format", "markdown", "--no-progress"], env | {"GITHUB_ACTIONS": "true"}
    )
    out, err = capsys.readouterr()
    assert status == ExitStatus.BAD_INPUT and out == ""
    # Locally, on the maintainer's terminal, the report runs.
    assert main(["report", "--format", "json", "--no-progress"], env) == ExitStatus.OK
    fake.set_visibility("private")  # the control: a private repository gets it
    assert main(args, env) == ExitStatus.OK
    assert len(fake.comments_of(number)) == 1


@pytest.mark.parametrize(("visibility", "audience"), [("private", "public"), ("public", "staff")])
def test_post_refuses_when_either_github_or_the_config_says_public(
    env: dict[str, str],
    fake: FakeGitHub,
    tmp_path: Path,
    visibility: str,
    audience: str,
    capsys: pytest.CaptureFixture[str],
) -> None:
    # A config that calls the tickets public is believed; one that calls a public
    # repository `staff` is not.
    fake.set_visibility(visibility)
    number = fake.add_issue("Weekly billing report", "", author="maya")
    config = tmp_path / "billingops.yml"
    config.write_text(f"ticket_audience: {audience}\n")
    env = {**env, "GITHUB_TOKEN": TEST_TOKEN, "GITHUB_API_URL": fake.url}
    env |= {"GITHUB_REPOSITORY": "acme/ops", "BILLINGOPS_CONFIG": str(config)}
    args = ["report", "--format", "markdown", "--no-progress", "--post", str(number)]
    assert main(args, env) == ExitStatus.BAD_INPUT
    assert fake.comments_of(number) == []
    capsys.readouterr()
