"""A pytest plugin for a `--collect-only` pass over the features (tests/test_step_bindings.py): for every
step of every collected scenario (outline rows filled in), the step definitions that match it, looked up
as pytest-bdd looks them up when the scenario runs. Written as JSON to $UEPT_STEP_BINDINGS:
{"<type>|<step text>": ["<module>.<function>", ...]}; with $UEPT_STEP_PATTERNS set, also the pattern of each
definition there: {"<module>.<function>": ["<parser kind>:<pattern>", ...]}; with $UEPT_COLLECTED_IDS set,
the node id of every collected test there (a JSON list)."""

from __future__ import annotations

import json
import os

import pytest


@pytest.hookimpl(trylast=True)
def pytest_collection_finish(session: pytest.Session) -> None:
    from pytest_bdd.scenario import (
        find_fixturedefs_for_step,
        scenario_wrapper_template_registry,
        step_function_context_registry,
    )

    out: dict[str, list[str]] = {}
    patterns: dict[str, set[str]] = {}
    for item in session.items:
        template = scenario_wrapper_template_registry.get(getattr(item, "obj", None))
        if template is None:
            continue
        example = item.callspec.params.get("_pytest_bdd_example", {}) if hasattr(item, "callspec") else {}
        for step in template.render(example).steps:
            key = f"{step.type}|{step.name}"
            if key not in out:
                contexts = [step_function_context_registry[fd.func]
                            for fd in find_fixturedefs_for_step(step, session._fixturemanager, item)]
                out[key] = [f"{c.step_func.__module__}.{c.step_func.__name__}" for c in contexts]
                for name, c in zip(out[key], contexts, strict=True):
                    patterns.setdefault(name, set()).add(f"{type(c.parser).__name__}:{c.parser.name}")
    with open(os.environ["UEPT_STEP_BINDINGS"], "w", encoding="utf-8") as f:
        json.dump(out, f, indent=1)
    if os.environ.get("UEPT_COLLECTED_IDS"):
        with open(os.environ["UEPT_COLLECTED_IDS"], "w", encoding="utf-8") as f:
            json.dump([item.nodeid for item in session.items], f, indent=1)
    if os.environ.get("UEPT_STEP_PATTERNS"):
        with open(os.environ["UEPT_STEP_PATTERNS"], "w", encoding="utf-8") as f:
            json.dump({name: sorted(p) for name, p in patterns.items()}, f, indent=1)
