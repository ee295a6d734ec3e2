"""The CI templates (ci/github-actions.yml, ci/gitlab-ci.yml): valid against their published schemas (the ones
check-jsonschema vendors), shaped as the README says (set up with ./bootstrap.sh setup, N shards as a matrix,
each shard's run folder uploaded, one merge job that gates on the verdict), and the merge job's commands
(ci/merge-shards.sh) run here over shard folders laid out as the artifacts arrive. No browser: the shards are
synthetic signed run folders, merged with --no-pdf."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.evidence_helpers import catalogue_file, make_run, new_key, public_key_file
from tests.helpers import ROOT

CI = ROOT / "ci"
UEPT = Path(sys.executable).with_name("uept")


def _validate(schema: str, path: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "check_jsonschema", "--builtin-schema", schema, str(path)],
                          capture_output=True, text=True, timeout=120)


@pytest.mark.parametrize("name, schema", [("github-actions.yml", "vendor.github-workflows"),
                                          ("github-actions.yml", "custom.github-workflows-require-timeout"),
                                          ("gitlab-ci.yml", "vendor.gitlab-ci")])
def test_the_templates_validate_against_their_published_schemas(name: str, schema: str, tmp_path: Path) -> None:
    result = _validate(schema, CI / name)
    assert result.returncode == 0, result.stdout + result.stderr
    # the check can fail: the same file with a job that names no runner or an unknown keyword does not validate
    data = yaml.safe_load((CI / name).read_text())
    if name.startswith("github"):
        del data["jobs"]["merge"]["runs-on"]
    else:
        data["uept-merge"]["when"] = "sometimes"
    broken = tmp_path / name
    broken.write_text(yaml.safe_dump(data))
    assert _validate(schema, broken).returncode != 0


def test_github_actions_runs_n_shards_and_gates_on_the_merge() -> None:
    wf = yaml.safe_load((CI / "github-actions.yml").read_text())
    shard, merge = wf["jobs"]["shard"], wf["jobs"]["merge"]
    assert shard["strategy"]["matrix"]["shard"] == [1, 2, 3] and shard["strategy"]["fail-fast"] is False
    runs = [s.get("run", "") for s in shard["steps"]]
    assert "./bootstrap.sh setup" in runs  # README's command
    assert any(r.startswith("ci/run-shard.sh ${{ matrix.shard }} ${{ strategy.job-total }} shard-reports")
               for r in runs)
    upload = next(s for s in shard["steps"] if s.get("uses", "").startswith("actions/upload-artifact"))
    assert upload["if"] == "always()" and upload["with"]["path"] == "shard-reports/"
    assert upload["with"]["name"] == "uept-shard-${{ matrix.shard }}"
    assert merge["needs"] == "shard" and merge["if"] == "always()"
    download = next(s for s in merge["steps"] if s.get("uses", "").startswith("actions/download-artifact"))
    assert download["with"] == {"pattern": "uept-shard-*", "path": "shards"}
    assert "ci/merge-shards.sh shards merged" in [s.get("run") for s in merge["steps"]]
    assert "vars.UEPT_ADVISORY" in wf["env"]["UEPT_ADVISORY"]


def test_gitlab_ci_runs_n_shards_and_gates_on_the_merge() -> None:
    ci = yaml.safe_load((CI / "gitlab-ci.yml").read_text())
    assert ci["default"]["before_script"] == ["./bootstrap.sh setup"]
    shard, merge = ci["uept-shard"], ci["uept-merge"]
    assert shard["parallel"] == 3
    assert shard["script"] == ['ci/run-shard.sh "$CI_NODE_INDEX" "$CI_NODE_TOTAL" shard-reports $UEPT_RUN_OPTIONS']
    assert shard["artifacts"]["when"] == "always" and shard["artifacts"]["paths"] == ["shard-reports/"]
    assert merge["when"] == "always" and merge["needs"] == [{"job": "uept-shard", "artifacts": True}]
    assert merge["script"] == ["ci/merge-shards.sh shard-reports merged"]
    assert ci["variables"]["UEPT_ADVISORY"] == "0"


# ---------------------------------------------------------------- the merge job's commands, run here
def _artifacts(tmp_path: Path, failed: bool = False) -> Path:
    """Three signed shard run folders, as download-artifact lays them out: shards/uept-shard-N/<run-id>/."""
    from uept.evidence.pack import build, load_private_key

    keys = ["UEPT-DEMO-01", "UEPT-DEMO-02-myself", "UEPT-DEMO-02-nobody", "UEPT-DEMO-03"]
    key = tmp_path / "party.pem"
    if not key.exists():
        new_key(key)
    root = tmp_path / "shards"
    for index in (1, 2, 3):
        mine = keys[index - 1::3]
        statuses = {k: "absent" for k in keys if k not in mine}
        if failed and "UEPT-DEMO-01" in mine:
            statuses["UEPT-DEMO-01"] = "failed"
        run_dir = make_run(tmp_path / f"made-{index}", name=f"20261123-0800{index}0-s{index}", statuses=statuses)
        run = json.loads((run_dir / "run.json").read_text())
        run["shard"] = {"index": index, "total": 3, "balanced_by": "count", "cases": len(mine), "cases_selected": 4,
                        "estimate": [], "plan": "sha256:plan"}
        (run_dir / "run.json").write_text(json.dumps(run))
        build(run_dir, load_private_key(key, True))
        dest = root / f"uept-shard-{index}" / run_dir.name
        shutil.copytree(run_dir, dest)
    return root


def _merge_job(tmp_path: Path, shards: Path, **env: str) -> subprocess.CompletedProcess:
    full = {k: v for k, v in os.environ.items() if not k.startswith(("UEPT_", "REFSSI_"))}
    full.update({"UEPT": str(UEPT), "UEPT_SIGNING_KEY": str(tmp_path / "party.pem"),
                 "UEPT_PUBLIC_KEY": str(public_key_file(_key(tmp_path), tmp_path / "party.pub")),
                 "UEPT_SCENARIO_CATALOGUE": str(catalogue_file(tmp_path)), "UEPT_MERGE_OPTIONS": "--no-pdf", **env})
    full = {k: v for k, v in full.items() if v != ""}
    out = tmp_path / f"merged-{len(list(tmp_path.glob('merged-*')))}"
    return subprocess.run(["bash", str(CI / "merge-shards.sh"), str(shards), str(out)], cwd=tmp_path, env=full,
                          capture_output=True, text=True, timeout=300)


def _key(tmp_path: Path):
    from uept.evidence.pack import load_private_key

    return load_private_key(tmp_path / "party.pem", True)


def test_the_merge_job_passes_a_complete_run_and_fails_an_incomplete_one(tmp_path: Path) -> None:
    good = _merge_job(tmp_path, _artifacts(tmp_path))
    assert good.returncode == 0, good.stdout + good.stderr
    assert "merging 3 shard run folder(s)" in good.stdout and "exit-criteria verdict: COMPLETE" in good.stdout
    (merged,) = [p for p in tmp_path.glob("merged-*") if p.is_dir()]
    assert json.loads((merged / "run.json").read_text())["shards"]["merged"] == [1, 2, 3]
    assert len(list(merged.glob("evidence-pack-*.zip"))) == 1

    failing = tmp_path / "failing"
    failing.mkdir()
    shutil.copy(tmp_path / "party.pem", failing / "party.pem")  # the party's one key
    bad_shards = _artifacts(failing, failed=True)
    bad = _merge_job(failing, bad_shards)
    assert bad.returncode == 1 and "INCOMPLETE: failing the pipeline" in bad.stderr, bad.stdout + bad.stderr
    assert "blocking: UEPT-DEMO-01 (failed)" in bad.stdout
    advisory = _merge_job(failing, bad_shards, UEPT_ADVISORY="1")
    assert advisory.returncode == 0, advisory.stdout + advisory.stderr
    assert "INCOMPLETE (advisory run: the pipeline does not fail)" in advisory.stdout


def test_the_merge_job_fails_on_a_tampered_shard_even_when_advisory_and_on_no_shard(tmp_path: Path) -> None:
    shards = _artifacts(tmp_path)
    run_json = next(shards.glob("uept-shard-2/*/run.json"))
    run_json.write_text(run_json.read_text().replace("tester", "someone else"))
    result = _merge_job(tmp_path, shards, UEPT_ADVISORY="1")
    assert result.returncode == 2 and "does not verify, so it is not merged" in result.stderr, result.stderr
    empty = tmp_path / "nothing"
    empty.mkdir()
    none = _merge_job(tmp_path, empty)
    assert none.returncode == 2 and "no shard run folder" in none.stderr


def test_without_the_party_s_key_the_merge_job_says_so(tmp_path: Path) -> None:
    shards = _artifacts(tmp_path)
    result = _merge_job(tmp_path, shards, UEPT_SIGNING_KEY="", UEPT_PUBLIC_KEY="")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "WARNING: no UEPT_SIGNING_KEY" in result.stderr
