"""End to end: `uept run --retries 1` against a reference SSI whose first sign-out fails (the test-only fault
signout_fails_once) and which accepts any verification code (skip_code_check). UEPT-LOGIN-11 fails once and
then passes: flaky everywhere (terminal, report.html and .pdf, summary.json, JUnit, Cucumber JSON, Allure,
`uept verify`), with both attempts' evidence. UEPT-LOGIN-05 (a wrong code must be refused) fails on both
attempts: failed everywhere. Two workers, one server, one run (about 40 s here).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import xml.etree.ElementTree as ET

import pytest

from tests.evidence_helpers import new_key, public_key_file
from tests.helpers import ROOT, UeptRun, login_catalogue, run_uept
from uept.runtime.reference import EmbeddedSSI

pytestmark = pytest.mark.slow
PROGRESS = re.compile(r"^\[\s*\d+/\d+\] ")

CATALOGUE = login_catalogue("UEPT-LOGIN-11")


@pytest.fixture(scope="module")
def retried(tmp_path_factory: pytest.TempPathFactory) -> dict:
    tmp = tmp_path_factory.mktemp("retries")
    pub = public_key_file(new_key(tmp / "party.pem"), tmp / "party.pub")
    (tmp / "scenarios.yaml").write_text(CATALOGUE)
    reports = tmp / "reports"
    with EmbeddedSSI(unsafe=["signout_fails_once", "skip_code_check"]) as ssi:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("UEPT_", "REFSSI_", "PYTEST_"))}
        env.update(ssi.env, UEPT_SIGNING_KEY=str(tmp / "party.pem"),
                   UEPT_SCENARIO_CATALOGUE=str(tmp / "scenarios.yaml"))
        proc = subprocess.Popen([sys.executable, "-m", "uept.cli", "run", "features/mfa_login.feature", "--tags",
                                 "@UEPT-LOGIN-11 or @UEPT-LOGIN-05", "--retries", "1", "-n", "2", "--target", ssi.url,
                                 "--reports", str(reports)], cwd=ROOT, env=env, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True)
        lines, finished_at_first_line = [], None
        assert proc.stdout is not None
        for line in proc.stdout:  # the progress, as uept prints it
            lines.append(line)
            if finished_at_first_line is None and PROGRESS.match(line):
                finished_at_first_line = sum(json.loads(f.read_text())["status"] != "running"
                                             for f in reports.glob("*/scenarios/*/result.json"))
        stderr = proc.stderr.read() if proc.stderr else ""
        result = UeptRun(proc.wait(timeout=600), "".join(lines), stderr)
    return {"result": result, "run": result.run_dir, "pub": pub, "tmp": tmp, "first_line": finished_at_first_line,
            "summary": json.loads((result.run_dir / "summary.json").read_text())}


def test_progress_comes_one_plain_line_per_attempt_as_it_happens(retried: dict) -> None:
    out = retried["result"].stdout
    progress = [ln for ln in out.splitlines() if PROGRESS.match(ln)]
    assert len(progress) == 4, out[-3000:]  # one per attempt
    assert any(re.match(r"^\[\d/2\] FAILED  UEPT-LOGIN-11  Signing out ends the session  [\d.]+s  gw\d$", ln)
               for ln in progress), progress
    assert any(ln.startswith("[2/2] FLAKY   UEPT-LOGIN-11 (attempt 2)") or
               ln.startswith("[1/2] FLAKY   UEPT-LOGIN-11 (attempt 2)") for ln in progress), progress
    assert sum(" FAILED  UEPT-LOGIN-05" in ln for ln in progress) == 2
    assert retried["first_line"] is not None and retried["first_line"] < 4  # printed while the run went on
    assert not any(ln.startswith(".") or "[100%]" in ln for ln in out.splitlines())  # pytest's dots: pytest.log
    assert (retried["run"] / "pytest.log").read_text().strip()


def test_a_scenario_that_fails_once_is_flaky_and_one_that_always_fails_is_failed(retried: dict) -> None:
    out = retried["result"].stdout
    assert retried["result"].code == 1, out[-3000:]  # a scenario failed: the run fails
    rows = {ln.split()[1]: ln.split()[0] for ln in out.splitlines()
            if ln.startswith(("FLAKY ", "FAILED ", "PASSED ")) and ln.split()[1].startswith("UEPT-")}
    assert rows == {"UEPT-LOGIN-11": "FLAKY", "UEPT-LOGIN-05": "FAILED"}
    assert "2 scenario(s): 1 failed, 1 flaky (4 attempts: 2 retried)" in out
    assert "flaky: UEPT-LOGIN-11 failed, then passed on a retry (counts as passed)" in out
    s = retried["summary"]
    assert {r["id"]: r["status"] for r in s["scenarios"] if r["results"]} == {"UEPT-LOGIN-05": "failed",
                                                                             "UEPT-LOGIN-11": "flaky"}
    assert s["verdict"]["result"] == "COMPLETE"  # the one mandatory scenario is flaky: counts as passed (default)
    assert s["verdict"]["flaky"][0]["attempts"] == [[[1, "failed"], [2, "passed"]]]
    assert s["counts"] == {"failed": 3, "passed": 1} and s["outcomes"] == {"failed": 1, "flaky": 1}


def test_both_attempts_keep_their_evidence(retried: dict) -> None:
    folders = {p.name: json.loads((p / "result.json").read_text()) for p in (retried["run"] / "scenarios").iterdir()}
    assert sorted(folders) == ["UEPT-LOGIN-05", "UEPT-LOGIN-05-attempt2", "UEPT-LOGIN-11", "UEPT-LOGIN-11-attempt2"]
    first, second = folders["UEPT-LOGIN-11"], folders["UEPT-LOGIN-11-attempt2"]
    assert (first["attempt"], first["status"], second["attempt"], second["status"]) == (1, "failed", 2, "passed")
    failed_at = next(st for st in first["steps"] if st["status"] == "failed")
    assert failed_at["text"] == "I see that I have been logged out"  # the step the fault breaks
    for key, data in (("UEPT-LOGIN-11", first), ("UEPT-LOGIN-11-attempt2", second)):
        shots = [st["screenshot"] for st in data["steps"] if st.get("screenshot")]
        assert shots and all((retried["run"] / "scenarios" / key / s).is_file() for s in shots)
        assert data["traces"] and all((retried["run"] / "scenarios" / key / t).is_file() for t in data["traces"])


def test_the_report_its_pdf_and_verify_show_the_flaky_scenario(retried: dict) -> None:
    from pdfminer.high_level import extract_text

    html = (retried["run"] / "report.html").read_text()
    first_page = html[html.index('class="verdict'):html.index("</section>")]
    assert "Flaky scenarios (failed, then passed on a retry)" in first_page and "UEPT-LOGIN-11" in first_page
    pdf = " ".join(extract_text(str(retried["run"] / "report.pdf")).split())
    assert "Flaky scenarios (failed, then passed on a retry)" in pdf and "attempt 1 failed, attempt 2 passed" in pdf
    (pack,) = retried["run"].glob("evidence-pack-*.zip")
    v = run_uept("verify", str(pack), "--key", str(retried["pub"]), "--catalogue",
                 str(retried["tmp"] / "scenarios.yaml"))
    assert v.code == 0, v.stdout
    assert "Flaky scenarios: 1 (failed, then passed on a retry): UEPT-LOGIN-11 (counts as passed)" in v.stdout
    strict = retried["tmp"] / "strict.yaml"
    strict.write_text(CATALOGUE.replace("version: 1", "version: 1\nflaky_counts_as: failed"))
    v = run_uept("verify", str(pack), "--key", str(retried["pub"]), "--catalogue", str(strict))
    assert v.code == 1 and "blocking: UEPT-LOGIN-11 (flaky)" in v.stdout, v.stdout


def test_junit_cucumber_and_allure_show_the_retries(retried: dict) -> None:
    run = retried["run"]
    cases = ET.parse(run / "junit.xml").getroot().findall("testsuite/testcase")
    by_name = {tc.get("name"): [c.tag for c in tc] for tc in cases}
    assert len(cases) == 2
    assert by_name["test_signing_out_ends_the_session"] == ["flakyFailure"]
    assert by_name["test_a_wrong_verification_code_is_refused"][:2] == ["failure", "rerunFailure"]
    cucumber = [e for f in json.loads((run / "cucumber.json").read_text()) for e in f["elements"]]
    flaky = [e["name"] for e in cucumber if "@flaky" in {t["name"] for t in e["tags"]}]
    assert sorted(flaky) == ["Signing out ends the session", "Signing out ends the session (attempt 2)"]
    allure = [json.loads(f.read_text()) for f in (run / "allure-results").glob("*-result.json")]
    sign_out = sorted((r for r in allure if r["name"] == "Signing out ends the session"), key=lambda r: r["start"])
    assert len(sign_out) == 2 and sign_out[0]["historyId"] == sign_out[1]["historyId"]
    assert [r["status"] for r in sign_out] == ["failed", "passed"]
    assert sign_out[1]["statusDetails"]["flaky"] is True
    wrong_code = [r for r in allure if r["name"] == "A wrong verification code is refused"]
    assert len(wrong_code) == 2 and not any((r.get("statusDetails") or {}).get("flaky") for r in wrong_code)
