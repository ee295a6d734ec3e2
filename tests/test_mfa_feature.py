"""The MFA login feature, end to end in Chromium against a reference SSI, and its evidence."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
import zipfile
from pathlib import Path

import pytest

from tests.helpers import run_feature_on_fresh_server, scan_for_secrets, selected_cases

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def full_run(tmp_path_factory):
    return run_feature_on_fresh_server("features/mfa_login.feature", tmp_path_factory.mktemp("reports"), "-n", "2")


def scenario_results(run_dir: Path) -> list[dict]:
    return [json.loads(p.read_text()) for p in sorted((run_dir / "scenarios").glob("*/result.json"))]


def test_the_feature_passes_in_chromium(full_run):
    result, _ = full_run
    assert result.code == 0, result.stdout[-3000:]
    results = scenario_results(result.run_dir)
    cases = selected_cases(result.run_dir)
    assert len(results) == cases >= 21
    assert not [r for r in results if "real-clock" in r["tags"]]  # run only when named
    assert {r["status"] for r in results} == {"passed"}
    assert "Verdict: PASSED" in result.stdout


def test_every_step_has_a_screenshot_and_every_scenario_a_trace(full_run):
    result, _ = full_run
    for r in scenario_results(result.run_dir):
        folder = result.run_dir / "scenarios" / r["key"]
        for step in r["steps"][1:]:  # the first step ("I am the ...") has no page yet
            assert step["screenshot"], (r["key"], step)
            data = (folder / step["screenshot"]).read_bytes()
            assert data[:4] == b"RIFF" and data[8:12] == b"WEBP", (r["key"], step["screenshot"])
        assert r["traces"], r["key"]
        for t in r["traces"]:
            with zipfile.ZipFile(folder / t) as z:
                assert "trace.trace" in z.namelist()
                # kept uncompressed: the pack compresses all the parts together (records.tar.xz)
                assert {i.compress_type for i in z.infolist()} == {zipfile.ZIP_STORED}, t


def test_no_password_seed_or_code_in_any_artefact(full_run):
    result, secrets = full_run
    assert len([v for v in secrets.values() if v.startswith("authenticator code")]) > 20
    assert any(v.startswith("emailed code") for v in secrets.values())
    assert any("new.starter" in v for v in secrets.values())  # the seed captured at enrolment
    assert any("nia.patel@" in v and v.startswith("authenticator code") for v in secrets.values())  # Entra's
    leaks = scan_for_secrets(result.run_dir, secrets)
    assert not leaks, "\n".join(leaks[:20])
    assert not [v for v in secrets if v in result.stdout + result.stderr]


def test_junit_xml_lists_every_scenario(full_run):
    result, _ = full_run
    suite = ET.parse(result.run_dir / "junit.xml").getroot().find("testsuite")
    assert int(suite.get("tests")) == selected_cases(result.run_dir)
    assert int(suite.get("failures")) == 0 and int(suite.get("errors")) == 0


def test_allure_results_have_gherkin_steps_tags_and_requirement_links(full_run):
    result, _ = full_run
    tests = [json.loads(p.read_text()) for p in (result.run_dir / "allure-results").glob("*-result.json")]
    assert len(tests) == selected_cases(result.run_dir)
    login01 = next(t for t in tests if any(lb["value"] == "UEPT-LOGIN-01" for lb in t["labels"]))
    assert {"name": "SSI-FR-1a", "type": "requirement"}.items() <= next(
        lk for lk in login01["links"] if lk["name"] == "SSI-FR-1a").items()
    step_names = [s["name"] for s in login01["steps"]]
    assert any("I enter the code from my authenticator app" in n for n in step_names), step_names
    shots = [a for s in login01["steps"] for a in s.get("attachments", []) if a["type"] == "image/webp"]
    assert len(shots) >= len(login01["steps"]) - 1
    assert any(a.get("type") == "application/vnd.allure.playwright-trace" for a in login01.get("attachments", []))


def test_the_entra_scenarios_pass_on_the_newer_sign_in_ui(tmp_path):
    """Microsoft's newer sign-in UI has data-testid hooks instead of the legacy ids: the page object's
    user-facing locators find the same controls on both."""
    from tests.helpers import run_uept
    from uept.runtime.reference import EmbeddedSSI

    with EmbeddedSSI(overrides={"entra_ui": "new"}) as server:
        result = run_uept("run", "features/mfa_login.feature", "--tags", "@entra", "--target", server.url,
                          "--reports", str(tmp_path), env=server.env)
    assert result.code == 0, result.stdout[-3000:]
    assert {r["uept_id"]: r["status"] for r in scenario_results(result.run_dir)} == {
        "UEPT-LOGIN-13": "passed", "UEPT-LOGIN-14": "passed"}
