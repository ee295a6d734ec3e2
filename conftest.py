"""The UEPT suite's wiring: uept's plugin, the fixtures and the shared steps."""

pytest_plugins = [
    "uept.evidence.plugin",
    "uept.evidence.collect",
    "fixtures.target",
    "fixtures.browser",
    "fixtures.actors",
    "fixtures.state",
    "steps.session",
    "steps.login",
    "steps.incidents",
    "steps.credentials",
    "steps.oms",
    "steps.requests",
    "steps.access",
]
