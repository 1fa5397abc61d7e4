"""Plain values for the decision tests (issue 22): a reading as a run would have it, with
no GitHub, no Stripe and no fakes. A triage's outcome is rendered into billingops' comment
as a later run reads it (`posted`); an apply is then decided from that thread, the label
events and roles, and the billing state (`apply_reading`)."""

from __future__ import annotations

from typing import Any

from billingops.config import Config
from billingops.core import effects
from billingops.core.record import render_comment
from billingops.models.billing import BillingState
from billingops.models.decision import Executed
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
