"""What an apply run will do (core/apply.py), decided from plain values: which labels
count, drift, and each approved step as a write with its key and metadata, or settled."""

from __future__ import annotations

from billingops.config import Config
from billingops.core import effects
from billingops.core.apply import decide_apply
from billingops.core.triage import decide_triage
from billingops.models.billing import Refund
from billingops.models.decision import Executed, StepKind
from billingops.models.issue import Thread
from tests.core.builders import DAY, MIN, NOW, paid_sub, state
from tests.core.outcomes import BOT, CFG, POSTED, REF, REPO, apply_reading, labeled, posted, read


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


def test_without_the_write_key_approved_writes_are_held_whole_for_the_apply_job() -> None:
    """The read-only job (issue 22): the same decision, then nothing written at all, not
    even the refusal of the other label; the steps wait as `would_do`."""
    comment = posted(decide_triage(read(), CFG, REPO))
    events = [labeled("approve-cancel", "maya", id=1), labeled("approve-refund", "tim", id=2)]
    full = decide_apply(apply_reading(comment, events), CFG, REPO)
    assert full.notices and full.labels.remove == ["approve-refund"]
    held = decide_apply(apply_reading(comment, events), CFG, REPO, stripe_writes=False)
    assert held.held and held.result.plan == full.result.plan
    reason = "pending: 1 approved step(s) for the apply job (cancel_subscription sub_2)"
    assert held.result.reason == reason
    assert [(r.write, r.record, r.settled and r.settled.status) for r in held.steps] == [
        (None, False, "would_do")
    ]
    assert (held.notices, held.labels.remove, held.after, held.write_comment) == ([], [], [], False)
    assert held.existing is None and held.announcement is None
    assert held.reason_after([]) == held.result.reason


def test_without_the_write_key_an_outcome_with_no_stripe_write_is_the_same() -> None:
    comment = posted(decide_triage(read(), CFG, REPO))
    events = [labeled("approve-refund", "tim")]
    full = decide_apply(apply_reading(comment, events), CFG, REPO)
    assert decide_apply(apply_reading(comment, events), CFG, REPO, stripe_writes=False) == full


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
