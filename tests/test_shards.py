"""`uept run --shard I/N`: the split (fast, no browser), its options, and the plan as pytest applies it."""

from __future__ import annotations

import json
import random
import subprocess
import sys
from pathlib import Path

import pytest

from ssi.errors import UsageError
from tests.evidence_helpers import make_run, new_key
from tests.helpers import ROOT, run_uept
from uept.evidence import shards
from uept.evidence.shards import Case, case_id, load_durations, parse_spec, split


def _cases() -> list[Case]:
    """Eleven cases of six personas; A and B are joined by a case naming both."""
    spec = [("S-01", "A"), ("S-02", "A"), ("S-03", "A"), ("S-04", "B"), ("S-05", "A", "B"), ("S-06", "C"),
            ("S-07", "C"), ("S-08", "D"), ("S-09", "E"), ("S-10", "F"), ("S-11", "F")]
    return [Case(sid, frozenset(p)) for sid, *p in spec]


def _where(parts: list[list[Case]]) -> dict[str, int]:
    return {c.id: n for n, part in enumerate(parts) for c in part}


@pytest.mark.parametrize("total", [1, 2, 3, 4, 7, 20])
def test_every_case_is_in_exactly_one_shard(total: int) -> None:
    cases = _cases()
    parts = split(cases, total)
    assert len(parts) == total
    ids = [c.id for part in parts for c in part]
    assert sorted(ids) == sorted(c.id for c in cases) and len(ids) == len(set(ids))


def test_the_split_is_deterministic_whatever_the_order_of_the_cases() -> None:
    cases = _cases()
    first = split(cases, 3)
    for seed in range(5):
        shuffled = cases[:]
        random.Random(seed).shuffle(shuffled)
        assert split(shuffled, 3) == first
    durations = {c.id: float(i % 4 + 1) for i, c in enumerate(cases)}
    assert split(cases, 3, durations) == split(list(reversed(cases)), 3, dict(reversed(durations.items())))


def test_a_persona_s_cases_stay_in_one_shard_and_shared_cases_join_groups() -> None:
    for total in (2, 3, 4):
        where = _where(split(_cases(), total))
        assert len({where[c] for c in ("S-01", "S-02", "S-03", "S-04", "S-05")}) == 1  # A and B through S-05
        assert where["S-06"] == where["S-07"] and where["S-10"] == where["S-11"]
    groups = shards.persona_groups(_cases())
    assert sorted(len(g) for g in groups) == [1, 1, 2, 2, 5]


def test_a_case_naming_no_persona_is_a_group_of_its_own() -> None:
    cases = [Case(f"N-{i}") for i in range(6)]
    assert [len(p) for p in split(cases, 3)] == [2, 2, 2]


def test_balanced_by_count_largest_groups_first() -> None:
    parts = split(_cases(), 2)
    assert [len(p) for p in parts] == [6, 5]  # A+B (5), then E on a tie; C, F and D on the other
    assert [len(p) for p in split(_cases(), 3)] == [5, 3, 3]
    # no shard is more than one group's worth above the even share
    for total in (2, 3, 4):
        loads = [len(p) for p in split(_cases(), total)]
        assert max(loads) <= len(_cases()) / total + 5


def test_balanced_by_durations_when_they_are_given() -> None:
    cases = _cases()
    slow = {c.id: 1.0 for c in cases} | {"S-08": 30.0}  # D's one case takes as long as all the others
    parts = split(cases, 2, slow)
    where = _where(parts)
    assert [c.id for c in parts[where["S-08"]]] == ["S-08"]  # alone: the rest balance against it
    # a case the durations do not know counts as their median
    known = {c.id: 2.0 for c in cases if c.id != "S-09"}
    assert shards.weights(cases, known)["S-09"] == 2.0
    assert shards.weights(cases, {"other": 5.0}) == {c.id: 1.0 for c in cases}  # none known: by count


def test_more_shards_than_groups_leaves_shards_empty() -> None:
    parts = split([Case("X-1", frozenset({"P"})), Case("X-2", frozenset({"P"}))], 3)
    assert [len(p) for p in parts] == [2, 0, 0]


def test_case_ids_name_the_scenario_and_the_row() -> None:
    assert case_id("UEPT-LOGIN-01") == case_id("UEPT-LOGIN-01", {}) == "UEPT-LOGIN-01"
    assert case_id("UEPT-LOGIN-04", {"who": "myself"}) == 'UEPT-LOGIN-04 {"who": "myself"}'
    assert case_id("X-1", {"b": "2", "a": "1"}) == case_id("X-1", {"a": "1", "b": "2"})


@pytest.mark.parametrize("text", ["0/2", "3/2", "x/y", "1/0", "2", "1/2/3", "-1/2", ""])
def test_bad_shard_specs_are_refused(text: str) -> None:
    with pytest.raises(UsageError):
        parse_spec(text)


def test_good_shard_specs() -> None:
    assert parse_spec("1/1") == (1, 1) and parse_spec(" 3/3 ") == (3, 3) and parse_spec("2/10") == (2, 10)


@pytest.mark.parametrize("args, message", [
    (["--shard", "0/2"], "--shard 0/2: the shard's number must be between 1 and 2"),
    (["--shard", "3/2"], "--shard 3/2: the shard's number must be between 1 and 2"),
    (["--shard", "x/y"], "--shard 'x/y' is not of the form I/N"),
    (["--durations", "README.md"], "--durations balances the shards of a run: it needs --shard I/N"),
    (["--shard", "1/2", "--durations", "README.md"], "--durations README.md: not a uept summary.json"),
    (["--shard", "1/2", "--durations", "features"], "--durations features: not a uept run folder"),
    (["--shard", "1/2", "--durations", "no-such-file.json"], "--durations no-such-file.json: not found"),
])
def test_bad_shard_options_are_one_line_exit_2_before_anything_starts(args: list[str], message: str,
                                                                       tmp_path: Path) -> None:
    result = run_uept("run", "--tags", "@UEPT-LOGIN-01", "--reports", str(tmp_path / "reports"), *args)
    assert result.code == 2, result.stdout + result.stderr
    assert len(result.error_lines) == 1 and message in result.stderr, result.stderr
    assert "Traceback" not in result.stderr and not (tmp_path / "reports").exists()


# ---------------------------------------------------------------- durations of a previous run
def test_durations_from_a_run_folder_its_summary_and_its_pack(tmp_path: Path) -> None:
    from tests.evidence_helpers import catalogue_file
    from uept.evidence.completion import ScenarioCatalogue
    from uept.evidence.pack import build
    from uept.evidence.report import write_reports

    run_dir = make_run(tmp_path)
    from_folder = load_durations(run_dir)
    assert from_folder[case_id("UEPT-DEMO-02", {"who": "myself"})] > 0 and "UEPT-DEMO-01" in from_folder
    write_reports(run_dir, ScenarioCatalogue.load(catalogue_file(tmp_path)), pdf=False)
    assert load_durations(run_dir / "summary.json") == from_folder
    build(run_dir, new_key(tmp_path / "k.pem"))
    assert load_durations(next(run_dir.glob("evidence-pack-*.zip"))) == from_folder


def test_a_durations_file_that_is_not_one_is_refused(tmp_path: Path) -> None:
    (tmp_path / "other.json").write_text(json.dumps({"format": "something/1", "scenarios": []}))
    (tmp_path / "bad.zip").write_bytes(b"PK not a zip")
    for name, message in [("other.json", "not a uept summary.json"), ("bad.zip", "not a readable uept evidence pack")]:
        with pytest.raises(UsageError, match=message):
            load_durations(tmp_path / name)


# ---------------------------------------------------------------- the plan, as pytest applies it
def _plan_of_the_suite(total: int) -> tuple[list[Case], list[shards.Plan]]:
    from ssi.profile import load_profile
    from uept.cli import sharding
    from uept.evidence import access_matrix, features
    from uept.runtime import config

    settings = config.load_settings(None)
    resolved = config.resolve_target(settings, None)
    profile = load_profile(resolved.target.profile)
    chosen = features.load([ROOT / "features"])
    expand = access_matrix.expander(profile, resolved.target.personas)
    cases = sharding.cases(ROOT, chosen, expand, profile, sorted(resolved.target.personas))
    return cases, [shards.plan(cases, i, total) for i in range(1, total + 1)]


def test_the_suite_s_cases_and_personas_as_uept_run_sees_them() -> None:
    cases, plans = _plan_of_the_suite(3)
    by_id = {c.id: c for c in cases}
    assert len(by_id) == len(cases) > 300  # the access-control cells generated from the role matrix included
    assert by_id['UEPT-LOGIN-04 {"who": "myself"}'].personas == {"mistyped password user"}
    assert by_id["UEPT-INC-18"].personas == {"LA user", "SM user"}
    assert any(c.id.startswith("UEPT-ACCESS-01 {") and c.personas == {"AA user"} for c in cases)
    assert len({p.digest for p in plans}) == 1  # one split, whichever shard a machine runs
    assert sorted(c for p in plans for c in p.mine) == sorted(by_id)


def test_pytest_keeps_exactly_the_shard_s_cases(tmp_path: Path) -> None:
    """Every case of the suite (access-control cells generated at collection included) is collected by
    exactly one of the shards, as `uept run --shard` gives them to pytest; a plan that does not know a
    collected case stops the collection."""
    _, plans = _plan_of_the_suite(2)
    collected: list[list[str]] = []

    def collect(plan_file: Path) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "pytest", "features", "--collect-only", "-q", "-o", "testpaths=",
                               "-p", "no:cacheprovider", "--uept-run-dir", str(tmp_path / "run"),
                               "--uept-shard", str(plan_file)], cwd=ROOT, capture_output=True, text=True,
                              timeout=300)

    for p in plans:
        folder = tmp_path / f"shard{p.index}"
        folder.mkdir()
        out = collect(shards.write_plan(folder, p))
        assert out.returncode == 0, out.stdout[-2000:] + out.stderr[-2000:]
        collected.append([ln for ln in out.stdout.splitlines() if "::" in ln])
    assert all(collected) and not set(collected[0]) & set(collected[1])
    assert sum(len(c) for c in collected) == len(plans[0].assignment)
    partial = plans[0]
    partial.assignment.pop(sorted(partial.assignment)[0])
    out = collect(shards.write_plan(tmp_path / "shard1", partial))
    assert out.returncode != 0 and "does not know the scenario case" in out.stdout + out.stderr


# ---------------------------------------------------------------- uept merge of shards
def _shard_runs(tmp_path: Path, specs: list[tuple[int, int, str]]) -> list[Path]:
    """Signed demo runs, each recorded as shard I/N of plan P (the demo's cases split between them)."""
    from uept.evidence.pack import build, load_private_key

    key = tmp_path / "shards.pem"
    keys = ["UEPT-DEMO-01", "UEPT-DEMO-02-myself", "UEPT-DEMO-02-nobody", "UEPT-DEMO-03"]
    out = []
    for n, (index, total, plan) in enumerate(specs):
        mine = keys[index - 1::total]
        run_dir = make_run(tmp_path, name=f"shard{n}", statuses={k: "absent" for k in keys if k not in mine})
        run = json.loads((run_dir / "run.json").read_text())
        run["shard"] = {"index": index, "total": total, "balanced_by": "count", "cases": len(mine),
                        "cases_selected": 4, "estimate": [], "plan": plan}
        (run_dir / "run.json").write_text(json.dumps(run))
        build(run_dir, load_private_key(key, True) if key.exists() else new_key(key), zip_it=False)
        out.append(run_dir)
    return out


def test_merge_joins_the_shards_of_one_split_and_names_a_missing_one(tmp_path: Path) -> None:
    from tests.evidence_helpers import catalogue_file
    from uept.evidence.completion import ScenarioCatalogue, assess
    from uept.evidence.merge import merge_runs

    cat = ScenarioCatalogue.load(catalogue_file(tmp_path))
    one, two, three = _shard_runs(tmp_path, [(1, 3, "sha256:p"), (2, 3, "sha256:p"), (3, 3, "sha256:p")])
    alone = assess(one, cat)["verdict"]
    assert alone["result"] == "INCOMPLETE"
    assert any("this run is shard 1 of 3" in r and "`uept merge`" in r for r in alone["reasons"])
    whole = merge_runs([one, two, three], tmp_path / "r", log=lambda m: None)
    run = json.loads((whole / "run.json").read_text())
    assert run["shards"]["merged"] == [1, 2, 3] and run["shards"]["missing"] == []
    assert [m["shard"]["index"] for m in run["merged_from"]] == [1, 2, 3]
    assert assess(whole, cat)["verdict"]["result"] == "COMPLETE"
    part = merge_runs([one, three], tmp_path / "r2", log=lambda m: None)
    verdict = assess(part, cat)["verdict"]
    assert verdict["result"] == "INCOMPLETE"
    assert any("shard(s) 2 of 3 are not in this merge" in r for r in verdict["reasons"])


def test_merge_refuses_a_shard_twice_or_shards_of_another_split(tmp_path: Path) -> None:
    from uept.evidence.merge import merge_runs

    a, b, c = _shard_runs(tmp_path, [(1, 2, "sha256:p"), (1, 2, "sha256:p"), (2, 2, "sha256:q")])
    with pytest.raises(UsageError, match="are both shard 1/2"):
        merge_runs([a, b], tmp_path / "r", log=lambda m: None)
    with pytest.raises(UsageError, match="of another split"):
        merge_runs([a, c], tmp_path / "r", log=lambda m: None)
