"""End to end: `uept run --shard I/N` on N "machines" and `uept merge` of their run folders equal one full run
(scenario-set hash, every scenario case's result, the exit-criteria verdict), for N = 2 and 3.

Kept lean: five cases of four personas of features/mfa_login.feature (the two rows of UEPT-LOGIN-04 share
a persona, so they must share a shard), one reference SSI for all six runs; the shards of each N run side by
side, as on N runners. N = 2 is balanced by count, N = 3 by the durations of the full run.
"""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from tests.evidence_helpers import new_key, public_key_file
from tests.helpers import login_catalogue, run_uept
from uept.runtime.reference import EmbeddedSSI

pytestmark = pytest.mark.slow

CHOSEN = ["@UEPT-LOGIN-01", "@UEPT-LOGIN-02", "@UEPT-LOGIN-04", "@UEPT-LOGIN-11"]
CATALOGUE = login_catalogue(*CHOSEN)


def _outcome(summary: dict) -> dict:
    """What must be equal: the scenario set, every case's result, and the verdict."""
    return {
        "hash": summary["scenario_set"]["hash"],
        "selected": summary["scenario_set"]["selected"],
        "scenarios": {r["id"]: r["status"] for r in summary["scenarios"]},
        "cases": sorted((r["id"], res["key"], res["status"], len(res["attempts"]))
                        for r in summary["scenarios"] for res in r["results"]),
        "verdict": {k: summary["verdict"][k] for k in ("result", "mandatory", "mandatory_passed", "blocking")},
    }


def test_shards_merged_equal_one_full_run(tmp_path: Path) -> None:
    pub = public_key_file(new_key(tmp_path / "party.pem"), tmp_path / "party.pub")
    (tmp_path / "scenarios.yaml").write_text(CATALOGUE)
    tags = " or ".join(CHOSEN)
    with EmbeddedSSI() as ssi:
        env = {**ssi.env, "UEPT_SIGNING_KEY": str(tmp_path / "party.pem"),
               "UEPT_SCENARIO_CATALOGUE": str(tmp_path / "scenarios.yaml")}

        def run(folder: str, *args: str):
            result = run_uept("run", "features/mfa_login.feature", "--tags", tags, "--target", ssi.url,
                              "--reports", str(tmp_path / folder), *args, env=env)
            assert result.code == 0, result.stdout[-3000:] + result.stderr[-2000:]
            return result

        def at_once(*runs: tuple[str, ...]) -> list[Path]:  # N shards run side by side, as on N CI runners
            with ThreadPoolExecutor(len(runs)) as pool:
                return [r.run_dir for r in pool.map(lambda a: run(*a), runs)]

        full = run("full").run_dir
        shards = {2: at_once(*[("two", "--shard", f"{i}/2") for i in (1, 2)]),
                  3: at_once(*[("three", "--shard", f"{i}/3", "--durations", str(full)) for i in (1, 2, 3)])}
        # more shards than persona groups: a shard with nothing to run starts no browser and records an empty run
        empty = run_uept("run", "features/mfa_login.feature", "--tags", "@UEPT-LOGIN-04", "--shard", "2/2",
                         "--target", ssi.url, "--reports", str(tmp_path / "empty"), env=env)
    assert empty.code == 0 and "shard 2/2 has no scenario to run" in empty.stdout, empty.stdout + empty.stderr
    assert json.loads((empty.run_dir / "run.json").read_text())["status"] == "passed"
    assert not (empty.run_dir / "scenarios").exists() or not any((empty.run_dir / "scenarios").iterdir())
    assert len(list(empty.run_dir.glob("evidence-pack-*.zip"))) == 1
    expected = _outcome(json.loads((full / "summary.json").read_text()))
    assert expected["verdict"]["result"] == "COMPLETE" and len(expected["cases"]) == 5
    for n, folders in shards.items():
        runs = [json.loads((f / "run.json").read_text()) for f in folders]
        assert [r["shard"]["index"] for r in runs] == list(range(1, n + 1))
        assert len({r["shard"]["plan"] for r in runs}) == 1
        assert runs[0]["shard"]["balanced_by"] == ("count" if n == 2 else f"durations from {full}")
        keys = [sorted(p.name for p in (f / "scenarios").iterdir()) for f in folders]
        assert sorted(k for ks in keys for k in ks) == sorted(k for _, k, _, _ in expected["cases"])
        both_rows = {"UEPT-LOGIN-04-myself", "UEPT-LOGIN-04-someone-who-has-no-account"}
        assert any(both_rows <= set(ks) for ks in keys)  # one persona's cases: one shard
        alone = json.loads((folders[0] / "summary.json").read_text())["verdict"]
        assert alone["result"] == "INCOMPLETE" and any(f"shard 1 of {n}" in r for r in alone["reasons"])
        merged = run_uept("merge", *map(str, folders), "-o", str(tmp_path / f"merged-{n}"), "--no-pdf",
                          "--key", str(pub), env=env)
        assert merged.code == 0, merged.stdout[-3000:] + merged.stderr[-2000:]
        assert _outcome(json.loads((tmp_path / f"merged-{n}" / "summary.json").read_text())) == expected
