"""The service requests feature (UEPT theme 5), end to end in Chromium against a reference SSI: it passes whole
on the classic generation (the sp run of every feature is tests/test_suite_generations.py), its stored records
are kept as evidence, and each of its checks can fail: with one server-side rule switched off (a test-only
REFSSI_UNSAFE switch) the scenario that shows the rule fails, at the step that checks it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.helpers import failed_steps, run_feature_on_fresh_server, run_with_switches, scan_for_secrets, selected_cases

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def full_run(tmp_path_factory):
    return run_feature_on_fresh_server("features/service_requests.feature", tmp_path_factory.mktemp("reports"), "-n",
                                       "2")


def results(run_dir: Path) -> dict[str, dict]:
    return {p.parent.name: json.loads(p.read_text()) for p in (run_dir / "scenarios").glob("*/result.json")}


def test_the_feature_passes(full_run):
    result, _ = full_run
    assert result.code == 0, result.stdout[-3000:]
    found = results(result.run_dir)
    assert len(found) == selected_cases(result.run_dir) >= 20 and {r["status"] for r in found.values()} == {"passed"}, {
        k: r["status"] for k, r in found.items()}


def test_stored_requests_are_kept_as_evidence_and_no_secret_leaks(full_run):
    result, secrets = full_run
    found = results(result.run_dir)
    for key in ("UEPT-SR-01", "UEPT-SR-02"):
        [name] = [a for a in found[key].get("attachments", []) if a.endswith("-stored-record.json")]
        record = json.loads((result.run_dir / "scenarios" / key / name).read_text())
        assert record["sc_req_item"]["number"]["value"].startswith("RITM")
        assert record["sc_request"]["number"]["value"].startswith("REQ") and record["sc_item_option"]
    leaks = scan_for_secrets(result.run_dir, secrets)
    assert not leaks, "\n".join(leaks[:20])


CASES = [
    ("sr_no_org_scoping", "UEPT-SR-06", "that request is not among the open service requests"),
    ("sr_no_mandatory_check", "UEPT-SR-03", 'the request is not submitted and I am told "Request summary is '
                                            'required."'),
    ("sr_no_raise_check", "UEPT-SR-07",
     'the address of the "Service Management Service Request" is refused with a readable 403 page'),
    ("sr_no_signature_check", "UEPT-SR-09",
     'the request is not submitted and I am told "is refused because it is not signed"'),
    ("sr_no_size_check", "UEPT-SR-09",
     'the request is not submitted and I am told "files larger than 1 MB cannot be submitted"'),
    ("sr_skip_validation", "UEPT-SR-08", 'the request\'s delivery status is "Processing"'),
    ("sr_size_limit_exclusive", "UEPT-SR-13", "I see the numbers of the new request and its requested item"),
    ("sr_limit_exclusive", "UEPT-SR-16", "I see the numbers of the new request and its requested item"),
    ("sr_checks_stop_at_empty", "UEPT-SR-04",
     'the request is not submitted and I am told "Email must be a valid email address"'),
    ("sr_update_offered_when_closed", "UEPT-SR-15", "the request offers exactly these updates: none"),
    ("sr_update_accepted_when_closed", "UEPT-SR-15", "the Table API takes exactly these updates from me: none"),
    ("sr_updates_refused_when_open", "UEPT-SR-14",
     'the Table API takes exactly these updates from me: "Attach a file" and "Update text"'),
    ("sr_requester_sets_state", "UEPT-SR-14", "the Table API lets me set the item's state to exactly: none"),
]
# Two servers and two runs for all of them: in each, every scenario meets one switch at most (the second holds the
# switches whose scenario, or whose rule, one of the first's already breaks).
SECOND = {"sr_no_size_check", "sr_checks_stop_at_empty", "sr_update_accepted_when_closed", "sr_requester_sets_state"}
GROUPS = {"first": [c for c in CASES if c[0] not in SECOND], "second": [c for c in CASES if c[0] in SECOND]}


@pytest.fixture(scope="module")
def broken_runs(tmp_path_factory) -> dict[str, dict[str, list[dict]]]:
    out = {}
    for name, cases in GROUPS.items():
        _, out[name] = run_with_switches(tmp_path_factory.mktemp(name), ["features/service_requests.feature"],
                                         [scenario for _, scenario, _ in cases], {switch for switch, _, _ in cases})
    return out


@pytest.mark.parametrize(("switch", "scenario", "failing_step"), CASES, ids=[c[0] for c in CASES])
def test_the_scenario_fails_when_the_ssi_skips_the_rule(broken_runs, switch: str, scenario: str,
                                                         failing_step: str) -> None:
    results = broken_runs["second" if switch in SECOND else "first"][scenario]
    assert results, f"{scenario} did not run"
    assert failing_step in failed_steps(results), [(r["key"], r["status"], failed_steps([r])) for r in results]
