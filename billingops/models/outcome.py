"""What one run read, and what it will do, as plain values (issue 22).

A run is read, decide, perform: the desk reads GitHub and Stripe into a `Reading`, the pure
core (`core/triage.py`, `core/apply.py`) turns it into an `Outcome`, and the desk performs
the outcome in a fixed order (`desk/perform.py`): billingops' comment, the plan
announcement, the notices, the label changes, then each Stripe step (executed, then
recorded on the issue, merged with a fresh read of the record), then the labels that wait
for the steps. Nothing here does I/O.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from pydantic import BaseModel, ConfigDict, Field

from billingops.models.billing import BillingState, Resolution
from billingops.models.decision import (
    FINISHED,
    Classification,
    Executed,
    Gap,
    GapRef,
    Plan,
    Step,
)
from billingops.models.issue import Comment, IssueSnapshot, LabelEvent, Thread
from billingops.models.result import RunResult
from billingops.models.ticket import Requester, Ticket


@dataclass(frozen=True)
class Asker:
    """What GitHub says about the ticket's author: their role, and the verified-requester
    label's standing (checked like an approval; `label_problem` None: it counts)."""

    login: str
    role: str | None = None
    label_present: bool = False
    label_problem: str | None = None


class BillingRead(BaseModel):
    """What Stripe said about the ticket: the identifiers looked up (a customer filing for
    themselves: their own login), who they led to, and those customers' billing state."""

    model_config = ConfigDict(frozen=True)

    ticket: Ticket
    resolution: Resolution = Field(default_factory=Resolution)
    state: BillingState = Field(default_factory=BillingState)


class ReadPlan(BaseModel):
    """What a run reads after the thread, as the core asks: the ticket as intake reads it,
    whose repository roles count, whether the author's role is worth a request (it decides
    whose login may identify a customer), and whether Stripe is read at all."""

    model_config = ConfigDict(frozen=True)

    ticket: Ticket
    roles: list[str] = Field(default_factory=list)
    author: str = ""  # the author, when they may hold a role ("" otherwise)
    billing: bool = True


class Reading(BaseModel):
    """Everything a run read before deciding."""

    model_config = ConfigDict(frozen=True)

    ticket: Ticket  # as intake reads the issue
    # The issue read fresh, as the desk sees it (a handoff: the public ticket's words and
    # author); None when the event carried it (a triage).
    issue: IssueSnapshot | None = None
    thread: Thread
    # The issue's label events; None when not read (a triage without the verified label).
    events: list[LabelEvent] | None = None
    # Repository role of each login that matters (approvers, the verified-requester label's).
    roles: dict[str, str | None] = Field(default_factory=dict)
    author_role: str | None = None
    # None: Stripe was not read (nothing on the issue asks for it).
    billing: BillingRead | None = None


class Assessment(BaseModel):
    """What billingops makes of a ticket now. The plan is made on the state as it was
    before billingops' own writes on this issue, so executed steps never look like drift;
    `state` is as Stripe has it now (shown in the comment)."""

    model_config = ConfigDict(frozen=True)

    ticket: Ticket
    resolution: Resolution = Field(default_factory=Resolution)
    state: BillingState = Field(default_factory=BillingState)
    classification: Classification | None = None
    plan: Plan | None = None
    requester: Requester | None = None

    @property
    def needs_info(self) -> bool:
        return self.plan is None


class CommentDraft(BaseModel):
    """billingops' comment on the issue before the record is filled in: rendered with the
    executed steps (`core/record.py`) each time the record changes."""

    model_config = ConfigDict(frozen=True)

    assessment: Assessment
    # The product gaps as linked (None: detected, not linked yet).
    gap_refs: list[GapRef] | None = None
    rev: int = 0
    # Why the gap backlog could not be read this run (gaps not filed; SPEC §5c).
    backlog_unread: str | None = None


class StripeWrite(BaseModel):
    """One Stripe write, with what makes it exactly once (SPEC §5): the deterministic
    idempotency key and the metadata checked before writing by every later run."""

    model_config = ConfigDict(frozen=True)

    step: Step
    idempotency_key: str
    metadata: dict[str, str] = Field(default_factory=dict)


class StepRun(BaseModel):
    """One approved step, in plan order: settled from the state as read (`settled`, no
    write), or a Stripe write. `record`: its result goes on record when it finishes or
    fails (false when the record already says it finished: a record is not rewritten)."""

    model_config = ConfigDict(frozen=True)

    step: Step
    settled: Executed | None = None
    write: StripeWrite | None = None
    record: bool = True


class LabelChange(BaseModel):
    """Labels to add and remove; after the steps, only once every step named in `when`
    (by `Step.key`) is finished on record."""

    model_config = ConfigDict(frozen=True)

    add: list[str] = Field(default_factory=list)
    remove: list[str] = Field(default_factory=list)
    when: list[str] = Field(default_factory=list)

    def holds(self, finished: Iterable[str]) -> bool:
        done = set(finished)
        return all(k in done for k in self.when)


class Outcome(BaseModel):
    """What a run does, decided before anything is written."""

    model_config = ConfigDict(frozen=True)

    result: RunResult  # the run's answer before the steps ran
    existing: Comment | None = None  # billingops' comment as read (None: not posted yet)
    draft: CommentDraft | None = None
    write_comment: bool = False  # write billingops' comment first (triage, a changed plan)
    record: list[Executed] = Field(default_factory=list)  # executed steps, as read
    announcement: str | None = None  # a new plan, announced after the comment
    notices: list[str] = Field(default_factory=list)  # one-off comments (refusals, drift)
    labels: LabelChange = Field(default_factory=LabelChange)  # before the steps
    steps: list[StepRun] = Field(default_factory=list)
    after: list[LabelChange] = Field(default_factory=list)  # after the steps, when they hold
    gaps: list[Gap] = Field(default_factory=list)  # product gaps to file or link (triage)
    linked: list[GapRef] = Field(default_factory=list)  # gap issues the comment links now
    refusals: list[str] = Field(default_factory=list)
    # Approved Stripe writes wait for the apply job (a run without the write key): nothing
    # is written, the steps are reported `would_do` and the reason says `pending`.
    held: bool = False

    def reason_after(self, results: Iterable[Executed]) -> str:
        """The apply run's one line, once its steps ran."""
        if self.held:
            return self.result.reason
        counts: dict[str, int] = {}
        for e in results:
            counts[e.status] = counts.get(e.status, 0) + 1
        text = ", ".join(f"{n} {s}" for s, n in sorted(counts.items())) or "no step to execute"
        if self.refusals:
            text += "; refused: " + "; ".join(self.refusals)
        return text


def finished_keys(record: Iterable[Executed]) -> set[str]:
    """`Step.key` of every step the record says finished (done, or done by an earlier run)."""
    return {e.key for e in record if e.status in FINISHED}
