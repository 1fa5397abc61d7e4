"""Rendering the comments billingops writes, from the Jinja2 templates in `templates/`.

We emit GitHub Markdown. Autoescape (HTML) is on, so raw HTML from any value is shown as
text; on top of it, untrusted text goes through `inert`, which also neutralises Markdown,
@-mentions, #-references, autolinks and invisible characters. Ticket text is only ever a
*value* in the context, never template source, so `{{ }}` in a ticket is just text.

The output is a pure function of the inputs: no clock, sorted collections, one newline at
the end. The first line is the hidden marker (`markers.py`).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache

from jinja2 import Environment, FileSystemLoader, StrictUndefined
from markupsafe import Markup, escape

from billingops.config import Config
from billingops.core.anomalies import Anomaly, find_anomalies
from billingops.core.approval import needs_second_approver
from billingops.core.gaps import Gap, detect_gaps, merge_portal
from billingops.core.links import label_url
from billingops.core.markers import announcement_line, encode_state, state_for
from billingops.core.money import format_money, format_totals
from billingops.core.plan import revenue_impact
from billingops.core.sensitive import GITHUB_TOKEN_PATTERN
from billingops.models.billing import BillingState, Charge, Resolution, Subscription
from billingops.models.decision import (
    Approval,
    Case,
    Classification,
    Executed,
    GapRef,
    Plan,
    Step,
    StepKind,
)
from billingops.models.text import escape_non_ascii
from billingops.models.ticket import Identity, Requester, SensitiveKind, Ticket
from billingops.templates_path import TEMPLATE_DIRS

MAX_QUOTE = 400  # characters of ticket text quoted in a comment
MAX_LINE = 160
MAX_LINES = 8
_ZWSP = "&#8203;"  # an entity, so the source shows where a ping was defused

# C0/C1 controls (but tab and newline), bidi overrides and isolates, zero-width and BOM:
# they can reorder or hide text (Trojan Source) or glue a mention back together.
_INVISIBLE = re.compile(
    "[\x00-\x08\x0b-\x1f\x7f-\x9f\u00ad\u061c\u115f\u1160\u180e\u200b-\u200f"
    "\u202a-\u202e\u2060-\u206f\u3164\ufe00-\ufe0f\ufeff\uffa0\ufff9-\ufffb]"
)
# ASCII punctuation that means something in GitHub Markdown. `<`, `>`, `&`, quotes are left
# to the HTML escape (a backslash before an entity would print the entity literally).
_MD_PUNCT = re.compile(r"([\\`*_{}\[\]()#+\-.!|~=$^])")
# Unicode-aware: IDN (bob@münchen.example) and homoglyph addresses are emails too. The
# lookbehind and possessive runs keep it linear on long lines.
_EMAIL = re.compile(r"(?<![\w.%+\-])[\w.%+\-]++@[\w\-]++(?:\.[\w\-]++)+")
# No leading boundary and `_` in the tail, as in core.sensitive: a key glued to a word
# (`me@example.compk_live_...`) is still a key, and no part of its tail is kept.
_SECRET = re.compile(
    r"(?:sk|rk|pk)_(?:live|test)_[A-Za-z0-9_]+|whsec_[A-Za-z0-9_]+"
    rf"|{GITHUB_TOKEN_PATTERN}"  # GitHub tokens, every format (core.sensitive)
)
# Separators as people type them between groups: "4242 - 4242", "4242/4242", "4242_4242".
_LONG_NUMBER = re.compile(r"(?<!\w)(?:\d[ \-./_]{0,3}){6,}\d(?!\w)")
_SAFE_ID = re.compile(r"[A-Za-z0-9_]{1,100}")


# --- filters ------------------------------------------------------------------------------


def mask_email(email: str | None) -> str:
    """`j***@example.com`: first letter of the local part, the domain kept."""
    if not email or "@" not in email:
        return "***"
    local, _, domain = email.strip().rpartition("@")
    return f"{local[:1]}***@{domain}" if local else f"***@{domain}"


def _redact(text: str) -> str:
    text = _SECRET.sub("[secret removed]", text)
    # Glued addresses (`a@x.comjane@y.com`): the first match's domain swallows the next
    # local part, so mask again until nothing changes (bounded; usually one pass).
    for _ in range(8):
        masked = _EMAIL.sub(lambda m: mask_email(m.group(0)), text)
        if masked == text:
            break
        text = masked
    return _LONG_NUMBER.sub("[number removed]", text)


def backlog_title(title: str, *, public: bool) -> str:
    """A ticket title as a gap issue keeps it (visible table and hidden list alike).

    In a public backlog: none. A title is the customer's own words (names, amounts,
    emails in any spelling); no pattern can promise to find them all, and the ticket's
    reference is enough to find it. Elsewhere: the title with secrets and card numbers
    removed and emails masked (`j***@example.com`), as every comment shows them; masking
    an already masked title changes nothing."""
    if public:
        return ""
    return _redact(title).strip()


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def inert(
    text: object, max_len: int = MAX_QUOTE, multiline: bool = False, redact: bool = True
) -> Markup:
    """Untrusted text made safe to place in Markdown: it displays, it never acts.

    No HTML, no Markdown structure (headings, links, images, code, tables, lists), no
    @-mention pings, no #-references, no autolinks, no invisible or bidi characters,
    no secrets, emails or long numbers (unless `redact` is off, for a value the config
    allows to show, such as an unmasked billing email), and a bounded length.
    """
    raw = unicodedata.normalize("NFKC", str(text or ""))
    raw = _INVISIBLE.sub("", raw.replace("\r\n", "\n").replace("\r", "\n"))
    if redact:
        raw = _redact(raw)
    lines = [ln.strip() for ln in raw.split("\n")]
    if multiline:
        kept: list[str] = []
        for ln in lines:
            if ln or (kept and kept[-1]):
                kept.append(_clip(ln, MAX_LINE))
        while kept and not kept[-1]:
            kept.pop()
        if len(kept) > MAX_LINES:
            kept = [*kept[:MAX_LINES], "…"]
        raw = "\n".join(kept)
    else:
        raw = " ".join(ln for ln in lines if ln)
    raw = _clip(raw, max_len)
    out = str(escape(_MD_PUNCT.sub(r"\\\1", raw)))
    out = re.sub(r"@(?=[A-Za-z0-9])", "@" + _ZWSP, out)
    out = re.sub(r"\\#(?=[0-9])", "\\#" + _ZWSP, out)
    out = re.sub(r"(?i)\b(gh)\\-(?=[0-9])", r"\1\\-" + _ZWSP, out)
    out = out.replace(":/", ":" + _ZWSP + "/")
    out = re.sub(r"(?i)\bwww\\\.", "www" + _ZWSP + r"\\.", out)
    return Markup(out)


def quote(text: Markup | str) -> Markup:
    """Prefix every line with `> ` (an already-inert value stays inert)."""
    body = (text if isinstance(text, Markup) else escape(text)).strip("\n")
    return Markup("\n").join(Markup("> ") + ln if ln else Markup(">") for ln in body.split("\n"))


_ESCAPED_ID = re.compile(
    r"(?<![\w`])((?:cus|sub|ch|in|pi|prod|price|re|dp|si)\\_[A-Za-z0-9]+(?:\\_[A-Za-z0-9]+)*)"
)


def ids(text: Markup) -> Markup:
    """After `inert`: show Stripe ids of our own evidence lines as code spans.

    Only `[A-Za-z0-9_]` ends up inside the backticks, so nothing can escape the span.
    """
    return Markup(_ESCAPED_ID.sub(lambda m: "`" + m[1].replace("\\_", "_") + "`", str(text)))


def sid(value: object) -> Markup:
    """A Stripe id in a code span; anything not id-shaped is shown inertly instead."""
    s = str(value or "")
    if _SAFE_ID.fullmatch(s):
        return Markup(f"`{s}`")
    return inert(s, max_len=60)


def date(ts: int | None) -> str:
    """UTC date of Unix seconds; `—` when unknown."""
    if not ts:
        return "—"
    return datetime.fromtimestamp(ts, tz=UTC).strftime("%Y-%m-%d")


def money(amount: int | None, currency: str | None) -> str:
    if amount is None or not currency:
        return "—"
    return format_money(amount, currency)


@lru_cache(maxsize=1)
def environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader([str(d) for d in TEMPLATE_DIRS]),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters.update(
        money=money,
        mask_email=mask_email,
        inert=inert,
        quote=quote,
        sid=sid,
        ids=ids,
        date=date,
        totals=format_totals,
        # A look-alike letter (`\u212a` for `K`) shown as its escape: NFKC in `inert` would
        # otherwise print it as the ASCII letter it imitates (SPEC §5a).
        ascii_escaped=escape_non_ascii,
    )
    env.tests["non_ascii"] = lambda value: isinstance(value, str) and not value.isascii()
    return env


def _tidy(text: str) -> str:
    """Trailing spaces off, at most one blank line in a row, exactly one final newline."""
    lines = [ln.rstrip() for ln in text.split("\n")]
    out: list[str] = []
    for ln in lines:
        if ln or (out and out[-1]):
            out.append(ln)
    return "\n".join(out).strip("\n") + "\n"


# --- view model ---------------------------------------------------------------------------

CASE_TITLES = {
    Case.duplicate_subscription: "Duplicate subscription",
    Case.team_seats: "Team seats",
    Case.failed_payment: "Failed payment",
    Case.missing_self_serve: "Missing self-serve",
    Case.product_failure: "Product failure",
    Case.needs_human: "Needs a human",
}

SENSITIVE_TEXT = {
    SensitiveKind.stripe_secret_key: (
        "a Stripe secret key: roll it now in the Stripe dashboard (Developers → API keys)"
    ),
    SensitiveKind.stripe_restricted_key: (
        "a Stripe restricted key: roll it now in the Stripe dashboard"
    ),
    SensitiveKind.webhook_secret: "a webhook signing secret: roll it on the webhook endpoint",
    SensitiveKind.card_number: (
        "a card number: the customer should contact their bank if it is still in use"
    ),
}


@dataclass(frozen=True)
class StepView:
    n: int
    step: Step
    title: str
    short: str
    period_end: int | None
    full: bool
    label: str | None
    two_approvers: bool
    status: str | None
    stripe_id: str | None
    reason: str | None = None


def _title(step: Step) -> str:
    if step.kind is StepKind.refund:
        return "Refund"
    if step.kind is StepKind.cancel_subscription:
        return "Cancel at period end" if step.at_period_end else "Cancel now"
    if step.kind is StepKind.restore_self_serve:
        return "Restore self-serve"
    return "No Stripe action"


def _step_views(
    plan: Plan, state: BillingState, config: Config, executed: list[Executed]
) -> list[StepView]:
    subs: dict[str, Subscription] = {s.id: s for s in state.subscriptions}
    charges: dict[str, Charge] = {c.id: c for c in state.charges}
    done = {(e.kind, e.target): e for e in executed}
    # The whole plan's refunds per currency against that currency's threshold (SPEC §5a).
    two_in = set(
        needs_second_approver(
            [(s.currency or "", s.amount or 0) for s in plan.steps if s.kind is StepKind.refund],
            config,
        )
    )
    views = []
    for n, st in enumerate(plan.steps, 1):
        sub = subs.get(st.target or "")
        ch = charges.get(st.target or "")
        rec = done.get((st.kind, st.target))
        views.append(
            StepView(
                n=n,
                step=st,
                title=_title(st),
                short=_title(st).lower().replace("stripe", "Stripe"),
                period_end=sub.current_period_end if sub else None,
                full=bool(ch and st.amount == ch.amount),
                label=config.labels[st.needs] if st.needs else None,
                two_approvers=bool(
                    st.kind is StepKind.refund and (st.currency or "").lower() in two_in
                ),
                status=rec.status if rec else None,
                stripe_id=rec.stripe_id if rec else None,
                reason=rec.reason if rec else None,
            )
        )
    return views


def _label_effects(views: list[StepView], config: Config) -> list[tuple[str, list[StepView]]]:
    out = []
    for approval in (Approval.cancel, Approval.refund):
        mine = [v for v in views if v.step.needs is approval]
        if mine:
            out.append((config.labels[approval], mine))
    return out


def _recent_charges(state: BillingState, limit: int = 8) -> list[Charge]:
    return sorted(state.charges, key=lambda c: (-c.created, c.id))[:limit]


def _sensitive(ticket: Ticket) -> list[str]:
    kinds = sorted(set(ticket.sensitive), key=list(SensitiveKind).index)
    return [SENSITIVE_TEXT[k] for k in kinds]


def render_triage(
    ticket: Ticket,
    resolution: Resolution,
    state: BillingState,
    classification: Classification,
    plan: Plan,
    config: Config,
    *,
    gaps: list[Gap] | None = None,
    gap_refs: list[GapRef] | None = None,
    executed: list[Executed] | None = None,
    anomalies: list[Anomaly] | None = None,
    requester: Requester | None = None,
    rev: int = 0,
    backlog_unread: str | None = None,
) -> str:
    """The operator handoff comment (SPEC §6), hidden state on its first line.
    `backlog_unread`: why the gap backlog could not be read this run (gaps not filed)."""
    executed = list(executed or [])
    if gaps is None:
        portal = merge_portal(state.portal, config)
        gaps = detect_gaps(ticket, state, classification, portal)
    refs = {g.key: g for g in gap_refs or []}
    views = _step_views(plan, state, config, executed)
    marker = encode_state(
        state_for(
            classification.case,
            plan,
            executed=executed,
            gaps=[refs.get(g.key.value) or GapRef(key=g.key.value) for g in gaps],
            rev=rev,
        )
    )
    customers = sorted(state.customers, key=lambda c: c.id)
    ctx = {
        "marker": Markup(marker),
        "ticket": ticket,
        "resolution": resolution,
        "state": state,
        "customers": customers,
        # Masked unless the config says otherwise (SPEC §6); inert either way.
        "email_of": {
            c.id: (mask_email(c.email) if config.mask_email else c.email) if c.email else None
            for c in customers
        },
        "subscriptions": sorted(state.subscriptions, key=lambda s: (s.created, s.id)),
        "charges": _recent_charges(state),
        "anomalies": find_anomalies(state) if anomalies is None else anomalies,
        "classification": classification,
        "case_title": CASE_TITLES[classification.case],
        "plan": plan,
        "steps": views,
        "moves_money": any(v.label for v in views),
        "taken": any(v.status in ("done", "already_done") for v in views),
        "done_views": [v for v in views if v.status in ("done", "already_done")],
        # What has actually happened so far, not what the whole plan would do.
        "realised": revenue_impact(
            [v.step for v in views if v.status in ("done", "already_done")], state, realised=True
        ),
        "label_effects": _label_effects(views, config),
        "roles": sorted(config.allowed_roles),
        "refund_steps": [v for v in views if v.step.kind is StepKind.refund],
        "cancel_steps": [v for v in views if v.step.kind is StepKind.cancel_subscription],
        "gaps": gaps,
        "gap_refs": refs,
        # A backlog in another repository needs a cross-repository reference.
        "backlog_prefix": config.backlog_repository or "",
        "backlog_unread": backlog_unread,
        # A gap filed in this run's last round has no number here yet: its label's page.
        "gap_label_urls": {
            g.key.value: label_url(
                ticket.html_url,
                config.backlog_repository or ticket.repository,
                f"gap:{g.key.value}",
            )
            for g in gaps
        },
        "login_url": state.portal.login_url or config.portal.login_url,
        "sensitive": _sensitive(ticket),
        "requester": requester,
        # The person asking may not be the customer: their contact details and card are
        # not shown to them until someone verifies them (SPEC §5a).
        "withhold": bool(
            requester and requester.identity is Identity.unverified and not requester.staff
        ),
        "verify_label": config.verified_requester_label,
        "user_id_key": config.github_user_id_metadata_key,
        "metadata_key": config.github_username_metadata_key,
    }
    return _tidy(environment().get_template("triage_comment.md.j2").render(ctx))


def render_needs_info(
    ticket: Ticket, config: Config, *, resolution: Resolution | None = None
) -> str:
    """Ask politely for a billing email or a Stripe id; repeats nothing from the ticket."""
    marker = encode_state(state_for(None, None))
    ctx = {
        "marker": Markup(marker),
        "ticket": ticket,
        "not_found": bool(resolution and not resolution.found and ticket.has_identifier),
        "sensitive": _sensitive(ticket),
        "login_url": config.portal.login_url,
    }
    return _tidy(environment().get_template("needs_info_comment.md.j2").render(ctx))


def render_plan_announcement(
    rev: int, plan: Plan, old_hash: str, config: Config, *, labels_on: list[str]
) -> str:
    """The short new comment that announces a changed plan (an edit notifies nobody)."""
    ctx = {
        "marker": Markup(announcement_line(rev, plan.hash)),
        "new_hash": plan.hash,
        "old_hash": old_hash,
        "labels_on": labels_on,
        "roles": ", ".join(config.allowed_roles),
    }
    return _tidy(environment().get_template("plan_changed_comment.md.j2").render(ctx))


def render_notice(
    kind: str,
    *,
    key: str,
    label: str,
    reason: str = "",
    config: Config,
    old_hash: str = "",
    new_hash: str = "",
    threshold: str = "",
) -> str:
    """A one-off comment: an approval refused, a second approver needed, or drift.

    `key` makes the first line unique per event, so a rerun does not post it twice.
    """
    ctx = {
        "kind": kind,
        "key": re.sub(r"[^A-Za-z0-9_.:#/-]", "_", key)[:200],
        "label": label,
        "reason": reason,
        "roles": ", ".join(config.allowed_roles),
        "old_hash": old_hash,
        "new_hash": new_hash,
        "threshold": threshold,
    }
    return _tidy(environment().get_template("notice_comment.md.j2").render(ctx))
