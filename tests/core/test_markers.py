from __future__ import annotations

import base64
import json

from hypothesis import given
from hypothesis import strategies as st

from billingops.core.markers import (
    State,
    StepRecord,
    decode_state,
    encode_state,
    is_bot_comment,
    state_for,
)
from billingops.models.decision import Approval, Case, Executed, GapRef, Plan, Step, StepKind

STATE = State(
    case=Case.duplicate_subscription,
    plan_hash="0123456789abcdef",
    steps=[
        StepRecord(kind=StepKind.cancel_subscription, target="sub_2", at_period_end=False,
                   needs=Approval.cancel),
        StepRecord(kind=StepKind.refund, target="ch_2", amount=2000, currency="usd",
                   needs=Approval.refund),
    ],
    executed=[Executed(kind=StepKind.refund, target="ch_2", status="done", stripe_id="re_1")],
    gaps=[GapRef(key="no_duplicate_guard", issue=7)],
)  # fmt: skip


def body(marker: str, rest: str = "\n## Billing triage\n\ntext\n") -> str:
    return marker + rest


def test_round_trip() -> None:
    line = encode_state(STATE)
    assert "\n" not in line and line.startswith("<!-- billingops:triage v1 ")
    assert line.endswith(" -->")
    assert decode_state(body(line)) == STATE
    assert is_bot_comment(body(line))


def test_encoding_is_deterministic() -> None:
    assert encode_state(STATE) == encode_state(State.model_validate(STATE.model_dump()))


def test_tolerates_crlf_bom_and_leading_blank_lines() -> None:
    line = encode_state(STATE)
    assert decode_state("\ufeff\r\n" + line + "\r\nrest") == STATE


def test_state_for_plan() -> None:
    plan = Plan(
        steps=[Step(kind=StepKind.refund, target="ch_1", amount=5, currency="jpy",
                    needs=Approval.refund, why="not recorded")],
        hash="abc",
    )  # fmt: skip
    s = state_for(Case.product_failure, plan)
    assert s.kind == "triage" and s.plan_hash == "abc"
    assert s.steps[0].model_dump() == {
        "kind": StepKind.refund, "target": "ch_1", "amount": 5, "currency": "jpy",
        "at_period_end": None, "needs": Approval.refund,
    }  # fmt: skip
    assert state_for(None, None).kind == "needs_info"


# --- forgery and garbage --------------------------------------------------------------------


def test_only_the_first_line_counts() -> None:
    forged = encode_state(STATE.model_copy(update={"plan_hash": "ffffffffffffffff"}))
    assert decode_state("Thanks!\n" + forged) is None
    assert not is_bot_comment("> " + forged)
    real = encode_state(STATE)
    assert decode_state(real + "\n> quoted: " + forged + "\n" + forged) == STATE


def test_tampered_payload_is_rejected() -> None:
    line = encode_state(STATE)
    payload = line.split("state=")[1].split(" ")[0]
    data = json.loads(base64.urlsafe_b64decode(payload))
    data["steps"][1]["amount"] = 999999
    evil = base64.urlsafe_b64encode(json.dumps(data).encode()).decode()
    assert decode_state(line.replace(payload, evil)) is None  # the sum no longer matches


def test_wrong_version_and_unknown_fields() -> None:
    assert decode_state(encode_state(STATE).replace(" v1 ", " v2 ")) is None
    import hashlib

    payload = base64.urlsafe_b64encode(b'{"v":1,"evil":true}').decode()
    digest = hashlib.sha256(payload.encode()).hexdigest()[:16]
    assert decode_state(f"<!-- billingops:triage v1 state={payload} sum={digest} -->") is None


def test_garbage_returns_none() -> None:
    for junk in [
        None, 42, b"bytes", "", "hello", "<!-- billingops:triage v1 -->",
        "<!-- billingops:triage v1 state=!!! sum=0000000000000000 -->",
        "<!-- billingops:triage v1 state=e30= sum=zzzzzzzzzzzzzzzz -->",
        "<!-- billingops:triage v1 state=" + "A" * 100_000 + " sum=0000000000000000 -->",
    ]:  # fmt: skip
        assert decode_state(junk) is None


def test_valid_sum_over_non_json_is_none() -> None:
    import hashlib

    for raw in [b"\xff\xfe", b"[1,2]", b"null", b'{"v":1,"steps":"x"}']:
        payload = base64.urlsafe_b64encode(raw).decode()
        digest = hashlib.sha256(payload.encode()).hexdigest()[:16]
        assert decode_state(f"<!-- billingops:triage v1 state={payload} sum={digest} -->") is None


@given(st.text())
def test_decode_never_raises(text: str) -> None:
    decode_state(text)
    is_bot_comment(text)


@given(st.text())
def test_anything_after_the_marker_line_is_ignored(tail: str) -> None:
    assert decode_state(encode_state(STATE) + "\n" + tail) == STATE
