"""Every step of the selected scenarios has a step definition: checked at collection, before a run.

A pytest plugin for a `--collect-only` pass (`uept run` makes one before it starts the reference
SSI or a browser): for each collected scenario, every step (outline rows filled in, background
included) is looked up exactly as pytest-bdd looks it up when the scenario runs, with pytest's
own fixture visibility. The steps no definition matches are written as JSON to the file named
by --uept-step-check: [{"file", "line", "keyword", "text", "scenario"}].
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.getgroup("uept").addoption("--uept-step-check", default=None, metavar="FILE",
                                      help="write the steps without a definition to FILE (JSON)")


def undefined_steps(session: pytest.Session) -> list[dict[str, Any]]:
    from pytest_bdd.scenario import find_fixturedefs_for_step, scenario_wrapper_template_registry

    from uept.evidence.features import source_of

    found: dict[tuple[str, str | None, str], bool] = {}
    out: list[dict[str, Any]] = []
    seen: set[tuple[str, int, str]] = set()
    for item in session.items:
        template = scenario_wrapper_template_registry.get(getattr(item, "obj", None))
        if template is None:
            continue
        example = item.callspec.params.get("_pytest_bdd_example", {}) if hasattr(item, "callspec") else {}
        scenario = template.render(example)
        module = item.nodeid.split("::", 1)[0]
        for step in scenario.steps:
            key = (module, step.type, step.name)
            if key not in found:
                found[key] = next(iter(find_fixturedefs_for_step(step, session._fixturemanager, item)), None) \
                    is not None
            if found[key]:
                continue
            file = os.path.relpath(source_of(template.feature.filename), session.config.rootpath)
            where = (file, step.line_number, step.name)
            if where in seen:  # one line per step of the file, not per outline row
                continue
            seen.add(where)
            out.append({"file": file, "line": step.line_number, "keyword": step.keyword.strip(),
                        "text": step.name, "scenario": template.name})
    return out


@pytest.hookimpl(trylast=True)
def pytest_collection_finish(session: pytest.Session) -> None:
    target = session.config.getoption("--uept-step-check")
    if target:
        Path(target).write_text(json.dumps(undefined_steps(session), indent=1), encoding="utf-8")
