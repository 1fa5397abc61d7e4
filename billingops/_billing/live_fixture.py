"""The Stripe side of `billingops live-check`: a throw-away test customer with one
subscription, and its clean-up. The same SDK client, error mapping and retries as the
product's reads and writes (`client.StripeClientBase`): no separate client.

Only test-mode keys get here (the command refuses a live key before any request). On real
Stripe the subscription runs on a test clock, so nothing is ever charged on a real
schedule; localstripe has no test clocks (`compat`), so there it runs on the sandbox clock.
"""

from __future__ import annotations

from typing import Any

from billingops._billing.client import StripeClientBase

# Stripe's documented test PaymentMethod (a Visa that always succeeds); test mode only.
TEST_PAYMENT_METHOD = "pm_card_visa"
LIVE_CHECK_MARK = "billingops_live_check"


class LiveFixture(StripeClientBase):
    """Create and remove what the live check needs; each method is one Stripe call."""

    def create_test_clock(self, *, frozen_time: int, name: str) -> str:
        clock = self._call(
            "create a test clock",
            lambda: self._client.v1.test_helpers.test_clocks.create(
                params={"frozen_time": frozen_time, "name": name}
            ),
        )
        return str(clock.id)

    def delete_test_clock(self, clock_id: str) -> None:
        self._call(
            "delete the test clock",
            lambda: self._client.v1.test_helpers.test_clocks.delete(clock_id),
        )

    def create_customer(self, *, email: str, run: str, test_clock: str | None) -> str:
        params: dict[str, Any] = {
            "email": email,
            "name": "billingops live check",
            "payment_method": TEST_PAYMENT_METHOD,
            "invoice_settings": {"default_payment_method": TEST_PAYMENT_METHOD},
            "metadata": {LIVE_CHECK_MARK: run},
        }
        if test_clock:
            params["test_clock"] = test_clock
        customer = self._call(
            "create a test customer",
            lambda: self._client.v1.customers.create(params=params),
        )
        return str(customer.id)

    def delete_customer(self, customer_id: str) -> None:
        """Deleting a customer cancels its subscriptions at once (Stripe's documented rule)."""
        self._call(
            "delete the test customer",
            lambda: self._client.v1.customers.delete(customer_id),
        )

    def create_plan(self, *, run: str) -> tuple[str, str]:
        """A product and a monthly plan for it (the Plans API: Stripe and localstripe both
        have it)."""
        product = self._call(
            "create a test product",
            lambda: self._client.v1.products.create(
                params={"name": "billingops live check", "metadata": {LIVE_CHECK_MARK: run}}
            ),
        )
        plan = self._call(
            "create a test plan",
            lambda: self._client.v1.plans.create(
                params={
                    "amount": 1000,
                    "currency": "usd",
                    "interval": "month",
                    "product": str(product.id),
                    "metadata": {LIVE_CHECK_MARK: run},
                }
            ),
        )
        return str(product.id), str(plan.id)

    def archive_plan(self, product_id: str, plan_id: str) -> None:
        """Plans and products with prices cannot always be deleted: deactivate both."""
        self._call(
            "archive the test plan",
            lambda: self._client.v1.plans.update(plan_id, params={"active": False}),
        )
        self._call(
            "archive the test product",
            lambda: self._client.v1.products.update(product_id, params={"active": False}),
        )

    def subscribe(self, *, customer_id: str, plan_id: str, run: str) -> str:
        sub = self._call(
            "create a test subscription",
            lambda: self._client.v1.subscriptions.create(
                params={
                    "customer": customer_id,
                    "items": [{"plan": plan_id, "quantity": 1}],
                    "metadata": {LIVE_CHECK_MARK: run},
                }
            ),
        )
        return str(sub.id)
