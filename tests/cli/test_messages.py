"""One line that says everything: every bad config key, every missing variable; terminal
output as wide as the terminal."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from billingops.cli import main
from billingops.errors import ExitStatus


def run(
    args: list[str], env: dict[str, str], capsys: pytest.CaptureFixture[str]
) -> tuple[ExitStatus, str, str]:
    status = main(args, env)
    out, err = capsys.readouterr()
    return status, out, err


def test_invalid_config_names_every_bad_key(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "billingops.yml"
    config.write_text(
        "mask_email: maybe\nrefund:\n  second_approver_above: lots\nfoo: 1\n"
        "portal: {login_url: 3}\n"
    )
    status, _, err = run(["gaps"], {"BILLINGOPS_CONFIG": str(config)}, capsys)
    assert status is ExitStatus.BAD_INPUT
    [line] = err.strip().splitlines()
    for key in ("mask_email", "refund.second_approver_above", "foo", "portal.login_url"):
        assert f"{key}: " in line, key
    assert "more)" not in line and "Traceback" not in err


@pytest.mark.parametrize(
    ("args", "names"),
    [
        (["gaps"], ["GITHUB_TOKEN", "GITHUB_REPOSITORY"]),
        (["audit"], ["GITHUB_TOKEN", "GITHUB_REPOSITORY"]),
        (["triage", "--event", "EVENT"], ["STRIPE_API_KEY", "GITHUB_TOKEN", "GITHUB_REPOSITORY"]),
    ],
)
def test_every_missing_variable_is_named_at_once(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], args: list[str], names: list[str]
) -> None:
    event = tmp_path / "event.json"
    event.write_text(json.dumps({"action": "opened", "issue": {"number": 1}}))
    args = [str(event) if a == "EVENT" else a for a in args]
    status, _, err = run(args, {"BILLINGOPS_CONFIG": os.devnull}, capsys)
    assert status is ExitStatus.BAD_INPUT
    [line] = err.strip().splitlines()
    for name in names:
        assert name in line, (name, line)


def test_terminal_tables_take_the_terminal_width(monkeypatch: pytest.MonkeyPatch) -> None:
    from billingops._format.terminal import TerminalFormat

    monkeypatch.setenv("COLUMNS", "200")
    assert TerminalFormat().width == 200
    monkeypatch.setenv("COLUMNS", "72")
    assert TerminalFormat().width == 72
    assert TerminalFormat(width=90).width == 90


def test_library_retry_warnings_do_not_reach_the_user(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """GitHub unreachable: urllib3 logs a 'Retrying ...' warning per attempt; the user
    sees only billingops' one line (the warnings show with --debug)."""
    import logging
    import socket

    with socket.socket() as s:  # a loopback port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {
        "GITHUB_TOKEN": "ghs_test_not_a_secret_000",
        "GITHUB_REPOSITORY": "acme/support",
        "GITHUB_API_URL": f"http://127.0.0.1:{port}",
        "BILLINGOPS_CONFIG": os.devnull,
    }
    try:
        status, _, err = run(["gaps"], env, capsys)
        assert status is ExitStatus.OPERATIONAL
        [line] = err.strip().splitlines()
        assert "cannot reach" in line and "Retrying" not in err
        status, _, err = run(["--debug", "gaps"], env, capsys)
        assert "Retrying" in err  # still there for whoever asks
    finally:
        from billingops.logs import HANDLER_NAME, configure

        configure(False)
        root = logging.getLogger()
        for handler in [h for h in root.handlers if h.get_name() == HANDLER_NAME]:
            root.removeHandler(handler)


def test_report_with_stripe_unreachable_gives_up_after_a_few_tries_and_says_so() -> None:
    """Stripe refusing connections: the listing tries REPORT_MAX_CONNECT_ATTEMPTS times (not
    the 8 meant for rate limits), the progress line counts the retries as they happen,
    and the failure is one operational error."""
    import socket

    from billingops._billing.stripe_gateway import (
        REPORT_MAX_CONNECT_ATTEMPTS,
        ListingStats,
        StripeGateway,
    )
    from billingops.commands.report import build_report, progress_line
    from billingops.errors import OperationalError

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    gateway = StripeGateway("sk_test_unreachable", f"http://127.0.0.1:{port}")
    live = ListingStats()
    with pytest.raises(OperationalError, match="cannot reach Stripe"):
        build_report(
            gateway,
            rate_per_second=25,
            as_of=1736942400,
            trial_days=7,
            conversion_window_days=31,
            top=5,
            stats=live,
        )
    assert live.requests == REPORT_MAX_CONNECT_ATTEMPTS < 8
    assert live.retries == REPORT_MAX_CONNECT_ATTEMPTS - 1
    assert f"{REPORT_MAX_CONNECT_ATTEMPTS - 1} retries" in progress_line(live)
