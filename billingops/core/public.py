"""Texts for a public ticket and the private desk's handoff issue (SPEC §5b). Pure.

`render_public` takes a `PublicReply` and nothing else: whatever billingops knows about the
customer cannot reach a public text through here, because the model has no field for it.
"""

from __future__ import annotations

import hashlib
import re

from markupsafe import Markup

from billingops.config import Config
from billingops.core.labels import DONE_LABEL
from billingops.core.ownership import find_bot_comment, trusted_state
from billingops.core.render import SENSITIVE_TEXT, _tidy, environment
from billingops.models.decision import FINISHED, Plan, StepKind
from billingops.models.issue import Thread, same_login
from billingops.models.public import Done, PublicKind, PublicLabel, PublicReply
from billingops.models.ticket import Ticket

PUBLIC_MARKER = "<!-- billingops:public v1 -->"
HANDOFF_LABEL = "billingops:handoff"
_HANDOFF = re.compile(
    r"^<!-- billingops:handoff (?P<repo>[A-Za-z0-9._-]+/[A-Za-z0-9._-]+)#(?P<n>[0-9]{1,9}) -->$"
)
_LOGIN = re.compile(r"^[A-Za-z0-9-]{1,39}(\[bot\])?$")


def outcome_marker(reply: PublicReply, key: str) -> str:
    """The first line of a one-off public comment: unique per outcome, so never posted twice."""
    safe = re.sub(r"[^A-Za-z0-9_.:#/-]", "_", key)[:120]
    done = ",".join(sorted(d.value for d in reply.done)) or "-"
    return f"<!-- billingops:public-{reply.kind.value} {safe} done={done} -->"


def render_public(reply: PublicReply, *, key: str = "") -> str:
    """The acknowledgement (edited in place) or a one-off outcome / approval notice."""
    one_off = reply.kind in (PublicKind.outcome, PublicKind.approve_elsewhere)
    template = "public_outcome.md.j2" if one_off else "public_reply.md.j2"
    ctx = {
        "marker": Markup(outcome_marker(reply, key) if one_off else PUBLIC_MARKER),
        "reply": reply,
        "sensitive_text": [SENSITIVE_TEXT[k] for k in sorted(set(reply.sensitive))],
    }
    return _tidy(environment().get_template(template).render(ctx))


def is_public_reply(body: str) -> bool:
    return body.split("\n", 1)[0] == PUBLIC_MARKER


def handoff_marker(public_repository: str, number: int) -> str:
    return f"<!-- billingops:handoff {public_repository}#{number} -->"


def handoff_of(body: str | None) -> tuple[str, int] | None:
    """(public repository, ticket number) named by a handoff issue's first line, or None."""
    m = _HANDOFF.match((body or "").split("\n", 1)[0].strip())
    return (m["repo"], int(m["n"])) if m else None


def ticket_version(title: str, body: str) -> str:
    """The version of the public ticket the handoff is written from, as its hidden marker:
    a digest of the title and body. An edit there changes the handoff body, so GitHub's
    record of the handoff's last edit voids a verified-requester label (§5a).

    A digest rather than a GitHub stamp: the issue's `updated_at` moves with every label
    and comment (billingops' own included), and the body's `lastEditedAt` misses a title
    edit (a `renamed` event, another request). The digest changes with exactly the words
    the desk acts on, and costs no request: the desk reads the public ticket anyway."""
    digest = hashlib.sha256(f"{title}\n{body}".encode()).hexdigest()[:16]
    return f"<!-- billingops:ticket-version {digest} -->"


def handoff_is_current(handoff_body: str, title: str, body: str) -> bool:
    """Whether the handoff was written from the public ticket as it is now (`title`, `body`,
    read fresh): its version marker is a line of its own in the handoff's body (SPEC §5b)."""
    return ticket_version(title, body) in (handoff_body or "").splitlines()


def handoff_title(public_repository: str, number: int) -> str:
    return f"Billing handoff: {public_repository}#{number}"


def render_handoff(
    public_repository: str, number: int, public_url: str, author: str, version: str
) -> str:
    ctx = {
        "marker": Markup(handoff_marker(public_repository, number)),
        "public_ref": f"{public_repository}#{number}",
        "public_url": public_url,
        "author": author if _LOGIN.match(author) else "unknown",
        "version": Markup(version),
    }
    return _tidy(environment().get_template("handoff_issue.md.j2").render(ctx))


_DUPLICATE = "<!-- billingops:handoff-duplicate of="


def render_handoff_duplicate(public_repository: str, number: int, kept: int) -> str:
    """The note on a copy of a ticket's handoff (two runs filed one each), naming the kept
    one; its first line is its marker, so it is posted once."""
    ctx = {
        "marker": Markup(f"{_DUPLICATE}{kept} -->"),
        "public_ref": f"{public_repository}#{number}",
        "kept": kept,
    }
    return _tidy(environment().get_template("handoff_duplicate.md.j2").render(ctx))


def is_settled_copy(thread: Thread) -> bool:
    """Whether billingops settled this handoff as a copy of the ticket's kept one (its own
    note says so): a copy is not a ticket of its own, in the gap backlog either."""
    return any(
        c.body.startswith(_DUPLICATE) and same_login(c.author, thread.me) for c in thread.comments
    )


def acknowledgement(
    ticket: Ticket,
    config: Config,
    handoff_url: str | None = None,
    *,
    handoff_pending: bool = False,
) -> tuple[PublicReply, list[PublicLabel]]:
    """The public ticket's acknowledgement and its labels: what they wrote decides, never
    what billingops found (a login lookup's outcome must not show)."""
    kind = PublicKind.received if ticket.has_identifier else PublicKind.needs_info
    labels = [PublicLabel.received]
    if kind is PublicKind.needs_info:
        labels.append(PublicLabel.needs_info)
    reply = PublicReply(
        kind=kind,
        handoff_url=handoff_url,
        handoff_pending=handoff_pending,
        login_url=config.portal.login_url,
        sensitive=list(ticket.sensitive),
    )
    return reply, labels


def report_back(
    handoff: Thread, plan: Plan | None, handoff_labels: list[str], config: Config
) -> tuple[PublicReply, list[PublicLabel]]:
    """What the public ticket is told after approved steps ran: everything done so far as
    the handoff records it (this run's and earlier ones'), as the customer must hear it, and
    the labels once every approved step is done (`billing:done` on the handoff)."""
    record = trusted_state(find_bot_comment(handoff.comments, handoff.me), handoff.me)
    steps = {s.key: s for s in (plan.steps if plan else [])}
    done: set[Done] = set()
    for e in record.executed if record else []:
        if e.status not in FINISHED:
            continue
        step = steps.get(e.key)
        if e.kind is StepKind.refund:
            done.add(Done.refund)
        elif e.kind is StepKind.cancel_subscription:
            later = bool(step and step.at_period_end)
            done.add(Done.cancels_at_period_end if later else Done.cancelled)
    complete = DONE_LABEL in handoff_labels
    reply = PublicReply(
        kind=PublicKind.outcome,
        done=sorted(done),
        complete=complete,
        login_url=config.portal.login_url,
    )
    return reply, [PublicLabel.received, PublicLabel.done] if complete else []
