"""The UEPT suite's wiring: uept's plugin, the fixtures and the shared steps."""

pytest_plugins = [
    "uept.plugin",
    "fixtures.target",
    "fixtures.browser",
    "fixtures.actors",
    "fixtures.accounts",
    "fixtures.evidence",
    "steps.common",
]
