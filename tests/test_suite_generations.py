"""The whole suite passes on the Service Portal generation (REFSSI_PORTAL_UI=sp), and the MFA and incident
features on the classic one, with the same page objects and steps: uept run as a user runs it, against the
embedded reference SSI it starts itself."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.helpers import run_uept

pytestmark = pytest.mark.slow


def failures(run_dir: Path) -> list[str]:
    out = []
    for result in sorted((run_dir / "scenarios").glob("*/result.json")):
        outcome = json.loads(result.read_text())
        if outcome["status"] != "passed":
            step = next((s["text"] for s in outcome["steps"] if s["status"] == "failed"), "")
            out.append(f"{result.parent.name}: {outcome['status']} at {step!r}")
    return out


@pytest.mark.parametrize(("portal_ui", "features"), [
    ("sp", ["features"]),
    ("classic", ["features/mfa_login.feature", "features/incidents.feature"]),
], ids=["sp-every-feature", "classic-mfa-and-incidents"])
def test_the_suite_passes_on_the_portal_generation(tmp_path: Path, portal_ui: str, features: list[str]) -> None:
    result = run_uept("run", *features, "-n", "2", "--reports", str(tmp_path), env={"REFSSI_PORTAL_UI": portal_ui},
                      timeout=1500)
    assert f"portal ui {portal_ui}" in result.stdout
    assert failures(result.run_dir) == []
    assert result.code == 0, result.stdout[-2000:] + result.stderr[-2000:]
