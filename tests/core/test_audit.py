"""The support audit's pure part: one issue's facts, and the sums over many."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from billingops.core.audit import (
    NEEDS_INFO,
    UNTRIAGED,
    IssueFacts,
    build_audit,
    human_duration,
    issue_facts,
)
from billingops.core.markers import encode_state, state_for
from billingops.models.decision import Approval, Case, Executed, GapRef, Plan, Step, StepKind
from billingops.models.issue import Comment, IssueSnapshot, LabelEvent, Thread

T0 = 1_714_521_600
BOT = "github-actions[bot]"


def _plan() -> Plan:
    return Plan(
        steps=[
            Step(
                kind=StepKind.cancel_subscription,
                target="sub_2",
                at_period_end=False,
                needs=Approval.cancel,
            ),
            Step(
                kind=StepKind.refund,
                target="ch_2",
                amount=2000,
                currency="usd",
                needs=Approval.refund,
            ),
        ],
        hash="abc",
    )


def _comment(body: str, *, at: int, author: str = BOT, id: int = 1) -> Comment:
    return Comment(id=id, body=body + "\n## Billing triage", author=author, created_at=at)


def _thread(*comments: Comment) -> Thread:
    return Thread(me=BOT, comments=list(comments))


def test_a_comment_edited_by_someone_else_is_not_read() -> None:
    marker = encode_state(state_for(Case.duplicate_subscription, _plan()))
    issue = IssueSnapshot(number=6, author="x", created_at=T0)
    edited = _comment(marker, at=T0 + 5).model_copy(update={"editor": "maya"})
    assert issue_facts(issue, _thread(edited), []).case != "duplicate_subscription"
    assert issue_facts(issue, _thread(_comment(marker, at=T0 + 5)), []).case == (
        "duplicate_subscription"
    )


def test_a_triaged_refunded_issue() -> None:
    executed = [
        Executed(kind=StepKind.cancel_subscription, target="sub_2", status="done"),
        Executed(
            kind=StepKind.refund,
            target="ch_2",
            status="done",
            stripe_id="re_1",
            amount=2000,
            currency="usd",
        ),
    ]
    marker = encode_state(
        state_for(
            Case.duplicate_subscription,
            _plan(),
            executed=executed,
            gaps=[GapRef(key="no_duplicate_guard", issue=9)],
        )
    )
    issue = IssueSnapshot(
        number=4,
        author="carol",
        state="closed",
        created_at=T0,
        closed_at=T0 + 7200,
        labels=["billing", "billing:done"],
    )
    events = [
        LabelEvent(event="labeled", label="billing", actor="carol", created_at=T0),
        LabelEvent(
            event="labeled", label="billing:duplicate_subscription", actor=BOT, created_at=T0 + 60
        ),
        LabelEvent(event="labeled", label="billing:done", actor=BOT, created_at=T0 + 3600),
    ]
    look_alike = _comment(marker, at=T0 + 1, author="carol", id=0)  # the author's copy
    f = issue_facts(issue, _thread(look_alike, _comment(marker, at=T0 + 60, id=5)), events)
    assert f.case == "duplicate_subscription"
    assert (f.first_response_at, f.first_triage_at, f.done_at) == (T0 + 60, T0 + 60, T0 + 3600)
    assert f.closed_at == T0 + 7200
    assert (f.refunds, f.refunded, f.cancellations) == (1, {"usd": 2000}, 1)
    assert f.gaps == ["no_duplicate_guard"]


def test_needs_info_and_untriaged() -> None:
    issue = IssueSnapshot(number=5, author="x", created_at=T0)
    needs = encode_state(state_for(None, None))
    assert issue_facts(issue, _thread(_comment(needs, at=T0 + 5)), []).case == NEEDS_INFO
    f = issue_facts(issue, _thread(Comment(id=1, body="hello", author="maya")), [])
    assert (f.case, f.first_response_at, f.first_triage_at) == (UNTRIAGED, None, None)


facts = st.builds(
    IssueFacts,
    number=st.integers(1, 10_000),
    state=st.sampled_from(["open", "closed"]),
    case=st.sampled_from([*(c.value for c in Case), NEEDS_INFO, UNTRIAGED]),
    created_at=st.just(T0),
    first_response_at=st.none() | st.integers(T0, T0 + 10**6),
    done_at=st.none() | st.integers(T0, T0 + 10**7),
    refunds=st.integers(0, 3),
    refunded=st.dictionaries(st.sampled_from(["usd", "eur", "jpy"]), st.integers(0, 10**6)),
    cancellations=st.integers(0, 2),
    gaps=st.lists(st.sampled_from(["no_billing_portal", "no_duplicate_guard"]), unique=True),
)


@settings(max_examples=60, deadline=None)
@given(st.lists(facts, max_size=30))
def test_audit_totals_are_the_sum_of_their_parts(items: list[IssueFacts]) -> None:
    a = build_audit("acme/support", items)
    assert a.issues == len(items) == a.open + a.closed == sum(c.total for c in a.cases)
    assert a.refunds == sum(f.refunds for f in items)
    for cur, total in a.refunded.items():
        assert total == sum(f.refunded.get(cur, 0) for f in items)
    durations = {d.measure: d for d in a.durations}
    assert durations["first_response"].measured == sum(
        f.first_response_at is not None for f in items
    )
    for d in a.durations:
        if d.measured:
            assert d.median is not None and d.p90 is not None and d.max is not None
            assert d.median <= d.max and d.p90 <= d.max


def test_human_duration() -> None:
    assert [human_duration(s) for s in (None, 600, 3 * 3600, 5 * 86400)] == [
        "—",
        "10 min",
        "3.0 h",
        "5.0 days",
    ]


def test_a_public_ticket_is_answered_by_its_acknowledgement_and_handed_off() -> None:
    """In a public repository billingops' first answer is its neutral reply, and the case is
    on the private desk's handoff (SPEC §5b): the audit once timed no answer and counted the
    `billing:received` label as a case named "received"."""
    from billingops.core.audit import HANDED_OFF
    from billingops.core.public import PUBLIC_MARKER

    issue = IssueSnapshot(number=8, author="x", created_at=T0, labels=["billing:received"])
    ack = Comment(id=3, body=PUBLIC_MARKER + "\nThanks, we have it.", author=BOT, created_at=T0 + 9)
    f = issue_facts(issue, _thread(ack), [])
    assert (f.case, f.first_response_at) == (HANDED_OFF, T0 + 9)
    look_alike = ack.model_copy(update={"author": "mallory"})
    f = issue_facts(issue, _thread(look_alike), [])
    assert (f.case, f.first_response_at) == (UNTRIAGED, None)
