"""Every check of the incidents feature can fail: against a reference SSI with the incident checks
switched off (test-only switches), each scenario that proves one of them fails, at the step that
asserts it. One server and one run for all of them, to keep this affordable."""

from __future__ import annotations

import json

import pytest

from tests.helpers import FAIL_SOONER, run_uept
from uept.runtime.reference import EmbeddedSSI

pytestmark = pytest.mark.slow

CASES = [
    # (switch, scenario key, text of the step that must catch it)
    (
        "no_contact_check",
        "UEPT-INC-02-first-name-First-name-is-required",
        'the incident is not raised and I am told "First name is required."',
    ),
    ("flat_priority", "UEPT-INC-06-1-High-1-High-1-Critical-1", 'the incident\'s priority is "1 - Critical"'),
    ("no_caller_resume", "UEPT-INC-08", 'the incident is "In Progress"'),
    ("show_work_notes", "UEPT-INC-09", "I do not see the work note anywhere on the page"),
    (
        "attachment_truncated",
        "UEPT-INC-10",
        "the browser saves it with the same bytes as the file I attached",
    ),
    (
        "no_attachment_check",
        "UEPT-INC-11-a-program-file-named-tool-exe-Fil",  # and a digest of the row's values
        'the file is refused with a message saying "Files of type .exe cannot be attached"',
    ),
    ("no_resolution_check", "UEPT-INC-13", 'I am told "Resolution code is required to resolve an incident."'),
    ("reopen_closed", "UEPT-INC-15", "the SSI refuses to reopen it even when asked directly"),
    ("no_org_scoping", "UEPT-INC-16", "no incident is listed"),
    ("no_raise_check", "UEPT-INC-17-LA-user", 'I see the message "You do not have access to this page"'),
    ("no_escaping", "UEPT-INC-20", "the incident shows exactly the text I typed"),
    (
        "no_length_check",
        "UEPT-INC-21-incident-summary-Incident-summary",
        'the incident is not raised and I am told "Incident summary must be at most 160 characters"',
    ),
    ("no_length_check", "UEPT-INC-28", "I am told how long the update text may be"),
    ("no_length_check", "UEPT-INC-29", "I am told how long the resolution notes may be"),
]
TAGS = " or ".join(sorted({"@" + "-".join(key.split("-")[:3]) for _, key, _ in CASES}))


@pytest.fixture(scope="module")
def broken_run(tmp_path_factory):
    """One run of the scenarios above against a server with all those checks off."""
    reports = tmp_path_factory.mktemp("reports")
    with EmbeddedSSI(unsafe={switch for switch, _, _ in CASES}) as server:
        result = run_uept(
            "run",
            "features/incidents.feature",
            "--tags",
            TAGS,
            "--target",
            server.url,
            "--reports",
            str(reports),
            "-n",
            "2",
            env={**server.env, **FAIL_SOONER},
        )
    assert result.code == 1, result.stdout[-3000:]
    return result.run_dir


SWITCHES = [c[0] for c in CASES]
IDS = [c[0] if SWITCHES.count(c[0]) == 1 else f"{c[0]}-{c[1][5:11]}" for c in CASES]


@pytest.mark.parametrize(("switch", "key", "catching_step"), CASES, ids=IDS)
def test_scenario_fails_when_the_server_check_is_off(broken_run, switch, key, catching_step):
    [folder] = [d for d in (broken_run / "scenarios").iterdir() if d.name == key or d.name.startswith(key + "-")]
    outcome = json.loads((folder / "result.json").read_text())
    assert outcome["status"] == "failed", f"{key} did not fail with {switch} off"
    failed = [s for s in outcome["steps"] if s["status"] == "failed"]
    assert [s["text"] for s in failed] == [catching_step], failed
