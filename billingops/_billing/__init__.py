"""The Stripe port: `interface.py` is what the program needs, `stripe_gateway.py` is the
adapter over the Stripe SDK, assembled from `client`, `reads`, `writes`, `probes` and
`listing` (only this package imports `stripe`); `read_only.py` is the port without its
writes (the read-only job)."""
