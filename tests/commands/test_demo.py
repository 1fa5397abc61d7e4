"""`billingops demo`: a newcomer reads it top to bottom. It opens with what it will show,
prints one summary line per scenario (case, plan, what the approval did), ends with what
to try next, and keeps the comments behind `--verbose`. Piped to a file it is plain text
(no Markdown escapes, no HTML entities, no colour codes, no "refused: refused:");
`--plain`: the raw Markdown. `--public`: a public support repository and its private desk."""

from __future__ import annotations

import json
import re

import pytest

from billingops.cli import main
from billingops.errors import ExitStatus
from billingops.sandbox.demo import TOUR
from billingops.sandbox.stripe_server import localstripe_installed

pytestmark = pytest.mark.skipif(not localstripe_installed(), reason="localstripe not installed")

STRIPE_ID = re.compile(r"\b(cus|sub|ch|in|pi|re|price|prod|pm|card)_[A-Za-z0-9]{6,}")


def demo(capsys: pytest.CaptureFixture[str], *args: str) -> str:
    status = main(["demo", *args], {})
    out, err = capsys.readouterr()
    assert status is ExitStatus.OK, err
    return out


def test_the_tour_opens_summarises_each_scenario_and_says_what_next(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Issue 21: the demo was 729 lines with no beginning, summary or "what next"."""
    lines = demo(capsys).splitlines()
    assert lines[0].startswith(f"billingops demo: {len(TOUR)} billing tickets")
    assert "no key" in lines[0].lower()
    summaries = [ln for ln in lines if re.match(r"#\d+ \w+: ", ln)]
    assert [s.split(":")[0].split(" ")[1] for s in summaries] == list(TOUR)
    for s in summaries:  # one line each: the case, the plan, what the approval did
        assert " · plan: " in s and " · approval: " in s
    first = summaries[0]
    assert first.startswith("#1 duplicate_subscriptions: duplicate_subscription (90%)")
    assert "plan: self-serve link, cancel now, refund $20.00" in first
    assert "tim (triage role) refused; maya: cancel done, refund done" in first
    assert "again: refund already done" in first  # a redelivered event does nothing twice
    assert "product_failure: product_failure" in summaries[4] and "refund done" in summaries[4]
    assert summaries[1].endswith("approval: none needed")
    nxt = lines.index("What next:")
    assert nxt > lines.index(summaries[-1])
    after = "\n".join(lines[nxt:])
    for hint in ("billingops demo --verbose", "billingops demo --public", "billingops sandbox"):
        assert hint in after
    assert len(lines) <= 3 + 1 + len(TOUR) + 1 + 6  # intro, tickets, what next: no comment
    assert "DECISION" not in "\n".join(lines)


def test_verbose_to_a_file_is_plain_text(capsys: pytest.CaptureFixture[str]) -> None:
    out = demo(capsys, "--verbose", "--scenario", "duplicate_subscriptions")
    assert "Billing triage: Duplicate subscription" in out
    assert "b***@" in out  # the masked email, unescaped
    for escape in ("\\*", "\\(", "&#8203;", "\x1b[", "<!--", "**Who:**"):
        assert escape not in out, escape
    assert "refused: refused" not in out
    assert "refused: " in out  # the triage-role labeler is refused, said once
    assert re.search(r"^#1 duplicate_subscriptions: duplicate_subscription", out, re.M)


def test_demo_plain_is_the_markdown_github_gets(capsys: pytest.CaptureFixture[str]) -> None:
    out = demo(capsys, "--plain", "--scenario", "duplicate_subscriptions")
    assert "**Who:**" in out and "### DECISION" in out
    assert "refused: refused" not in out


def test_public_mode_shows_the_reply_the_handoff_and_the_outcome(
    capsys: pytest.CaptureFixture[str],
) -> None:
    out = demo(capsys, "--public", "--plain", "--scenario", "duplicate_subscriptions")
    scenes = {
        chunk.split("\n", 1)[0]: chunk for chunk in out.split("\n=== ")[1:]
    }  # title -> its text
    titles = list(scenes)
    assert titles[0] == "acme/support#1 duplicate_subscriptions: the public reply"
    assert titles[1] == "acme/billing-desk#1: the handoff in the private desk"
    assert titles[-1] == "acme/support#1: the outcome posted back"
    reply, handoff, outcome = scenes[titles[0]], scenes[titles[1]], scenes[titles[-1]]
    outcome = outcome.split("\n#1 duplicate_subscriptions: ")[0]  # the summary follows
    assert "we have your billing request" in reply
    assert "### DECISION" in handoff and STRIPE_ID.search(handoff)
    assert "refund has been issued" in outcome
    for public in (reply, outcome):  # nothing about the customer's billing in public
        assert not STRIPE_ID.search(public.split("\n", 2)[2]) and "$" not in public
    assert "public: neutral reply, handoff acme/billing-desk#1, outcome posted back" in out


def test_demo_json_is_one_object(capsys: pytest.CaptureFixture[str]) -> None:
    out = demo(capsys, "--json", "--public", "--scenario", "duplicate_subscriptions")
    data = json.loads(out)
    assert data["action"] == "demo" and data["public"] is True
    [story] = data["scenarios"]
    assert story["case"] == "duplicate_subscription" and story["handoff"] == 1
    assert [a["action"] for a in story["approvals"]] == ["refused", "apply", "apply"]
    assert {e["status"] for e in story["approvals"][1]["executed"]} == {"done"}
    assert story["public_reply"] is True and story["public_outcome"] is True
