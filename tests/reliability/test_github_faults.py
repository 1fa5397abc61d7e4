"""GitHub faults (issue 8 item 2): retried where the gateway's PyGithub retry policy allows
it (idempotent methods, 5xx, secondary rate limits with Retry-After), otherwise one clean
line; the bot comment is never duplicated, and a re-run completes.

Faults come from the fake GitHub's `fail_next` (the request is refused before it is
executed) and, for the case a retry cannot see, from the fault proxy in front of it
(`502-after`: GitHub created the comment, the client got a 502).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from billingops.cli import main
from billingops.errors import BadInput, BillingopsError, ExitStatus, NotFound, OperationalError
from billingops.models.decision import StepKind
from billingops.sandbox.fault_proxy import FaultProxy
from tests.plugins.desk import ADMIN, World
from tests.plugins.sandbox import Sandbox
from tests.reliability._support import bot_states, fresh_world, record
from tests.reliability.test_cli_failures import cli_env, event_file, one_clean_line

pytestmark = pytest.mark.sandbox

SECONDARY = (
    "You have exceeded a secondary rate limit. Please wait a few minutes before you try again."
)
COMMENTS = "/repos/*/issues/*/comments"
LABELS = "/repos/*/issues/*/labels"


def attempt(fn: Callable[[], Any]) -> BillingopsError | None:
    try:
        fn()
    except BillingopsError as exc:
        message = str(exc)
        assert "\n" not in message and "ghp_" not in message and len(message) <= 300, message
        return exc
    return None


def one_comment(world: World, number: int) -> None:
    states = bot_states(world, number)
    assert len(states) == 1 and states[0] is not None, states


def approved(world: World) -> tuple[int, Any]:
    number, _ = world.file("duplicate_subscriptions")
    plan = world.triage(number).plan
    assert plan is not None
    world.label(number, "approve-refund", actor=ADMIN)
    refund = next(s for s in plan.steps if s.kind is StepKind.refund)
    return number, refund


def test_secondary_rate_limit_on_a_read_is_retried_after_retry_after(world: World) -> None:
    number, _ = world.file("duplicate_subscriptions")
    # The thread is read with one GraphQL query (a POST that only reads): retried like a GET.
    world.fake.fail_next("POST", "/graphql", 403, retry_after=1, message=SECONDARY)
    assert attempt(lambda: world.triage(number)) is None
    assert world.fake.count("POST", "/graphql") == 2  # refused once, retried once
    one_comment(world, number)
    record("github_fault", kind="403-secondary-read", runs=1, retried=1, duplicated_comments=0)


def test_secondary_rate_limit_on_the_comment_post_is_one_line_then_rerun(world: World) -> None:
    number, _ = world.file("duplicate_subscriptions")
    world.fake.fail_next("POST", COMMENTS, 403, retry_after=1, message=SECONDARY)
    error = attempt(lambda: world.triage(number))
    # A POST is not retried by the transport (a retried POST can duplicate a comment).
    assert isinstance(error, OperationalError) and "rate limited" in str(error)
    assert world.bot_comments(number) == []
    assert attempt(lambda: world.triage(number)) is None
    one_comment(world, number)
    record("github_fault", kind="403-secondary-post", runs=2, clean_line=1, duplicated_comments=0)


def test_issue_deleted_mid_run_404_then_rerun_does_not_refund_twice(world: World) -> None:
    number, refund = approved(world)
    # The refund goes through; recording it on the issue answers 404.
    world.fake.fail_next("PATCH", "/repos/*/issues/comments/*", 404)
    error = attempt(lambda: world.apply(number))
    assert isinstance(error, NotFound)
    assert len(world.stripe.find_refunds_for(refund.target)) == 1
    result = world.apply(number)  # the issue is back (or the 404 was transient)
    assert [(e.kind, e.status) for e in result.executed] == [(StepKind.refund, "already_done")]
    assert len(world.stripe.find_refunds_for(refund.target)) == 1
    one_comment(world, number)
    record("github_fault", kind="404-mid-run", runs=2, clean_line=1, duplicated_comments=0)


def test_issue_gone_410_is_one_line_and_moves_no_money(
    world: World, stripe_sandbox: Sandbox, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    number, refund = approved(world)
    path = event_file(world, number, tmp_path, label="approve-refund")
    world.fake.delete_issue(number)
    status = main(["apply", "--event", path], cli_env(world, stripe_sandbox.base_url, tmp_path))
    line = one_clean_line(capsys.readouterr().err)
    # NotFound is an operational failure of the run (issue 3): exit 1.
    assert status is ExitStatus.OPERATIONAL and "410" in line
    assert world.stripe.find_refunds_for(refund.target) == []
    record("github_fault", kind="410-gone", runs=1, clean_line=1, duplicated_comments=0)


def test_422_on_a_label_is_one_line_and_the_rerun_labels(world: World) -> None:
    number, _ = world.file("duplicate_subscriptions")
    world.fake.fail_next("POST", LABELS, 422, message="Validation Failed")
    error = attempt(lambda: world.triage(number))
    assert isinstance(error, BadInput) and "422" in str(error)
    assert len(world.bot_comments(number)) <= 1
    assert attempt(lambda: world.triage(number)) is None
    one_comment(world, number)
    assert "billing:duplicate_subscription" in world.fake.labels_of(number)
    record("github_fault", kind="422-label", runs=2, clean_line=1, duplicated_comments=0)


def test_502_on_reads_is_retried(world: World) -> None:
    number, refund = approved(world)
    world.fake.fail_next("GET", "/repos/*/issues/*", 502)
    world.fake.fail_next("GET", "/repos/*/issues/*/events", 502)
    result = world.apply(number)
    assert result.action == "apply", result.reason
    assert len(world.stripe.find_refunds_for(refund.target)) == 1
    record("github_fault", kind="502-read", runs=1, retried=1, duplicated_comments=0)


def test_502_on_the_comment_post_is_not_retried_and_never_duplicates(world: World) -> None:
    number, _ = world.file("duplicate_subscriptions")
    world.fake.fail_next("POST", COMMENTS, 502)
    error = attempt(lambda: world.triage(number))
    assert isinstance(error, OperationalError) and "502" in str(error)
    assert world.fake.count("POST", COMMENTS) == 1  # not retried
    assert attempt(lambda: world.triage(number)) is None
    one_comment(world, number)
    record("github_fault", kind="502-post", runs=2, clean_line=1, duplicated_comments=0)


@pytest.mark.parametrize("kind", ["502-after", "500-after", "reset", "timeout"])
def test_comment_created_but_the_answer_lost_never_duplicates(
    kind: str, world: World, stripe_sandbox: Sandbox
) -> None:
    """GitHub wrote the comment; the client saw a 5xx, a reset or nothing. The re-run finds
    the comment by its marker instead of posting a second one."""
    with FaultProxy(world.fake.url, hold=1.5) as proxy:
        desk = world.desk(api_url=proxy.url, timeout=1 if kind == "timeout" else 5)
        number, _ = world.file("duplicate_subscriptions")
        proxy.arm(kind, at=1, only="POST */comments")
        error = attempt(lambda: desk.triage(world.payload(number)))
        assert isinstance(error, OperationalError), error
        assert len(world.bot_comments(number)) == 1  # it was written
        proxy.reset()
        again = world.desk(api_url=proxy.url)
        assert attempt(lambda: again.triage(world.payload(number))) is None
        one_comment(world, number)
        assert not [s for s in proxy.seen if s.method == "POST" and s.path.endswith("/comments")]
    record("github_fault", kind=f"{kind}-on-comment-post", runs=2, duplicated_comments=0)


WRITES = "[PD]* *"  # POST, PUT, PATCH, DELETE: every GitHub write


@pytest.mark.parametrize("kind", ["502", "502-after"])
def test_apply_with_a_github_write_fault_at_every_position(
    kind: str, stripe_sandbox: Sandbox, stripe_gateway: Any
) -> None:
    """A 502 on the Nth GitHub write of an apply, refused (`502`) or after GitHub did it
    (`502-after`), for every N; a plain re-run then finishes. One refund, one comment,
    the record complete."""

    def run(at: int) -> tuple[int, int]:
        with (
            fresh_world(stripe_sandbox, stripe_gateway) as world,
            FaultProxy(world.fake.url) as proxy,
        ):
            number, refund = approved(world)
            world.label(number, "approve-cancel", actor=ADMIN)
            if at:
                proxy.arm(kind, at=at, only=WRITES)
            else:
                proxy.reset(only=WRITES)
            first = attempt(lambda: world.desk(api_url=proxy.url).apply(number))
            writes, injected, seen = proxy.count, len(proxy.injected), list(proxy.seen)
            assert first is None or isinstance(first, OperationalError), first
            proxy.reset()
            final = world.desk(api_url=proxy.url).apply(number)
            assert final.action in ("apply", "ignored"), final.reason
            refunds = world.stripe.find_refunds_for(refund.target)
            assert len(refunds) == 1, refunds
            one_comment(world, number)
            [state] = bot_states(world, number)
            assert state is not None
            assert {e.kind for e in state.executed} == {
                StepKind.cancel_subscription,
                StepKind.refund,
            }
            assert {e.status for e in state.executed} <= {"done", "already_done"}
            assert next(e for e in state.executed if e.kind is StepKind.refund).stripe_id == (
                refunds[0].id
            )
            labels = world.fake.labels_of(number)
            assert "billing:done" in labels and "approve-refund" not in labels, (
                at,
                [(s.method, s.path, s.fault) for s in seen],
                world.fake.events_of(number),
            )
            return writes, injected

    positions, _ = run(0)
    assert 1 <= positions <= 20
    for at in range(1, positions + 1):
        _, injected = run(at)
        assert injected == 1, (at, positions)
    record(
        "github_fault",
        kind=f"{kind}-apply-write",
        positions=positions,
        runs=positions,
        duplicated_comments=0,
        double_actions=0,
    )
