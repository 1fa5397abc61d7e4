"""Our own pydantic models: what the gateways return and the core consumes.

Nothing here does I/O. Gateways translate Stripe and GitHub objects into these, so
the core never sees an SDK object or an API-version difference.
"""
