"""Fixtures live in tests/plugins/, one module per part, so parts do not collide."""

pytest_plugins = [
    "tests.plugins.bytecode",  # billingops compiled once, before the workers start
    "tests.plugins.sandbox",  # localstripe on a loopback port, seeded scenarios
    "tests.plugins.github_descriptions",  # GitHub's published descriptions; strict fakes
    "tests.plugins.github",  # vcrpy config (tokens scrubbed) and the fake GitHub server
    "tests.plugins.desk",  # a whole desk: both stand-ins and a Desk wired to them
]
