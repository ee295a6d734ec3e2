"""Retries that stay honest (`uept run --retries N`), on synthetic run folders: a flaky case in the terminal
table, JUnit XML (the Surefire re-run convention), Allure, Cucumber JSON and the report; bad values of
--retries. The real run with a test-only fault is in tests/test_retries_e2e.py."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

from junitparser import JUnitXml

from tests.evidence_helpers import catalogue_file, make_run, write_result
from tests.helpers import run_uept
from uept.evidence.completion import ScenarioCatalogue
from uept.evidence.exports import cucumber_json, junit_name, mark_allure_flaky, write_junit_attempts
from uept.evidence.results import RunResults

TAGS_01 = ["UEPT-DEMO", "UEPT-DEMO-01", "SSI-FR-1a"]
TAGS_02 = ["UEPT-DEMO", "UEPT-DEMO-02", "SSI-NFR-10"]


def _retried_run(tmp_path: Path) -> Path:
    """UEPT-DEMO-01 failed, then passed (flaky); UEPT-DEMO-02-myself failed twice; the rest passed at once.
    junit.xml as pytest writes it under pytest-rerunfailures: one testcase per attempt, the first attempts'
    failures left out."""
    run_dir = make_run(tmp_path, statuses={"UEPT-DEMO-01": "failed", "UEPT-DEMO-02-myself": "failed"})
    write_result(run_dir, "UEPT-DEMO-01-attempt2", "UEPT-DEMO-01", "First demo scenario", "passed", attempt=2,
                 tags=TAGS_01, started="2026-11-23T08:00:05.000Z")
    write_result(run_dir, "UEPT-DEMO-02-myself-attempt2", "UEPT-DEMO-02", "Second demo scenario", "failed",
                 attempt=2, tags=TAGS_02, example={"who": "myself"}, started="2026-11-23T08:00:06.000Z",
                 error="Expected to see 'Invalid' | Received: 'Welcome'")
    for key in ("UEPT-DEMO-01", "UEPT-DEMO-02-myself"):  # every attempt of a test has its node ID
        later = run_dir / "scenarios" / f"{key}-attempt2" / "result.json"
        data = json.loads(later.read_text())
        data["nodeid"] = json.loads((run_dir / "scenarios" / key / "result.json").read_text())["nodeid"]
        later.write_text(json.dumps(data))
    cases = {f.parent.name: junit_name(json.loads(f.read_text())["nodeid"])
             for f in (run_dir / "scenarios").glob("*/result.json")}
    first, second = cases["UEPT-DEMO-01"], cases["UEPT-DEMO-02-myself"]
    nobody, operator = cases["UEPT-DEMO-02-nobody"], cases["UEPT-DEMO-03"]
    (run_dir / "junit.xml").write_text(
        '<?xml version="1.0" encoding="utf-8"?><testsuites name="pytest tests"><testsuite name="pytest" errors="0" '
        'failures="1" skipped="0" tests="4" time="9.0">'
        f'<testcase classname="{first[0]}" name="{first[1]}" time="1.5" />'
        f'<testcase classname="{second[0]}" name="{second[1]}" time="1.5" />'
        f'<testcase classname="{first[0]}" name="{first[1]}" time="1.5" />'
        f'<testcase classname="{second[0]}" name="{second[1]}" time="1.5"><failure message="Expected to see">'
        'trace</failure></testcase>'
        f'<testcase classname="{nobody[0]}" name="{nobody[1]}" time="1.5" />'
        f'<testcase classname="{operator[0]}" name="{operator[1]}" time="1.5" />'
        '</testsuite></testsuites>', "utf-8")
    return run_dir


def test_junit_names_are_pytest_s() -> None:
    assert junit_name("features/mfa_login.feature::test_x[someone who has no account]") == \
        ("features.mfa_login.feature", "test_x[someone who has no account]")
    assert junit_name("tests/test_a.py::TestB::test_c") == ("tests.test_a.TestB", "test_c")


def test_junit_holds_each_retried_case_once_in_the_surefire_rerun_convention(tmp_path: Path) -> None:
    run_dir = _retried_run(tmp_path)
    assert write_junit_attempts(run_dir) and write_junit_attempts(run_dir)  # idempotent (uept report again)
    suite = ET.parse(run_dir / "junit.xml").getroot().find("testsuite")
    cases = suite.findall("testcase")
    assert len(cases) == 4 and (suite.get("tests"), suite.get("failures"), suite.get("flakes")) == ("4", "1", "1")
    flaky = next(tc for tc in cases if tc.find("flakyFailure") is not None)
    assert [c.tag for c in flaky] == ["flakyFailure"] and flaky.find("failure") is None
    assert "attempt 1 failed: Expected to see 'Welcome'" in flaky.find("flakyFailure/stackTrace").text
    assert "scenarios/UEPT-DEMO-01/" in flaky.find("flakyFailure/stackTrace").text
    failed = next(tc for tc in cases if tc.find("failure") is not None)
    assert [c.tag for c in failed] == ["failure", "rerunFailure"]
    # a JUnit reader that does not know the convention sees a pass and a failure, never a failure hidden
    results = {(c.classname, c.name): [r._tag for r in c.result] for s in JUnitXml.fromfile(str(run_dir / "junit.xml"))
               for c in s}
    assert sorted(results.values()) == [[], [], [], ["failure"]]


def test_allure_attempts_share_their_history_and_the_passing_last_one_is_flaky(tmp_path: Path) -> None:
    run_dir = make_run(tmp_path)
    results = run_dir / "allure-results"
    for f in results.glob("*-result.json"):
        f.unlink()

    def result(uuid: str, history: str, status: str, start: int) -> Path:
        path = results / f"{uuid}-result.json"
        path.write_text(json.dumps({"name": f"scenario {history}", "status": status, "uuid": uuid,
                                    "historyId": history, "testCaseId": history,
                                    "fullName": f"features/demo.feature:scenario {history}",
                                    "start": start, "stop": start + 1000,
                                    "statusDetails": {"message": "Expected"} if status != "passed" else {}}))
        return path

    first = result("00000000-0000-4000-8000-000000000001", "h1", "failed", 1000)
    last = result("00000000-0000-4000-8000-000000000002", "h1", "passed", 5000)
    twice = [result("00000000-0000-4000-8000-000000000003", "h2", "failed", 1000),
             result("00000000-0000-4000-8000-000000000004", "h2", "failed", 6000)]
    once = result("00000000-0000-4000-8000-000000000005", "h3", "passed", 1000)
    assert mark_allure_flaky(run_dir) == 1 and mark_allure_flaky(run_dir) == 1
    assert json.loads(last.read_text())["statusDetails"]["flaky"] is True
    for p in (first, *twice, once):
        assert "flaky" not in json.loads(p.read_text()).get("statusDetails", {})
    from tests.npm_tools import allure2_counts

    out = tmp_path / "allure2"
    stats = allure2_counts(results, out)
    assert stats["total"] == 3 and stats["passed"] == 2 and stats["failed"] == 1  # retries are not extra tests
    cases = [json.loads(f.read_text()) for f in (out / "data" / "test-cases").glob("*.json")]
    shown = {c["name"]: c for c in cases if not c.get("hidden")}
    assert shown["scenario h1"]["flaky"] is True and shown["scenario h1"]["status"] == "passed"
    assert shown["scenario h1"]["retriesCount"] == 1
    assert shown["scenario h2"]["flaky"] is False and shown["scenario h2"]["status"] == "failed"
    assert sum(c.get("retry") is True for c in cases) == 2  # the earlier attempts: Allure's retries


def test_cucumber_json_tags_every_attempt_of_a_flaky_case(tmp_path: Path) -> None:
    run_dir = _retried_run(tmp_path)
    elements = cucumber_json(run_dir)[0]["elements"]
    tags = {e["name"]: {t["name"] for t in e["tags"]} for e in elements}
    assert "@flaky" in tags["First demo scenario"] and "@flaky" in tags["First demo scenario (attempt 2)"]
    assert not any("@flaky" in t for n, t in tags.items() if n.startswith("Second"))
    statuses = {e["name"]: e["steps"][-1]["result"]["status"] for e in elements}
    assert statuses["First demo scenario"] == "failed"  # the failed attempt still shows as failed


def test_the_terminal_table_shows_a_flaky_case_once(tmp_path: Path) -> None:
    results = RunResults.load(_retried_run(tmp_path))
    assert results.outcomes() == {"flaky": 1, "failed": 1, "passed": 2} and not results.all_passed
    table = results.table(120)
    rows = [ln.split()[0:2] for ln in table.splitlines()[1:5]]
    assert rows == [["FAILED", "UEPT-DEMO-02-myself"], ["FLAKY", "UEPT-DEMO-01"], ["PASSED", "UEPT-DEMO-02-nobody"],
                    ["PASSED", "UEPT-DEMO-03"]]
    assert "First demo scenario (2 attempts)" in table
    assert "UEPT-DEMO-01: flaky: passed on attempt 2 after Expected to see 'Welcome'" in table


def test_the_report_lists_flaky_scenarios_on_its_first_page(tmp_path: Path) -> None:
    from uept.evidence.report import write_reports

    run_dir = _retried_run(tmp_path)
    report = write_reports(run_dir, ScenarioCatalogue.load(catalogue_file(tmp_path)), pdf=False)
    html = report.html
    verdict = html[html.index('class="verdict'):html.index("</section>")]
    assert "Flaky scenarios (failed, then passed on a retry)" in verdict
    assert "attempt 1 failed, attempt 2 passed" in verdict and "counts as passed" in verdict
    assert '<span class="st st-flaky">flaky</span>' in html
    assert "<b>Flaky</b>: failed, then passed on a retry." in html
    summary = json.loads((run_dir / "summary.json").read_text())
    assert [f["id"] for f in summary["verdict"]["flaky"]] == ["UEPT-DEMO-01"]


def test_bad_retries_are_refused_exit_2_before_anything_starts(tmp_path: Path) -> None:
    result = run_uept("run", "--tags", "@UEPT-LOGIN-01", "--retries", "-1", "--reports", str(tmp_path / "r"))
    assert result.code == 2 and result.error_lines == [
        "uept: error: --retries -1: the number of retries must be 0 or more. use --retries 0 (no retry, the "
        "default) or e.g. --retries 2."], result.stderr
    result = run_uept("run", "--retries", "x", "--reports", str(tmp_path / "r"))  # argparse's own, as for -n x
    assert result.code == 2 and "argument --retries: invalid int value: 'x'" in result.stderr
    assert not (tmp_path / "r").exists()
