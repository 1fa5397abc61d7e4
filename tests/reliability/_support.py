"""Shared helpers of the reliability suite: fresh worlds, fast gateways, invariants, figures.

Figures: when `BILLINGOPS_FIGURES` names a file, tests append one JSON object per
measurement to it (`record`); `scripts/figures.py` sums them into SECURITY.md. Without the
variable `record` does nothing, so the default test run writes no file.
"""

from __future__ import annotations

import html
import json
import os
import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from billingops._billing.stripe_gateway import StripeGateway
from billingops.config import Config
from billingops.core.markers import decode_state
from billingops.desk import Desk
from billingops.sandbox.fake_github import FakeGitHub
from billingops.sandbox.stripe_server import DEFAULT_NOW, SANDBOX_API_KEY, reset_sandbox
from tests.plugins.desk import ADMIN, MAINTAINER, TRIAGER, World
from tests.plugins.github import gateway_for
from tests.plugins.sandbox import Sandbox

# A fault run's client timeout. The fault proxy sends an interim answer every 50 ms while
# localstripe works (billingops/sandbox/fault_proxy.py), so the timeout measures the proxy's
# silence, not localstripe's speed: without that, an ordinary answer from localstripe
# sometimes came later than 1 s while two pytest-xdist workers and other work shared two
# cores, and a run then lacked a retry (it was 2 s then; each `timeout` fault waits it out).
# 1 s, not less: the proxy's own threads must be scheduled within it, and at a load of 6 on
# 2 cores a clean run once made a retried request (one position more than the faulted runs).
STRIPE_TIMEOUT = 1.0
PROXY_HOLD = 2.0  # a "timeout" fault holds the answer well past STRIPE_TIMEOUT
STRIPE_RETRIES = 2
REPOSITORY = "acme/support"

_lock = threading.Lock()


def record(category: str, **counts: Any) -> None:
    """One measurement for the figures (no-op unless BILLINGOPS_FIGURES is set)."""
    path = os.environ.get("BILLINGOPS_FIGURES")
    if not path:
        return
    line = json.dumps({"category": category, **counts}, sort_keys=True)
    with _lock, Path(path).open("a", encoding="utf-8") as f:
        f.write(line + "\n")


def stripe_via(base_url: str, *, retries: int = STRIPE_RETRIES, now: int = DEFAULT_NOW) -> Any:
    """A Stripe gateway with small retries and a short timeout (for fault runs)."""
    return StripeGateway(
        SANDBOX_API_KEY,
        base_url,
        compat=True,
        timeout=STRIPE_TIMEOUT,
        max_network_retries=retries,
        clock=lambda: float(now),
    )


@contextmanager
def fresh_world(sandbox: Sandbox, stripe: Any) -> Iterator[World]:
    """The `world` fixture's set-up, as a context manager, for loops over fault positions:
    an empty localstripe (same seed and clock) and a new fake GitHub."""
    reset_sandbox(sandbox.base_url, now=sandbox.now)
    with FakeGitHub(REPOSITORY, actor="github-actions[bot]") as fake:
        fake.add_collaborator(MAINTAINER, "maintain")
        fake.add_collaborator(ADMIN, "admin")
        fake.add_collaborator(TRIAGER, "triage")
        yield World(fake, sandbox, stripe)


def desk_on(world: World, billing: Any, config: Config | None = None, **gh: Any) -> Desk:
    """A desk whose Stripe traffic goes through `billing` (e.g. the fault proxy)."""
    return Desk(
        billing,
        gateway_for(world.fake, **gh),
        config or world.config,
        world.fake.repository,
    )


def bot_states(world: World, number: int) -> list[Any]:
    """The decoded hidden state of every bot comment on the issue (None = undecodable)."""
    return [decode_state(b) for b in world.bot_comments(number)]


SECTIONS = (
    "### CUSTOMER",
    "### BILLING STATE",
    "### DECISION",
    "### ACTION",
    "### FOLLOW-UP",
    "### PRODUCT GAP",
)


def whole(body: str) -> bool:
    """A complete triage comment: the marker decodes and every section is there, in order."""
    if decode_state(body) is None or not body.endswith("\n"):
        return False
    at = [body.find("\n" + s) for s in SECTIONS]
    return all(i >= 0 for i in at) and at == sorted(at)


# ---------------------------------------------------------------- rendered-text invariants

_ZWSP_ENTITY = "&#8203;"
_MD_ESCAPE = re.compile(r"\\([\\`*_{}\[\]()#+\-.!|~=$^<>&\"'])")
_INVISIBLE = re.compile("[\u200b-\u200f\u202a-\u202e\u2060-\u2069\ufeff\u00ad]")
_BOT_HEADINGS = {
    "## Billing triage",
    "### CUSTOMER",
    "### BILLING STATE",
    "### DECISION",
    "### ACTION",
    "### FOLLOW-UP",
    "### PRODUCT GAP",
}


def visible(markdown: str) -> str:
    """What a reader sees of our Markdown, roughly: entities and escapes undone,
    invisible characters dropped. Leak checks run on this, not on the escaped source."""
    text = markdown.replace(_ZWSP_ENTITY, "")
    text = _MD_ESCAPE.sub(r"\1", text)
    text = html.unescape(text)
    return _INVISIBLE.sub("", text)


def compact(text: str) -> str:
    """Digits and letters only: a card number split by spaces, dashes, dots or escapes
    still shows up as its digit run."""
    return re.sub(r"[^0-9A-Za-z]", "", text)


_UNESCAPED_MENTION = re.compile(r"(?<![A-Za-z0-9`\\])@(?=[A-Za-z0-9])")
_RAW_HTML = re.compile(r"<(?=[A-Za-z!/?])")
_ISSUE_REF = re.compile(r"(?<![\\&A-Za-z0-9])#(?=[0-9])")


def _outside_code(line: str) -> str:
    return re.sub(r"`[^`\n]*`", "``", line)


def violations(
    body: str,
    *,
    secrets: list[str],
    cards: list[str],
    emails: list[str],
    expect_marker: bool = True,
) -> list[str]:
    """Every invariant of a rendered comment that `body` breaks (empty list: all hold).

    `secrets`, `cards` and `emails` are the sensitive values that were in the ticket.
    """
    problems: list[str] = []
    lines = body.split("\n")
    first, rest = lines[0], lines[1:]
    if expect_marker and decode_state(body) is None:
        problems.append("the hidden marker does not decode")
    seen = visible(body)
    seen_compact = compact(seen)
    for s in secrets:
        if s in seen or s in body:
            problems.append(f"secret {s[:10]}... repeated")
    for c in cards:
        digits = re.sub(r"\D", "", c)
        if digits and digits in seen_compact:
            problems.append(f"card number ending {digits[-4:]} repeated")
    for e in emails:
        local = e.split("@", 1)[0]
        if len(local) > 1 and (e in seen or e.lower() in seen.lower()):
            problems.append("a full email address is shown")
    for n, line in enumerate(rest, 2):
        code = _outside_code(line)
        if _UNESCAPED_MENTION.search(code):
            problems.append(f"line {n}: unescaped @mention: {line[:80]!r}")
        if _RAW_HTML.search(code):
            problems.append(f"line {n}: raw HTML: {line[:80]!r}")
        for m in _ISSUE_REF.finditer(code):
            # The bot's own link to a product-gap issue ("→ #7") is the one reference allowed.
            if not code[: m.start()].endswith("→ "):
                problems.append(f"line {n}: #-reference: {line[:80]!r}")
                break
        if line.lstrip().startswith(("```", "~~~")):
            problems.append(f"line {n}: a code fence")
        if line.startswith("#") and not any(line.startswith(h) for h in _BOT_HEADINGS):
            problems.append(f"line {n}: a heading the bot did not write: {line[:80]!r}")
    if _INVISIBLE.search(body):
        problems.append("bidi or zero-width characters")
    if "<!--" in "\n".join(rest) or "-->" in "\n".join(rest):
        problems.append("an HTML comment after the marker line")
    if expect_marker and not first.startswith("<!-- billingops:triage"):
        problems.append("the first line is not the marker")
    return problems
