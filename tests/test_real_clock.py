"""The @real-clock scenarios (UEPT-LOGIN-19 and -20) wait the profile's time limits out on the SSI's own clock, for a
real SSI where nothing can make time pass. They are proved against a reference SSI started with a copy of the
reference profile whose limits are seconds, not minutes (the harness reads the same copy, so it waits seconds):
they pass against it, and against one whose sessions never expire and whose emailed codes stay valid 30 minutes each
fails at the step that checks its rule. `uept run` leaves them out unless --tags names @real-clock."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from ssi.profile import PROFILES_DIR
from tests.helpers import run_uept
from uept.cli.run import selection
from uept.runtime.config import reference_target
from uept.runtime.reference import EmbeddedSSI

IDLE_S, CODE_S = 10, 4  # the copy's limits: the emailed code runs out (with its margin) well inside the idle timeout


def short_clock_profile(folder: Path) -> Path:
    data = yaml.safe_load((PROFILES_DIR / "reference.yaml").read_text())
    data["session"]["idle_timeout_seconds"] = IDLE_S
    data["mfa"]["email_code"]["validity_seconds"] = CODE_S
    data["role_matrix"] = str(PROFILES_DIR / data["role_matrix"])
    path = folder / "short-clock.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


def run_real_clock(folder: Path, unsafe: set[str]) -> tuple[int, str, dict[str, dict]]:
    """Both @real-clock scenarios against a reference SSI of the short-clock profile, the harness reading it too."""
    profile = short_clock_profile(folder)
    with EmbeddedSSI(profile=str(profile), unsafe=unsafe) as server:
        target = reference_target().model_copy(update={"url": server.url, "profile": str(profile)})
        config = folder / "uept.yaml"
        config.write_text(yaml.safe_dump({"target": "short-clock", "targets": {
            "short-clock": target.model_dump(mode="json", exclude_none=True)}}))
        run = run_uept("run", "features/mfa_login.feature", "--tags", "@real-clock", "--config", str(config),
                       "--reports", str(folder / "reports"), "-n", "2", env=server.env, timeout=300)
    results = {p.parent.name: json.loads(p.read_text()) for p in run.run_dir.glob("scenarios/*/result.json")}
    return run.code, run.stdout, results


def failed_step(result: dict) -> str | None:
    return next((s["text"] for s in result["steps"] if s["status"] == "failed"), None)


def test_uept_run_leaves_real_clock_scenarios_out_unless_the_tags_name_them():
    assert selection(None) == "not real-clock"
    assert selection("@UEPT-LOGIN") == "(UEPT-LOGIN) and not real-clock"
    assert selection("@UEPT-LOGIN and @real-clock") == "UEPT-LOGIN and real-clock"


@pytest.mark.slow
def test_real_clock_scenarios_wait_the_profiles_limits_and_pass(tmp_path):
    code, stdout, results = run_real_clock(tmp_path, set())
    assert code == 0, stdout[-3000:]
    assert sorted(results) == ["UEPT-LOGIN-19", "UEPT-LOGIN-20"]
    waits = {k: next(s for s in r["steps"] if "SSI's own clock" in s["text"]) for k, r in results.items()}
    assert waits["UEPT-LOGIN-19"]["duration"] >= IDLE_S and waits["UEPT-LOGIN-20"]["duration"] >= CODE_S, waits
    assert {r["worker"] for r in results.values()} == {"gw0", "gw1"}  # each on a worker of its own


@pytest.mark.slow
def test_real_clock_scenarios_fail_against_an_ssi_that_ignores_the_limits(tmp_path):
    code, stdout, results = run_real_clock(tmp_path, {"no_idle_timeout", "email_code_30_minutes"})
    assert code == 1, stdout[-3000:]
    assert failed_step(results["UEPT-LOGIN-19"]) == "I am asked to log in again because my session expired"
    assert failed_step(results["UEPT-LOGIN-20"]) == 'I see the verification error "This code has expired"'
