"""The labels billingops puts on a ticket (SPEC §6): one `billing:<case>`, `needs-info`
when asked for an identifier, `billing:done` when every approved step is done. Pure."""

from __future__ import annotations

from collections.abc import Iterable

from billingops.models.decision import Case

CASE_PREFIX = "billing:"
DONE_LABEL = "billing:done"
NEEDS_INFO = "needs-info"


def case_labels(
    current: Iterable[str], case: Case | None, *, needs_info: bool
) -> tuple[list[str], list[str]]:
    """(labels to add, labels to remove): one `billing:<case>`, and `needs-info` when asked."""
    want = [f"{CASE_PREFIX}{case.value}"] if case else []
    if needs_info:
        want.append(NEEDS_INFO)
    have = list(current)
    remove = [
        name
        for name in have
        if name not in want
        and (name == NEEDS_INFO or (name.startswith(CASE_PREFIX) and name != DONE_LABEL))
    ]
    add = [name for name in want if name not in have]
    return add, remove
