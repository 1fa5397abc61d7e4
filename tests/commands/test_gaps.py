"""`billingops gaps` end to end: `main(args, env)` against the fake GitHub (loopback)."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from billingops.cli import main
from billingops.config import Config
from billingops.core.gaps import Gap, GapKey
from billingops.core.markers import State, encode_state
from billingops.desk.backlog import Backlog, LinkedTicket, decode_tickets, render_gap_issue
from billingops.errors import ExitStatus
from billingops.models.decision import Case, GapRef
from billingops.sandbox.fake_github import FakeGitHub
from tests.plugins.desk import World
from tests.plugins.github import TEST_TOKEN, gateway_for

SUPPORT = "acme/support"
BOT = "github-actions[bot]"


@pytest.fixture
def fake() -> Iterator[FakeGitHub]:
    with FakeGitHub(SUPPORT, token=TEST_TOKEN) as f:
        yield f


@pytest.fixture
def env(fake: FakeGitHub, tmp_path: Path) -> dict[str, str]:
    (tmp_path / "billingops.yml").write_text("# defaults\n")
    return {
        "GITHUB_TOKEN": TEST_TOKEN,
        "GITHUB_API_URL": fake.url,
        "GITHUB_REPOSITORY": SUPPORT,
        "BILLINGOPS_CONFIG": str(tmp_path / "billingops.yml"),
    }


def run(
    args: list[str], env: dict[str, str], capsys: pytest.CaptureFixture[str]
) -> tuple[ExitStatus, Any, str]:
    status = main(["gaps", *args], env)
    out, err = capsys.readouterr()
    return status, (json.loads(out) if "--json" in args and out.strip() else out), err


def gap(key: GapKey) -> Gap:
    return Gap(key=key, evidence="seen", source="unknown")


def ticket_issue(fake: FakeGitHub, title: str, *refs: GapRef) -> int:
    """A triaged billing ticket: the case label and billingops' comment with its gap refs."""
    number = fake.add_issue(title, "body", author="customer", labels=["billing"])
    fake.label_issue(number, "billing:missing_self_serve", actor=BOT)
    state = State(case=Case.missing_self_serve, plan_hash="abc", gaps=list(refs))
    fake.add_comment(number, encode_state(state) + "\n## Billing triage", author=BOT)
    return number


@pytest.fixture
def ranked(fake: FakeGitHub) -> Backlog:
    """Three open gaps: cancellation (1 ticket, $50), invoices (2, $10), portal (2, $30),
    and a closed one that is not listed."""
    backlog = Backlog(gateway_for(fake), Config(), SUPPORT)
    links = [
        (GapKey.no_cancellation_flow, 101, {"usd": 5000}),
        (GapKey.no_invoice_access, 102, {"usd": 500}),
        (GapKey.no_invoice_access, 103, {"usd": 500, "eur": 700}),
        (GapKey.no_billing_portal, 104, {"usd": 2000}),
        (GapKey.no_billing_portal, 105, {"usd": 1000}),
        (GapKey.no_duplicate_guard, 106, {"usd": 9000}),
    ]
    for key, number, revenue in links:
        backlog.link(number, f"Ticket {number}", [gap(key)], revenue, dry_run=False)
    [dupes] = backlog.find("no_duplicate_guard")
    gateway_for(fake).edit_issue(dupes.number, state="closed", state_reason="completed")
    return backlog


def test_json_ranks_open_gaps_by_tickets_then_revenue(
    ranked: Backlog, env: dict[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    status, out, err = run(["--json"], env, capsys)
    assert status is ExitStatus.OK, err
    assert set(out) == {"action", "repository", "gaps"} and out["repository"] == SUPPORT
    assert out["action"] == "gaps"
    assert [g["key"] for g in out["gaps"]] == [
        "no_billing_portal",
        "no_invoice_access",
        "no_cancellation_flow",
    ]
    first = out["gaps"][0]
    assert set(first) == {
        "rank",
        "key",
        "issue",
        "title",
        "url",
        "tickets",
        "revenue_at_risk",
        "linked",
    }
    assert (first["rank"], first["tickets"], first["revenue_at_risk"]) == (1, 2, {"usd": 3000})
    assert first["url"] == f"https://github.com/acme/support/issues/{first['issue']}"
    assert first["linked"] == [
        {"repository": SUPPORT, "number": 104, "revenue": {"usd": 2000}},
        {"repository": SUPPORT, "number": 105, "revenue": {"usd": 1000}},
    ]
    assert out["gaps"][1]["revenue_at_risk"] == {"eur": 700, "usd": 1000}


def test_table_and_markdown(
    ranked: Backlog, env: dict[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    status, out, err = run([], env, capsys)
    assert status is ExitStatus.OK, err
    keys = [word for line in out.splitlines() for word in line.split() if word.startswith("no_")]
    assert keys == ["no_billing_portal", "no_invoice_access", "no_cancellation_flow"]
    assert "$30.00" in out and "€7.00 + $10.00" in out

    status, out, err = run(["--markdown"], env, capsys)
    assert status is ExitStatus.OK, err
    assert out.startswith("## Product gaps in acme/support\n")
    assert "| 1 | `no_billing_portal` Customers have no self\\-serve billing page |" in out
    assert out.count("\n| ") == 4  # the header and three gaps


def test_no_gaps_at_all(env: dict[str, str], capsys: pytest.CaptureFixture[str]) -> None:
    status, out, _ = run(["--json"], env, capsys)
    assert status is ExitStatus.OK and out == {"action": "gaps", "repository": SUPPORT, "gaps": []}
    status, out, _ = run([], env, capsys)
    assert "No open product gaps in acme/support." in out


def test_sync_repairs_a_drifted_list(
    fake: FakeGitHub, env: dict[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    backlog = Backlog(gateway_for(fake), Config(), SUPPORT)
    key = GapKey.no_cancellation_flow
    [ref] = backlog.link(1, "first", [gap(key)], {"usd": 2000}, dry_run=False)
    a = ticket_issue(fake, "Cannot cancel", ref)
    b = ticket_issue(fake, "Where is cancel?", GapRef(key=key.value))  # linking failed then
    c = ticket_issue(fake, "Other", GapRef(key="no_invoice_access"))
    assert ref.issue is not None
    # Someone edited the list by hand: ticket a's entry is gone, a stranger's is in it.
    fake_entries = [
        LinkedTicket(repository=SUPPORT, number=1, title="first", revenue={"usd": 2000}),
        LinkedTicket(repository=SUPPORT, number=c, title="Other"),
        LinkedTicket(repository="acme/other", number=7, title="elsewhere", revenue={"usd": 5}),
    ]
    gateway_for(fake).edit_issue(
        ref.issue, body=render_gap_issue(key.value, fake_entries)
    )  # ticket 1 is not a billing ticket: sync removes it too
    before = fake.issue_json(ref.issue)["body"]

    status, out, err = run(["--sync", "--dry-run", "--json"], env, capsys)
    assert status is ExitStatus.OK, err
    [change] = out["sync"]
    assert change == {
        "key": key.value,
        "issue": ref.issue,
        "status": "would_rewrite",
        "added": [f"{SUPPORT}#{a}", f"{SUPPORT}#{b}"],
        "removed": [f"{SUPPORT}#1", f"{SUPPORT}#{c}"],
    }
    assert fake.issue_json(ref.issue)["body"] == before

    fake.reset_requests()
    status, out, err = run(["--sync"], env, capsys)
    assert status is ExitStatus.OK, err
    assert f"sync #{ref.issue} gap:no_cancellation_flow: rewritten" in err
    assert fake.writes("PATCH") == 1 and fake.writes("POST") == 0
    listed = decode_tickets(fake.issue_json(ref.issue)["body"])
    assert [(t.repository, t.number, t.title) for t in listed or []] == [
        ("acme/other", 7, "elsewhere"),
        (SUPPORT, a, "Cannot cancel"),
        (SUPPORT, b, "Where is cancel?"),
    ]

    status, out, err = run(["--sync", "--json"], env, capsys)
    assert [s["status"] for s in out["sync"]] == ["unchanged"]


def test_sync_after_real_triages(world: World, capsys: pytest.CaptureFixture[str]) -> None:
    """Triage links each ticket to its gap; sync repairs a list damaged by a hand edit."""
    key = GapKey.no_duplicate_guard
    n1, _ = world.file("duplicate_subscriptions")
    world.triage(n1)
    [g] = [i.number for i in world.desk().tracker.list_issues(labels=[f"gap:{key.value}"])]
    body_with_one = world.fake.issue_json(g)["body"]
    n2, _ = world.file("zero_decimal_currency")
    world.triage(n2)  # hits the same gap: the desk adds it to the one backlog issue
    assert f"#{n2}" in world.fake.issue_json(g)["body"]
    world.desk().tracker.edit_issue(g, body=body_with_one)  # someone's edit drops it
    env = {
        "GITHUB_TOKEN": TEST_TOKEN,
        "GITHUB_API_URL": world.fake.url,
        "GITHUB_REPOSITORY": SUPPORT,
        "BILLINGOPS_CONFIG": os.devnull,
    }
    status, out, err = run(["--sync", "--json"], env, capsys)
    assert status is ExitStatus.OK, err
    assert out["sync"] == [
        {
            "key": key.value,
            "issue": g,
            "status": "rewritten",
            "added": [f"{SUPPORT}#{n2}"],
            "removed": [],
        }
    ]
    [row] = out["gaps"]
    assert row["tickets"] == 2


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--json", "--markdown"], "choose one of --json and --markdown"),
        (["--dry-run"], "--dry-run only applies to --sync"),
    ],
)
def test_bad_flags_are_one_line_exit_2(
    args: list[str], message: str, env: dict[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    status, _, err = run(args, env, capsys)
    assert status is ExitStatus.BAD_INPUT
    assert err.strip() == f"billingops: {message}"


def test_missing_token_is_exit_2(
    env: dict[str, str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    status, _, err = run([], {k: v for k, v in env.items() if k != "GITHUB_TOKEN"}, capsys)
    assert status is ExitStatus.BAD_INPUT
    assert err.strip().count("\n") == 0 and "GITHUB_TOKEN" in err


def test_invalid_config_is_exit_2(
    env: dict[str, str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    Path(env["BILLINGOPS_CONFIG"]).write_text("backlog_repository: not-a-repo\n")
    status, _, err = run([], env, capsys)
    assert status is ExitStatus.BAD_INPUT and err.strip().count("\n") == 0


def test_github_down_is_exit_1_and_one_json_object(
    fake: FakeGitHub, env: dict[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    fake.fail_next("GET", "/repos/*/issues", 503, times=20)
    status, out, err = run(["--json"], env, capsys)
    assert status is ExitStatus.OPERATIONAL
    assert out == {"action": "error", "repository": SUPPORT, "error": out["error"]}
    assert out["error"]["kind"] == "operational"
    assert "server error (503" in out["error"]["message"]
    assert err.strip().count("\n") == 0 and "Traceback" not in err
    assert TEST_TOKEN not in err + json.dumps(out)


def test_a_public_support_repository_lists_the_gaps_its_private_desk_filed(
    fake: FakeGitHub, env: dict[str, str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Public tickets are triaged in the private desk, which files their gaps there (SPEC
    §5b): `gaps` run with the public repository's variables reads the desk's backlog."""
    desk = "acme/billing-desk"
    fake.set_visibility("public")
    fake.add_repo(desk)
    (tmp_path / "billingops.yml").write_text(f"private_repository: {desk}\n")
    Backlog(gateway_for(fake).for_repository(desk), Config(), desk).link(
        7, "Ticket 7", [gap(GapKey.no_billing_portal)], {}, dry_run=False
    )
    status, out, err = run(["--json"], env, capsys)
    assert status is ExitStatus.OK, err
    assert out["repository"] == desk
    assert [g["key"] for g in out["gaps"]] == ["no_billing_portal"]
    # A private support repository keeps its own backlog, desk configured or not.
    fake.set_visibility("private")
    status, out, err = run(["--json"], env, capsys)
    assert (status, out["repository"], out["gaps"]) == (ExitStatus.OK, SUPPORT, [])
