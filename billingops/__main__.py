from billingops.cli import run

run()
