"""Fixtures live in tests/plugins/, one module per part, so parts do not collide."""

from __future__ import annotations

import os
from collections.abc import Generator

import pytest
from hypothesis import settings

# Property tests draw the same examples on every run (CI must not pass or fail by chance);
# `pytest --hypothesis-profile=billingops-explore` draws new ones to look for bugs. A bug
# found that way becomes a plain regression test (e.g. tests/core/test_intake.py's
# `test_an_email_whose_local_part_looks_like_a_stripe_id_is_an_email_only`).
settings.register_profile("billingops", derandomize=True, database=None)
settings.register_profile("billingops-explore", derandomize=False)
settings.load_profile("billingops")

pytest_plugins = [
    "tests.plugins.bytecode",  # billingops compiled once, before the workers start
    "tests.plugins.sandbox",  # localstripe on a loopback port, seeded scenarios
    "tests.plugins.github_descriptions",  # GitHub's published descriptions; strict fakes
    "tests.plugins.github",  # vcrpy config (tokens scrubbed) and the fake GitHub server
    "tests.plugins.desk",  # a whole desk: both stand-ins and a Desk wired to them
]


@pytest.hookimpl(wrapper=True, optionalhook=True)
def pytest_xdist_auto_num_workers(config: pytest.Config) -> Generator[None, int, int]:
    """`-n auto` (the README's and CI's command) starts one worker more than there are
    CPUs: a worker spends much of its time waiting (on its own localstripe process, on a
    `billingops` subprocess, on a socket), and the extra worker runs meanwhile. Measured on
    2 cores: 186 s with 3 workers, 216 s with 2. PYTEST_XDIST_AUTO_NUM_WORKERS still sets
    the number exactly."""
    counted = yield
    if os.environ.get("PYTEST_XDIST_AUTO_NUM_WORKERS"):
        return counted
    return counted + 1
