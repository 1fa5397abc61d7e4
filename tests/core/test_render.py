from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from billingops.config import Config
from billingops.core.classify import classify
from billingops.core.markers import decode_state, encode_state, state_for
from billingops.core.plan import make_plan
from billingops.core.render import (
    date,
    environment,
    inert,
    mask_email,
    quote,
    render_needs_info,
    render_triage,
    sid,
)
from billingops.models.billing import BillingState, Resolution
from billingops.models.decision import Case, Executed, GapRef, StepKind
from billingops.models.ticket import RequestKind, SensitiveKind, Ticket
from tests.core.builders import (
    DAY,
    MIN,
    NOW,
    charge,
    config,
    customer,
    invoice,
    paid_sub,
    resolved,
    state,
    sub,
    ticket,
)


def dup_state() -> BillingState:
    return state(paid_sub(1, started=NOW - DAY), paid_sub(2, started=NOW - DAY + 4 * MIN))


def render(
    t: Ticket,
    s: BillingState,
    cfg: Config | None = None,
    r: Resolution | None = None,
    **kw: object,
) -> str:
    cfg = cfg or config()
    r = r or resolved("cus_1")
    c = classify(t, r, s, cfg)
    p = make_plan(c.case, t, r, s, cfg)
    return render_triage(t, r, s, c, p, cfg, **kw)  # type: ignore[arg-type]


SECTIONS = ["### CUSTOMER", "### BILLING STATE", "### DECISION", "### ACTION", "### FOLLOW-UP",
            "### PRODUCT GAP"]  # fmt: skip


def test_duplicate_comment_reads_as_a_handoff() -> None:
    out = render(ticket("charged twice", request=RequestKind.refund), dup_state(),
                 gap_refs=[GapRef(key="no_duplicate_guard", issue=7)])  # fmt: skip
    positions = [out.index(s) for s in SECTIONS]
    assert positions == sorted(positions)
    assert "## Billing triage: Duplicate subscription" in out
    assert "- `approve-cancel`: cancels `sub_2` immediately." in out
    assert "- `approve-refund`: refunds $20.00 on `ch_2`." in out
    assert "MRR change -$20.00 per month" in out
    assert "→ #7" in out
    assert "j\\*\\*\\*@&#8203;example\\.com" in out  # masked, then made inert
    st_ = decode_state(out)
    assert st_ is not None and st_.case is Case.duplicate_subscription
    assert st_.gaps == [GapRef(key="no_duplicate_guard", issue=7)]
    assert out.endswith("\n") and not out.endswith("\n\n")


def test_render_is_deterministic() -> None:
    t = ticket("charged twice")
    a = render(t, dup_state())
    assert a == render(t, dup_state())
    s = dup_state()
    reordered = s.model_copy(
        update={"subscriptions": s.subscriptions[::-1], "charges": s.charges[::-1],
                "invoices": s.invoices[::-1]}
    )  # fmt: skip
    assert render(t, reordered) == a


HOSTILE = (
    "@octocat @acme/team <script>alert(1)</script> ``` </details><details open> "
    "{{ 7*7 }} {% raw %} #12 acme/other#3 ![x](https://evil.test/p.png) [click](javascript:x) "
    "<!-- billingops:triage v1 state=e30= sum=0000000000000000 --> | table | \u202eevil\u200b"
)


def test_hostile_ticket_text_stays_inert() -> None:
    t = ticket(HOSTILE, title=HOSTILE)
    out = render(t, dup_state())
    body = out.split("\n", 1)[1]  # everything after our marker line
    assert "<script" not in body and "</details>" not in body and "<details" not in body
    assert "<!--" not in body
    assert not re.search(r"@[A-Za-z0-9]", body)  # no pings: every @ is followed by a ZWSP
    assert "```" not in body
    assert "49" not in body and "7\\*7" in body  # template syntax is text, never evaluated
    assert "\u202e" not in body and "\u200b" not in body
    assert "](" not in body.replace("\\](", "")  # no link or image syntax survives
    assert "#12" not in body
    st_ = decode_state(out)  # the quoted look-alike marker is not the one that is read
    assert st_ is not None and st_.plan_hash != "" and st_.steps


def test_email_masked_unless_config_says_otherwise() -> None:
    t = ticket("charged twice")
    assert "jane@" not in render(t, dup_state())
    out = render(t, dup_state(), config(mask_email=False))
    assert "jane@&#8203;example\\.com" in out


def test_card_is_brand_and_last4_only() -> None:
    s = state(paid_sub(1), customers=[customer("cus_1", card=("mastercard", "4444"))])
    out = render(ticket("where are my invoices"), s)
    assert "Mastercard ···· 4444" in out


def test_secret_and_card_number_warning_without_the_value() -> None:
    t = ticket(
        "my key sk_live_abcdef123456 and card 4242 4242 4242 4242",
        title="sk_live_abcdef123456 4242424242424242",
        sensitive=[SensitiveKind.card_number, SensitiveKind.stripe_secret_key],
    )
    for out in (render(t, dup_state()), render_needs_info(t, config())):
        assert "[!CAUTION]" in out
        assert "roll it now" in out and "card number" in out
        assert "Edit the issue" in out
        assert "sk_live" not in out and "4242424242424242" not in out and "4242 4242" not in out


def test_needs_info_asks_politely_and_repeats_nothing() -> None:
    t = ticket("hello, I am jane@example.com, 555-123-4567", emails=[])
    out = render_needs_info(t, config())
    assert "billing email" in out or "email address" in out
    assert "jane" not in out and "555" not in out
    st_ = decode_state(out)
    assert st_ is not None and st_.kind == "needs_info" and st_.steps == []
    not_found = render_needs_info(ticket("x"), config(), resolution=Resolution())
    assert "could not find a billing account" in not_found


def _case_states() -> dict[Case, tuple[Ticket, BillingState]]:
    s1, i1, c1 = paid_sub(1, canceled_at=NOW - 35 * DAY, started=NOW - 60 * DAY)
    late = [invoice("in_l", subscription="sub_1", charge="ch_l", created=NOW - DAY),
            charge("ch_l", invoice="in_l", created=NOW - DAY)]  # fmt: skip
    return {
        Case.duplicate_subscription: (ticket("charged twice"), dup_state()),
        Case.team_seats: (ticket("why was I charged 5 times?"), state(paid_sub(1, quantity=5))),
        Case.failed_payment: (ticket("card declined"), state(sub("sub_1", status="past_due"))),
        Case.missing_self_serve: (
            ticket("cancel", request=RequestKind.cancel),
            state(paid_sub(1)),
        ),
        Case.product_failure: (ticket("refund"), state(s1, i1, c1, *late)),
        Case.needs_human: (ticket("refund"), state(paid_sub(1, disputed=True))),
    }


@pytest.mark.parametrize("case", list(Case))
def test_every_case_renders(case: Case) -> None:
    t, s = _case_states()[case]
    out = render(t, s)
    st_ = decode_state(out)
    assert st_ is not None and st_.case is case
    assert all(sec in out for sec in SECTIONS)
    assert "Suggested reply to the customer:\n\n> Hello" in out


def test_executed_steps_show_as_taken() -> None:
    t = ticket("charged twice")
    done = [Executed(kind=StepKind.cancel_subscription, target="sub_2", status="done",
                     stripe_id="sub_2")]  # fmt: skip
    out = render(t, dup_state(), executed=done)
    assert "### ACTION (taken)" in out
    assert "| done `sub_2` |" in out
    assert "| awaiting `approve-refund` |" in out  # the refund still needs its label
    assert "| by hand |" in out  # restoring self-serve is the operator's job
    st_ = decode_state(out)
    assert st_ is not None and st_.executed == done


def test_zero_and_three_decimal_currencies_in_the_comment() -> None:
    s = state(
        paid_sub(1, started=NOW - DAY, amount=2000, currency="jpy"),
        paid_sub(2, started=NOW - DAY + MIN, amount=2000, currency="jpy"),
        paid_sub(3, product="prod_k", amount=1500, currency="kwd"),
    )
    out = render(ticket("charged twice"), s)
    assert "refunds ¥2,000 on `ch_2`" in out
    assert "KWD 1.500" in out


def test_second_approver_threshold_is_shown() -> None:
    s = state(paid_sub(1, started=NOW - DAY, amount=90000),
              paid_sub(2, started=NOW - DAY + MIN, amount=90000))  # fmt: skip
    out = render(ticket("charged twice"), s)
    assert "two approvers" in out


def test_marker_line_is_the_encoded_state() -> None:
    t = ticket("charged twice")
    r = resolved("cus_1")
    s = dup_state()
    c = classify(t, r, s, config())
    p = make_plan(c.case, t, r, s, config())
    out = render_triage(t, r, s, c, p, config(), gaps=[])
    assert out.split("\n", 1)[0] == encode_state(state_for(c.case, p, gaps=[]))
    assert "None detected." in out


# --- filters --------------------------------------------------------------------------------


def test_mask_email() -> None:
    assert mask_email("john@example.com") == "j***@example.com"
    assert mask_email("@example.com") == "***@example.com"
    assert mask_email("nonsense") == "***"
    assert mask_email(None) == "***"


def test_date_is_utc() -> None:
    assert date(NOW) == "2024-05-01"
    assert date(NOW - 1) == "2024-04-30"
    assert date(None) == "—" and date(0) == "—"


def test_sid() -> None:
    assert sid("sub_123") == "`sub_123`"
    assert "`" not in re.sub(r"\\.", "", sid("sub_1` <b>"))


def test_inert_limits_and_quote() -> None:
    long = "word " * 500
    assert len(inert(long)) < 600 and inert(long).endswith("…")
    many = "\n".join(f"line {i}" for i in range(30))
    q = quote(inert(many, multiline=True))
    assert q.count("\n") <= 9 and all(ln.startswith(">") for ln in q.split("\n"))
    assert "    " not in inert("        indented code", multiline=True)


def test_inert_redacts() -> None:
    out = inert("mail jane@example.com, card 4111 1111 1111 1111, key rk_test_abc123 whsec_x9")
    assert "jane" not in out and "4111" not in out and "rk_test" not in out
    assert "whsec" not in out and "secret removed" in out and "number removed" in out


def test_environment_escapes_html_and_finds_templates() -> None:
    env = environment()
    assert env.autoescape is True
    assert env.from_string("{{ x }}").render(x="<b>") == "&lt;b&gt;"
    assert env.get_template("triage_comment.md.j2") is not None


@given(st.text(max_size=400))
def test_inert_never_lets_structure_through(text: str) -> None:
    out = str(inert(text, multiline=True))
    unescaped = re.sub(r"\\.", "", out)  # drop backslash-escaped characters
    assert "<" not in out and "`" not in unescaped and "-->" not in out
    assert not re.search(r"@[A-Za-z0-9]", out)
    assert not re.search(r"[\u202a-\u202e\u2066-\u2069\u200b-\u200f]", out)
    assert not re.search(r"^\s*(#|>|[-+*] |\d+[.)])", out, re.MULTILINE)
    assert len(out) < 400 * 12


def test_gap_links_say_when_a_gap_was_marked_fixed_and_cross_repositories() -> None:
    from billingops.config import Config
    from billingops.models.decision import GapRef

    t = ticket("charged twice")
    refs = [GapRef(key="no_duplicate_guard", issue=7, closed=True)]
    out = render(t, dup_state(), gap_refs=refs)
    assert "→ #7 (marked fixed" in out
    out = render(t, dup_state(), Config(backlog_repository="acme/product"), gap_refs=refs)
    assert "→ acme/product#7" in out


def test_unread_history_is_said_in_the_billing_state() -> None:
    s = dup_state().model_copy(update={"history_truncated": ["charges of cus_1"]})
    out = render(ticket("charged twice", request=RequestKind.refund), s)
    assert "Not all billing history was read (charges of `cus_1`)" in out
    assert "Not all billing history" not in render(
        ticket("charged twice", request=RequestKind.refund), dup_state()
    )
