"""The hidden state in the bot's comment: how a later run finds the comment and its plan.

The first line of every comment billingops writes is

    <!-- billingops:triage v1 state=<base64url JSON> sum=<sha256 prefix> -->

- It is the *first line* and only the first line is read: ticket text quoted further down
  (even a perfect copy of a marker) is never looked at, and the renderer HTML-escapes
  ticket text, so it cannot contain `<!--` at all.
- The JSON is base64url: no `-->`, newline or Markdown in it can end the HTML comment or
  be altered by GitHub's rendering.
- `sum` detects truncation or a clumsy hand edit; it is not a signature (anyone can
  recompute it). What makes the state trustworthy is who wrote it: only comments
  authored by billingops' own account, and last edited by nobody else (GitHub's record),
  are ever decoded (`desk/thread.py`).
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
    # How many times the plan changed after the comment was first posted. 0: this comment's
    # creation posted the plan; N: the plan announcement N posted it (`announcement`), and
    # GitHub's stamp on that comment is when approvers could first see it (SPEC §5a).
    rev: int = Field(default=0, ge=0)


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
    rev: int = 0,
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
        rev=rev,
    )


# A plan that changes after it was posted is announced by a short new comment (an edit
# notifies nobody); its first line names the revision and the plan.
_ANNOUNCEMENT = re.compile(
    r"<!-- billingops:plan rev=(?P<rev>[0-9]{1,6}) hash=(?P<hash>[0-9a-f]{1,64}) -->"
)


def announcement_line(rev: int, plan_hash: str) -> str:
    return f"<!-- billingops:plan rev={rev} hash={plan_hash} -->"


def decode_announcement(body: object) -> tuple[int, str] | None:
    """(revision, plan hash) of a plan announcement's first line, or None."""
    if not isinstance(body, str):
        return None
    m = _ANNOUNCEMENT.fullmatch(_first_line(body))
    return (int(m["rev"]), m["hash"]) if m else None
