"""`billingops audit` over a support repository the desk really worked on (fake GitHub +
localstripe): cases, times, refunds and cancellations from billingops' own records."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from billingops.cli import main
from billingops.errors import ExitStatus
from tests.plugins.desk import ADMIN, MAINTAINER, World
from tests.plugins.github import TEST_TOKEN

pytestmark = pytest.mark.sandbox


def test_audit_of_worked_issues(
    world: World, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    dup, _ = world.file("duplicate_subscriptions")
    world.triage(dup)
    world.label(dup, "approve-cancel", actor=MAINTAINER)
    world.label(dup, "approve-refund", actor=ADMIN)
    assert world.apply(dup).action == "apply"
    healthy, _ = world.file("healthy_single")
    world.triage(healthy)
    vague = world.fake.add_issue("Help", "I have a billing problem.", labels=["billing"])
    world.triage(vague)
    world.fake.add_issue("Old one", "closed by hand", labels=["billing"], state="closed")
    world.fake.add_issue("Not billing", "a feature request", labels=["feature"])

    env = {
        "GITHUB_TOKEN": TEST_TOKEN,
        "GITHUB_API_URL": world.fake.url,
        "GITHUB_REPOSITORY": world.fake.repository,
        "BILLINGOPS_CONFIG": os.devnull,
    }
    assert main(["audit", "--format", "json"], env) == ExitStatus.OK
    audit = json.loads(capsys.readouterr().out)["audit"]
    assert audit["issues"] == 4
    cases = {c["case"]: (c["open"], c["closed"]) for c in audit["cases"]}
    assert cases["duplicate_subscription"] == (1, 0)
    assert cases["needs_info"] == (1, 0)
    assert cases["untriaged"] == (0, 1)
    assert audit["refunds"] == 1 and audit["refunded"] == {"usd": 2000}
    assert audit["cancellations"] == 1 and audit["cancellations_at_period_end"] == 0
    times = {d["measure"]: d for d in audit["durations"]}
    assert times["first_response"]["measured"] == 3
    assert times["first_triage"]["measured"] == 2  # needs-info has no case label
    assert times["done"]["measured"] == 1
    assert all(d["median"] is None or d["median"] >= 0 for d in times.values())

    for fmt in ("markdown", "csv", "terminal"):
        assert main(["audit", "--format", fmt], env) == ExitStatus.OK
    out = capsys.readouterr().out
    assert "<!-- billingops:audit v1 -->" in out and "section,item" in out

    assert main(["audit", "--format", "csv", "--post", str(vague)], env) == ExitStatus.OK
    assert main(["audit", "--format", "csv", "--post", str(vague)], env) == ExitStatus.OK
    posted = [b for b in world.fake.comments_of(vague) if "billingops:audit" in b]
    assert len(posted) == 1
