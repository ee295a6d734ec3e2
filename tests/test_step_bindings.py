"""Every step line of the features binds to exactly one step definition: two patterns that both match a
line would leave the choice to pytest-bdd's lookup order, and the scenario would run the other step."""

from __future__ import annotations

import ast
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def collected(tmp_path_factory) -> tuple[dict[str, list[str]], dict[str, list[str]], list[str]]:
    """(step line -> bound definitions, definition -> its patterns, the collected node ids) for every feature, as
    pytest-bdd binds them."""
    tmp = tmp_path_factory.mktemp("bindings")
    out, patterns, ids = tmp / "bindings.json", tmp / "patterns.json", tmp / "ids.json"
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "features", "-o", "testpaths=", "--rootdir", str(ROOT), "-c",
         str(ROOT / "pyproject.toml"), "--collect-only", "-q", "-p", "no:cacheprovider", "-p", "tests.step_bindings",
         "--uept-run-dir", str(tmp / "run")],
        cwd=ROOT, env={**os.environ, "UEPT_STEP_BINDINGS": str(out), "UEPT_STEP_PATTERNS": str(patterns),
                       "UEPT_COLLECTED_IDS": str(ids)},
        capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return json.loads(out.read_text()), json.loads(patterns.read_text()), json.loads(ids.read_text())


def test_the_suite_collects_each_scenario_and_outline_row_exactly_once(collected):
    """As many tests as the feature files hold scenarios and outline rows (the access-control rows generated from
    the profile's role matrix included): no scenario collected twice, none left out."""
    from ssi.profile import load_profile
    from uept.evidence import access_matrix, features, inventory
    from uept.runtime import config

    *_, ids = collected
    resolved = config.resolve_target(config.load_settings(None), None)
    expand = access_matrix.expander(load_profile(resolved.target.profile), resolved.target.personas)
    files = features.discover([ROOT / "features"])
    chosen = [s for f in files for s in features.parse_feature(f)]
    scenario_set = inventory.build(ROOT, files, chosen, expand=expand)
    assert len(ids) == len(set(ids)) == sum(e["examples"] for e in scenario_set["scenarios"]) > 350


def test_every_step_line_matches_exactly_one_step_definition(collected):
    bindings, *_ = collected
    assert len(bindings) > 300  # every feature was collected (427 distinct step lines today)
    wrong = {line: funcs for line, funcs in bindings.items() if len(funcs) != 1}
    assert not wrong, "step lines without exactly one definition: " + "; ".join(
        f"{line!r} -> {funcs or 'none'}" for line, funcs in wrong.items())


def anchor(pattern: str) -> str:
    """The longest run of a step pattern's literal words: what `grep -F` finds from the feature line."""
    kind, _, text = pattern.partition(":")
    pieces = re.split(r"\{[^}]*\}", text) if kind != "re" else re.split(r"\(\?[^)]*\)|[\\^$.|?*+()\[\]{}]", text)
    return max((p.strip() for p in pieces), key=len)


def test_two_hops_from_a_feature_line_to_the_page_object(collected):
    """Hop 1: the longest literal run of the bound step's pattern stands in the feature line, and its first
    three words verbatim in its step module, so `grep -rnF "<three words of the line>" steps/` finds the step
    (an escaped quote in the pattern's source would hide it). Hop 2: steps/ holds only step
    definitions (no helper functions between a step and the page object, journey or check it calls; the
    parse types of steps/__init__.py convert words, they do not act)."""
    bindings, patterns, _ = collected
    unfindable = []
    for line, (func,) in ((line, funcs) for line, funcs in bindings.items() if len(funcs) == 1):
        module = func.rsplit(".", 1)[0]
        source = (ROOT / (module.replace(".", "/") + ".py")).read_text(encoding="utf-8")
        text = line.split("|", 1)[1]
        found = [a for a in map(anchor, patterns[func])
                 if len(a) >= 6 and a in text and " ".join(a.split()[:3]) in source]
        if not found:
            unfindable.append(f"{text!r} -> {func} {patterns[func]}")
    assert not unfindable, "step lines grep cannot find from their own words: " + "; ".join(unfindable)
    helpers = []
    for path in sorted(p for p in (ROOT / "steps").glob("*.py") if p.name != "__init__.py"):  # __init__: parse types
        for node in ast.parse(path.read_text(encoding="utf-8")).body:
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and not any(
                    isinstance(d, ast.Call) and getattr(d.func, "id", getattr(d.func, "attr", "")) in STEP_DECORATORS
                    for d in node.decorator_list):
                helpers.append(f"{path.name}:{node.lineno} {node.name}")
    assert not helpers, "functions in steps/ that are not step definitions: " + ", ".join(helpers)


STEP_DECORATORS = {"given", "when", "then", "step"}


def test_the_anchor_is_the_longest_literal_run():
    assert anchor('parse:I raise an incident about "{summary}" for {who:Who}') == "I raise an incident about \""
    assert anchor("re:the (?:MPxN|Device ID) (?P<value>.+) is refused") == "is refused"


def test_the_check_sees_two_definitions_of_one_line(tmp_path):
    # the check can fail: a suite whose steps define one wording twice is caught
    (tmp_path / "features").mkdir()
    (tmp_path / "features" / "twice.feature").write_text(
        "Feature: twice\n  Scenario: one line, two steps\n    Given the same words\n", encoding="utf-8")
    (tmp_path / "conftest.py").write_text(
        "from pytest_bdd import given, parsers\n"
        "@given('the same words')\ndef one():\n    pass\n"
        "@given(parsers.parse('the {what} words'))\ndef other(what):\n    pass\n", encoding="utf-8")
    (tmp_path / "test_twice.py").write_text(
        "from pytest_bdd import scenarios\nscenarios('features/twice.feature')\n", encoding="utf-8")
    out = tmp_path / "bindings.json"
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "--collect-only", "-q", "-p", "no:cacheprovider", "-p", "tests.step_bindings",
         "--rootdir", str(tmp_path), "-c", os.devnull, str(tmp_path)],
        cwd=tmp_path, env={**os.environ, "UEPT_STEP_BINDINGS": str(out), "PYTHONPATH": str(ROOT)},
        capture_output=True, text=True, timeout=120)
    assert out.is_file(), proc.stdout[-3000:] + proc.stderr[-3000:]
    bindings = json.loads(out.read_text())
    assert sorted(bindings["given|the same words"]) == ["conftest.one", "conftest.other"]
