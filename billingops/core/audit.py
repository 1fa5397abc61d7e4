"""The support audit (`billingops audit`): what happened on the billing issues, from GitHub
alone: the issues, billingops' own comment on each (its hidden state: case, plan, executed
steps, gaps) and the issue's label events.

Pure: `issue_facts` reduces one issue to a few numbers, `build_audit` adds them up.

What can be measured, and how:
- open → first response: the creation time of billingops' comment (it is created once and
  edited in place, so its `created_at` is the first triage or needs-info answer);
- open → first triage: the first `billing:<case>` label event (a needs-info answer has
  no case label; a later triage adds one);
- open → done: the first `billing:done` label event (added when every approved step ran);
  open → closed: the issue's `closed_at`.
What cannot: when a human first answered (comments of people are not classified), when an
approval was given relative to the plan for issues whose events were pruned, and refunds
or cancellations made by hand in the Stripe dashboard (only billingops' records count).
"""

from __future__ import annotations

import statistics
from collections import Counter
from collections.abc import Iterable

from pydantic import BaseModel, ConfigDict, Field

from billingops.core.ownership import find_bot_comment, trusted_state
from billingops.core.public import is_public_reply
from billingops.models.decision import StepKind
from billingops.models.issue import Comment, IssueSnapshot, LabelEvent, Thread, same_login

CASE_PREFIX = "billing:"
DONE_LABEL = "billing:done"
NEEDS_INFO = "needs_info"
UNTRIAGED = "untriaged"
# A ticket in a public repository: billingops acknowledged it there, and its case, plan and
# steps are on its handoff in the private desk (SPEC §5b; audit the desk for those).
HANDED_OFF = "handed_off"
FINISHED = ("done", "already_done")
DEFAULT_TOP_GAPS = 10

MEASURES = {
    "first_response": "open → billingops' first answer (its comment, or in a public "
    "repository its acknowledgement, created)",
    "first_triage": "open → first case label (a `billing:` case label)",
    "done": "open → `billing:done` (every approved step executed)",
    "closed": "open → issue closed",
}
LIMITS = (
    "Times come from GitHub: the issue's creation, billingops' comment creation (it is "
    "edited in place, so later edits are not timed), label events and the closing time. "
    "Not measured: people's replies, time to approval, and refunds or cancellations made "
    "outside billingops (only the steps billingops recorded as executed are counted)."
)


class IssueFacts(BaseModel):
    """One billing issue reduced to what the audit counts."""

    model_config = ConfigDict(frozen=True)

    number: int
    state: str
    case: str  # a Case value, `needs_info`, or `untriaged`
    created_at: int = 0
    first_response_at: int | None = None
    first_triage_at: int | None = None
    done_at: int | None = None
    closed_at: int | None = None
    refunds: int = 0
    refunded: dict[str, int] = Field(default_factory=dict)  # currency → minor units
    cancellations: int = 0
    cancellations_at_period_end: int = 0
    gaps: list[str] = Field(default_factory=list)


def _first_labeled(events: Iterable[LabelEvent], match: str | None = None) -> int | None:
    times = [
        e.created_at
        for e in events
        if e.event == "labeled"
        and (
            e.label == match if match else e.label.startswith(CASE_PREFIX) and e.label != DONE_LABEL
        )
    ]
    return min(times) if times else None


def _acknowledgement(thread: Thread) -> Comment | None:
    """billingops' neutral reply to a public ticket (its first answer there), if any."""
    ours = [
        c for c in thread.comments if same_login(c.author, thread.me) and is_public_reply(c.body)
    ]
    return min(ours, key=lambda c: (c.created_at, c.id)) if ours else None


def issue_facts(issue: IssueSnapshot, thread: Thread, events: Iterable[LabelEvent]) -> IssueFacts:
    """What the issue shows; only billingops' own, unaltered comment says what it did."""
    events = list(events)
    comment = find_bot_comment(thread.comments, thread.me)
    state = trusted_state(comment, thread.me)
    acknowledged = None if comment is not None else _acknowledgement(thread)
    case = UNTRIAGED
    if state is not None:
        case = state.case.value if state.case is not None else NEEDS_INFO
    elif acknowledged is not None:
        case = HANDED_OFF
    elif comment is None:
        labels = [lb[len(CASE_PREFIX) :] for lb in issue.labels if lb.startswith(CASE_PREFIX)]
        labels = [lb for lb in labels if lb not in ("done", "received")]  # not cases
        case = labels[0] if len(labels) == 1 else UNTRIAGED
    refunds = 0
    refunded: Counter[str] = Counter()
    cancels = cancels_later = 0
    gaps: list[str] = []
    if state is not None:
        steps = {(s.kind, s.target): s for s in state.steps}
        for e in state.executed:
            if e.status not in FINISHED:
                continue
            step = steps.get((e.kind, e.target))
            if e.kind is StepKind.refund:
                refunds += 1
                amount = e.amount if e.amount is not None else (step.amount if step else None)
                currency = e.currency or (step.currency if step else None)
                if amount is not None and currency:
                    refunded[currency.lower()] += amount
            elif e.kind is StepKind.cancel_subscription:
                cancels += 1
                cancels_later += bool(step and step.at_period_end)
        gaps = sorted({g.key for g in state.gaps})
    done = _first_labeled(events, DONE_LABEL)
    return IssueFacts(
        number=issue.number,
        state=issue.state,
        case=case,
        created_at=issue.created_at,
        first_response_at=answer.created_at if (answer := comment or acknowledged) else None,
        first_triage_at=_first_labeled(events),
        done_at=done,
        closed_at=issue.closed_at if issue.state == "closed" else None,
        refunds=refunds,
        refunded=dict(sorted(refunded.items())),
        cancellations=cancels,
        cancellations_at_period_end=cancels_later,
        gaps=gaps,
    )


# --- the audit -----------------------------------------------------------------------------


class CaseRow(BaseModel):
    model_config = ConfigDict(frozen=True)

    case: str
    open: int = 0
    closed: int = 0

    @property
    def total(self) -> int:
        return self.open + self.closed


class Duration(BaseModel):
    """Seconds from an issue's opening to an event, over the issues where it happened."""

    model_config = ConfigDict(frozen=True)

    measure: str
    description: str
    measured: int = 0  # issues where the event happened and could be timed
    median: int | None = None
    p90: int | None = None
    max: int | None = None


class GapRow(BaseModel):
    model_config = ConfigDict(frozen=True)

    key: str
    tickets: int
    open_tickets: int = 0


class Audit(BaseModel):
    model_config = ConfigDict(frozen=True)

    repository: str
    issues: int = 0
    open: int = 0
    closed: int = 0
    cases: list[CaseRow] = Field(default_factory=list)
    durations: list[Duration] = Field(default_factory=list)
    refunds: int = 0
    refunded: dict[str, int] = Field(default_factory=dict)
    refund_issues: int = 0
    cancellations: int = 0
    cancellations_at_period_end: int = 0
    gaps: list[GapRow] = Field(default_factory=list)
    limits: str = LIMITS


def _percentile(sorted_values: list[int], q: float) -> int:
    """Nearest-rank percentile of sorted values."""
    k = max(0, min(len(sorted_values) - 1, int(-(-q * len(sorted_values) // 1)) - 1))
    return sorted_values[k]


def _duration(measure: str, values: Iterable[int]) -> Duration:
    vals = sorted(max(v, 0) for v in values)
    if not vals:
        return Duration(measure=measure, description=MEASURES[measure])
    return Duration(
        measure=measure,
        description=MEASURES[measure],
        measured=len(vals),
        median=int(statistics.median_low(vals)),
        p90=_percentile(vals, 0.9),
        max=vals[-1],
    )


def build_audit(
    repository: str, facts: Iterable[IssueFacts], *, top_gaps: int = DEFAULT_TOP_GAPS
) -> Audit:
    facts = sorted(facts, key=lambda f: f.number)
    cases: dict[str, list[int]] = {}
    refunded: Counter[str] = Counter()
    gap_tickets: Counter[str] = Counter()
    gap_open: Counter[str] = Counter()
    times: dict[str, list[int]] = {m: [] for m in MEASURES}
    for f in facts:
        row = cases.setdefault(f.case, [0, 0])
        row[0 if f.state == "open" else 1] += 1
        for cur, amount in f.refunded.items():
            refunded[cur] += amount
        for g in f.gaps:
            gap_tickets[g] += 1
            gap_open[g] += f.state == "open"
        for measure, at in (
            ("first_response", f.first_response_at),
            ("first_triage", f.first_triage_at),
            ("done", f.done_at),
            ("closed", f.closed_at),
        ):
            if at is not None and f.created_at:
                times[measure].append(at - f.created_at)
    gaps = sorted(gap_tickets.items(), key=lambda kv: (-kv[1], kv[0]))[:top_gaps]
    return Audit(
        repository=repository,
        issues=len(facts),
        open=sum(f.state == "open" for f in facts),
        closed=sum(f.state != "open" for f in facts),
        cases=[
            CaseRow(case=c, open=v[0], closed=v[1])
            for c, v in sorted(cases.items(), key=lambda kv: (-sum(kv[1]), kv[0]))
        ],
        durations=[_duration(m, times[m]) for m in MEASURES],
        refunds=sum(f.refunds for f in facts),
        refunded=dict(sorted(refunded.items())),
        refund_issues=sum(f.refunds > 0 for f in facts),
        cancellations=sum(f.cancellations for f in facts),
        cancellations_at_period_end=sum(f.cancellations_at_period_end for f in facts),
        gaps=[GapRow(key=k, tickets=n, open_tickets=gap_open[k]) for k, n in gaps],
    )


def human_duration(seconds: int | None) -> str:
    """`45 min`, `3.5 h`, `2.1 days`: for tables."""
    if seconds is None:
        return "—"
    if seconds < 3600:
        return f"{seconds // 60} min"
    if seconds < 2 * 86400:
        return f"{seconds / 3600:.1f} h"
    return f"{seconds / 86400:.1f} days"
