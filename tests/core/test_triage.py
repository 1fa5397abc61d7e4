"""What a triage run will do (core/triage.py), decided from plain values."""

from __future__ import annotations

from billingops.core.markers import decode_state
from billingops.core.triage import decide_triage
from billingops.models.decision import Executed, StepKind
from billingops.models.issue import Thread
from tests.core.builders import DAY, MIN, NOW, paid_sub, state
from tests.core.outcomes import BOT, CFG, REPO, posted, read


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


def test_a_backlog_the_thread_read_could_not_list_files_no_gap_and_says_why() -> None:
    comment = posted(decide_triage(read(), CFG, REPO))
    thread = Thread(me=BOT, comments=[comment], listing_error="acme/backlog is not visible")
    outcome = decide_triage(read(thread=thread), CFG, REPO)
    assert outcome.gaps == []  # nothing filed or linked this run
    assert outcome.draft is not None and outcome.draft.gap_refs == outcome.linked
    assert outcome.draft.backlog_unread == "acme/backlog is not visible"
    assert outcome.result.reason.endswith(
        "; product gaps not filed, the backlog could not be read: acme/backlog is not visible"
    )
