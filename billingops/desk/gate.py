"""The read-only half of an apply (`billingops handle --read-only`), for the job that holds
the read-only Stripe key.

Every check of an approval runs here (who applied the label, their role, drift, the plan
on the issue) and its GitHub side is written here too: a refusal, a drift notice, the
clean-up of labels whose steps are done. Only the Stripe writes are left out: when
approved steps are ready, the result says so (`pending`) and the workflow starts the apply
job, the only one that holds the write key, behind the Environment's reviewers. So the
write key never triages, and a body edit while a label is on asks the reviewers again only
when there is a step left to execute.

One apply, on the read-only port (`_billing/read_only.py`): it reads once, and the core
decides once as a run that cannot write Stripe (`core/apply.py:held`): an outcome with
approved Stripe writes is held whole for the apply job (nothing written, on GitHub either),
any other outcome is performed here. The decision that was checked for Stripe writes is
the one performed, so an approval that lands after the read is not half-acted on: this
run neither sees nor attempts it, and the label's own event starts the next run, which
reads it. The port is the guard behind the decision: a Stripe write fails before any
request.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from billingops._billing.read_only import ReadOnlyBilling

if TYPE_CHECKING:
    from billingops.desk.desk import Desk
    from billingops.desk.handoff import HandoffDesk
    from billingops.desk.public import PublicDesk
    from billingops.models.result import RunResult

__all__ = ["Gate", "gate_apply"]


@dataclass(frozen=True)
class Gate:
    result: RunResult
    pending: bool  # approved Stripe steps wait for the apply job


def gate_apply(
    desk: Desk | PublicDesk | HandoffDesk, number: int, *, dry_run: bool = False
) -> Gate:
    """Check the approvals on issue `number` and write their GitHub side, without a Stripe
    write: one apply, on the read-only port."""
    result = replace(desk, billing=ReadOnlyBilling(desk.billing)).apply(number, dry_run=dry_run)
    return Gate(result, pending=bool(result.waiting))
