"""Bad input: one line saying what is wrong and how to fix it, exit 2, no traceback."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from tests.helpers import ROOT, run_uept


def assert_one_line_error(result, *needles: str) -> str:
    assert result.code == 2, (result.code, result.stdout[-1500:], result.stderr[-1500:])
    assert "Traceback" not in result.stdout + result.stderr
    lines = result.error_lines
    assert len(lines) == 1, lines
    line = lines[0]
    assert line.startswith("uept: error: ")
    for n in needles:
        assert n in line, line
    return line


def write(tmp_path: Path, name: str, text: str) -> Path:
    p = tmp_path / name
    p.write_text(text, encoding="utf-8")
    return p


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_invalid_config_value(tmp_path):
    cfg = write(tmp_path, "uept.yaml", "targets:\n  uit:\n    url: dccssi.example\n    personas: {}\n")
    line = assert_one_line_error(run_uept("run", "--config", str(cfg), "--target", "uit"), "targets.uit.url")
    assert "http" in line  # says what a valid value looks like


def test_config_with_a_secret_written_in_it_is_refused(tmp_path):
    cfg = write(tmp_path, "uept.yaml", "targets:\n  uit:\n    url: https://x.example\n    personas:\n"
                "      admin: {username: a, password_env: 'hunter2 is my password'}\n")
    assert_one_line_error(run_uept("run", "--config", str(cfg), "--target", "uit"), "password_env",
                          "environment variable name")


def test_config_that_is_not_yaml(tmp_path):
    cfg = write(tmp_path, "uept.yaml", "targets: [unclosed\n")
    assert_one_line_error(run_uept("run", "--config", str(cfg)), "not valid YAML", "uept.yaml")


def test_missing_config_file(tmp_path):
    assert_one_line_error(run_uept("run", "--config", str(tmp_path / "nope.yaml")), "not found")


def test_unknown_target():
    assert_one_line_error(run_uept("run", "--target", "production"), "unknown target 'production'", "reference")


def test_secret_environment_variable_unset(tmp_path, reference_ssi):
    cfg = write(tmp_path, "uept.yaml", f"targets:\n  uit:\n    url: {reference_ssi.url}\n    personas:\n"
                "      admin: {username: oa.nps, password_env: UEPT_TEST_UNSET_PASSWORD, "
                "totp_seed_env: UEPT_TEST_UNSET_SEED}\n")
    assert_one_line_error(run_uept("run", "--config", str(cfg), "--target", "uit"), "UEPT_TEST_UNSET_PASSWORD",
                          "is not set", "export")


def test_unreachable_target():
    url = f"http://127.0.0.1:{free_port()}"
    assert_one_line_error(run_uept("run", "--target", url), "unreachable", url)


def test_invalid_target_url():
    assert_one_line_error(run_uept("run", "--target", "http://"), "not an http(s) URL")


def test_no_browser_found():
    env = {"UEPT_CHROMIUM_CANDIDATES": "/nonexistent/chromium", "PLAYWRIGHT_BROWSERS_PATH": "/nonexistent"}
    assert_one_line_error(run_uept("run", env=env), "no Chromium", "./bootstrap.sh")


def test_browser_path_that_is_not_a_browser(tmp_path):
    assert_one_line_error(run_uept("run", env={"UEPT_CHROMIUM": str(tmp_path / "chromium")}),
                          "UEPT_CHROMIUM", "not an executable")


def test_malformed_feature(tmp_path):
    bad = write(tmp_path, "broken.feature",
                "Feature: Broken\n  Scenario: ok\n    Given a step\n  Scenario Outline missing colon\n    Given x\n")
    assert_one_line_error(run_uept("run", str(bad)), f"{bad}:4", "fix the Gherkin")


def test_feature_without_step_module(tmp_path):
    f = write(tmp_path, "orphan.feature", "Feature: Orphan\n  @UEPT-X-01\n  Scenario: s\n    Given a step\n")
    assert_one_line_error(run_uept("run", str(f)), "has no step module", "steps/test_orphan.py")


@pytest.mark.parametrize(("tags", "needle"), [("@UEPT-LOGIN-01 and (", "not a valid tag expression"),
                                              ("@NO-SUCH-TAG", "no scenario matches")])
def test_bad_tags(tags, needle):
    assert_one_line_error(run_uept("run", "--tags", tags), needle)


def test_zero_workers():
    assert_one_line_error(run_uept("run", "-n", "0"), "at least 1")


def test_unknown_option_is_a_usage_error():
    r = run_uept("run", "--no-such-option")
    assert r.code == 2 and "Traceback" not in r.stderr and "unrecognized arguments" in r.stderr


def test_serve_on_a_busy_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        port = s.getsockname()[1]
        assert_one_line_error(run_uept("serve", "--port", str(port), "--state-dir", str(ROOT / ".uept" / "t")),
                              f":{port}", "--port")
