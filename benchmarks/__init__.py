"""billingops benchmarks (SPEC §8, issue 9): not part of the test suite.

Run from the repository root, with the dev install (`pip install -e ".[dev]"`, which brings
localstripe):

    .venv/bin/python -m benchmarks            # everything, writes benchmarks/RESULTS.md
    .venv/bin/python -m benchmarks --help     # options (--quick, --only, --runs, ...)

Everything runs on loopback: localstripe and the fake GitHub from `billingops.sandbox`,
each behind `benchmarks.latency_proxy.LatencyProxy`.
"""
