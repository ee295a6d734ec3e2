"""A tester writes scenarios without Python: `uept check` names every problem of a feature file with its
file:line (and, for an undefined step, the nearest wording and a step definition to paste), `uept steps`
lists the library (its --json validates against the documented shape), and a new feature that recombines
wording of several themes runs with nothing else added, collecting exactly its own scenarios."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from tests.helpers import run_uept
from tests.test_integrity import ROOT, _suite_copy

TESTER = """@UEPT-TST
Feature: A tester's own scenarios
  @UEPT-TST-01 @SSI-FR-22 @SSI-FR-999
  Scenario: Wording a little off
    Given I am signed in as the "Lead Agent user"
    When I raise a service management incident
    Then I see the number of the new incident

  Scenario: No ID of its own
    Given I am signed in as the "SM user"

  @UEPT-TST-01
  Scenario: The same ID again
    Given I am signed in as the "SM user"
"""

EXTRA_STEPS = '''"""A second definition of one phrase (an ambiguous step for uept check)."""

from pytest_bdd import then


@then("I see the number of the new incident")
def see_number_again() -> None:
    """The same words as steps/incidents.py's."""
'''


@pytest.fixture
def suite(tmp_path: Path) -> Path:
    copy = _suite_copy(tmp_path)
    (copy / "features" / "tester.feature").write_text(TESTER, encoding="utf-8")
    (copy / "steps" / "extra.py").write_text(EXTRA_STEPS, encoding="utf-8")
    conftest = copy / "conftest.py"
    conftest.write_text(conftest.read_text().replace('    "steps.access",', '    "steps.access",\n    "steps.extra",'))
    return copy


def problems(out: str) -> list[str]:
    return [ln.removeprefix("PROBLEM  ") for ln in out.splitlines() if ln.startswith("PROBLEM  ")]


def test_check_names_each_problem_with_its_file_and_line(suite: Path) -> None:
    r = run_uept("check", "features/tester.feature", cwd=suite, timeout=120)
    assert r.code == 2, r.stdout + r.stderr
    found = problems(r.stdout)
    f = "features/tester.feature"
    expected = [
        (f"{f}:4:", "requirement tag @SSI-FR-999 is not in the SSI requirement catalogue"),
        (f"{f}:5:", 'persona "Lead Agent user" is not in the target\'s config'),
        (f"{f}:6:", "no step definition matches 'When I raise a service management incident'; nearest: "
                    '"I raise a service-management incident"'),
        (f"{f}:7:", "'Then I see the number of the new incident' matches 2 step definitions: steps/extra.py:6, "
                    "steps/incidents.py:"),
        (f"{f}:9:", "has no @UEPT- ID"),
        (f"{f}:13:", "scenario ID UEPT-TST-01 is used twice"),
    ]
    for where, what in expected:
        assert any(p.startswith(where) and what in p for p in found), (where, what, found)
    assert len(found) == len(expected), found
    assert "@when(parsers.parse(\"I raise a service management incident\"))" in r.stdout  # a snippet to paste
    assert "Traceback" not in r.stdout + r.stderr


def test_check_says_a_tag_expression_selects_nothing_and_a_file_does_not_parse(suite: Path) -> None:
    r = run_uept("check", "features/mfa_login.feature", "--tags", "@UEPT-NOPE-01", cwd=suite, timeout=120)
    assert r.code == 2 and problems(r.stdout) == ["--tags: no scenario matches '@UEPT-NOPE-01'; check the tag "
                                                  "names in the feature files"], r.stdout
    broken = suite / "features" / "broken.feature"
    broken.write_text("Feature: Broken\n  Scenario: ok\n    Given a step\n  Scenario Outline missing colon\n")
    r = run_uept("check", "features/broken.feature", cwd=suite, timeout=120)
    assert r.code == 2 and problems(r.stdout)[0].startswith("features/broken.feature:4: Misplaced or incorrect "
                                                            "'Scenario' keyword"), r.stdout


def test_a_module_of_the_suite_that_does_not_load_is_named_before_anything_starts(suite: Path) -> None:
    """A step module with a syntax error, a fixture module with a missing import: `uept check` and `uept run` name
    the file and line on one line (exit 2), and the run makes no run folder."""
    (suite / "features" / "tester.feature").unlink()  # its own problems would be named first
    (suite / "steps" / "extra.py").write_text(EXTRA_STEPS + "\n\ndef half_written(:\n", encoding="utf-8")
    at = f"steps/extra.py:{len(EXTRA_STEPS.splitlines()) + 3}: the suite's module steps.extra does not load " \
         "(SyntaxError: "
    reports = suite / "reports-here"
    for args in (["check", "features/mfa_login.feature"],
                 ["run", "features/mfa_login.feature", "--tags", "@UEPT-LOGIN-01", "--reports", str(reports)]):
        r = run_uept(*args, cwd=suite, timeout=120)
        assert r.code == 2 and "Traceback" not in r.stdout + r.stderr, (r.stdout, r.stderr)
        assert len(r.error_lines) == 1 and r.error_lines[0].startswith(f"uept: error: {at}"), r.error_lines
    (suite / "steps" / "extra.py").write_text(EXTRA_STEPS, encoding="utf-8")
    state = suite / "fixtures" / "state.py"
    text = state.read_text(encoding="utf-8")
    state.write_text(text + "import no_such_module\n", encoding="utf-8")
    r = run_uept("run", "features/mfa_login.feature", "--tags", "@UEPT-LOGIN-01", "--reports", str(reports),
                 cwd=suite, timeout=120)
    assert r.code == 2 and r.error_lines == [
        f"uept: error: fixtures/state.py:{len(text.splitlines()) + 1}: the suite's module fixtures.state does not "
        "load (ModuleNotFoundError: No module named 'no_such_module'). correct it; `python -c 'import "
        "fixtures.state'` in the suite's folder shows the traceback."], r.error_lines
    assert not reports.exists() or not any(reports.iterdir())


def test_the_shipped_features_check_clean() -> None:
    r = run_uept("check", timeout=120)
    assert r.code == 0 and "no problem found" in r.stdout, r.stdout[-3000:]


def test_steps_json_has_the_documented_shape_and_lists_allowed_values() -> None:
    from uept.cli.steps import StepsDocument

    r = run_uept("steps", "--json", timeout=120)
    assert r.code == 0, r.stderr
    doc = StepsDocument.model_validate_json(r.stdout)
    assert doc.format == "uept-steps/1" and len(doc.steps) > 250
    signed_in = next(s for s in doc.steps if s.phrase == 'I am signed in as the "{persona}"')
    assert signed_in.keyword == "Given" and "OA user" in signed_in.parameters[0].values
    assert signed_in.defined_in.startswith("steps/session.py:") and len(signed_in.used_in) > 20
    assert re.match(signed_in.regex, 'I am signed in as the "OA user"')
    assert not re.match(signed_in.regex, 'I am signed in as the "OA user" again')  # the whole line, anchored
    for s in doc.steps:
        re.compile(s.regex)
    schema = json.loads(run_uept("steps", "--schema", timeout=60).stdout)
    assert schema["title"] == "StepsDocument" and "steps" in schema["properties"]
    grep = run_uept("steps", "--grep", "ADT file", timeout=60).stdout
    assert "DCC {action} the ADT file" in grep and "I am signed in as" not in grep
    assert "{action}: one of 'accepts', 'rejects', 'processes'" in grep


RECOMBINED = """@UEPT-TST
Feature: Recombined from several themes
  @UEPT-TST-01 @SSI-FR-22
  Scenario: An email-code user raises an incident
    Given I am signed in as the "email code user"
    When I raise a service-management incident
    Then I see the number of the new incident
    And the stored incident matches what I entered

  @UEPT-TST-02
  Scenario Outline: Logistics and ordering users open the OMS but not user administration
    Given I am signed in as the "<persona>"
    Then the menu offers "Forecasting and ordering of Communications Hubs and auxiliary equipment" and its page opens for me
    And the menu does not offer "User account management" and its address is refused with a readable 403 page

    Examples:
      | persona  |
      | LOG user |
      | AMO user |
"""  # noqa: E501 - a tester's line is as long as its wording


@pytest.mark.slow
def test_a_new_feature_of_existing_wording_runs_with_nothing_else_added(tmp_path: Path) -> None:
    """Wording from the login, incidents and access themes in one new file: it runs as it is, collects exactly
    its own scenarios, and the other themes' exit-criteria counts stay those of their own features."""
    from uept.evidence import features

    suite = _suite_copy(tmp_path)
    (suite / "features" / "recombined.feature").write_text(RECOMBINED, encoding="utf-8")
    # the uept of this checkout, wherever the suite is; and a CI image's "write no bytecode"
    env = {"PYTHONPATH": str(ROOT), "PYTHONDONTWRITEBYTECODE": "1"}
    assert run_uept("check", "features/recombined.feature", cwd=suite, env=env, timeout=120).code == 0
    r = run_uept("run", "features/recombined.feature", "--reports", str(tmp_path / "reports"), cwd=suite, env=env,
                 timeout=600)
    assert r.code == 0, r.stdout[-3000:] + r.stderr[-2000:]
    [run_dir] = [d for d in (tmp_path / "reports").iterdir() if d.is_dir()]
    ran = sorted(p.parent.name for p in (run_dir / "scenarios").glob("*/result.json"))
    assert ran == ["UEPT-TST-01", "UEPT-TST-02-AMO-user", "UEPT-TST-02-LOG-user"], ran
    summary = json.loads((run_dir / "summary.json").read_text(encoding="utf-8"))
    shipped = {}
    for f in (ROOT / "features").glob("*.feature"):
        for sc in features.parse_feature(f):
            theme = next((t for t in sc.tags if re.fullmatch(r"UEPT-[A-Z]+", t)), None)
            shipped[theme] = shipped.get(theme, 0) + 1
    themes = {t["id"]: t for t in summary["themes"]}
    for theme, count in shipped.items():
        if theme and theme != "UEPT-ACCESS":  # its rows are generated from the role matrix
            assert themes[theme]["scenarios"] == count and themes[theme]["passed"] == 0, (theme, themes[theme])
    assert themes["UEPT-TST"]["passed"] == 2 and not themes["UEPT-TST"]["in_catalogue"]
    # the run's pytest kept its compiled and assert-rewritten modules in the suite's .uept/pycache, none beside them
    assert list((suite / ".uept" / "pycache").rglob("login.cpython-*-pytest-*.pyc")), "no bytecode kept"
    assert not list(suite.glob("steps/__pycache__"))


def test_the_runs_children_keep_bytecode_in_the_suite_unless_the_user_chose_a_place() -> None:
    from uept.cli.common import keep_bytecode

    ci, own = {"PYTHONDONTWRITEBYTECODE": "1", "PATH": "/bin"}, {"PYTHONPYCACHEPREFIX": "/var/cache/py"}
    keep_bytecode(Path("/suite"), ci, own)
    assert ci == {"PATH": "/bin", "PYTHONPYCACHEPREFIX": "/suite/.uept/pycache"}
    assert own == {"PYTHONPYCACHEPREFIX": "/var/cache/py"}


def test_readme_lists_the_step_wording_as_the_library_has_it() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    listed = readme.split("<!-- steps:begin -->\n", 1)[1].split("<!-- steps:end -->", 1)[0]
    r = run_uept("steps", "--markdown", timeout=120)
    assert r.code == 0 and listed == r.stdout, "README's step list is stale: paste `uept steps --markdown` into it"
