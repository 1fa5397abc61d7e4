"""`billingops demo` piped to a file: plain text, as a person reads it (no Markdown escapes,
no HTML entities, no colour codes, no "refused: refused:"); `--plain`: the raw Markdown."""

from __future__ import annotations

import pytest

from billingops.cli import main
from billingops.errors import ExitStatus
from billingops.sandbox.stripe_server import localstripe_installed

pytestmark = pytest.mark.skipif(not localstripe_installed(), reason="localstripe not installed")


def test_demo_to_a_file_is_plain_text(capsys: pytest.CaptureFixture[str]) -> None:
    status = main(["demo", "--scenario", "duplicate_subscriptions"], {})
    out, err = capsys.readouterr()
    assert status is ExitStatus.OK, err
    assert "Billing triage: Duplicate subscription" in out
    assert "b***@" in out  # the masked email, unescaped
    for escape in ("\\*", "\\(", "&#8203;", "\x1b[", "<!--", "**Who:**"):
        assert escape not in out, escape
    assert "refused: refused" not in out
    assert "refused: " in out  # the triage-role labeler is refused, said once


def test_demo_plain_is_the_markdown_github_gets(capsys: pytest.CaptureFixture[str]) -> None:
    status = main(["demo", "--plain", "--scenario", "duplicate_subscriptions"], {})
    out, _ = capsys.readouterr()
    assert status is ExitStatus.OK
    assert "**Who:**" in out and "### DECISION" in out
    assert "refused: refused" not in out
