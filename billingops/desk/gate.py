"""The read-only half of an apply (`billingops handle --read-only`), for the job that holds
the read-only Stripe key.

Every check of an approval runs here (who applied the label, their role, drift, the plan
on the issue) and its GitHub side is written here too: a refusal, a drift notice, the
clean-up of labels whose steps are done. Only the Stripe writes are left out: when
approved steps are ready, the result says so (`pending`) and the workflow starts the apply
job, the only one that holds the write key, behind the Environment's reviewers. So the
write key never triages, and a body edit while a label is on asks the reviewers again only
when there is a step left to execute.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from billingops.errors import OperationalError

if TYPE_CHECKING:
    from billingops.desk.desk import Desk
    from billingops.models.result import RunResult

WOULD_DO = "would_do"


class ReadOnlyBilling:
    """The billing gateway with its two writes taken away: reads pass through, a write
    fails before any request. Guards the non-dry apply of the read-only job against an
    approval that arrived between its dry run and its real run (that step is recorded as
    failed and the next run, the apply job, executes it)."""

    def __init__(self, inner: Any) -> None:
        self._inner = inner

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)

    def refund(self, **_: Any) -> Any:
        raise OperationalError(_DEFERRED)

    def cancel_subscription(self, **_: Any) -> Any:
        raise OperationalError(_DEFERRED)


_DEFERRED = "this job holds the read-only Stripe key; the apply job executes approved steps"


@dataclass(frozen=True)
class Gate:
    result: RunResult
    pending: bool  # approved Stripe steps wait for the apply job


def gate_apply(desk: Desk, number: int, *, dry_run: bool = False) -> Gate:
    """Check the approvals on issue `number` without writing to Stripe."""
    probe = desk.apply(number, dry_run=True)
    waiting = [e for e in probe.executed if e.status == WOULD_DO]
    if waiting:
        steps = ", ".join(f"{e.kind.value} {e.target}" for e in waiting)
        reason = f"pending: {len(waiting)} approved step(s) for the apply job ({steps})"
        return Gate(probe.model_copy(update={"reason": reason}), pending=True)
    if dry_run or not probe.would_write:
        return Gate(probe, pending=False)
    # Refusals, drift, label clean-up: GitHub writes only, made here with the read key.
    guarded = replace(desk, billing=ReadOnlyBilling(desk.billing))
    return Gate(guarded.apply(number), pending=False)
