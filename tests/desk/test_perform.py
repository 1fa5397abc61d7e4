"""The executor (desk/perform.py): an outcome decided by the core, performed in a fixed
order against recording stand-ins of GitHub and Stripe; a fault half-way; a race with
another run that recorded a step meanwhile."""

from __future__ import annotations

from typing import Any

import pytest

from billingops.core.apply import decide_apply
from billingops.core.markers import decode_state
from billingops.core.triage import decide_triage
from billingops.desk.perform import Partial, perform
from billingops.errors import OperationalError, WriteRefused
from billingops.models.billing import Refund, Subscription
from billingops.models.decision import Executed, StepKind
from billingops.models.issue import Comment, Thread
from billingops.models.outcome import Outcome
from tests.core.outcomes import (
    BOT,
    CFG,
    REPO,
    apply_reading,
    labeled,
    posted,
    read,
)


class Tracker:
    """The GitHub side as the executor uses it; every call in one log, in order."""

    repository = REPO

    def __init__(self, comment: Comment) -> None:
        self.comment = comment
        self.log: list[str] = []
        self.posted: list[str] = []
        self.on_read: Any = None  # another run's write, just before our fresh read

    def read_thread(self, number: int, *, listing: Any = None) -> Thread:
        if self.on_read is not None:
            self.on_read(self)
        self.log.append("read")
        return Thread(me=BOT, comments=[self.comment])

    def edit_comment(self, comment_id: int, body: str) -> Comment:
        self.log.append("edit")
        self.comment = self.comment.model_copy(update={"body": body})
        return self.comment

    def create_comment(self, number: int, body: str) -> Comment:
        self.log.append("post " + body.split("\n", 1)[0][:22])
        self.posted.append(body)
        return Comment(id=99, body=body, author=BOT)

    def add_labels(self, number: int, labels: list[str]) -> None:
        self.log.append(f"label +{','.join(labels)}")

    def remove_label(self, number: int, label: str) -> None:
        self.log.append(f"label -{label}")

    def executed(self) -> dict[StepKind, Executed]:
        state = decode_state(self.comment.body)
        assert state is not None
        return {e.kind: e for e in state.executed}


class Stripe:
    def __init__(self, fail: BaseException | None = None, on: str = "") -> None:
        self.fail, self.on = fail, on
        self.log: list[str] = []

    def refund(self, **kw: Any) -> Refund:
        self._maybe_fail("refund")
        self.log.append(f"refund {kw['charge_id']} key={kw['idempotency_key'][:11]}")
        return Refund(id="re_1", charge_id=kw["charge_id"], amount=kw["amount"], currency="usd")

    def cancel_subscription(self, **kw: Any) -> Subscription:
        self._maybe_fail("cancel")
        self.log.append(f"cancel {kw['subscription_id']}")
        return Subscription(id=kw["subscription_id"], customer_id="cus_1", status="canceled")

    def _maybe_fail(self, what: str) -> None:
        if self.fail is not None and self.on == what:
            raise self.fail


def approved(**events: str) -> tuple[Outcome, Comment]:
    comment = posted(decide_triage(read(), CFG, REPO))
    labels = [labeled(label, actor, id=i) for i, (label, actor) in enumerate(events.items())]
    return decide_apply(apply_reading(comment, labels), CFG, REPO), comment


BOTH = {"approve-cancel": "maya", "approve-refund": "ada"}


def run(outcome: Outcome, tracker: Tracker, stripe: Stripe, *, dry_run: bool = False) -> Any:
    thread = Thread(me=BOT, comments=[tracker.comment])
    return perform(outcome, thread, tracker, stripe, CFG, dry_run=dry_run)  # type: ignore[arg-type]


def test_each_step_is_executed_then_recorded_then_the_labels_change() -> None:
    outcome, comment = approved(**BOTH)
    tracker, stripe = Tracker(comment), Stripe()
    result = run(outcome, tracker, stripe)
    assert [e.status for e in result.executed] == ["done", "done"]
    assert stripe.log == ["cancel sub_2", "refund ch_2 key=billingops-"]
    # Each record is an edit merged with a fresh read; billing:done before the approvals go.
    assert tracker.log == [
        "read", "edit",  # cancel recorded
        "read", "edit",  # refund recorded
        "label +billing:done",
        "label -approve-refund",
        "label -approve-cancel",
    ]  # fmt: skip
    assert {k: e.stripe_id for k, e in tracker.executed().items()} == {
        StepKind.cancel_subscription: "sub_2",
        StepKind.refund: "re_1",
    }


def test_a_refusal_posts_its_notice_before_the_label_goes_and_moves_no_money() -> None:
    outcome, comment = approved(**{"approve-refund": "tim"})
    tracker, stripe = Tracker(comment), Stripe()
    result = run(outcome, tracker, stripe)
    assert result.action == "refused"
    assert tracker.log[0].startswith("post ") and tracker.log[1:] == ["label -approve-refund"]
    assert stripe.log == []


def test_a_failure_half_way_stops_and_records_exactly_what_was_done() -> None:
    outcome, comment = approved(**BOTH)
    tracker, stripe = Tracker(comment), Stripe(OperationalError("Stripe is down"), on="refund")
    with pytest.raises(Partial) as caught:
        run(outcome, tracker, stripe)
    result = caught.value.result
    assert [(e.kind, e.status) for e in result.executed] == [
        (StepKind.cancel_subscription, "done"),
        (StepKind.refund, "failed"),
    ]
    recorded = tracker.executed()
    assert recorded[StepKind.cancel_subscription].status == "done"
    assert recorded[StepKind.refund].status == "failed"
    assert recorded[StepKind.refund].reason == "Stripe is down"
    # The cancel is done: its label goes; the refund's stays for the re-run, no billing:done.
    assert [x for x in tracker.log if x.startswith("label")] == ["label -approve-cancel"]

    # The next run reads that record and completes the rest; then the ticket is done.
    labels = [labeled("approve-refund", "ada", id=1)]
    again = decide_apply(apply_reading(tracker.comment, labels), CFG, REPO)
    stripe, tracker.log = Stripe(), []
    run(again, tracker, stripe)
    assert stripe.log == ["refund ch_2 key=billingops-"]
    assert tracker.log[-2:] == ["label +billing:done", "label -approve-refund"]
    assert {k: e.status for k, e in tracker.executed().items()} == {
        StepKind.cancel_subscription: "done",
        StepKind.refund: "done",
    }


def test_a_write_stripe_refuses_is_recorded_failed_and_the_run_goes_on() -> None:
    outcome, comment = approved(**BOTH)
    refused = WriteRefused("charge_disputed", "Stripe refused to refund ch_2: disputed")
    tracker, stripe = Tracker(comment), Stripe(refused, on="refund")
    result = run(outcome, tracker, stripe)  # no exception: nothing is down
    assert [e.status for e in result.executed] == ["done", "failed"]
    assert tracker.executed()[StepKind.refund].reason == str(refused)
    assert "label -approve-cancel" in tracker.log and "label -approve-refund" not in tracker.log


def test_a_step_another_run_recorded_meanwhile_is_kept() -> None:
    """Two runs (two jobs, or the staff and the private desk) race: ours must not drop the
    step the other one recorded between our read and our write (SPEC §5b)."""
    outcome, comment = approved(**{"approve-cancel": "maya"})
    tracker, stripe = Tracker(comment), Stripe()
    theirs = Executed(kind=StepKind.refund, target="ch_2", status="done", stripe_id="re_0")

    def other_run(t: Tracker) -> None:
        t.on_read = None
        t.comment = posted(decide_triage(read(), CFG, REPO), [theirs])

    tracker.on_read = other_run
    run(outcome, tracker, stripe)
    recorded = tracker.executed()
    assert recorded[StepKind.refund] == theirs
    assert recorded[StepKind.cancel_subscription].status == "done"


def test_a_dry_run_writes_nothing_and_says_what_it_would_do() -> None:
    outcome, comment = approved(**BOTH)
    tracker, stripe = Tracker(comment), Stripe()
    result = run(outcome, tracker, stripe, dry_run=True)
    assert [e.status for e in result.executed] == ["would_do", "would_do"]
    assert tracker.log == [] and stripe.log == []
