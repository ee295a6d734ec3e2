"""Every step line of the features binds to exactly one step definition: two patterns that both match a
line would leave the choice to pytest-bdd's lookup order, and the scenario would run the other step."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_every_step_line_matches_exactly_one_step_definition(tmp_path):
    out = tmp_path / "bindings.json"
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "features", "-o", "testpaths=", "--rootdir", str(ROOT), "-c",
         str(ROOT / "pyproject.toml"), "--collect-only", "-q", "-p", "no:cacheprovider", "-p", "tests.step_bindings",
         "--uept-run-dir", str(tmp_path / "run")],
        cwd=ROOT, env={**os.environ, "UEPT_STEP_BINDINGS": str(out)}, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    bindings = json.loads(out.read_text())
    assert len(bindings) > 300  # every feature was collected (427 distinct step lines today)
    wrong = {line: funcs for line, funcs in bindings.items() if len(funcs) != 1}
    assert not wrong, "step lines without exactly one definition: " + "; ".join(
        f"{line!r} -> {funcs or 'none'}" for line, funcs in wrong.items())


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
