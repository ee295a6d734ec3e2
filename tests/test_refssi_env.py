"""`uept run` and `uept serve` hand the user's choice of reference-SSI portal generation, Entra UI, latency and
Entra host to the embedded server, and nothing else of the REFSSI_ family."""

from __future__ import annotations

from pathlib import Path

from tests.helpers import run_uept
from uept.runtime.reference import EmbeddedSSI, chosen_settings


def test_only_the_settings_a_user_chooses_are_passed_on():
    env = {"REFSSI_PORTAL_UI": "sp", "REFSSI_LATENCY_MS": "50-1500", "REFSSI_UNSAFE": "no_lockout",
           "REFSSI_LOCKOUT_SECONDS": "1", "REFSSI_ENTRA_UI": "", "PATH": "/bin"}
    assert chosen_settings(env) == {"portal_ui": "sp", "latency_ms": "50-1500"}
    assert chosen_settings({}) == {}


def test_a_bad_portal_generation_stops_the_run_with_one_line_before_any_browser(tmp_path):
    run = run_uept("run", "features/mfa_login.feature", "--tags", "@UEPT-LOGIN-01", "--reports", str(tmp_path),
                   env={"REFSSI_PORTAL_UI": "spa"})
    assert run.code == 2, run.stdout + run.stderr
    lines = [line for line in run.stderr.splitlines() if line.strip()]
    assert any("REFSSI_PORTAL_UI" in line and "spa" in line for line in lines), run.stderr
    assert "correct REFSSI_PORTAL_UI in your environment" in run.stderr
    assert "Traceback" not in run.stdout + run.stderr
    assert "browser os:" not in run.stdout  # the run's first line, printed once the browser is chosen, never came


def test_the_chosen_settings_are_the_server_process_environment(monkeypatch):
    monkeypatch.setenv("REFSSI_PORTAL_UI", "sp")
    monkeypatch.setenv("REFSSI_LOCKOUT_SECONDS", "1")  # not the user's to choose: stays out
    with EmbeddedSSI(overrides=chosen_settings()) as server:
        raw = Path(f"/proc/{server.process.pid}/environ").read_bytes().split(b"\0")
    environ = dict(item.decode().split("=", 1) for item in raw if b"=" in item)
    assert environ["REFSSI_PORTAL_UI"] == "sp"
    assert "REFSSI_LOCKOUT_SECONDS" not in environ


def test_the_run_names_the_chosen_generation(tmp_path):
    run = run_uept("run", "features/mfa_login.feature", "--tags", "@UEPT-LOGIN-01", "--reports", str(tmp_path),
                   env={"REFSSI_PORTAL_UI": "sp"})
    assert run.code == 0, run.stdout[-2000:] + run.stderr[-2000:]
    assert "portal ui sp)" in run.stdout
