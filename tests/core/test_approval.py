from billingops.config import Config
from billingops.core.approval import Verdict, check_approval, labelers
from billingops.models.issue import LabelEvent

CFG = Config()
PLAN_AT = 1000


def labeled(actor: str, at: int, label: str = "approve-refund", kind: str = "User") -> LabelEvent:
    return LabelEvent(event="labeled", label=label, actor=actor, actor_type=kind, created_at=at)


ROLES: dict[str, str | None] = {
    "ada": "admin",
    "max": "maintain",
    "wes": "write",
    "tri": "triage",
    "red": "read",
    "outsider": None,
}


def verdict(events: list[LabelEvent], **kw: object) -> Verdict:
    return check_approval(
        "approve-refund", events, ROLES, CFG, plan_posted_at=PLAN_AT, **kw
    ).verdict  # type: ignore[arg-type]


def test_allowed_roles_grant() -> None:
    for who in ("ada", "max", "wes"):
        assert verdict([labeled(who, 1001)]) is Verdict.granted


def test_triage_read_and_outsiders_are_refused() -> None:
    for who in ("tri", "red", "outsider"):
        check = check_approval(
            "approve-refund", [labeled(who, 1001)], ROLES, CFG, plan_posted_at=PLAN_AT
        )
        assert check.verdict is Verdict.refused
        assert who in check.reason


def test_the_latest_labeler_decides_not_the_first() -> None:
    # An admin labeled, someone removed it, then a triage user labeled again: refused.
    events = [
        labeled("ada", 1001),
        LabelEvent(event="unlabeled", label="approve-refund", actor="ada", created_at=1002),
        labeled("tri", 1003),
    ]
    assert verdict(events) is Verdict.refused


def test_other_labels_do_not_count() -> None:
    assert verdict([labeled("ada", 1001, label="approve-cancel")]) is Verdict.refused


def test_approval_before_the_plan_was_posted_approves_nothing() -> None:
    check = check_approval(
        "approve-refund", [labeled("ada", 999)], ROLES, CFG, plan_posted_at=PLAN_AT
    )
    assert check.verdict is Verdict.refused
    assert "before the current plan" in check.reason


def test_bots_need_the_allow_list() -> None:
    bot = labeled("deploy-bot[bot]", 1001, kind="Bot")
    assert verdict([bot]) is Verdict.refused
    cfg = Config(bot_approvers=["deploy-bot[bot]"])
    check = check_approval("approve-refund", [bot], ROLES, cfg, plan_posted_at=PLAN_AT)
    assert check.verdict is Verdict.granted


def test_second_approver_needs_two_different_allowed_people() -> None:
    assert verdict([labeled("ada", 1001)], needs_two=True) is Verdict.needs_second
    # The same person twice is still one approver.
    assert (
        verdict([labeled("ada", 1001), labeled("ada", 1005)], needs_two=True)
        is Verdict.needs_second
    )
    # A triage user does not count as the second.
    assert verdict([labeled("ada", 1001), labeled("tri", 1005)], needs_two=True) is Verdict.refused
    assert verdict([labeled("ada", 1001), labeled("max", 1005)], needs_two=True) is Verdict.granted
    # An approval from before the plan does not count either.
    assert (
        verdict([labeled("ada", 900), labeled("max", 1005)], needs_two=True) is Verdict.needs_second
    )


def test_labelers_lists_each_actor_once() -> None:
    events = [
        labeled("ada", 1),
        labeled("ada", 2),
        labeled("tri", 3),
        labeled("x", 4, label="other"),
    ]
    assert labelers(events, "approve-refund") == ["ada", "tri"]
