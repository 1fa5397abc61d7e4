"""Named billing situations seeded into localstripe through plain HTTP form posts.

Each scenario creates its own customers (after a reset the store is empty) and returns
a `Seeded` record: the ids it created and a suggested ticket a customer could have
written. Seeding is deterministic after `reset_sandbox` (ids come from a seeded
generator, times from the sandbox clock) when the sandbox is our launcher; against a
plain localstripe ids and times vary and the patches below are skipped.

What localstripe cannot do through its API is done with the launcher's control routes
(`/_config/billingops/...`) and listed in each record's `notes`:

- it has no `trialing`/`unpaid` status transitions and no renewals: statuses are
  patched; a failed renewal is an extra invoice paid with a declining card, and the
  subscription is then marked `past_due` (localstripe leaves it `active`);
- `created` cannot be set: the sandbox clock is moved instead (minutes apart, months
  apart), and periods roll forward to "now" like renewals would, without invoices;
- it has no disputes: `charge.disputed` is patched;
- a deleted customer disappears completely (Stripe keeps a `deleted: true` stub).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from billingops.errors import OperationalError
from billingops.models.ticket import RequestKind, Ticket
from billingops.sandbox.stripe_server import DEFAULT_NOW, Params, sandbox_request

DAY = 86_400
GOOD_CARD = "4242424242424242"
# Attaches fine, declines every charge (Stripe's documented test card; localstripe knows it).
DECLINING_CARD = "4000000000000341"


@dataclass(frozen=True)
class SuggestedTicket:
    """What the customer wrote, as the issue form would carry it."""

    title: str
    request: RequestKind | None
    description: str
    email: str | None = None
    stripe_ids: tuple[str, ...] = ()
    github_username: str | None = None

    def to_ticket(self, *, repository: str = "acme/support", number: int = 1) -> Ticket:
        return Ticket(
            repository=repository,
            number=number,
            title=self.title,
            emails=[self.email] if self.email else [],
            stripe_ids=list(self.stripe_ids),
            github_username=self.github_username,
            request=self.request,
            description=self.description,
            from_form=True,
        )


@dataclass
class Seeded:
    name: str
    customers: list[str] = field(default_factory=list)
    subscriptions: list[str] = field(default_factory=list)
    invoices: list[str] = field(default_factory=list)
    charges: list[str] = field(default_factory=list)
    refunds: list[str] = field(default_factory=list)
    ticket: SuggestedTicket | None = None
    # How the scenario departs from what real Stripe would hold.
    notes: list[str] = field(default_factory=list)


class Seeder:
    """Thin helpers over localstripe's form API (and the launcher's control routes)."""

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url
        self.controls = True  # False once a control route is missing (plain localstripe)

    def call(self, method: str, path: str, params: Params | None = None) -> Any:
        return sandbox_request(self.base_url, method, path, params)

    def control(self, path: str, body: Params) -> bool:
        if not self.controls:
            return False
        try:
            sandbox_request(self.base_url, "POST", "/_config/billingops/" + path, json_body=body)
        except OperationalError as exc:
            if "HTTP 404" in str(exc) and "/patch/" not in path:
                self.controls = False
                return False
            raise
        return True

    def clock(self, now: int | None) -> None:
        self.control("clock", {"now": now})

    def advance(self, seconds: int) -> None:
        self.control("clock", {"advance": seconds})

    def patch(self, kind: str, obj_id: str, **fields: Any) -> bool:
        return self.control(f"patch/{kind}/{obj_id}", fields)

    def plan(self, plan_id: str, *, amount: int, currency: str, interval: str, product: str) -> str:
        prod_id = "prod_" + product.lower().replace(" ", "_")
        try:
            self.call("GET", f"/v1/products/{prod_id}")
        except OperationalError:
            self.call("POST", "/v1/products", {"id": prod_id, "name": product})
        try:
            self.call("GET", f"/v1/plans/{plan_id}")
        except OperationalError:
            self.call(
                "POST",
                "/v1/plans",
                {
                    "id": plan_id,
                    "amount": amount,
                    "currency": currency,
                    "interval": interval,
                    "product": prod_id,
                    "nickname": plan_id,
                },
            )
        return plan_id

    def card(self, number: str = GOOD_CARD) -> str:
        pm = self.call(
            "POST",
            "/v1/payment_methods",
            {
                "type": "card",
                "card": {"number": number, "exp_month": 12, "exp_year": 2030, "cvc": "123"},
            },
        )
        return str(pm["id"])

    def customer(
        self,
        email: str,
        *,
        name: str | None = None,
        card: str | None = GOOD_CARD,
        metadata: dict[str, str] | None = None,
    ) -> str:
        params: dict[str, Any] = {"email": email, "name": name, "metadata": metadata}
        if card:
            pm = self.card(card)
            params["payment_method"] = pm
            params["invoice_settings"] = {"default_payment_method": pm}
        return str(self.call("POST", "/v1/customers", params)["id"])

    def set_card(self, customer: str, number: str) -> str:
        pm = self.card(number)
        self.call("POST", f"/v1/payment_methods/{pm}/attach", {"customer": customer})
        self.call(
            "POST",
            f"/v1/customers/{customer}",
            {"invoice_settings": {"default_payment_method": pm}},
        )
        return pm

    def subscribe(
        self,
        seeded: Seeded,
        customer: str,
        plan: str,
        *,
        quantity: int = 1,
        metadata: dict[str, str] | None = None,
        trial_days: int | None = None,
    ) -> dict[str, Any]:
        sub: dict[str, Any] = self.call(
            "POST",
            "/v1/subscriptions",
            {
                "customer": customer,
                "items": [{"plan": plan, "quantity": quantity}],
                "metadata": metadata,
                "trial_period_days": trial_days,
            },
        )
        seeded.subscriptions.append(sub["id"])
        if sub.get("latest_invoice"):
            self.record_invoice(seeded, sub["latest_invoice"])
        return sub

    def record_invoice(self, seeded: Seeded, invoice_id: str) -> dict[str, Any]:
        invoice: dict[str, Any] = self.call("GET", f"/v1/invoices/{invoice_id}")
        seeded.invoices.append(invoice_id)
        charge = invoice.get("charge")
        if isinstance(charge, dict):
            seeded.charges.append(charge["id"])
        return invoice


# ---------------------------------------------------------------------------------------
# Scenarios. `now` is the sandbox clock after a reset (DEFAULT_NOW); each scenario sets it.

Scenario = Callable[[Seeder, int], Seeded]


def _pro_monthly(s: Seeder) -> str:
    return s.plan("pro-monthly", amount=2000, currency="usd", interval="month", product="Pro")


def healthy_single(s: Seeder, now: int) -> Seeded:
    seeded = Seeded("healthy_single")
    s.clock(now - 20 * DAY)
    cus = s.customer("alice@example.com", name="Alice Martin")
    seeded.customers.append(cus)
    s.subscribe(seeded, cus, _pro_monthly(s))
    s.clock(now)
    seeded.ticket = SuggestedTicket(
        title="Where can I download my invoices?",
        request=RequestKind.invoices,
        description="Our accountant needs the invoices for last quarter. Where do I find them?",
        email="alice@example.com",
    )
    return seeded


def product_failure(s: Seeder, now: int) -> Seeded:
    """Billing is fine; the product did not deliver and the customer wants this month back."""
    seeded = Seeded("product_failure")
    s.clock(now - 6 * DAY)
    cus = s.customer("dana@example.com", name="Dana Kim")
    seeded.customers.append(cus)
    s.subscribe(seeded, cus, _pro_monthly(s))
    s.clock(now)
    seeded.ticket = SuggestedTicket(
        title="Exports broken all week, I want a refund",
        request=RequestKind.refund,
        description=(
            "The CSV export has been broken since I paid on Monday and nobody fixed it. "
            "I could not use the product at all this week. Please refund this month."
        ),
        email="dana@example.com",
    )
    return seeded


def duplicate_subscriptions(s: Seeder, now: int) -> Seeded:
    seeded = Seeded("duplicate_subscriptions")
    plan = _pro_monthly(s)
    s.clock(now - 2 * DAY)
    cus = s.customer("bob@example.com", name="Bob Stone")
    seeded.customers.append(cus)
    s.subscribe(seeded, cus, plan)
    s.advance(180)  # the checkout was retried three minutes later
    s.subscribe(seeded, cus, plan)
    s.clock(now)
    seeded.ticket = SuggestedTicket(
        title="Charged twice for Pro",
        request=RequestKind.refund,
        description="The checkout page froze so I clicked again, now I see two charges of $20.",
        email="bob@example.com",
    )
    return seeded


def duplicate_across_customers(s: Seeder, now: int) -> Seeded:
    seeded = Seeded("duplicate_across_customers")
    plan = _pro_monthly(s)
    s.clock(now - 3 * DAY)
    first = s.customer("Carol.Jones@Example.com", name="Carol Jones")
    s.subscribe(seeded, first, plan)
    s.advance(240)
    second = s.customer("carol.jones@example.com", name="Carol Jones")
    s.subscribe(seeded, second, plan)
    seeded.customers += [first, second]
    s.clock(now)
    seeded.ticket = SuggestedTicket(
        title="Two subscriptions?",
        request=RequestKind.refund,
        description="I signed up once but I am paying for Pro twice.",
        email="CAROL.JONES@example.com",
    )
    return seeded


def team_seats(s: Seeder, now: int) -> Seeded:
    seeded = Seeded("team_seats")
    plan = s.plan("team-monthly", amount=1200, currency="usd", interval="month", product="Team")
    s.clock(now - 95 * DAY)
    cus = s.customer("billing@acme.test", name="Acme Inc")
    seeded.customers.append(cus)
    s.subscribe(seeded, cus, plan, quantity=5, metadata={"team": "acme", "seats": "5"})
    s.clock(now - 12 * DAY)
    s.subscribe(seeded, cus, plan, quantity=2, metadata={"team": "acme", "seats": "2"})
    s.clock(now)
    seeded.notes.append("no renewal invoices for the months between (localstripe has no renewals)")
    seeded.ticket = SuggestedTicket(
        title="Why two Team subscriptions?",
        request=RequestKind.seats_or_plan,
        description="We added two people to our team last week and now see two subscriptions.",
        email="billing@acme.test",
    )
    return seeded


def past_due(s: Seeder, now: int) -> Seeded:
    seeded = Seeded("past_due")
    plan = _pro_monthly(s)
    s.clock(now - 35 * DAY)
    cus = s.customer("erin@example.com", name="Erin Park")
    seeded.customers.append(cus)
    sub = s.subscribe(seeded, cus, plan)
    # The renewal: the card on file now declines, the renewal invoice stays open.
    s.clock(now - 5 * DAY)
    s.set_card(cus, DECLINING_CARD)
    renewal = s.call("POST", "/v1/invoices", {"customer": cus, "subscription": sub["id"]})
    s.call("POST", f"/v1/invoices/{renewal['id']}/pay")
    s.record_invoice(seeded, renewal["id"])
    s.patch("invoice", renewal["id"], billing_reason="subscription_cycle")
    s.patch("subscription", sub["id"], status="past_due")
    s.clock(now)
    seeded.notes.append(
        "renewal = a manual invoice paid with a declining card; status patched to past_due"
    )
    seeded.ticket = SuggestedTicket(
        title="Account locked, payment failed",
        request=RequestKind.failed_payment,
        description="My bank changed my card and now the app says my payment failed.",
        email="erin@example.com",
    )
    return seeded


def incomplete(s: Seeder, now: int) -> Seeded:
    seeded = Seeded("incomplete")
    s.clock(now - 1 * DAY)
    cus = s.customer("frank@example.com", name="Frank Ocean", card=DECLINING_CARD)
    seeded.customers.append(cus)
    s.subscribe(seeded, cus, _pro_monthly(s))  # first payment declines: incomplete
    s.clock(now)
    seeded.ticket = SuggestedTicket(
        title="Subscription not active after paying",
        request=RequestKind.failed_payment,
        description="I subscribed yesterday but the app still says free plan.",
        email="frank@example.com",
    )
    return seeded


def annual_plan(s: Seeder, now: int) -> Seeded:
    seeded = Seeded("annual_plan")
    plan = s.plan("pro-yearly", amount=20000, currency="usd", interval="year", product="Pro")
    s.clock(now - 60 * DAY)
    cus = s.customer("grace@example.com", name="Grace Hopper")
    seeded.customers.append(cus)
    s.subscribe(seeded, cus, plan)
    s.clock(now)
    seeded.ticket = SuggestedTicket(
        title="Cancel and refund annual plan",
        request=RequestKind.cancel,
        description="We no longer use the product. Please cancel and refund the annual plan.",
        email="grace@example.com",
    )
    return seeded


def zero_decimal_currency(s: Seeder, now: int) -> Seeded:
    """A duplicate in JPY (no minor unit): amounts are whole yen."""
    seeded = Seeded("zero_decimal_currency")
    plan = s.plan("pro-monthly-jpy", amount=1500, currency="jpy", interval="month", product="Pro")
    s.clock(now - 1 * DAY)
    cus = s.customer("hiro@example.jp", name="Hiro Tanaka")
    seeded.customers.append(cus)
    s.subscribe(seeded, cus, plan)
    s.advance(120)
    s.subscribe(seeded, cus, plan)
    s.clock(now)
    seeded.ticket = SuggestedTicket(
        title="二重請求 / charged twice",
        request=RequestKind.refund,
        description="I was charged ¥1500 twice for the same plan.",
        email="hiro@example.jp",
    )
    return seeded


def three_decimal_currency(s: Seeder, now: int) -> Seeded:
    """KWD has three decimals: 5000 is 5.000 KWD. localstripe accepts any currency code."""
    seeded = Seeded("three_decimal_currency")
    plan = s.plan("pro-monthly-kwd", amount=5000, currency="kwd", interval="month", product="Pro")
    s.clock(now - 6 * DAY)
    cus = s.customer("layla@example.com", name="Layla Saleh")
    seeded.customers.append(cus)
    s.subscribe(seeded, cus, plan)
    s.clock(now)
    seeded.ticket = SuggestedTicket(
        title="Exports broken all week",
        request=RequestKind.refund,
        description="The export feature has been broken since I paid. Please refund this month.",
        email="layla@example.com",
        stripe_ids=tuple(seeded.charges),
    )
    return seeded


def refunded_charge(s: Seeder, now: int) -> Seeded:
    seeded = Seeded("refunded_charge")
    s.clock(now - 10 * DAY)
    cus = s.customer("ivan@example.com", name="Ivan Petrov")
    seeded.customers.append(cus)
    s.subscribe(seeded, cus, _pro_monthly(s))
    s.clock(now - 2 * DAY)
    charge = seeded.charges[0]
    refund = s.call(
        "POST",
        "/v1/refunds",
        {
            "charge": charge,
            "metadata": {"billingops_issue": "acme/support#7", "billingops_step": "refund:1"},
        },
    )
    seeded.refunds.append(refund["id"])
    s.clock(now)
    seeded.ticket = SuggestedTicket(
        title="Refund for last month",
        request=RequestKind.refund,
        description="Please refund my last payment.",
        stripe_ids=(charge,),
    )
    return seeded


def cancel_at_period_end(s: Seeder, now: int) -> Seeded:
    seeded = Seeded("cancel_at_period_end")
    s.clock(now - 15 * DAY)
    cus = s.customer("judy@example.com", name="Judy Blume")
    seeded.customers.append(cus)
    sub = s.subscribe(seeded, cus, _pro_monthly(s))
    s.clock(now - 1 * DAY)
    s.call("POST", f"/v1/subscriptions/{sub['id']}", {"cancel_at_period_end": True})
    s.clock(now)
    seeded.ticket = SuggestedTicket(
        title="Did my cancellation work?",
        request=RequestKind.cancel,
        description="I cancelled yesterday but my subscription still shows as active.",
        stripe_ids=(sub["id"],),
    )
    return seeded


def trialing(s: Seeder, now: int) -> Seeded:
    seeded = Seeded("trialing")
    s.clock(now - 3 * DAY)
    cus = s.customer("kim@example.com", name="Kim Lee")
    seeded.customers.append(cus)
    sub = s.subscribe(seeded, cus, _pro_monthly(s), trial_days=14)
    s.patch(
        "subscription",
        sub["id"],
        status="trialing",
        trial_start=now - 3 * DAY,
        trial_end=now + 11 * DAY,
    )
    s.clock(now)
    seeded.notes.append("status patched to trialing (localstripe leaves trials incomplete)")
    seeded.ticket = SuggestedTicket(
        title="Will I be charged after the trial?",
        request=RequestKind.other,
        description="How do I stop before the trial ends? I do not see a cancel button.",
        email="kim@example.com",
    )
    return seeded


def github_username_metadata(s: Seeder, now: int) -> Seeded:
    seeded = Seeded("github_username_metadata")
    s.clock(now - 30 * DAY)
    cus = s.customer(
        "mona@example.com", name="Mona Lisa", metadata={"github_username": "octo-mona"}
    )
    seeded.customers.append(cus)
    s.subscribe(seeded, cus, _pro_monthly(s))
    s.clock(now)
    seeded.ticket = SuggestedTicket(
        title="Cannot change my card",
        request=RequestKind.other,
        description="I want to update my card but I cannot find where.",
        github_username="octo-mona",
    )
    return seeded


def disputed_charge(s: Seeder, now: int) -> Seeded:
    seeded = Seeded("disputed_charge")
    s.clock(now - 20 * DAY)
    cus = s.customer("nina@example.com", name="Nina Simone")
    seeded.customers.append(cus)
    s.subscribe(seeded, cus, _pro_monthly(s))
    s.patch("charge", seeded.charges[0], disputed=True)
    s.clock(now)
    seeded.notes.append("charge.disputed patched (localstripe has no disputes)")
    seeded.ticket = SuggestedTicket(
        title="I did not authorise this",
        request=RequestKind.refund,
        description="My bank says there is a dispute open; I want my money back.",
        email="nina@example.com",
    )
    return seeded


def deleted_customer(s: Seeder, now: int) -> Seeded:
    seeded = Seeded("deleted_customer")
    s.clock(now - 40 * DAY)
    cus = s.customer("oscar@example.com", name="Oscar Wilde")
    seeded.customers.append(cus)
    sub = s.subscribe(seeded, cus, _pro_monthly(s))
    s.call("DELETE", f"/v1/subscriptions/{sub['id']}")
    s.call("DELETE", f"/v1/customers/{cus}")
    s.clock(now)
    seeded.notes.append("localstripe removes deleted customers (Stripe keeps a deleted stub)")
    seeded.ticket = SuggestedTicket(
        title="Charged after I deleted my account",
        request=RequestKind.refund,
        description="I deleted my account last month, why was I charged?",
        email="oscar@example.com",
        stripe_ids=(cus, sub["id"]),
    )
    return seeded


SCENARIOS: dict[str, Scenario] = {
    f.__name__: f
    for f in (
        healthy_single,
        product_failure,
        duplicate_subscriptions,
        duplicate_across_customers,
        team_seats,
        past_due,
        incomplete,
        annual_plan,
        zero_decimal_currency,
        three_decimal_currency,
        refunded_charge,
        cancel_at_period_end,
        trialing,
        github_username_metadata,
        disputed_charge,
        deleted_customer,
    )
}


def seed(base_url: str, name: str, *, now: int = DEFAULT_NOW) -> Seeded:
    """Seed one scenario by name. Scenarios can be stacked in one store (ids differ)."""
    try:
        scenario = SCENARIOS[name]
    except KeyError:
        raise ValueError(f"unknown scenario {name!r}; known: {', '.join(SCENARIOS)}") from None
    return scenario(Seeder(base_url), now)
