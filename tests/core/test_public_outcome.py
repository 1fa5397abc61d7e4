"""What a public ticket is told (SPEC §5b), decided from plain values: what the ticket
says, never what billingops found; after approved steps, what the handoff records."""

from __future__ import annotations

from billingops.config import Config
from billingops.core.public import acknowledgement, report_back
from billingops.core.triage import decide_triage
from billingops.models.decision import Executed, Plan, Step, StepKind
from billingops.models.issue import Thread
from billingops.models.public import Done, PublicKind, PublicLabel
from tests.core.builders import ticket
from tests.core.outcomes import BOT, CFG, REPO, posted, read


def test_the_acknowledgement_follows_what_they_wrote() -> None:
    reply, labels = acknowledgement(ticket(emails=["a@example.com"]), Config())
    assert (reply.kind, labels) == (PublicKind.received, [PublicLabel.received])
    reply, labels = acknowledgement(ticket(emails=[]), Config())
    assert reply.kind is PublicKind.needs_info
    assert labels == [PublicLabel.received, PublicLabel.needs_info]


def test_the_report_back_tells_what_the_handoff_records_as_done() -> None:
    plan = Plan(
        steps=[
            Step(kind=StepKind.cancel_subscription, target="sub_2", at_period_end=True),
            Step(kind=StepKind.refund, target="ch_2", amount=2000, currency="usd"),
        ]
    )
    cancel = Executed(kind=StepKind.cancel_subscription, target="sub_2", status="done")
    refund = Executed(kind=StepKind.refund, target="ch_2", status="failed")
    comment = posted(decide_triage(read(), CFG, REPO), [cancel, refund])
    thread = Thread(me=BOT, comments=[comment])
    reply, labels = report_back(thread, plan, ["billingops:handoff"], CFG)
    assert reply.done == [Done.cancels_at_period_end]  # a failed refund is not told as done
    assert not reply.complete and labels == []
    reply, labels = report_back(thread, plan, ["billing:done"], CFG)
    assert reply.complete and labels == [PublicLabel.received, PublicLabel.done]
