"""The incidents feature, end to end in Chromium with two workers against a reference SSI, and its evidence."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.helpers import run_feature_on_fresh_server, scan_for_secrets, selected_cases

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def full_run(tmp_path_factory):
    return run_feature_on_fresh_server("features/incidents.feature", tmp_path_factory.mktemp("reports"), "-n", "2")


def results(run_dir: Path) -> dict[str, dict]:
    return {p.parent.name: json.loads(p.read_text()) for p in (run_dir / "scenarios").glob("*/result.json")}


def test_the_feature_passes_with_two_workers(full_run):
    result, _ = full_run
    assert result.code == 0, result.stdout[-3000:]
    found = results(result.run_dir)
    assert len(found) == selected_cases(result.run_dir) >= 95  # 48 state x action rows among them
    assert {r["status"] for r in found.values()} == {"passed"}
    assert {r["worker"] for r in found.values()} == {"gw0", "gw1"}


def test_stored_records_are_kept_as_evidence(full_run):
    result, _ = full_run
    found = results(result.run_dir)
    for key in ("UEPT-INC-01", "UEPT-INC-05", "UEPT-INC-12", "UEPT-INC-14"):
        records = [a for a in found[key].get("attachments", []) if a.endswith("-stored-record.json")]
        assert records, f"{key} kept no stored record"
        record = json.loads((result.run_dir / "scenarios" / key / records[0]).read_text())
        assert record["number"]["value"].startswith("INC") and record["sys_id"]["value"]
    round_trip = json.loads((result.run_dir / "scenarios" / "UEPT-INC-10" / "attachment-round-trip.json").read_text())
    assert round_trip["attached_sha256"] == round_trip["downloaded_sha256"]


def test_no_password_seed_or_code_in_any_artefact(full_run):
    result, secrets = full_run
    leaks = scan_for_secrets(result.run_dir, secrets)
    assert not leaks, "\n".join(leaks[:20])
    assert not [v for v in secrets if v in result.stdout + result.stderr]
