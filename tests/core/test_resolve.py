"""Resolution rules on plain values: strength order, emails in any case, conflicts."""

from __future__ import annotations

from typing import Any

from billingops._billing.interface import Lookups
from billingops.core.resolve import resolve
from billingops.models.billing import ResolvedBy


def L(**kw: Any) -> Lookups:
    return Lookups(**kw)


def test_customer_id_beats_everything() -> None:
    lk = L(
        by_id={"cus_A": ["cus_A"], "sub_1": ["cus_A"]},
        by_email={"a@x.com": ["cus_A"]},
        emails={"cus_A": "a@x.com"},
    )
    res = resolve(stripe_ids=["sub_1", "cus_A"], emails=["a@x.com"], lookups=lk)
    assert (res.customer_ids, res.resolved_by, res.conflicting) == (
        ["cus_A"], ResolvedBy.customer_id, False
    )  # fmt: skip
    assert res.found and res.problems == []


def test_object_ids_each_lead_to_their_customer() -> None:
    for sid, kind in [
        ("sub_1", ResolvedBy.subscription_id),
        ("in_1", ResolvedBy.invoice_id),
        ("ch_1", ResolvedBy.charge_id),
        ("pi_1", ResolvedBy.payment_intent_id),
    ]:
        res = resolve(stripe_ids=[sid], lookups=L(by_id={sid: ["cus_A"]}))
        assert (res.customer_ids, res.resolved_by) == (["cus_A"], kind)


def test_object_id_beats_email() -> None:
    lk = L(by_id={"ch_1": ["cus_A"]}, by_email={"a@x.com": ["cus_A"]}, emails={"cus_A": "a@x.com"})
    assert resolve(stripe_ids=["ch_1"], emails=["a@x.com"], lookups=lk).resolved_by is (
        ResolvedBy.charge_id
    )


def test_email_any_case_returns_every_customer_of_that_email() -> None:
    lk = L(
        by_email={"ANN@x.com": ["cus_A", "cus_B"]},
        emails={"cus_A": "Ann@X.com", "cus_B": "ann@x.com"},
    )
    res = resolve(emails=["ann@X.COM"], lookups=lk)  # key in another case than looked up
    assert res.customer_ids == ["cus_A", "cus_B"]
    assert res.resolved_by is ResolvedBy.email and not res.conflicting


def test_customer_id_pulls_in_the_same_persons_other_customer() -> None:
    lk = L(
        by_id={"cus_A": ["cus_A"]},
        by_email={"ann@x.com": ["cus_A", "cus_B"]},
        emails={"cus_A": "Ann@x.com", "cus_B": "ann@x.com"},
    )
    res = resolve(stripe_ids=["cus_A"], emails=["ann@x.com"], lookups=lk)
    assert res.customer_ids == ["cus_A", "cus_B"] and not res.conflicting


def test_email_customers_without_known_email_are_still_one_person() -> None:
    lk = L(by_email={"ann@x.com": ["cus_A", "cus_B"]})
    res = resolve(emails=["ann@x.com"], lookups=lk)
    assert res.customer_ids == ["cus_A", "cus_B"] and not res.conflicting


def test_identifiers_pointing_at_different_people_conflict() -> None:
    lk = L(
        by_id={"sub_1": ["cus_A"]},
        by_email={"bob@x.com": ["cus_B"]},
        emails={"cus_A": "ann@x.com", "cus_B": "bob@x.com"},
    )
    res = resolve(stripe_ids=["sub_1"], emails=["bob@x.com"], lookups=lk)
    assert res.conflicting
    assert res.customer_ids == ["cus_A"] and res.resolved_by is ResolvedBy.subscription_id
    assert any("cus_B" in p for p in res.problems)
    assert not any("bob@x.com" in p for p in res.problems)  # problems never repeat emails


def test_two_emails_of_two_people_conflict() -> None:
    lk = L(
        by_email={"ann@x.com": ["cus_A"], "bob@x.com": ["cus_B"]},
        emails={"cus_A": "ann@x.com", "cus_B": "bob@x.com"},
    )
    res = resolve(emails=["ann@x.com", "bob@x.com"], lookups=lk)
    assert res.conflicting and res.customer_ids == ["cus_A"]


def test_github_username_mapped_to_two_people_conflicts() -> None:
    lk = L(by_github_username={"octo": ["cus_A", "cus_B"]},
           emails={"cus_A": "a@x.com", "cus_B": "b@x.com"})  # fmt: skip
    res = resolve(github_username="octo", lookups=lk)
    assert res.conflicting and res.resolved_by is ResolvedBy.github_username


def test_github_username_is_weakest() -> None:
    lk = L(
        by_email={"a@x.com": ["cus_A"]},
        by_github_username={"octo": ["cus_A"]},
        emails={"cus_A": "a@x.com"},
    )
    res = resolve(emails=["a@x.com"], github_username="octo", lookups=lk)
    assert res.resolved_by is ResolvedBy.email


def test_nothing_found_is_empty_with_problems() -> None:
    lk = L(by_id={"cus_X": []}, by_email={"a@x.com": []}, by_github_username={"octo": []})
    res = resolve(stripe_ids=["cus_X", "foo_1"], emails=["a@x.com"], github_username="octo",
                  lookups=lk)  # fmt: skip
    assert not res.found and res.resolved_by is None and not res.conflicting
    assert res.problems == [
        "cus_X: not found in Stripe",
        "foo_1: not a customer, subscription, invoice or charge ID",
        "the billing email: no Stripe customer has it",
        "GitHub user octo: not mapped to a Stripe customer",
    ]


def test_no_identifiers_at_all() -> None:
    res = resolve(lookups=L())
    assert not res.found and res.problems == []


def test_deleted_customer_falls_back_to_the_next_identifier() -> None:
    lk = L(
        by_id={"cus_OLD": ["cus_OLD"]},
        by_email={"a@x.com": ["cus_NEW"]},
        deleted=["cus_OLD"],
        emails={"cus_OLD": None, "cus_NEW": "a@x.com"},
    )
    res = resolve(stripe_ids=["cus_OLD"], emails=["a@x.com"], lookups=lk)
    assert res.customer_ids == ["cus_NEW"] and res.resolved_by is ResolvedBy.email
    assert res.problems == ["cus_OLD: customer cus_OLD is deleted"]
    assert not res.conflicting


def test_only_deleted_is_not_found() -> None:
    lk = L(by_id={"sub_1": ["cus_OLD"]}, deleted=["cus_OLD"])
    res = resolve(stripe_ids=["sub_1"], lookups=lk)
    assert not res.found and "deleted" in res.problems[0]


def test_duplicates_in_input_are_ignored_and_result_is_deterministic() -> None:
    lk = L(by_id={"sub_1": ["cus_A"], "sub_2": ["cus_A"]}, emails={"cus_A": "a@x.com"})
    a = resolve(stripe_ids=["sub_1", "sub_2", "sub_1"], lookups=lk)
    b = resolve(stripe_ids=["sub_1", "sub_2", "sub_1"], lookups=lk)
    assert a == b and a.customer_ids == ["cus_A"] and a.problems == []
