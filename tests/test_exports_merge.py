"""Cucumber JSON and Allure metadata from the result files, and `uept merge`."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from junitparser import JUnitXml

from ssi.errors import UsageError
from tests.evidence_helpers import catalogue_file, make_run, new_key, write_result
from tests.helpers import run_uept
from tests.npm_tools import allure2_counts, allure3_counts, cucumber_html_counts
from uept.evidence.completion import ScenarioCatalogue, requirement_catalogue
from uept.evidence.exports import cucumber_json
from uept.evidence.merge import merge_runs
from uept.evidence.pack import build, load_private_key, verify
from uept.evidence.report import write_reports


def test_cucumber_json_has_every_result_with_lines_and_statuses(tmp_path: Path) -> None:
    run_dir = make_run(tmp_path, statuses={"UEPT-DEMO-02-nobody": "failed"})
    features = cucumber_json(run_dir)
    assert len(features) == 1
    f = features[0]
    assert (f["uri"], f["keyword"], f["line"]) == ("features/demo.feature", "Feature", 2)
    assert [t["name"] for t in f["tags"]] == ["@BFD14", "@UEPT-DEMO"]
    names = [e["name"] for e in f["elements"]]
    assert names == ["First demo scenario", "Second demo scenario (who=myself)", "Second demo scenario (who=nobody)",
                     "Operator-only demo scenario"]
    failed = f["elements"][2]
    assert failed["line"] == 12 and failed["keyword"] == "Scenario Outline"
    assert [s["result"]["status"] for s in failed["steps"]] == ["passed", "passed", "failed"]
    assert failed["steps"][2]["result"]["error_message"].startswith("Expected to see")
    assert failed["steps"][0]["line"] == 13 and failed["steps"][0]["keyword"] == "Given "
    assert failed["steps"][0]["result"]["duration"] == 250_000_000  # nanoseconds
    assert "@UEPT-DEMO-02" in [t["name"] for t in failed["tags"]]


def test_cucumber_json_shows_every_attempt_of_a_retried_scenario(tmp_path: Path) -> None:
    run_dir = make_run(tmp_path, statuses={"UEPT-DEMO-01": "failed"})
    write_result(run_dir, "UEPT-DEMO-01-attempt2", "UEPT-DEMO-01", "First demo scenario", "passed", attempt=2,
                 tags=["UEPT-DEMO", "UEPT-DEMO-01"], started="2026-11-23T08:00:09.000Z")
    names = [e["name"] for e in cucumber_json(run_dir)[0]["elements"]]
    assert "First demo scenario" in names and "First demo scenario (attempt 2)" in names


def test_an_interrupted_scenario_shows_as_failed_in_cucumber_json(tmp_path: Path) -> None:
    run_dir = make_run(tmp_path)
    folder = run_dir / "scenarios" / "UEPT-DEMO-01"
    data = json.loads((folder / "result.json").read_text())
    data.update(status="running", ended=None)
    data["steps"][-1]["status"] = "not run"
    (folder / "result.json").write_text(json.dumps(data))
    el = cucumber_json(run_dir)[0]["elements"][0]
    assert el["steps"][-1]["result"]["status"] == "failed"
    assert el["steps"][-1]["name"] == "scenario interrupted"


def test_real_consumers_read_the_synthetic_outputs(tmp_path: Path) -> None:
    run_dir = make_run(tmp_path, statuses={"UEPT-DEMO-02-nobody": "failed"})
    write_reports(run_dir, ScenarioCatalogue.load(catalogue_file(tmp_path)), pdf=False)
    counts = cucumber_html_counts(run_dir / "cucumber.json", tmp_path / "cucumber.html")
    assert counts == {"all": 4, "passed": 3, "failed": 1}
    env = (run_dir / "allure-results" / "environment.properties").read_text()
    assert "Party=Northern Power Supply Ltd" in env and "Exit.criteria=INCOMPLETE" in env
    assert allure2_counts(run_dir / "allure-results", tmp_path / "allure2")["total"] == 1
    assert allure3_counts(run_dir / "allure-results", tmp_path / "allure3")["total"] == 1


# ---------------------------------------------------------------- merge
def _shards(tmp_path: Path) -> tuple[Path, Path]:
    a = make_run(tmp_path, statuses={"UEPT-DEMO-02-nobody": "absent", "UEPT-DEMO-03": "absent",
                                     "UEPT-DEMO-01": "failed"}, name="shard-a")
    b = make_run(tmp_path, statuses={"UEPT-DEMO-02-myself": "absent"}, name="shard-b")
    # shard b re-ran UEPT-DEMO-01 later: it becomes attempt 2
    for f in (b / "scenarios" / "UEPT-DEMO-01").glob("result.json"):
        data = json.loads(f.read_text())
        data["started"] = "2026-11-23T09:00:00.000Z"
        f.write_text(json.dumps(data))
    return _sign(a), _sign(b)


def _sign(run_dir: Path) -> Path:
    """Signed as `uept run` leaves it (merge refuses anything it cannot verify)."""
    key = run_dir.parent / "shards.pem"
    build(run_dir, load_private_key(key, True) if key.exists() else new_key(key), zip_it=False)
    return run_dir


def test_merge_joins_shards_keeping_every_attempt(tmp_path: Path) -> None:
    a, b = _shards(tmp_path)
    out = merge_runs([a, b], tmp_path / "reports", log=lambda m: None)
    keys = sorted(p.name for p in (out / "scenarios").iterdir())
    assert keys == ["UEPT-DEMO-01", "UEPT-DEMO-01-attempt2", "UEPT-DEMO-02-myself", "UEPT-DEMO-02-nobody",
                    "UEPT-DEMO-03"]
    second = json.loads((out / "scenarios" / "UEPT-DEMO-01-attempt2" / "result.json").read_text())
    assert (second["key"], second["attempt"], second["status"]) == ("UEPT-DEMO-01-attempt2", 2, "passed")
    run = json.loads((out / "run.json").read_text())
    assert [m["run_id"] for m in run["merged_from"]] == ["20261123-080000-shard-a", "20261123-080000-shard-b"]
    assert run["workers"] == 4 and run["status"] == "passed"
    junit = JUnitXml.fromfile(str(out / "junit.xml"))
    assert sum(1 for _ in junit) == 2  # both shards' suites
    cat = ScenarioCatalogue.load(catalogue_file(tmp_path))
    report = write_reports(out, cat, pdf=False)
    assert report.summary["verdict"]["result"] == "COMPLETE"  # the retry passed
    row = next(r for r in report.summary["scenarios"] if r["id"] == "UEPT-DEMO-01")
    assert row["retried"] and [a["status"] for a in row["results"][0]["attempts"]] == ["failed", "passed"]


def test_merge_cli_makes_one_signed_pack_and_accepts_packs(tmp_path: Path) -> None:
    a, b = _shards(tmp_path)
    cat = catalogue_file(tmp_path)
    key = tmp_path / "shards.pem"  # the key the shards were signed with
    env = {"UEPT_SIGNING_KEY": str(key), "UEPT_SCENARIO_CATALOGUE": str(cat)}
    # shard b arrives as a pack (as CI artifacts would)
    packed = run_uept("report", str(b), "--no-pdf", env=env)
    assert packed.code == 0, packed.stdout + packed.stderr
    pack_b = next(b.glob("evidence-pack-*.zip"))
    result = run_uept("merge", str(a), str(pack_b), "-o", str(tmp_path / "merged"), "--no-pdf", env=env)
    assert result.code == 0, result.stdout + result.stderr
    assert "Exit criteria for User Role Supplier: COMPLETE" in result.stdout
    zips = list((tmp_path / "merged").glob("evidence-pack-*.zip"))
    assert len(zips) == 1
    assert verify(zips[0], str(key), cat).ok


def test_merge_refuses_runs_of_different_parties_or_scenario_sets(tmp_path: Path) -> None:
    a, b = _shards(tmp_path)
    run = json.loads((b / "run.json").read_text())
    run["party"]["sec_party_id"] = "OTHER"
    (b / "run.json").write_text(json.dumps(run))
    _sign(b)
    with pytest.raises(UsageError, match="merge only runs of one party"):
        merge_runs([a, b], tmp_path / "r", log=lambda m: None)
    run["party"]["sec_party_id"] = "NPSL"
    (b / "run.json").write_text(json.dumps(run))
    ss = json.loads((b / "scenario-set.json").read_text())
    ss["hash"] = "sha256:0000"
    (b / "scenario-set.json").write_text(json.dumps(ss))
    _sign(b)
    with pytest.raises(UsageError, match="different scenario sets"):
        merge_runs([a, b], tmp_path / "r2", log=lambda m: None)
    bad = run_uept("merge", str(a), str(tmp_path / "nothing-here"))
    assert bad.code == 2 and "not found" in bad.stderr and len(bad.error_lines) == 1


def test_summarize_tables_many_packs(tmp_path: Path) -> None:
    cat = catalogue_file(tmp_path)
    key = tmp_path / "k.pem"
    new_key(key)
    env = {"UEPT_SIGNING_KEY": str(key), "UEPT_SCENARIO_CATALOGUE": str(cat)}
    good = make_run(tmp_path, name="good")
    bad = make_run(tmp_path, name="bad", statuses={"UEPT-DEMO-01": "failed"})
    for d in (good, bad):
        assert run_uept("report", str(d), "--no-pdf", env=env).code in (0, 1)
    packs = [next(d.glob("evidence-pack-*.zip")) for d in (good, bad)]
    tampered = tmp_path / "tampered"
    shutil.copytree(good, tampered)
    (tampered / "run.json").write_text((tampered / "run.json").read_text().replace("tester", "someone"))
    html = tmp_path / "summary.html"
    result = run_uept("summarize", *map(str, packs), str(tampered), "--catalogue", str(cat), "--html", str(html),
                      "--json", str(tmp_path / "summary.json"))
    assert result.code == 1  # the tampered one fails verification
    lines = result.stdout.splitlines()
    assert lines[0].split()[:3] == ["PARTY", "ID", "ROLE"]
    rows = json.loads((tmp_path / "summary.json").read_text())
    assert [(r["verdict"], r["integrity"]) for r in rows] == [("COMPLETE", "verified"), ("INCOMPLETE", "verified"),
                                                              ("COMPLETE", "NOT VERIFIED")]
    assert rows[1]["failures"] == ["UEPT-DEMO-01"] and rows[0]["coverage"] == f"5/{len(requirement_catalogue())}"
    page = html.read_text()
    assert "Northern Power Supply Ltd" in page and "NOT VERIFIED" in page and "run.json: SHA-256 differs" in page


def test_every_step_screenshot_renders_in_allure_3_and_allure_2(tmp_path: Path) -> None:
    """Steps that left the page unchanged attach the same picture again, each as a file of its own (as
    Allure's plugin writes them). Allure 3 and Allure TestOps link a file at its first reference only, so
    the report must never point two attachments at one file."""
    from tests.evidence_helpers import jpeg
    from tests.npm_tools import allure2_attachments, allure3_attachments

    run_dir = make_run(tmp_path)
    results = run_dir / "allure-results"
    shot = jpeg()
    names = [f"aaaaaaaa-0000-4000-8000-00000000000{i}-attachment.jpg" for i in range(3)]
    for n in names:
        (results / n).write_bytes(shot)
    steps = [{"name": f"step {i}", "status": "passed",
              "attachments": [{"name": "screenshot", "source": n, "type": "image/jpeg"}]} for i, n in enumerate(names)]
    (results / "0f0e0d0c-0000-4000-8000-000000000001-result.json").write_text(json.dumps({
        "name": "First demo scenario", "status": "passed", "uuid": "0f0e0d0c-0000-4000-8000-000000000001",
        "historyId": "h1", "start": 1795420800000, "stop": 1795420801500, "steps": steps}))
    write_reports(run_dir, ScenarioCatalogue.load(catalogue_file(tmp_path)), pdf=False)
    data = json.loads((results / "0f0e0d0c-0000-4000-8000-000000000001-result.json").read_text())
    assert [s["attachments"][0]["source"] for s in data["steps"]] == names  # one file per reference
    assert all((results / n).read_bytes() == shot for n in names)
    total, missed = allure3_attachments(results, tmp_path / "allure3")
    assert (total, missed) == (3, [])
    total, missing = allure2_attachments(results, tmp_path / "allure2")
    assert (total, missing) == (3, [])
