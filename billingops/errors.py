"""Exit statuses and the two kinds of failure the CLI turns into them (SPEC §3)."""

from __future__ import annotations

from enum import IntEnum
from typing import Any


class ExitStatus(IntEnum):
    OK = 0  # done, including "ignored" and "refused"
    OPERATIONAL = 1  # Stripe or GitHub down after retries
    BAD_INPUT = 2  # bad input or configuration


class BillingopsError(Exception):
    """An expected failure: the message is one clear line for the operator."""

    status = ExitStatus.OPERATIONAL


class BadInput(BillingopsError):
    status = ExitStatus.BAD_INPUT


class ConfigError(BadInput):
    pass


class OperationalError(BillingopsError):
    """A service failed after retries (5xx, timeout, connection reset, rate limit)."""

    status = ExitStatus.OPERATIONAL


class NotFound(BillingopsError):
    """The thing asked for does not exist (a gateway's 404): an issue deleted mid-run is an
    operational failure of that run, not bad input (issue 3)."""

    status = ExitStatus.OPERATIONAL


class WriteRefused(BillingopsError):
    """Stripe refused a write with a 4xx that a race explains (`charge_already_refunded`,
    `charge_disputed`, `amount_too_large`, a canceled subscription, ...) and reconciling
    found nothing of ours: the step was not done. `code` is Stripe's error code; the
    message is one line for the record."""

    status = ExitStatus.BAD_INPUT

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


class AlreadyCanceled(BillingopsError):
    """A cancel found the subscription already canceled at Stripe (SPEC §5c: Stripe answers
    404 to a DELETE of a canceled subscription). `ours` is True only when the subscription's
    own metadata (`billingops_issue` / `billingops_step`) says billingops did it: otherwise
    someone else canceled it, and billingops takes no credit."""

    status = ExitStatus.OK

    def __init__(self, subscription_id: str, ours: bool, message: str) -> None:
        super().__init__(message)
        self.subscription_id = subscription_id
        self.ours = ours


# SPEC §3: on exit 1 or 2 the one JSON object has `"action": "error"` and this `error`.
ERROR_KINDS = {ExitStatus.OPERATIONAL: "operational", ExitStatus.BAD_INPUT: "bad_input"}


def error_fields(status: ExitStatus, message: str) -> dict[str, Any]:
    """`"action": "error"` and the error's kind and message, on one line."""
    line = " ".join(message.split())
    return {
        "action": "error",
        "error": {"kind": ERROR_KINDS.get(status, "operational"), "message": line},
    }
