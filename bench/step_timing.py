"""A pytest plugin for bench/step_profile.py: where a scenario step's time goes.

Loaded with `-p bench.step_timing` beside uept's own plugin, it wraps (never changes) what the evidence does
after each step and times each part: the page-view script (visible text and look, for the secret check and
de-duplication), the screenshot, the re-check of masks, the page-text and record writes, the trace's pause
and resume around secrets, and the Allure attachment. A step's own time (the browser's action, with the
trace's snapshots it takes) is the step's wall time minus those. Written as JSON lines to
$UEPT_STEP_TIMINGS: {"kind": <step function>, "total": s, "<part>": s, ...} per step.
"""

from __future__ import annotations

import json
import os
import time
from collections import defaultdict
from contextlib import contextmanager
from typing import Any

import pytest

_PARTS: dict[str, float] = defaultdict(float)
_STACK: list[str] = []
_STEP: dict[str, Any] = {}


@contextmanager
def part(name: str):
    """Time a part of the evidence; nested parts are charged to the innermost one only."""
    _STACK.append(name)
    t0 = time.perf_counter()
    try:
        yield
    finally:
        spent = time.perf_counter() - t0
        _STACK.pop()
        _PARTS[name] += spent
        if _STACK:
            _PARTS[_STACK[-1]] -= spent


def wrap(owner: Any, attr: str, name: str) -> None:
    original = getattr(owner, attr)

    def timed(*args: Any, **kwargs: Any) -> Any:
        with part(name):
            return original(*args, **kwargs)

    setattr(owner, attr, timed)


def pytest_configure(config: pytest.Config) -> None:
    import allure
    from playwright.sync_api import Page

    from uept.evidence import plugin, recorder
    from uept.runtime import tracing

    wrap(recorder.ScenarioRecorder, "screenshot", "page text and other")  # what is left once the parts below
    wrap(recorder.ScenarioRecorder, "_rendered_at_scale", "screenshot (browser)")  # DevTools' own capture
    wrap(recorder.ScenarioRecorder, "flush", "result.json")
    original_evaluate = Page.evaluate

    def evaluate(self: Page, expression: str, *args: Any, **kwargs: Any) -> Any:
        name = {recorder._PAGE_VIEW_JS: "page view script", recorder._AFTER_PICTURE_JS: "mask re-check",
                recorder._CARET_BACK_JS: "mask re-check",
                tracing._SHOWS_SECRET_JS: "trace secret check"}.get(expression)
        if name is None or not _STACK:
            return original_evaluate(self, expression, *args, **kwargs)
        with part(name):
            return original_evaluate(self, expression, *args, **kwargs)

    Page.evaluate = evaluate
    original_screenshot = Page.screenshot

    def screenshot(self: Page, *args: Any, **kwargs: Any) -> Any:
        with part("screenshot (browser)"):
            return original_screenshot(self, *args, **kwargs)

    Page.screenshot = screenshot
    wrap(tracing.TraceRecorder, "pause", "trace pause (saves a part)")
    wrap(tracing.TraceRecorder, "_start", "trace start")
    wrap(allure.attach, "file", "allure attachment")
    wrap(plugin, "_attach_step", "allure step")


@pytest.hookimpl(tryfirst=True)
def pytest_bdd_before_step(request: Any, feature: Any, scenario: Any, step: Any, step_func: Any) -> None:
    _PARTS.clear()
    _STEP.update(kind=step_func.__name__, t0=time.perf_counter())


@pytest.hookimpl(trylast=True)
def pytest_bdd_after_step(request: Any, feature: Any, scenario: Any, step: Any, step_func: Any,
                          step_func_args: Any) -> None:
    if "t0" not in _STEP:
        return
    total = time.perf_counter() - _STEP.pop("t0")
    row = {"kind": _STEP["kind"], "total": total, **{k: v for k, v in _PARTS.items() if v}}
    with open(os.environ["UEPT_STEP_TIMINGS"], "a", encoding="utf-8") as f:
        f.write(json.dumps(row) + "\n")
