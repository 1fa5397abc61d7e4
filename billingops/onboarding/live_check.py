"""`billingops live-check`: the real round trip once, against a Stripe test-mode key and a
scratch repository, with no money moved (SPEC §5c).

Why: the tests run billingops against stand-ins held to GitHub's and Stripe's published
descriptions, but only the services themselves can say that a token, a key, an App's
permissions and today's API versions work together. This runs the product's own code
path (the same gateways, the same desk) on a throw-away customer and a throw-away ticket,
and prints one line per call with what failed and the fix:

  Stripe: a test clock (not on localstripe), a product and a plan, a customer with
  Stripe's test card, a subscription;
  GitHub: who the token acts as, a ticket issue with the intake label;
  the desk's triage twice (the first writes the handoff and labels and reads the gap
  backlog; the second reads the thread back with today's comment ids and edits in place);
  then reads the comment, its labels and the backlog back;
  clean-up, whatever failed: the issue closed, the customer deleted (its subscription
  with it), the plan and product archived, the clock deleted.

A live-mode key is refused before any request: the check creates customers.

The texts (each call's line and fix, the ticket's words): templates/checks/live_check.txt.j2.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from billingops.errors import BillingopsError, OperationalError
from billingops.onboarding.checks import Check, Texts, fail, passed, skip, warn

T = TypeVar("T")

_check = Texts("live_check")


def key_mode(key: str) -> str:
    """`live`, `test` or `unknown`, from the key's prefix alone (no request)."""
    head = key.strip().split("_", 2)
    if len(head) == 3 and head[0] in ("sk", "rk") and head[1] in ("live", "test"):
        return head[1]
    return "unknown"


@dataclass
class _Run:
    """What one live check created (for the clean-up) and what it found."""

    repository: str
    run: str
    checks: list[Check] = field(default_factory=list)
    cleanup: list[tuple[str, str, Callable[[], None], dict[str, Any]]] = field(default_factory=list)

    def step(self, id: str, call: str, fn: Callable[[], T], **values: Any) -> T | None:
        """One call (`call`: its macro, what it does and the fix): a pass line with what
        it returned, or a fail line with the fix."""
        what, fix = _check.say(call, **values)
        try:
            value = fn()
        except BillingopsError as exc:
            operational = isinstance(exc, OperationalError)
            values = {"what": what, "error": str(exc), "fix": fix, "operational": operational}
            self.checks.append(_check(fail, id, "call_failed", **values))
            return None
        self.checks.append(_check(passed, id, "call_passed", what=what, value=_shown(value)))
        return value

    def skipped(self, id: str, call: str, **values: Any) -> None:
        what = _check.say(call, **values)[0]
        self.checks.append(_check(skip, id, "call_skipped", what=what))

    def undo(self, id: str, call: str, fn: Callable[[], None], **values: Any) -> None:
        self.cleanup.append((id, call, fn, values))

    def clean_up(self) -> None:
        for id, call, fn, values in reversed(self.cleanup):
            self.step(id, call, fn, **values)


def _shown(value: object) -> object:
    """What a pass line shows of a call's answer: a text or a number, a repository's
    visibility; nothing else (None)."""
    if isinstance(value, dict):
        return value.get("visibility") or None
    if isinstance(value, str | int) and value != "":
        return value
    return None


def run(env: Mapping[str, str], cwd: Path, *, repository: str | None = None) -> list[Check]:
    """The live check's lines, in order. Never raises for a failed call: it is a line."""
    from billingops.wiring import Wiring

    try:
        wiring = Wiring.from_env(env, cwd)
    except BillingopsError as exc:
        return [_check(fail, "live.config", "config_invalid", error=str(exc))]
    key = wiring.env.stripe_api_key.get_secret_value() if wiring.env.stripe_api_key else ""
    repo = repository or wiring.env.github_repository or ""
    if not key:
        return [_check(fail, "live.stripe.key", "key_missing")]
    mode = key_mode(key)
    if mode != "test":
        return [_check(fail, "live.stripe.key", "key_refused", live=mode == "live")]
    if wiring.env.github_token is None:
        return [_check(fail, "live.github.token", "token_missing")]
    if repo.count("/") != 1:
        return [_check(fail, "live.github.repository", "no_repository")]
    state = _Run(repo, f"{int(time.time())}-{secrets.token_hex(3)}")
    state.checks.append(_check(passed, "live.stripe.key", "key_ok"))
    try:
        _round_trip(state, wiring, key)
    finally:
        state.clean_up()
    return state.checks


def _round_trip(state: _Run, wiring: Any, key: str) -> None:
    from billingops._billing.live_fixture import LiveFixture
    from billingops._tracker.github_gateway import GitHubGateway

    compat = wiring.env.billingops_sandbox == "localstripe"
    stripe = LiveFixture(key.strip(), api_base=wiring.env.stripe_api_base, compat=compat)
    tracker = wiring.tracker(state.repository)
    assert isinstance(tracker, GitHubGateway)
    run = state.run

    # -- Stripe: a customer with one subscription, on a test clock where Stripe has them.
    clock: str | None = None
    if compat:
        state.checks.append(_check(warn, "live.stripe.clock", "no_clock"))
    else:
        clock = state.step(
            "live.stripe.clock",
            "stripe_clock",
            lambda: stripe.create_test_clock(frozen_time=int(time.time()), name=run),
        )
        if clock is None:
            return
        state.undo(
            "live.stripe.clock.delete",
            "stripe_clock_delete",
            lambda: stripe.delete_test_clock(clock or ""),
            clock=clock,
        )
    made = state.step("live.stripe.plan", "stripe_plan", lambda: stripe.create_plan(run=run))
    if made is None:
        return
    product, plan = made
    state.undo(
        "live.stripe.plan.archive",
        "stripe_plan_archive",
        lambda: stripe.archive_plan(product, plan),
        plan=plan,
        product=product,
    )
    email = f"billingops-live-check+{run}@example.com"
    customer = state.step(
        "live.stripe.customer",
        "stripe_customer",
        lambda: stripe.create_customer(email=email, run=run, test_clock=clock),
    )
    if customer is None:
        return
    state.undo(
        "live.stripe.customer.delete",
        "stripe_customer_delete",
        lambda: stripe.delete_customer(customer or ""),
        customer=customer,
    )
    if (
        state.step(
            "live.stripe.subscription",
            "stripe_subscription",
            lambda: stripe.subscribe(customer_id=customer or "", plan_id=plan, run=run),
        )
        is None
    ):
        return

    # -- GitHub: who we are, and a ticket.
    repo = state.repository
    me = state.step("live.github.viewer", "github_viewer", tracker.whoami, repo=repo)
    if me is None:
        return
    issue = state.step(
        "live.github.issue",
        "github_issue",
        lambda: _file_ticket(tracker, wiring.config, run, email),
        repo=repo,
    )
    if issue is None:
        return
    number = int(issue.number)
    state.undo(
        "live.github.issue.close",
        "github_issue_close",
        lambda: _close(tracker, number),
        number=number,
        repo=repo,
    )
    visibility = state.step(
        "live.github.repository", "github_repository", tracker.visibility, repo=repo
    )
    if visibility is None:
        return
    event = {
        "action": "opened",
        "issue": _payload(issue),
        "repository": {"full_name": state.repository, **visibility},
    }

    # -- The product's own triage; the ticket edited; triage again (it must find its own
    # comment by today's ids and edit it in place); the backlog issues this run filed closed.
    billing = wiring.billing()
    gaps_before = state.step(
        "live.github.backlog",
        "github_backlog",
        lambda: {i.number for i in _backlog(tracker, wiring.config)},
    )
    if gaps_before is None:
        return
    state.undo(
        "live.github.backlog.close",
        "github_backlog_close",
        lambda: _close_new_gaps(tracker, wiring.config, gaps_before or set()),
    )
    threads = []
    for run_no in (1, 2):
        if run_no == 2:
            edited = state.step(
                "live.github.edit",
                "github_edit",
                lambda: tracker.edit_issue(number, body=_ticket_body(email, cancel=True)),
                number=number,
                repo=repo,
            )
            if edited is None:
                return
            event["issue"] = _payload(edited)
        if (
            state.step(
                f"live.triage.{run_no}",
                "triage",
                lambda: _triage(event, billing, tracker, wiring.config, repo),
                run_no=run_no,
                number=number,
            )
            is None
        ):
            return
        thread = state.step(
            f"live.github.thread.{run_no}",
            "github_thread",
            lambda: tracker.read_thread(number),
            run_no=run_no,
            number=number,
            repo=repo,
        )
        if thread is None:
            return
        threads.append(thread)
    first, thread = threads
    _read_back(state, first, thread, tracker, number)


def _ticket_body(email: str, *, cancel: bool = False) -> str:
    from billingops.models.ticket import RequestKind
    from billingops.sandbox.scenarios import SuggestedTicket
    from billingops.sandbox.tickets import form_body

    return form_body(
        SuggestedTicket(
            title="",
            request=RequestKind.cancel if cancel else RequestKind.invoices,
            description=_check.text("ticket_ask", cancel=cancel),
            email=email,
        )
    )


def _file_ticket(tracker: Any, config: Any, run: str, email: str) -> Any:
    return tracker.create_issue(
        title=_check.text("ticket_title", run=run),
        body=_ticket_body(email),
        labels=[config.intake_label],
    )


def _payload(issue: Any) -> dict[str, Any]:
    return {
        "number": issue.number,
        "title": issue.title,
        "body": issue.body,
        "user": {"login": issue.author},
        "labels": [{"name": n} for n in issue.labels],
        "author_association": issue.author_association,
        "html_url": issue.html_url,
    }


def _triage(event: dict[str, Any], billing: Any, tracker: Any, config: Any, repo: str) -> str:
    from billingops.desk.public import open_desk

    desk = open_desk(event, billing, tracker, config, repo)
    result = desk.triage(event["issue"])
    if result.action not in ("triage", "needs_info"):
        raise OperationalError(
            _check.text("triage_ended", action=result.action, reason=result.reason)
        )
    case = result.classification.case.value if result.classification else None
    return _check.text("triage_result", action=result.action, case=case)


def _close(tracker: Any, number: int) -> None:
    tracker.edit_issue(number, state="closed", state_reason="not_planned")


def _read_back(state: _Run, first: Any, thread: Any, tracker: Any, number: int) -> None:
    from billingops.core.markers import is_bot_comment
    from billingops.core.ownership import find_bot_comment
    from billingops.models.issue import same_login

    # Handoffs only: a plan that changed is also announced by a short comment of its own.
    ours = [
        c for c in thread.comments if same_login(c.author, thread.me) and is_bot_comment(c.body)
    ]
    before = find_bot_comment(first.comments, first.me)
    comment = find_bot_comment(thread.comments, thread.me)
    login = thread.me
    if before is None or comment is None:
        state.checks.append(
            _check(fail, "live.readback.comment", "no_handoff", login=login, number=number)
        )
        return
    if len(ours) != 1 or comment.id != before.id:
        state.checks.append(
            _check(
                fail,
                "live.readback.comment",
                "handoffs_not_one",
                count=len(ours),
                login=login,
                number=number,
            )
        )
        return
    if comment.body == before.body:
        state.checks.append(
            _check(fail, "live.readback.edit", "handoff_not_updated", number=number)
        )
        return
    state.checks.append(
        _check(passed, "live.readback.comment", "handoff_ok", login=login, id=comment.id)
    )
    issue = state.step(
        "live.readback.labels",
        "readback_labels",
        lambda: tracker.get_issue(number),
        number=number,
    )
    if issue is not None:
        case = [n for n in issue.labels if n.startswith("billing:") or n == "needs-info"]
        if not case:
            state.checks.append(_check(fail, "live.readback.case", "no_case_label", number=number))
        else:
            state.checks.append(
                _check(passed, "live.readback.case", "case_label", number=number, label=case[0])
            )


def _close_new_gaps(tracker: Any, config: Any, before: set[int]) -> None:
    backlog = tracker.for_repository(config.backlog_repository or tracker.repository)
    for gap in _backlog(tracker, config):
        if gap.number not in before:
            backlog.edit_issue(gap.number, state="closed", state_reason="not_planned")


def _backlog(tracker: Any, config: Any) -> list[Any]:
    from billingops.core.backlog import GAP_LABEL

    backlog = tracker.for_repository(config.backlog_repository or tracker.repository)
    issues: list[Any] = backlog.list_issues(labels=[GAP_LABEL], state="open")
    return issues
