"""Nothing in the evidence chain can turn a failure into a pass (issue: evidence that cannot be laundered).

Each test here failed before its fix: a duplicate scenario ID let one scenario's pass stand for
another's failure; `uept merge` re-signed a pack whose result had been changed; `uept report`
signed a pack for nobody from a truncated run.json, and a truncated result.json became "not run".
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from ssi.errors import UsageError
from tests.evidence_helpers import catalogue_file, make_run, new_key, public_key_file, rewrite_pack, write_result
from tests.helpers import ROOT, run_uept
from uept.evidence import inventory
from uept.evidence.completion import INCOMPLETE, ScenarioCatalogue, assess
from uept.evidence.features import parse_feature
from uept.evidence.merge import merge_runs
from uept.evidence.pack import build, verify
from uept.evidence.rundir import DamagedRecord

# ---------------------------------------------------------------- one ID, one scenario
DUPLICATE = """@UEPT-DEMO
Feature: Demo theme
  @UEPT-DEMO-01
  Scenario: First demo scenario
    Given I am the "authenticator user"

  @UEPT-DEMO-01
  Scenario: Second demo scenario, tagged with the first one's ID
    Given I am the "authenticator user"
"""


def _run_with_duplicate_ids(tmp: Path) -> Path:
    """The attack of the issue: the first LOGIN-01 failed, a second scenario tagged LOGIN-01 passed."""
    suite = tmp / "suite"
    (suite / "features").mkdir(parents=True)
    feature = suite / "features" / "demo.feature"
    feature.write_text(DUPLICATE, encoding="utf-8")
    run_dir = tmp / "run"
    run_dir.mkdir()
    (run_dir / "scenario-set.json").write_text(json.dumps(inventory.build(suite, [feature], parse_feature(feature))))
    write_result(run_dir, "UEPT-DEMO-01", "UEPT-DEMO-01", "First demo scenario", "failed",
                 tags=["UEPT-DEMO", "UEPT-DEMO-01"], error="Step definition is not found")
    write_result(run_dir, "UEPT-DEMO-01-attempt2", "UEPT-DEMO-01",
                 "Second demo scenario, tagged with the first one's ID", "passed", tags=["UEPT-DEMO", "UEPT-DEMO-01"],
                 attempt=2, started="2026-11-23T08:00:05.000Z")
    base = make_run(tmp, name="ref")
    shutil.copy(base / "run.json", run_dir / "run.json")
    return run_dir


def test_a_scenario_set_with_a_duplicate_id_cannot_be_complete(tmp_path: Path) -> None:
    run_dir = _run_with_duplicate_ids(tmp_path)
    s = assess(run_dir, ScenarioCatalogue.load(catalogue_file(tmp_path)))
    assert s["verdict"]["result"] == INCOMPLETE
    assert any("UEPT-DEMO-01 is used twice in the scenario set: features/demo.feature:4 and features/demo.feature:8"
               in r for r in s["verdict"]["reasons"]), s["verdict"]["reasons"]
    # the second scenario's pass does not stand for the first one's failure
    row = next(r for r in s["scenarios"] if r["id"] == "UEPT-DEMO-01")
    assert row["status"] == "damaged" and row["name"] == "First demo scenario"
    assert any("does not match" in p or "is of scenario" in p for p in s["problems"]), s["problems"]


def test_verify_refuses_a_pack_whose_scenario_set_holds_a_duplicate_id(tmp_path: Path) -> None:
    run_dir = _run_with_duplicate_ids(tmp_path)
    key = new_key(tmp_path / "k.pem")
    pack = build(run_dir, key)
    v = verify(pack.zip_path, None, catalogue_file(tmp_path))
    comp = next(c for c in v.checks if c.name == "completeness")
    assert not v.ok and not comp.ok
    assert any("used twice" in line for line in comp.lines), comp.lines


def _suite_copy(tmp: Path) -> Path:
    copy = tmp / "suite"
    for name in ("features", "steps", "pages", "fixtures"):
        shutil.copytree(ROOT / name, copy / name, ignore=shutil.ignore_patterns("__pycache__"))
    for name in ("conftest.py", "pyproject.toml"):
        shutil.copy(ROOT / name, copy / name)
    return copy


def test_uept_run_refuses_two_scenarios_with_one_id_before_anything_starts(tmp_path: Path) -> None:
    suite = _suite_copy(tmp_path)
    feature = suite / "features" / "mfa_login.feature"
    text = feature.read_text(encoding="utf-8")
    assert text.count("@UEPT-LOGIN-02") == 1
    lines = text.splitlines()
    first = next(i for i, ln in enumerate(lines, 1) if "@UEPT-LOGIN-01" in ln.split())
    second = next(i for i, ln in enumerate(lines, 1) if "@UEPT-LOGIN-02" in ln.split())
    feature.write_text(text.replace("@UEPT-LOGIN-02", "@UEPT-LOGIN-01"), encoding="utf-8")
    reports = tmp_path / "reports"
    r = run_uept("run", "--tags", "@UEPT-LOGIN-01", "features/mfa_login.feature", "--reports", str(reports),
                 cwd=suite)
    assert r.code == 2, r.stdout[-2000:] + r.stderr[-2000:]
    assert "Traceback" not in r.stdout + r.stderr and len(r.error_lines) == 1, r.error_lines
    # both places are named (the scenario line follows its tag line)
    assert "UEPT-LOGIN-01 is used twice" in r.stderr
    for line in (first + 1, second + 1):
        assert f"features/mfa_login.feature:{line}" in r.stderr
    assert "starting the reference SSI" not in r.stdout and not any(reports.glob("*/run.json"))


def test_uept_run_refuses_a_scenario_without_an_id(tmp_path: Path) -> None:
    suite = _suite_copy(tmp_path)
    feature = suite / "features" / "mfa_login.feature"
    feature.write_text(feature.read_text(encoding="utf-8").replace("@UEPT-LOGIN-02", "@no-id"), encoding="utf-8")
    r = run_uept("run", "features/mfa_login.feature", cwd=suite)
    assert r.code == 2 and len(r.error_lines) == 1, r.stdout[-2000:] + r.stderr[-2000:]
    assert "has no @UEPT- ID" in r.stderr and "features/mfa_login.feature:" in r.stderr


# ---------------------------------------------------------------- merge verifies what it joins
def _signed(tmp: Path, name: str, key: Path, **kw) -> Path:
    run_dir = make_run(tmp, name=name, **kw)
    env = {"UEPT_SIGNING_KEY": str(key), "UEPT_SCENARIO_CATALOGUE": str(catalogue_file(tmp))}
    r = run_uept("report", str(run_dir), "--no-pdf", env=env)
    assert r.code == 0, r.stdout + r.stderr
    return run_dir


def _rewrite_member(pack: Path, member_suffix: str, change) -> Path:
    """A copy of the pack with one file changed, wherever the pack holds it (a member, or inside its archive)."""
    changed: list[str] = []

    def one(rel: str, data: bytes) -> bytes | None:
        if not rel.endswith(member_suffix):
            return None
        changed.append(rel)
        return change(data)

    forged = rewrite_pack(pack, pack.with_name("forged.zip"), one)
    assert changed, f"no {member_suffix} in {pack}"
    return forged


def test_merge_refuses_a_pack_whose_result_was_changed_after_signing(tmp_path: Path) -> None:
    key = tmp_path / "k.pem"
    new_key(key)
    run_dir = _signed(tmp_path, "shard", key, statuses={"UEPT-DEMO-01": "failed"})
    (pack,) = run_dir.glob("evidence-pack-*.zip")

    def to_passed(data: bytes) -> bytes:
        r = json.loads(data)
        r["status"] = "passed"
        r["error"] = None
        for st in r["steps"]:
            st["status"] = "passed"
        return json.dumps(r).encode()

    forged = _rewrite_member(pack, "scenarios/UEPT-DEMO-01/result.json", to_passed)
    assert run_uept("verify", str(forged), "--no-completeness").code == 1
    out = tmp_path / "merged"
    r = run_uept("merge", str(forged), "-o", str(out), "--no-pdf", env={"UEPT_SIGNING_KEY": str(key)})
    assert r.code == 2, r.stdout + r.stderr
    assert len(r.error_lines) == 1 and "does not verify" in r.stderr
    assert "scenarios/UEPT-DEMO-01/result.json" in r.stderr and "SHA-256 differs" in r.stderr
    assert not (out / "run.json").exists() and not list(out.glob("evidence-pack-*.zip"))


def test_merge_refuses_an_unsigned_run_folder(tmp_path: Path) -> None:
    run_dir = make_run(tmp_path, name="unsigned")
    with pytest.raises(UsageError, match="was never signed"):
        merge_runs([run_dir], tmp_path / "r", log=lambda m: None)


def test_merge_checks_signers_and_keys(tmp_path: Path) -> None:
    k1, k2 = tmp_path / "k1.pem", tmp_path / "k2.pem"
    key1, key2 = new_key(k1), new_key(k2)
    a = _signed(tmp_path, "a", k1, statuses={"UEPT-DEMO-02-nobody": "absent", "UEPT-DEMO-03": "absent"})
    b = _signed(tmp_path, "b", k2, statuses={"UEPT-DEMO-01": "absent", "UEPT-DEMO-02-myself": "absent"})
    pub1, pub2 = public_key_file(key1, tmp_path / "k1.pub"), public_key_file(key2, tmp_path / "k2.pub")
    with pytest.raises(UsageError, match="signed by different keys"):
        merge_runs([a, b], tmp_path / "r", log=lambda m: None)
    with pytest.raises(UsageError, match="does not verify.*not by the expected key"):
        merge_runs([a, b], tmp_path / "r", log=lambda m: None, keys=[str(pub1)], allow_different_signers=True)
    out = merge_runs([a, b], tmp_path / "r", log=lambda m: None, keys=[str(pub1), str(pub2)],
                     allow_different_signers=True)
    merged = json.loads((out / "run.json").read_text())["merged_from"]
    fingerprints = [m["signer"] for m in merged]
    assert sorted(fingerprints) == sorted([verify(a, str(pub1)).manifest["signer"]["fingerprint"],
                                           verify(b, str(pub2)).manifest["signer"]["fingerprint"]])
    assert all("signed by the expected key" in m["verification"] for m in merged)
    assert all(m["verdict"] for m in merged)
    env = {"UEPT_SIGNING_KEY": str(k1), "UEPT_SCENARIO_CATALOGUE": str(catalogue_file(tmp_path))}
    r = run_uept("report", str(out), "--no-pdf", env=env)
    assert r.code == 0, r.stdout + r.stderr
    manifest = json.loads((out / "manifest.json").read_text())
    assert sorted(m["signer"] for m in manifest["merged_from"]) == sorted(fingerprints)
    html = (out / "report.html").read_text()
    assert "Merged from" in html and all(f in html for f in fingerprints)


def test_merge_refuses_runs_against_different_targets_unless_told(tmp_path: Path) -> None:
    key = tmp_path / "k.pem"
    new_key(key)
    a = make_run(tmp_path, name="a", statuses={"UEPT-DEMO-02-nobody": "absent"})
    b = make_run(tmp_path, name="b", statuses={"UEPT-DEMO-01": "absent"})
    run = json.loads((b / "run.json").read_text())
    run["target"]["url"] = "https://another-instance.example"
    (b / "run.json").write_text(json.dumps(run))
    for d in (a, b):
        assert run_uept("report", str(d), "--no-pdf", env={"UEPT_SIGNING_KEY": str(key)}).code == 0
    with pytest.raises(UsageError, match="ran against https://another-instance.example, not http://127.0.0.1:1"):
        merge_runs([a, b], tmp_path / "r", log=lambda m: None)
    out = merge_runs([a, b], tmp_path / "r", log=lambda m: None, allow_different_targets=True)
    assert {m["target"] for m in json.loads((out / "run.json").read_text())["merged_from"]} == {
        "http://127.0.0.1:1", "https://another-instance.example"}


def test_shards_of_embedded_reference_ssis_merge_without_being_told(tmp_path: Path) -> None:
    key = tmp_path / "k.pem"
    new_key(key)
    shards = []
    for name, port in (("a", 41001), ("b", 41002)):
        d = make_run(tmp_path, name=name)
        run = json.loads((d / "run.json").read_text())
        run["target"].update(url=f"http://127.0.0.1:{port}", embedded=True)
        (d / "run.json").write_text(json.dumps(run))
        assert run_uept("report", str(d), "--no-pdf", env={"UEPT_SIGNING_KEY": str(key)}).code == 0
        shards.append(d)
    assert merge_runs(shards, tmp_path / "r", log=lambda m: None).is_dir()


# ---------------------------------------------------------------- damaged records are never signed quietly
@pytest.mark.parametrize("record", ["run.json", "scenarios/UEPT-DEMO-01/result.json", "scenario-set.json"])
def test_report_stops_at_a_truncated_record_naming_it(tmp_path: Path, record: str) -> None:
    run_dir = make_run(tmp_path)
    path = run_dir / record
    path.write_bytes(path.read_bytes()[: len(path.read_bytes()) // 2])
    key = tmp_path / "k.pem"
    new_key(key)
    env = {"UEPT_SIGNING_KEY": str(key), "UEPT_SCENARIO_CATALOGUE": str(catalogue_file(tmp_path))}
    r = run_uept("report", str(run_dir), "--no-pdf", env=env)
    assert r.code == 2, r.stdout + r.stderr
    assert len(r.error_lines) == 1 and "Traceback" not in r.stdout + r.stderr
    assert f"{record} is damaged (not valid JSON" in r.stderr and "--salvage" in r.stderr
    assert not list(run_dir.glob("evidence-pack-*.zip")) and not (run_dir / "manifest.json").exists()

    r = run_uept("report", str(run_dir), "--no-pdf", "--salvage", env=env)
    assert r.code == 0, r.stdout + r.stderr
    assert f"DAMAGED: {record}" in r.stdout
    summary = json.loads((run_dir / "summary.json").read_text())
    assert summary["verdict"]["result"] == INCOMPLETE
    assert [d["file"] for d in summary["damaged"]] == [record]
    assert any(record in reason for reason in summary["verdict"]["reasons"])
    assert record in (run_dir / "report.html").read_text()
    if record.startswith("scenarios/"):
        row = next(x for x in summary["scenarios"] if x["id"] == "UEPT-DEMO-01")
        assert row["status"] == "damaged" and any(b["id"] == "UEPT-DEMO-01" for b in summary["verdict"]["blocking"])
    (pack,) = run_dir.glob("evidence-pack-*.zip")
    v = run_uept("verify", str(pack), "--catalogue", str(catalogue_file(tmp_path)))
    assert v.code == 1 and "damaged" in v.stdout


@pytest.mark.parametrize(("change", "field"), [
    (lambda r: r.update(party="NPSL"), "party"),
    (lambda r: r.update(workers="many"), "workers"),
    (lambda r: r.pop("run_id"), "run_id"),
])
def test_report_and_merge_refuse_a_run_json_of_the_wrong_shape(tmp_path: Path, change, field: str) -> None:
    run_dir = make_run(tmp_path)
    run = json.loads((run_dir / "run.json").read_text())
    change(run)
    (run_dir / "run.json").write_text(json.dumps(run))
    key = tmp_path / "k.pem"
    new_key(key)
    r = run_uept("report", str(run_dir), "--no-pdf", env={"UEPT_SIGNING_KEY": str(key)})
    assert r.code == 2 and len(r.error_lines) == 1, r.stdout + r.stderr
    assert "run.json is damaged" in r.stderr and field in r.stderr
    with pytest.raises(DamagedRecord, match=field):
        assess(run_dir)
    build(run_dir, new_key(tmp_path / "k2.pem"), zip_it=False)  # signed as it is: merge still refuses it
    r = run_uept("merge", str(run_dir), "-o", str(tmp_path / "merged"), "--no-pdf",
                 env={"UEPT_SIGNING_KEY": str(key)})
    assert r.code == 2 and len(r.error_lines) == 1 and "run.json is damaged" in r.stderr, r.stdout + r.stderr


def test_a_result_copied_into_another_scenarios_folder_is_damaged(tmp_path: Path) -> None:
    run_dir = make_run(tmp_path, statuses={"UEPT-DEMO-01": "failed"})
    shutil.copy(run_dir / "scenarios" / "UEPT-DEMO-02-myself" / "result.json",
                run_dir / "scenarios" / "UEPT-DEMO-01" / "result.json")
    with pytest.raises(DamagedRecord, match="is not its folder's name"):
        assess(run_dir)


# ---------------------------------------------------------------- an outline with nothing to check
def test_an_outline_the_role_matrix_leaves_empty_is_not_applicable_not_not_run(tmp_path: Path) -> None:
    from ssi.profile import load_profile
    from uept.evidence import access_matrix
    from uept.runtime import config

    settings = config.load_settings(None)
    target = config.resolve_target(settings, None, env={})
    matrix = load_profile("reference").role_matrix
    assert all(any(c.key == "log_in" and r.abbr in c.allowed_roles for c in matrix.components) for r in matrix.roles)
    feature = ROOT / "features" / "access_control.feature"
    scenario_set = inventory.build(ROOT, [feature], parse_feature(feature),
                                   expand=access_matrix.expander(load_profile("reference"), target.target.personas))
    entry = next(s for s in scenario_set["scenarios"] if s["uept_id"] == "UEPT-ACCESS-04")
    assert entry["examples"] == 0
    assert entry["not_applicable"] == "the role matrix gives every role Log In: nothing to check"
    granted = next(s for s in scenario_set["scenarios"] if s["uept_id"] == "UEPT-ACCESS-01")
    assert granted["examples"] == sum(1 for c in matrix.components for _ in c.allowed_roles)

    run_dir = tmp_path / "run"
    run_dir.mkdir()
    (run_dir / "scenario-set.json").write_text(json.dumps(scenario_set))
    shutil.copy(make_run(tmp_path, name="ref") / "run.json", run_dir / "run.json")
    cat = catalogue_file(tmp_path, "version: 1\nroles: {Supplier: {groups: []}}\nrole_groups: {}\n"
                                   "themes: {UEPT-ACCESS: {title: Access, mandatory_for: [all]}}\n")
    s = assess(run_dir, ScenarioCatalogue.load(cat))
    row = next(r for r in s["scenarios"] if r["id"] == "UEPT-ACCESS-04")
    assert row["status"] == "not applicable" and row["mandatory"] is False
    assert row["not_applicable"] == "the role matrix gives every role Log In: nothing to check"
    assert not any(b["id"] == "UEPT-ACCESS-04" for b in s["verdict"]["blocking"])
    theme = next(t for t in s["themes"] if t["id"] == "UEPT-ACCESS")
    assert theme["not_applicable"] == 1 and theme["not_run"] == 3
    nfr10 = next(r for r in s["requirements"] if r["id"] == "SSI-NFR-10")
    assert {"id": "UEPT-ACCESS-04", "status": "not applicable"} in nfr10["scenarios"]
    from uept.evidence.report import write_reports

    html = write_reports(run_dir, ScenarioCatalogue.load(cat), pdf=False).html
    assert "Not applicable: the role matrix gives every role Log In: nothing to check." in html


def test_an_outline_whose_examples_a_tester_left_empty_still_blocks(tmp_path: Path) -> None:
    suite = tmp_path / "suite"
    (suite / "features").mkdir(parents=True)
    feature = suite / "features" / "demo.feature"
    feature.write_text("@UEPT-DEMO\nFeature: Demo theme\n  @UEPT-DEMO-01\n  Scenario Outline: O\n"
                       "    Given I am the \"<who>\"\n\n    Examples:\n      | who |\n", encoding="utf-8")
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    (run_dir / "scenario-set.json").write_text(json.dumps(inventory.build(suite, [feature], parse_feature(feature))))
    shutil.copy(make_run(tmp_path, name="ref") / "run.json", run_dir / "run.json")
    s = assess(run_dir, ScenarioCatalogue.load(catalogue_file(tmp_path)))
    assert [(b["id"], b["status"]) for b in s["verdict"]["blocking"]] == [("UEPT-DEMO-01", "not run")]


def test_two_outline_rows_that_begin_alike_keep_evidence_of_their_own() -> None:
    """Row values too long to show whole keep a digest of all of them: two rows whose first 40 characters are
    the same never share a folder, where the second would pass for a retry of the first."""
    from uept.evidence.plugin import scenario_key

    row = "features/credentials.feature::test_x[the new user tries to change their password to \"{}\"-{}]"
    a = scenario_key({"UEPT-CRED-14"}, row.format("Short1", "Use at least 12 characters"))
    b = scenario_key({"UEPT-CRED-14"}, row.format("alllowercase12", "upper- and lower-case letters"))
    assert a != b and a.startswith("UEPT-CRED-14-the-new-user-tries-to-change") and len(a) <= len("UEPT-CRED-14-") + 40
    short = scenario_key({"UEPT-INC-02"}, "x::t[first name-First name is required.]")
    assert short == "UEPT-INC-02-first-name-First-name-is-required"  # short rows keep their readable names
