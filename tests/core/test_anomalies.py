from __future__ import annotations

from billingops.core.anomalies import AnomalyKind, contract_shape, find_anomalies, live_groups
from tests.core.builders import DAY, MIN, NOW, charge, customer, invoice, paid_sub, state, sub


def kinds(st_: object) -> list[AnomalyKind]:
    return [a.kind for a in find_anomalies(st_)]  # type: ignore[arg-type]


def test_clean_state_has_no_anomalies() -> None:
    assert find_anomalies(state(paid_sub(1))) == []


def test_duplicate_same_customer() -> None:
    found = find_anomalies(state(paid_sub(1), paid_sub(2, started=NOW - 10 * 86400 + 3 * MIN)))
    assert [a.kind for a in found] == [AnomalyKind.duplicate_subscription]
    assert found[0].ids == ("sub_1", "sub_2")
    assert "3 min apart" in found[0].text


def test_duplicate_across_customers_with_one_email() -> None:
    s = state(
        paid_sub(1, customer="cus_a"),
        paid_sub(2, customer="cus_b"),
        customers=[customer("cus_a", "Jane@Example.com"), customer("cus_b", "jane@example.com ")],
    )
    assert kinds(s) == [AnomalyKind.duplicate_subscription]


def test_different_people_are_not_duplicates() -> None:
    s = state(
        paid_sub(1, customer="cus_a"),
        paid_sub(2, customer="cus_b"),
        customers=[customer("cus_a", "a@example.com"), customer("cus_b", "b@example.com")],
    )
    assert kinds(s) == []


def test_different_products_and_ended_subscriptions_are_not_duplicates() -> None:
    s = state(paid_sub(1), sub("sub_2", product="prod_other"), sub("sub_3", status="canceled"))
    assert live_groups(s) == []


def test_failed_statuses_and_failed_invoice() -> None:
    s = state(
        sub("sub_1", status="past_due"),
        sub("sub_2", product="p2", status="unpaid"),
        sub("sub_3", product="p3", status="incomplete"),
        invoice("in_9", subscription="sub_1", status="open", attempt_count=2),
    )
    assert kinds(s) == [AnomalyKind.failed_status] * 3 + [AnomalyKind.failed_invoice]


def test_open_invoice_without_attempts_is_fine() -> None:
    assert kinds(state(paid_sub(1), invoice("in_9", status="open"))) == []


def test_cancel_at_period_end_and_trial_ending() -> None:
    s = state(
        sub("sub_1", cancel_at_period_end=True),
        sub("sub_2", product="p2", status="trialing", trial_end=NOW + 3 * DAY),
        sub("sub_3", product="p3", status="trialing", trial_end=NOW + 20 * DAY),
    )
    assert kinds(s) == [AnomalyKind.cancel_at_period_end, AnomalyKind.trial_ending]


def test_disputed_and_refunded_charges() -> None:
    s = state(
        charge("ch_1", disputed=True),
        charge("ch_2", refunded=500),
        charge("ch_3", refunded=2000),
    )
    found = find_anomalies(s)
    assert [a.kind for a in found] == [AnomalyKind.disputed_charge] + [
        AnomalyKind.refunded_charge
    ] * 2
    assert "partly" in found[1].text and "fully" in found[2].text


def test_charge_after_cancel() -> None:
    s1, i1, c1 = paid_sub(1, status="active", canceled_at=NOW - 40 * DAY, started=NOW - 60 * DAY)
    late_inv = invoice("in_late", subscription="sub_1", charge="ch_late", created=NOW - DAY)
    late = charge("ch_late", invoice="in_late", created=NOW - DAY)
    found = find_anomalies(state(s1, i1, c1, late_inv, late))
    assert [a.kind for a in found] == [AnomalyKind.charge_after_cancel]
    assert found[0].ids == ("ch_late", "sub_1")


def test_order_does_not_depend_on_input_order() -> None:
    parts = [
        sub("sub_1", status="past_due"),
        charge("ch_1", disputed=True),
        sub("sub_2", status="past_due"),
        charge("ch_2", refunded=10),
    ]
    a = find_anomalies(state(*parts))
    b = find_anomalies(state(*reversed(parts)))
    assert a == b


def test_contract_shapes() -> None:
    base = state()
    assert contract_shape(base, sub(interval="year")) == "annual"
    assert contract_shape(base, sub(quantity=3)) == "team"
    assert contract_shape(base, sub(metadata={"seats": "5"})) == "team"
    assert contract_shape(base, sub(item_count=2)) == "prorated"
    prorated = state(invoice("in_p", subscription="sub_1", billing_reason="subscription_update"))
    assert contract_shape(prorated, sub()) == "prorated"
    assert contract_shape(base, sub()) is None
