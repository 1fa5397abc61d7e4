"""What a run will do, decided from plain values (issue 22): no GitHub, no Stripe, no fakes.

A triage's outcome is rendered into billingops' comment as a later run reads it; an apply
is then decided from that thread, the label events and roles, and the billing state.
"""

from __future__ import annotations

from typing import Any

from billingops.config import Config
from billingops.core import effects
from billingops.core.apply import decide_apply
from billingops.core.markers import decode_state
from billingops.core.record import render_comment
from billingops.core.triage import decide_triage
from billingops.models.billing import BillingState, Refund
from billingops.models.decision import Executed, StepKind
from billingops.models.issue import Comment, IssueSnapshot, LabelEvent, Thread
from billingops.models.outcome import BillingRead, Outcome, Reading
from tests.core.builders import DAY, MIN, NOW, paid_sub, resolved, state, ticket

BOT = "github-actions[bot]"
REPO = "acme/support"
POSTED = 1_000  # GitHub's stamp on the triage comment
CFG = Config()
ROLES: dict[str, str | None] = {"maya": "maintain", "ada": "admin", "tim": "triage"}
REF = effects.issue_ref(REPO, 7)


def charged_twice() -> BillingState:
    return state(*(paid_sub(i, started=NOW - DAY + i * MIN) for i in (1, 2)))


def the_ticket(**kw: Any) -> Any:
    return ticket(
        "I was charged twice for the same plan, please refund the duplicate",
        title="Charged twice",
        labels=kw.pop("labels", ["billing"]),
        author="jane",
        number=7,
        **kw,
    )


def read(billing: BillingState | None = None, thread: Thread | None = None) -> Reading:
    t = the_ticket()
    return Reading(
        ticket=t,
        thread=thread or Thread(me=BOT),
        billing=BillingRead(
            ticket=t, resolution=resolved("cus_1"), state=billing or charged_twice()
        ),
    )


def posted(outcome: Outcome, record: list[Executed] | None = None) -> Comment:
    """billingops' comment as the next run reads it."""
    assert outcome.draft is not None
    body = render_comment(outcome.draft, record or list(outcome.record), CFG)
    return Comment(id=1, body=body, author=BOT, created_at=POSTED)


def labeled(label: str, actor: str, at: int = POSTED + 60, id: int = 1) -> LabelEvent:
    return LabelEvent(event="labeled", label=label, actor=actor, created_at=at, id=id)


def apply_reading(
    comment: Comment,
    events: list[LabelEvent],
    *,
    billing: BillingState | None = None,
    extra: list[Comment] | None = None,
) -> Reading:
    labels = ["billing", *sorted({e.label for e in events})]
    t = the_ticket(labels=labels)
    return Reading(
        issue=IssueSnapshot(number=7, title=t.title, author="jane", labels=labels),
        ticket=t,
        thread=Thread(me=BOT, comments=[comment, *(extra or [])]),
        events=events,
        roles=ROLES,
        billing=BillingRead(
            ticket=t, resolution=resolved("cus_1"), state=billing or charged_twice()
        ),
    )


# -- triage ---------------------------------------------------------------------------


def test_a_first_triage_writes_the_comment_and_labels_the_case_and_announces_nothing() -> None:
    outcome = decide_triage(read(), CFG, REPO)
    assert outcome.result.action == "triage"
    assert outcome.write_comment and outcome.existing is None
    assert outcome.labels.add == ["billing:duplicate_subscription"]
    assert [g.key.value for g in outcome.gaps] == ["no_duplicate_guard"]
    assert outcome.announcement is None  # the comment's creation posts the plan
    assert outcome.steps == []  # a triage never moves money
    state = decode_state(posted(outcome).body)
    assert state is not None and outcome.result.plan is not None
    assert state.plan_hash == outcome.result.plan.hash


def test_a_triage_keeps_the_record_and_announces_a_changed_plan() -> None:
    first = decide_triage(read(), CFG, REPO)
    done = Executed(kind=StepKind.refund, target="ch_2", status="done", stripe_id="re_1")
    comment = posted(first, [done])
    # The ticket's customer bought a third subscription since: the plan changes.
    more = state(*(paid_sub(i, started=NOW - DAY + i * MIN) for i in (1, 2, 3)))
    again = decide_triage(read(more, Thread(me=BOT, comments=[comment])), CFG, REPO)
    assert again.existing == comment
    assert again.record == [done]  # what billingops did stays on record
    assert again.announcement is not None and "billingops:plan rev=1" in again.announcement
    assert again.draft is not None and again.draft.rev == 1


def test_a_comment_someone_else_edited_is_not_trusted() -> None:
    comment = posted(decide_triage(read(), CFG, REPO)).model_copy(update={"editor": "mallory"})
    outcome = decide_triage(read(thread=Thread(me=BOT, comments=[comment])), CFG, REPO)
    assert outcome.record == []
    assert "edited by mallory" in outcome.result.reason


# -- apply ----------------------------------------------------------------------------


def test_no_approval_label_is_ignored_and_does_nothing() -> None:
    comment = posted(decide_triage(read(), CFG, REPO))
    outcome = decide_apply(apply_reading(comment, []), CFG, REPO)
    assert outcome.result.action == "ignored"
    assert (outcome.steps, outcome.notices, outcome.labels.remove) == ([], [], [])


def test_approved_steps_are_writes_with_their_key_and_metadata_in_plan_order() -> None:
    comment = posted(decide_triage(read(), CFG, REPO))
    events = [labeled("approve-cancel", "maya", id=1), labeled("approve-refund", "ada", id=2)]
    outcome = decide_apply(apply_reading(comment, events), CFG, REPO)
    assert outcome.result.action == "apply"
    assert [(r.step.kind, r.step.target) for r in outcome.steps] == [
        (StepKind.cancel_subscription, "sub_2"),
        (StepKind.refund, "ch_2"),
    ]
    cancel, refund = (r.write for r in outcome.steps)
    assert cancel is not None and refund is not None
    assert refund.metadata == {"billingops_issue": REF, "billingops_step": "refund:ch_2"}
    assert cancel.metadata["billingops_prior_status"] == "active"
    assert outcome.result.plan is not None
    key = effects.idempotency_key(REF, outcome.result.plan.hash, refund.step)
    assert refund.idempotency_key == key
    # The same reading, the same keys: a retried job reuses them.
    assert decide_apply(apply_reading(comment, events), CFG, REPO) == outcome
    # `billing:done` once every approved step is done, then each approval label goes.
    assert [(c.add, c.remove, c.when) for c in outcome.after] == [
        (["billing:done"], [], ["cancel_subscription:sub_2", "refund:ch_2"]),
        ([], ["approve-refund"], ["refund:ch_2"]),
        ([], ["approve-cancel"], ["cancel_subscription:sub_2"]),
    ]
    assert outcome.notices == [] and not outcome.write_comment


def test_a_triage_role_label_is_refused_with_a_notice_and_removed() -> None:
    comment = posted(decide_triage(read(), CFG, REPO))
    outcome = decide_apply(apply_reading(comment, [labeled("approve-refund", "tim")]), CFG, REPO)
    assert outcome.result.action == "refused"
    assert outcome.steps == []
    assert outcome.labels.remove == ["approve-refund"]
    [notice] = outcome.notices
    assert "tim has the triage role" in notice


def test_a_label_applied_before_the_plan_was_posted_approves_nothing() -> None:
    comment = posted(decide_triage(read(), CFG, REPO))
    early = [labeled("approve-refund", "ada", at=POSTED)]  # same second: not after
    outcome = decide_apply(apply_reading(comment, early), CFG, REPO)
    assert outcome.result.action == "refused" and outcome.steps == []


def test_no_plan_on_the_issue_refuses_without_reading_stripe() -> None:
    reading = apply_reading(
        posted(decide_triage(read(), CFG, REPO)), [labeled("approve-refund", "ada")]
    )
    bare = reading.model_copy(update={"thread": Thread(me=BOT), "billing": None})
    outcome = decide_apply(bare, CFG, REPO)
    assert outcome.result.reason == "refused: no plan to approve yet"
    assert outcome.labels.remove == ["approve-refund"] and len(outcome.notices) == 1


def test_drift_reposts_the_plan_announces_it_and_executes_nothing() -> None:
    comment = posted(decide_triage(read(), CFG, REPO))
    more = state(*(paid_sub(i, started=NOW - DAY + i * MIN) for i in (1, 2, 3)))
    events = [labeled("approve-refund", "ada")]
    outcome = decide_apply(apply_reading(comment, events, billing=more), CFG, REPO)
    assert outcome.result.action == "refused" and "drift" in outcome.result.reason
    assert outcome.steps == [] and outcome.write_comment
    assert outcome.announcement is not None
    assert outcome.labels.remove == ["approve-refund"]
    assert len(outcome.notices) == 1


def test_a_step_on_record_is_not_redone_and_a_refund_stripe_shows_done_is_settled() -> None:
    done = Executed(kind=StepKind.cancel_subscription, target="sub_2", status="done")
    comment = posted(decide_triage(read(), CFG, REPO), [done])
    # Stripe shows our refund of ch_2 (its metadata), though the record lost it.
    s1, s2 = paid_sub(1, started=NOW - DAY + MIN), paid_sub(2, started=NOW - DAY + 2 * MIN)
    ch2 = s2[2].model_copy(
        update={
            "amount_refunded": 2000,
            "refunded": True,
            "refunds": [
                Refund(
                    id="re_9", charge_id="ch_2", amount=2000, currency="usd", status="succeeded",
                    metadata={"billingops_issue": REF, "billingops_step": "refund:ch_2"},
                )
            ],
        }
    )  # fmt: skip
    mark = {"billingops_issue": REF, "billingops_step": "cancel_subscription:sub_2"}
    sub2 = s2[0].model_copy(update={"status": "canceled", "metadata": mark})
    billing = state(s1, sub2, s2[1], ch2)
    events = [labeled("approve-cancel", "maya", id=1), labeled("approve-refund", "ada", id=2)]
    outcome = decide_apply(apply_reading(comment, events, billing=billing), CFG, REPO)
    assert outcome.result.action == "apply", outcome.result.reason
    cancel, refund = outcome.steps
    assert cancel.write is None and cancel.settled is not None
    assert cancel.settled.status == "already_done" and not cancel.record  # on record already
    assert refund.write is None and refund.settled is not None
    assert (refund.settled.status, refund.settled.stripe_id) == ("already_done", "re_9")
    assert refund.record  # Stripe's word goes on record


def test_two_approvers_are_needed_above_the_threshold() -> None:
    cfg = Config.model_validate({"refund": {"second_approver_above": {"default": 1000}}})
    first = decide_triage(read(), cfg, REPO)
    comment = posted(first)
    outcome = decide_apply(apply_reading(comment, [labeled("approve-refund", "ada")]), cfg, REPO)
    assert outcome.result.action == "refused" and outcome.steps == []
    [notice] = outcome.notices
    assert "second" in notice.lower()
    assert outcome.labels.remove == ["approve-refund"]
