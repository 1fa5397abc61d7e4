"""The hidden state in the bot's comment: how a later run finds the comment and its plan.

The first line of every comment billingops writes is

    <!-- billingops:triage v1 state=<base64url JSON> sum=<sha256 prefix> -->

- It is the *first line* and only the first line is read: ticket text quoted further down
  (even a perfect copy of a marker) is never looked at, and the renderer HTML-escapes
  ticket text, so it cannot contain `<!--` at all.
- The JSON is base64url: no `-->`, newline or Markdown in it can end the HTML comment or
  be altered by GitHub's rendering.
- `sum` detects truncation or a hand edit; it is not a signature (the core holds no
  secret). Only comments written by the bot's own account should be passed in.
- `v1` is the format version; an unknown version decodes to None (a new triage).

`decode_state` never raises: anything it does not fully understand is None.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import re
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from billingops.models.decision import Approval, Case, Executed, GapRef, Plan, StepKind

MARKER = "billingops:triage"
VERSION = 1
MAX_ENCODED = 48_000  # GitHub comments hold 65,536 characters; the body needs the rest
_SUM_LEN = 16
_LINE = re.compile(
    r"<!-- billingops:triage v(?P<v>[0-9]{1,3}) state=(?P<state>[A-Za-z0-9_-]*={0,2})"
    r" sum=(?P<sum>[0-9a-f]{16}) -->"
)


class StepRecord(BaseModel):
    """A plan step as recorded: what it does and what it needs, not the `why`."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    kind: StepKind
    target: str | None = None
    amount: int | None = None
    currency: str | None = None
    at_period_end: bool | None = None
    needs: Approval | None = None


class State(BaseModel):
    """What a later run needs from the comment: the plan it proposed and what was done."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    v: Literal[1] = 1
    kind: Literal["triage", "needs_info"] = "triage"
    case: Case | None = None
    plan_hash: str = ""
    steps: list[StepRecord] = Field(default_factory=list)
    executed: list[Executed] = Field(default_factory=list)
    gaps: list[GapRef] = Field(default_factory=list)
    # When this plan (this hash) was first posted, Unix seconds. An approval label applied
    # before it cannot have approved this plan (SPEC §5). Kept while the hash is unchanged,
    # so an unchanged re-triage writes the same bytes.
    planned_at: int = 0


def _digest(payload: str) -> str:
    return hashlib.sha256(payload.encode("ascii")).hexdigest()[:_SUM_LEN]


def encode_state(state: State) -> str:
    """The marker line (no newline). Same state, same bytes."""
    data = json.dumps(
        state.model_dump(mode="json"), sort_keys=True, separators=(",", ":"), ensure_ascii=True
    )
    payload = base64.urlsafe_b64encode(data.encode("ascii")).decode("ascii")
    if len(payload) > MAX_ENCODED:
        raise ValueError("billingops state too large for a comment")
    return f"<!-- {MARKER} v{VERSION} state={payload} sum={_digest(payload)} -->"


def _first_line(body: str) -> str:
    # GitHub may hand back CRLF, and editors may add a BOM or leading blank lines.
    text = body.lstrip("\ufeff \t\r\n")
    return text.split("\n", 1)[0].rstrip("\r \t")


def is_bot_comment(body: object) -> bool:
    """Whether a comment body starts with our marker (any version)."""
    if not isinstance(body, str):
        return False
    return _first_line(body).startswith(f"<!-- {MARKER} v")


def decode_state(comment_body: object) -> State | None:
    """The state in the comment's first line, or None; never raises."""
    try:
        if not isinstance(comment_body, str):
            return None
        m = _LINE.fullmatch(_first_line(comment_body))
        if m is None or int(m["v"]) != VERSION:
            return None
        payload = m["state"]
        if len(payload) > MAX_ENCODED or _digest(payload) != m["sum"]:
            return None
        raw = base64.urlsafe_b64decode(payload.encode("ascii"))
        return State.model_validate(json.loads(raw.decode("utf-8")))
    except (ValueError, binascii.Error, ValidationError, UnicodeError, RecursionError):
        return None


def state_for(
    case: Case | None,
    plan: Plan | None,
    *,
    executed: list[Executed] | None = None,
    gaps: list[GapRef] | None = None,
    planned_at: int = 0,
) -> State:
    """The state to embed for a plan (None: a needs-info comment, nothing proposed)."""
    # A record is the step without its `why` (StepRecord forbids any other difference).
    steps = [
        StepRecord.model_validate(s.model_dump(exclude={"why"}))
        for s in (plan.steps if plan else [])
    ]
    return State(
        kind="triage" if plan is not None else "needs_info",
        case=case,
        plan_hash=plan.hash if plan else "",
        steps=steps,
        executed=list(executed or []),
        gaps=list(gaps or []),
        planned_at=planned_at,
    )
