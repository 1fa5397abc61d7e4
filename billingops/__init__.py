"""billingops: billing support desk on GitHub issues, backed by Stripe.

The data flows one way: event -> ticket -> customer state -> decision -> plan ->
comment / execution. `core` holds the pure steps, `_billing` and `_tracker` are the
only two gateways (Stripe and GitHub), and `cli` wires them together.
"""

__version__ = "0.1.0"
