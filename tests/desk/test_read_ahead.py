"""A Stripe read started ahead (public mode starts it before the handoff issue exists,
desk/read.py:read_billing_ahead) is used only for the ticket it was started for: the
author's role it read decides whose login may identify a customer (SPEC §5a)."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from billingops.core.backlog import GAP_LABEL
from billingops.desk.read import read_billing_ahead, read_triage
from tests.plugins.desk import MAINTAINER, World
from tests.plugins.github import gateway_for


def test_a_read_ahead_of_another_author_is_not_used(world: World) -> None:
    number, _ = world.file("duplicate_subscriptions")
    ticket = world.desk_ticket(number)
    staff = ticket.model_copy(update={"author": MAINTAINER, "author_id": 7})
    tracker = gateway_for(world.fake)
    listing = (world.fake.repository, GAP_LABEL)
    with ThreadPoolExecutor(4) as pool:
        ahead = read_billing_ahead(pool, tracker, world.stripe, world.config, staff, "MEMBER")
        assert ahead.result()[0] == "maintain"  # the staff author's role, read ahead
        reading = read_triage(
            pool, tracker, world.stripe, world.config, ticket, "NONE", listing, ahead=ahead
        )
    assert reading.author_role is None  # the customer's: never the staff author's
    assert reading.billing is not None and reading.billing.ticket.author == ticket.author
