"""Every check of the MFA feature can fail: against a reference SSI with one server check
switched off (a test-only switch), the scenario that proves that check fails, at the step
that asserts it."""

from __future__ import annotations

import pytest

from tests.helpers import run_with_switches

pytestmark = pytest.mark.slow

CASES = [
    # (switch, scenario tag, scenario key, text of the step that must catch it)
    ("skip_password_check", "@UEPT-LOGIN-04", "UEPT-LOGIN-04-myself",
     'I see the login error "User name or password invalid"'),
    ("skip_code_check", "@UEPT-LOGIN-05", "UEPT-LOGIN-05", 'I see the verification error "Invalid verification code"'),
    ("skip_code_check", "@UEPT-LOGIN-06", "UEPT-LOGIN-06", 'I see the verification error "Invalid verification code"'),
    ("allow_replay", "@UEPT-LOGIN-08", "UEPT-LOGIN-08",
     'I see the verification error "This code has already been used"'),
    ("no_lockout", "@UEPT-LOGIN-09", "UEPT-LOGIN-09", 'I see the login error "Your account is locked"'),
    ("no_idle_timeout", "@UEPT-LOGIN-10", "UEPT-LOGIN-10", "I am asked to log in again because my session expired"),
    ("email_enrolment_forgotten", "@UEPT-LOGIN-22", "UEPT-LOGIN-22", "I am asked for a verification code"),
    ("entra_skip_code_check", "@UEPT-LOGIN-14", "UEPT-LOGIN-14",
     'Microsoft Entra ID refuses the code with "You didn\'t enter the expected verification code"'),
]


# Two servers and two runs for all of them: in each, every scenario meets one switch at most (LOGIN-08 replays a code
# and LOGIN-09 types wrong passwords, which skip_code_check and skip_password_check would take).
SECOND = {"allow_replay", "no_lockout"}


@pytest.fixture(scope="module")
def broken_runs(tmp_path_factory) -> dict[str, tuple]:
    out = {}
    for name in ("first", "second"):
        cases = [c for c in CASES if (c[0] in SECOND) == (name == "second")]
        out[name] = run_with_switches(tmp_path_factory.mktemp(name), ["features/mfa_login.feature"],
                                      sorted({tag.lstrip("@") for _, tag, _, _ in cases}), {c[0] for c in cases})
    return out


@pytest.mark.parametrize(("switch", "tag", "key", "catching_step"), CASES, ids=[f"{c[0]}-{c[1][1:]}" for c in CASES])
def test_scenario_fails_when_the_server_check_is_off(broken_runs, switch, tag, key, catching_step):
    run, results = broken_runs["second" if switch in SECOND else "first"]
    [outcome] = [r for r in results[tag.lstrip("@")] if r["key"] == key]
    assert outcome["status"] == "failed"
    failed = [s for s in outcome["steps"] if s["status"] == "failed"]
    assert [s["text"] for s in failed] == [catching_step], failed
    # the step waited as long as the run was told (UEPT_WAIT_SECONDS), not Playwright's or uept's default
    assert "timeout 4000ms" in (run.run_dir / "pytest.log").read_text().lower()
