"""The exit-criteria verdict, theme summary, retries and requirement coverage (uept/completion.py)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ssi.errors import UsageError
from tests.evidence_helpers import CATALOGUE, catalogue_file, make_run, write_result
from uept.evidence.completion import COMPLETE, INCOMPLETE, ScenarioCatalogue, assess, requirement_catalogue


def _assess(tmp_path: Path, **kw) -> dict:
    cat = ScenarioCatalogue.load(catalogue_file(tmp_path, kw.pop("catalogue", CATALOGUE)))
    return assess(make_run(tmp_path, **kw), cat)


def test_complete_when_every_mandatory_scenario_passed(tmp_path: Path) -> None:
    s = _assess(tmp_path, statuses={"UEPT-DEMO-03": "failed"})  # @needs-operator: not mandatory
    v = s["verdict"]
    assert v["result"] == COMPLETE, v
    assert (v["mandatory"], v["mandatory_passed"], v["blocking"]) == (2, 2, [])
    rows = {r["id"]: r for r in s["scenarios"]}
    assert rows["UEPT-DEMO-03"]["mandatory"] is False
    assert rows["UEPT-DEMO-03"]["mandatory_rule"] == "tagged @needs-operator"
    assert rows["UEPT-DEMO-02"]["examples"] == 2 and len(rows["UEPT-DEMO-02"]["results"]) == 2


def test_a_failed_example_blocks_and_is_named_with_its_error(tmp_path: Path) -> None:
    v = _assess(tmp_path, statuses={"UEPT-DEMO-02-nobody": "failed"})["verdict"]
    assert v["result"] == INCOMPLETE
    assert v["blocking"] == [{"id": "UEPT-DEMO-02", "name": "Second demo scenario", "status": "failed",
                              "reason": "failed: Expected to see 'Welcome' | Received: 'Invalid'"}]


def test_a_scenario_that_never_ran_blocks(tmp_path: Path) -> None:
    v = _assess(tmp_path, statuses={"UEPT-DEMO-02-myself": "absent"})["verdict"]
    assert v["result"] == INCOMPLETE
    assert [(b["id"], b["status"], b["reason"]) for b in v["blocking"]] == [("UEPT-DEMO-02", "not run", "did not run")]


def test_an_interrupted_run_is_incomplete_even_if_what_ran_passed(tmp_path: Path) -> None:
    s = _assess(tmp_path, run_status="incomplete")
    assert s["verdict"]["result"] == INCOMPLETE and s["run"]["interrupted"]
    assert "the run was interrupted before it finished" in s["verdict"]["reasons"]


def test_a_role_missing_from_the_catalogue_cannot_be_complete(tmp_path: Path) -> None:
    v = _assess(tmp_path, role="Meter Reading Agent")["verdict"]
    assert v["result"] == INCOMPLETE
    assert "User Role 'Meter Reading Agent' is not in the scenario catalogue" in v["reasons"][0]
    assert "Supplier" in v["reasons"][0]  # the known roles are listed


def test_roles_match_case_insensitively_and_groups_apply(tmp_path: Path) -> None:
    text = CATALOGUE.replace("UEPT-DEMO: {title: Demo theme, mandatory_for: [all]}",
                             "UEPT-DEMO: {title: Demo theme, mandatory_for: [supplier]}")
    s = _assess(tmp_path, role="other user", catalogue=text, statuses={"UEPT-DEMO-01": "failed"})
    assert s["verdict"]["catalogue_role"] == "Other User"
    assert s["verdict"]["mandatory"] == 0  # nothing mandatory for Other User here
    assert s["verdict"]["result"] == INCOMPLETE  # ... which is said, not silently COMPLETE
    assert "no scenario in the scenario set is mandatory for Other User" in s["verdict"]["reasons"]


def test_a_mandatory_theme_without_scenarios_blocks(tmp_path: Path) -> None:
    text = CATALOGUE + "\n"
    text = text.replace("not_mandatory_tags:", "  UEPT-OMS: {title: Basic OMS, mandatory_for: [supplier]}\n"
                        "not_mandatory_tags:")
    s = _assess(tmp_path, catalogue=text)
    assert s["verdict"]["result"] == INCOMPLETE
    assert any("theme UEPT-OMS (Basic OMS) is mandatory for Supplier" in r for r in s["verdict"]["reasons"])
    themes = {t["id"]: t for t in s["themes"]}
    assert themes["UEPT-OMS"]["status"] == "no scenarios" and themes["UEPT-DEMO"]["status"] == "passed"


def test_a_per_scenario_entry_overrides_the_theme_and_the_tag(tmp_path: Path) -> None:
    text = CATALOGUE.replace("scenarios: {}", "scenarios:\n  UEPT-DEMO-03: {mandatory_for: [all]}\n"
                                              "  UEPT-DEMO-01: {mandatory_for: []}")
    s = _assess(tmp_path, catalogue=text, statuses={"UEPT-DEMO-03": "skipped", "UEPT-DEMO-01": "failed"})
    assert [(b["id"], b["status"]) for b in s["verdict"]["blocking"]] == [("UEPT-DEMO-03", "skipped")]


def test_a_pass_after_a_failed_attempt_is_flaky_and_counts_as_the_catalogue_says(tmp_path: Path) -> None:
    run_dir = make_run(tmp_path, statuses={"UEPT-DEMO-01": "failed"})
    write_result(run_dir, "UEPT-DEMO-01-attempt2", "UEPT-DEMO-01", "First demo scenario", "passed", attempt=2,
                 tags=["UEPT-DEMO", "UEPT-DEMO-01", "SSI-FR-1a"], started="2026-11-23T08:00:05.000Z")
    s = assess(run_dir, ScenarioCatalogue.load(catalogue_file(tmp_path)))
    row = next(r for r in s["scenarios"] if r["id"] == "UEPT-DEMO-01")
    assert row["status"] == "flaky" and row["retried"] is True and row["flaky"] is True
    assert row["results"][0]["status"] == "flaky"
    assert [(a["attempt"], a["status"]) for a in row["results"][0]["attempts"]] == [(1, "failed"), (2, "passed")]
    # the default rule: a flaky mandatory scenario counts as passed, and is listed as flaky on the first page
    assert s["verdict"]["result"] == COMPLETE and s["verdict"]["mandatory_flaky"] == 1
    assert s["verdict"]["mandatory_passed"] == s["verdict"]["mandatory"] == 2
    assert s["verdict"]["flaky"] == [{"id": "UEPT-DEMO-01", "name": "First demo scenario", "mandatory": True,
                                      "counts_as": "passed", "rule": "catalogue",
                                      "attempts": [[(1, "failed"), (2, "passed")]]}]
    assert s["counts"] == {"passed": 4, "failed": 1}  # every attempt counts: nothing hidden
    assert s["outcomes"] == {"flaky": 1, "passed": 3}
    assert {t["id"]: t["flaky"] for t in s["themes"]}["UEPT-DEMO"] == 1
    assert next(r for r in s["requirements"] if r["id"] == "SSI-FR-1a")["status"] == "passed"
    # the catalogue may say that a flaky mandatory scenario blocks the verdict: for all, a theme, or one scenario
    for text in (CATALOGUE.replace("scenarios: {}", "flaky_counts_as: failed\nscenarios: {}"),
                 CATALOGUE.replace("mandatory_for: [all]}", "mandatory_for: [all], flaky_counts_as: failed}"),
                 CATALOGUE.replace("scenarios: {}", "scenarios:\n  UEPT-DEMO-01: {flaky_counts_as: failed}")):
        v = assess(run_dir, ScenarioCatalogue.load(catalogue_file(tmp_path, text)))["verdict"]
        assert v["result"] == INCOMPLETE and v["mandatory_passed"] == 1
        assert [(b["id"], b["status"]) for b in v["blocking"]] == [("UEPT-DEMO-01", "flaky")]
        assert "attempt 1 failed, attempt 2 passed" in v["blocking"][0]["reason"]
    with pytest.raises(UsageError, match="flaky_counts_as is 'sometimes'"):
        ScenarioCatalogue.load(catalogue_file(tmp_path, CATALOGUE.replace(
            "scenarios: {}", "flaky_counts_as: sometimes\nscenarios: {}")))


def test_a_scenario_that_fails_on_every_attempt_is_failed(tmp_path: Path) -> None:
    run_dir = make_run(tmp_path, statuses={"UEPT-DEMO-01": "failed"})
    for n in (2, 3):
        write_result(run_dir, f"UEPT-DEMO-01-attempt{n}", "UEPT-DEMO-01", "First demo scenario", "failed",
                     attempt=n, tags=["UEPT-DEMO", "UEPT-DEMO-01"], started=f"2026-11-23T08:00:0{n}.000Z",
                     error="still wrong")
    s = assess(run_dir, ScenarioCatalogue.load(catalogue_file(tmp_path)))
    row = next(r for r in s["scenarios"] if r["id"] == "UEPT-DEMO-01")
    assert row["status"] == "failed" and not row["flaky"] and s["verdict"]["flaky"] == []
    assert s["verdict"]["result"] == INCOMPLETE and s["outcomes"]["failed"] == 1
    # a pass followed by a failure (e.g. two merged runs) is failed too: the last attempt decides
    run_dir = make_run(tmp_path, name="later")
    write_result(run_dir, "UEPT-DEMO-01-attempt2", "UEPT-DEMO-01", "First demo scenario", "failed", attempt=2,
                 tags=["UEPT-DEMO", "UEPT-DEMO-01"], started="2026-11-23T08:00:05.000Z")
    s = assess(run_dir, ScenarioCatalogue.load(catalogue_file(tmp_path)))
    assert next(r for r in s["scenarios"] if r["id"] == "UEPT-DEMO-01")["status"] == "failed"


def test_requirement_coverage_lists_every_catalogue_requirement(tmp_path: Path) -> None:
    s = _assess(tmp_path, statuses={"UEPT-DEMO-02-myself": "failed"})
    reqs = {r["id"]: r for r in s["requirements"]}
    assert len(reqs) == len(requirement_catalogue()) > 100
    assert reqs["SSI-FR-1a"]["status"] == "passed"
    assert reqs["SSI-FR-1a"]["scenarios"] == [{"id": "UEPT-DEMO-01", "status": "passed"}]
    assert reqs["SSI-NFR-10"]["status"] == "failed"
    assert reqs["BFD14"]["status"] == "failed"  # feature-level tag: every scenario of the theme covers it
    assert reqs["SSI-FR-22"]["status"] == "not covered" and reqs["SSI-FR-22"]["scenarios"] == []
    cov = s["coverage"]
    assert cov["covered"] == 5 and cov["not_covered"] == cov["requirements"] - 5


def test_unknown_requirement_tags_are_reported(tmp_path: Path) -> None:
    cat = ScenarioCatalogue.load(catalogue_file(tmp_path))
    run_dir = make_run(tmp_path)
    write_result(run_dir, "UEPT-DEMO-09", "UEPT-DEMO-09", "Typo", "passed", tags=["UEPT-DEMO-09", "SSI-FR-999"])
    s = assess(run_dir, cat)
    assert "requirement tags not in the requirement catalogue: SSI-FR-999" in s["problems"]
    assert next(r for r in s["scenarios"] if r["id"] == "UEPT-DEMO-09")["in_scenario_set"] is False


def test_summary_json_content(tmp_path: Path) -> None:
    from uept.evidence.report import write_reports

    run_dir = make_run(tmp_path)
    write_reports(run_dir, ScenarioCatalogue.load(catalogue_file(tmp_path)), pdf=False)
    s = json.loads((run_dir / "summary.json").read_text())
    assert s["party"] == {"name": "Northern Power Supply Ltd", "sec_party_id": "NPSL", "user_role": "Supplier"}
    assert s["target"]["environment"] == "Reference SSI (embedded)"
    assert s["scenario_set"]["hash"].startswith("sha256:") and s["scenario_set"]["scenarios"] == 3
    assert s["environment"]["browser_versions"] == ["chromium 150.0.7871.100"]
    assert s["counts"] == {"passed": 4}
    assert {r["id"]: r["requirements"] for r in s["scenarios"]}["UEPT-DEMO-01"] == ["BFD14", "SSI-FR-1a", "SSI-NFR-36"]


@pytest.mark.parametrize("text, message", [
    ("roles: [a, b]", "needs a 'roles:' mapping"),
    ("roles:\n  Supplier: {groups: [nope]}\n", "names unknown group(s) nope"),
    ("roles:\n  Supplier: {}\nthemes:\n  UEPT-X: {mandatory_for: [Suplier]}\n", "names 'Suplier'"),
    ("roles: {Supplier: {}\n", "is not valid YAML"),
])
def test_a_broken_catalogue_is_one_clear_error(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(UsageError, match=message.replace("(", r"\(").replace(")", r"\)")):
        ScenarioCatalogue.load(catalogue_file(tmp_path, text))


def test_the_shipped_catalogue_loads_and_covers_the_uept_themes() -> None:
    cat = ScenarioCatalogue.load()
    for theme in ("UEPT-LOGIN", "UEPT-INC", "UEPT-CRED", "UEPT-OMS", "UEPT-SR"):
        assert theme in cat.themes
    # every feature's theme tag is a theme of the catalogue (the report lists any other one as unknown)
    import re

    features = Path(__file__).resolve().parent.parent / "features"
    for f in features.glob("*.feature"):
        head = f.read_text(encoding="utf-8").split("Feature:", 1)[0]
        themes = set(re.findall(r"@(UEPT-[A-Z]+)\b(?!-)", head))
        assert themes and themes <= set(cat.themes), (f.name, themes)
    assert cat.mandatory("UEPT-OMS-01", [], "Supplier")[0] is True
    assert cat.mandatory("UEPT-OMS-01", [], "Network Operator")[0] is False
    assert cat.mandatory("UEPT-LOGIN-07", ["needs-operator"], "Supplier")[0] is False
    assert cat.mandatory("UEPT-SR-01", [], "Network Operator")[0] is True
    assert cat.mandatory("UEPT-SR-01", ["needs-operator"], "Other User")[0] is False
    assert cat.mandatory("UEPT-ACCESS-01", [], "Supplier") == (False, "theme UEPT-ACCESS")


def test_the_scenarios_of_issue_16_are_classified() -> None:
    """Boundaries, markup and password refusals a real SSI can run are mandatory by their theme, and so is the state x
    action matrix of the states a user reaches; what needs the operator or waits the real clock is not."""
    cat = ScenarioCatalogue.load()
    for sid in ("UEPT-LOGIN-15", "UEPT-LOGIN-16", "UEPT-LOGIN-21", "UEPT-LOGIN-22", "UEPT-INC-23", "UEPT-INC-24",
                "UEPT-INC-25", "UEPT-INC-27", "UEPT-CRED-14", "UEPT-CRED-15"):
        assert cat.mandatory(sid, [], "Other User")[0] is True, sid
    assert cat.mandatory("UEPT-OMS-15", [], "Supplier")[0] is True
    assert cat.mandatory("UEPT-OMS-17", [], "Network Operator")[0] is False
    for sid, tag in (("UEPT-LOGIN-17", "needs-operator"), ("UEPT-LOGIN-18", "needs-operator"),
                     ("UEPT-INC-26", "needs-operator"), ("UEPT-LOGIN-19", "real-clock"),
                     ("UEPT-LOGIN-20", "real-clock")):
        assert cat.mandatory(sid, [tag], "Supplier") == (False, f"tagged @{tag}"), sid


def test_a_run_whose_uept_was_killed_is_reported_as_unfinished(tmp_path: Path) -> None:
    s = _assess(tmp_path, run_status="running")
    assert s["verdict"]["result"] == INCOMPLETE and s["run"]["interrupted"]
    assert any("did not finish" in p for p in s["problems"])


def test_an_old_run_without_a_scenario_set_still_gets_a_report(tmp_path: Path) -> None:
    cat = ScenarioCatalogue.load(catalogue_file(tmp_path))
    run_dir = make_run(tmp_path)
    (run_dir / "scenario-set.json").unlink()
    s = assess(run_dir, cat)
    assert any("no scenario set was recorded" in p for p in s["problems"])
    assert {r["id"] for r in s["scenarios"]} == {"UEPT-DEMO-01", "UEPT-DEMO-02", "UEPT-DEMO-03"}
    assert s["verdict"]["result"] == INCOMPLETE  # what ran is reported, but completeness cannot be shown
    assert "the run recorded no scenario set" in s["verdict"]["reasons"][0]
