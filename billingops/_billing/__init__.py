"""The Stripe port: `interface.py` is what the program needs, `stripe_gateway.py` is the
adapter over the Stripe SDK (the only module that imports `stripe`)."""
