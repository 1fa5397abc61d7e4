"""localstripe fixtures (filled in by the Stripe gateway work)."""
