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
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from billingops.errors import BillingopsError, OperationalError
from billingops.onboarding.checks import Check, fail, passed, skip, warn

T = TypeVar("T")

_GITHUB_WRITE_FIX = (
    "the token needs Issues: read and write on {repo} (a GitHub App installed on it, or "
    "`permissions: issues: write` for the workflow's GITHUB_TOKEN)"
)
_STRIPE_WRITE_FIX = (
    "use a test-mode secret key (sk_test_...): the check creates and deletes a customer, "
    "a product, a plan, a subscription and a test clock"
)


_ASK = "Live check: where can I download my invoices? (no money moves)"
_ASK_AGAIN = "Live check, edited: please cancel at the end of the period (no money moves)"


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
    cleanup: list[tuple[str, str, Callable[[], None], str]] = field(default_factory=list)

    def step(self, id: str, what: str, fn: Callable[[], T], fix: str) -> T | None:
        """One call: a pass line with what it returned, or a fail line with the fix."""
        try:
            value = fn()
        except BillingopsError as exc:
            self.checks.append(
                fail(
                    id,
                    f"{what}: {exc}",
                    fix,
                    operational=isinstance(exc, OperationalError),
                )
            )
            return None
        shown = f" ({value})" if isinstance(value, str | int) and value != "" else ""
        if isinstance(value, dict) and value.get("visibility"):
            shown = f" ({value['visibility']})"
        self.checks.append(passed(id, f"{what}{shown}"))
        return value

    def skipped(self, id: str, what: str) -> None:
        self.checks.append(skip(id, f"{what}: not tried (an earlier call failed)"))

    def undo(self, id: str, what: str, fn: Callable[[], None], fix: str) -> None:
        self.cleanup.append((id, what, fn, fix))

    def clean_up(self) -> None:
        for id, what, fn, fix in reversed(self.cleanup):
            self.step(id, what, fn, fix)


def run(env: Mapping[str, str], cwd: Path, *, repository: str | None = None) -> list[Check]:
    """The live check's lines, in order. Never raises for a failed call: it is a line."""
    from billingops.wiring import Wiring

    try:
        wiring = Wiring.from_env(env, cwd)
    except BillingopsError as exc:
        return [fail("live.config", f"config: {exc}", "fix the config file, then run again")]
    key = wiring.env.stripe_api_key.get_secret_value() if wiring.env.stripe_api_key else ""
    repo = repository or wiring.env.github_repository or ""
    if not key:
        return [fail("live.stripe.key", "STRIPE_API_KEY is not set", _STRIPE_WRITE_FIX)]
    mode = key_mode(key)
    if mode != "test":
        said = "a live-mode key" if mode == "live" else "not a Stripe secret or restricted key"
        return [fail("live.stripe.key", f"STRIPE_API_KEY is {said}: refused", _STRIPE_WRITE_FIX)]
    if wiring.env.github_token is None:
        return [fail("live.github.token", "GITHUB_TOKEN is not set", "set GITHUB_TOKEN")]
    if repo.count("/") != 1:
        return [
            fail(
                "live.github.repository",
                "no scratch repository",
                "pass --repository owner/name (a private repository for tests) or set "
                "GITHUB_REPOSITORY",
            )
        ]
    state = _Run(repo, f"{int(time.time())}-{secrets.token_hex(3)}")
    state.checks.append(passed("live.stripe.key", "STRIPE_API_KEY is a test-mode key"))
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
        state.checks.append(
            warn("live.stripe.clock", "test clock: localstripe has none (sandbox clock used)")
        )
    else:
        clock = state.step(
            "live.stripe.clock",
            "Stripe: create a test clock",
            lambda: stripe.create_test_clock(frozen_time=int(time.time()), name=run),
            _STRIPE_WRITE_FIX,
        )
        if clock is None:
            return
        state.undo(
            "live.stripe.clock.delete",
            "Stripe: delete the test clock",
            lambda: stripe.delete_test_clock(clock or ""),
            f"delete test clock {clock} in the Stripe dashboard (test mode)",
        )
    made = state.step(
        "live.stripe.plan",
        "Stripe: create a test product and plan",
        lambda: stripe.create_plan(run=run),
        _STRIPE_WRITE_FIX,
    )
    if made is None:
        return
    product, plan = made
    state.undo(
        "live.stripe.plan.archive",
        "Stripe: archive the test plan and product",
        lambda: stripe.archive_plan(product, plan),
        f"archive plan {plan} and product {product} in the Stripe dashboard (test mode)",
    )
    email = f"billingops-live-check+{run}@example.com"
    customer = state.step(
        "live.stripe.customer",
        "Stripe: create a test customer",
        lambda: stripe.create_customer(email=email, run=run, test_clock=clock),
        _STRIPE_WRITE_FIX,
    )
    if customer is None:
        return
    state.undo(
        "live.stripe.customer.delete",
        "Stripe: delete the test customer (and its subscription)",
        lambda: stripe.delete_customer(customer or ""),
        f"delete customer {customer} in the Stripe dashboard (test mode)",
    )
    if (
        state.step(
            "live.stripe.subscription",
            "Stripe: create a test subscription",
            lambda: stripe.subscribe(customer_id=customer or "", plan_id=plan, run=run),
            _STRIPE_WRITE_FIX,
        )
        is None
    ):
        return

    # -- GitHub: who we are, and a ticket.
    write_fix = _GITHUB_WRITE_FIX.format(repo=state.repository)
    me = state.step(
        "live.github.viewer", "GitHub: who the token acts as", tracker.whoami, write_fix
    )
    if me is None:
        return
    issue = state.step(
        "live.github.issue",
        "GitHub: file a ticket issue",
        lambda: _file_ticket(tracker, wiring.config, run, email),
        write_fix,
    )
    if issue is None:
        return
    number = int(issue.number)
    state.undo(
        "live.github.issue.close",
        f"GitHub: close ticket #{number}",
        lambda: _close(tracker, number),
        f"close issue #{number} in {state.repository} by hand",
    )
    visibility = state.step(
        "live.github.repository",
        "GitHub: read the repository's visibility",
        tracker.visibility,
        write_fix,
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
        "GitHub: list the product-gap backlog",
        lambda: {i.number for i in _backlog(tracker, wiring.config)},
        "the token needs Issues: read on the backlog repository",
    )
    if gaps_before is None:
        return
    state.undo(
        "live.github.backlog.close",
        "GitHub: close the gap issues this check filed",
        lambda: _close_new_gaps(tracker, wiring.config, gaps_before or set()),
        "close the gap issues titled after this run by hand",
    )
    triage_fix = (
        "the line says which call failed; `billingops --debug live-check` shows the "
        "request lines (never bodies or keys)"
    )
    threads = []
    for run_no, (what, read) in enumerate(
        (("first", "read the thread of"), ("second", "read the thread back of")), start=1
    ):
        if run_no == 2:
            edited = state.step(
                "live.github.edit",
                f"GitHub: edit ticket #{number} (as a customer would)",
                lambda: tracker.edit_issue(number, body=_ticket_body(email, cancel=True)),
                write_fix,
            )
            if edited is None:
                return
            event["issue"] = _payload(edited)
        if (
            state.step(
                f"live.triage.{run_no}",
                f"billingops: {what} triage of #{number}",
                lambda: _triage(event, billing, tracker, wiring.config, state.repository),
                triage_fix,
            )
            is None
        ):
            return
        thread = state.step(
            f"live.github.thread.{run_no}",
            f"GitHub: {read} #{number}",
            lambda: tracker.read_thread(number),
            write_fix,
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
            description=_ASK_AGAIN if cancel else _ASK,
            email=email,
        )
    )


def _file_ticket(tracker: Any, config: Any, run: str, email: str) -> Any:
    return tracker.create_issue(
        title=f"billingops live check {run}",
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
        raise OperationalError(f"triage ended as {result.action!r}: {result.reason}")
    case = result.classification.case.value if result.classification else "no case"
    return f"{result.action}: {case}"


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
    if before is None or comment is None:
        state.checks.append(
            fail(
                "live.readback.comment",
                f"no handoff comment by {thread.me} on #{number}",
                "the token's account must be the one that writes (see README: billingops' "
                "own identity)",
            )
        )
        return
    if len(ours) != 1 or comment.id != before.id:
        state.checks.append(
            fail(
                "live.readback.comment",
                f"{len(ours)} handoff comments by {thread.me} on #{number} after two runs "
                "(one expected)",
                "the second run did not find its own comment: report this with the lines above",
            )
        )
        return
    if comment.body == before.body:
        state.checks.append(
            fail(
                "live.readback.edit",
                f"the handoff on #{number} was not updated after the ticket was edited",
                "report this with the lines above",
            )
        )
        return
    state.checks.append(
        passed(
            "live.readback.comment",
            f"one handoff comment by {thread.me} (id {comment.id}), edited in place",
        )
    )
    issue = state.step(
        "live.readback.labels",
        f"GitHub: read the labels of #{number}",
        lambda: tracker.get_issue(number),
        "run `billingops doctor --fix` to create the labels",
    )
    if issue is not None:
        case = [n for n in issue.labels if n.startswith("billing:") or n == "needs-info"]
        if not case:
            state.checks.append(
                fail(
                    "live.readback.case",
                    f"#{number} has no billing:<case> label",
                    "run `billingops doctor --fix` to create the labels",
                )
            )
        else:
            state.checks.append(passed("live.readback.case", f"#{number} labelled {case[0]}"))


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
