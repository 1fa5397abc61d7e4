"""Who is asking (SPEC §5a): verified, vouched or unverified. Pure: the desk reads roles,
label events and the ticket's last edit time from GitHub and passes them in.

Only what GitHub or Stripe vouch for counts: the author's login (GitHub's), the customer's
metadata (Stripe's, written by the company), the author's role name, and a
`verified-requester` label applied by an approver after the ticket's current version
(GitHub's clock). Nothing the ticket says about its author counts.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Literal

from billingops.config import Config
from billingops.core.approval import approver_problem
from billingops.models.billing import BillingState
from billingops.models.issue import LabelEvent, same_login
from billingops.models.ticket import Identity, Requester


def is_staff(role: str | None, config: Config) -> bool:
    return role is not None and role.lower() in config.staff_roles


def vouch_problem(
    events: Sequence[LabelEvent],
    roles: Mapping[str, str | None],
    config: Config,
    *,
    author: str,
    ticket_version_at: int,
) -> str | None:
    """None when the verified-requester label vouches for the current ticket, else why not
    (one line). Checked like an approval: the latest `labeled` event's actor and role name,
    strictly after the ticket's last edit (a tie on GitHub's one-second clock is not after)."""
    label = config.verified_requester_label
    applied = sorted(
        (e for e in events if e.event == "labeled" and e.label == label),
        key=lambda e: (e.created_at, e.id),
    )
    if not applied:
        return f"no record of who applied {label}"
    latest = applied[-1]
    if same_login(latest.actor, author):
        return f"{latest.actor} applied {label} to their own ticket"
    why = approver_problem(latest, roles, config)
    if why:
        return why
    if latest.created_at <= ticket_version_at:
        return f"the ticket was edited after {latest.actor} applied {label}"
    return None


AccountCheck = Literal["different", "unreadable", "author_unknown"]


def account_problem(stored: str | None, author_id: int | None) -> AccountCheck | None:
    """Why the customer's stored GitHub account id does not vouch for the author, or None
    when it does (or when none is stored: then the login alone counts, as before)."""
    if stored is None or not stored.strip():
        return None
    text = stored.strip()
    if not (text.isascii() and text.isdigit()):
        return "unreadable"
    if author_id is None:
        return "author_unknown"
    return None if int(text) == author_id else "different"


def identify(
    author: str,
    author_role: str | None,
    state: BillingState,
    config: Config,
    *,
    label_problem: str | None = None,
    label_present: bool = False,
    author_id: int | None = None,
) -> Requester:
    """The requester's identity for the customer(s) in `state`.

    `label_present` / `label_problem`: whether the verified-requester label is on the
    issue, and why it does not count (None: it counts). `author_id`: the author's numeric
    GitHub account id; where a customer's metadata holds one
    (`github_user_id_metadata_key`), a login match counts only with the same id: a login
    can be renamed and registered by another account, an id cannot (SPEC §5a)."""
    staff = is_staff(author_role, config)
    key = config.github_username_metadata_key
    owners = [c for c in state.customers if same_login(c.metadata.get(key, ""), author)]
    problems = [
        p
        for c in owners
        if (p := account_problem(c.metadata.get(config.github_user_id_metadata_key), author_id))
    ]
    account: AccountCheck | None = problems[0] if problems else None
    if owners and len(owners) == len(state.customers) and account is None:
        return Requester(
            login=author,
            identity=Identity.verified,
            how=f"the GitHub login of the author is the `{key}` of the customer in Stripe",
            staff=staff,
        )
    if staff:
        return Requester(
            login=author,
            identity=Identity.vouched,
            how=f"filed by staff ({author_role} role): the support inbox vouches",
            staff=True,
        )
    if label_present and label_problem is None:
        return Requester(
            login=author,
            identity=Identity.vouched,
            how=f"a maintainer applied {config.verified_requester_label} after the last edit",
        )
    why = "the GitHub login of the author is not the one in the customer metadata in Stripe"
    if account is not None:
        why = "the GitHub login matches, but not the GitHub account behind it"
    if label_present and label_problem:
        why += f"; {config.verified_requester_label} does not count: {label_problem}"
    return Requester(login=author, identity=Identity.unverified, how=why, account_id=account)
