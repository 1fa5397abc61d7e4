"""Local stand-ins for the demo and the tests: localstripe (`stripe_server`) and its
seeded scenarios (`scenarios`). Nothing here imports `stripe`; localstripe is an
optional extra (`billingops[sandbox]`) and is imported only inside the server process."""
