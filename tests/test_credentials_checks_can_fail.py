"""Each check of the access-control and credentials features fails against an SSI that lacks it.

The reference SSI is started with test-only switches (refssi.faults.FAULTS) that
each disable one server rule; the scenarios that prove that rule must then fail, for that
reason. Runs real scenarios in Chromium, so it is marked slow.
"""

from __future__ import annotations

import os
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from tests.helpers import FAIL_SOONER, ROOT
from uept.runtime.reference import EmbeddedSSI

pytestmark = pytest.mark.slow

# Reporting: a function whose page is guarded only by the portal's component check (the incident and OMS
# modules check their own rights again, which no_component_check does not switch off).
CELL_WITHHELD = ("features/access_control.feature::test_a_role_is_not_offered_a_function_the_role_matrix_withholds_"
                 "and_its_address_is_refused[CC user-Reporting-Call Centre User]")
CELL_GRANTED = ("features/access_control.feature::test_a_role_is_offered_each_function_the_role_matrix_grants_it_"
                "and_its_page_opens[CC user-Meter Read Transactions-Call Centre User]")
ISOLATION = ("features/credentials.feature::"
             "test_an_administrator_can_neither_see_nor_open_another_organisations_accounts")
DEACTIVATE = "features/credentials.feature::test_a_deactivated_user_cannot_log_in_and_can_again_once_reinstated"
RESET_MFA = "features/credentials.feature::test_resetting_a_users_multifactor_authentication_makes_them_set_it_up_again"


def run_scenarios(unsafe: set[str], node_ids: list[str], tmp: Path, **overrides: str) -> dict[str, str]:
    """{test name: failure message, or '' if it passed} for these scenarios against a broken server."""
    with EmbeddedSSI(unsafe=unsafe, overrides=overrides) as ssi:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("UEPT_", "REFSSI_", "PYTEST_"))}
        env.update(ssi.env, UEPT_STATE_DIR=str(tmp / "state"), **FAIL_SOONER)
        junit = tmp / "junit.xml"
        subprocess.run([sys.executable, "-m", "pytest", *node_ids, "-o", "testpaths=", "-p", "no:cacheprovider",
                        "-q", "--uept-target", ssi.url, "--uept-run-dir", str(tmp / "run"), "--junitxml", str(junit)],
                       cwd=ROOT, env=env, capture_output=True, text=True, timeout=900)
    out = {}
    for case in ET.parse(junit).getroot().iter("testcase"):
        failure = case.find("failure")
        if failure is None:
            failure = case.find("error")
        out[case.get("name")] = "" if failure is None else (failure.get("message") or "failed")
    assert len(out) == len(node_ids), f"expected {len(node_ids)} results, got {sorted(out)}"
    return out


def name(node_id: str) -> str:
    return node_id.split("::")[-1]


def test_menus_scope_deactivation_and_mfa_reset_are_each_checked(tmp_path):
    results = run_scenarios({"menu_shows_all", "no_org_scope", "deactivate_keeps_access", "keep_mfa_on_reset"},
                            [CELL_WITHHELD, ISOLATION, DEACTIVATE, RESET_MFA], tmp_path)
    assert "to have count '0'" in results[name(CELL_WITHHELD)], results  # the menu offered it
    assert results[name(ISOLATION)], "an administrator listing another organisation's accounts went unnoticed"
    assert results[name(DEACTIVATE)], "a deactivated account that still signs in went unnoticed"
    assert results[name(RESET_MFA)], "an MFA reset that changes nothing went unnoticed"


@pytest.mark.parametrize("portal_ui", ["classic", "sp"])
def test_the_403_of_a_withheld_function_is_checked(tmp_path, portal_ui):
    """On sp the page's document is the shell (200 whatever the page): the 403 is the page API's answer."""
    results = run_scenarios({"no_component_check"}, [CELL_WITHHELD, CELL_GRANTED], tmp_path, portal_ui=portal_ui)
    assert "not 403" in results[name(CELL_WITHHELD)], results
    assert results[name(CELL_GRANTED)] == "", "a granted cell must still pass: only the 403 check is broken"
