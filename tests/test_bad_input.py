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


def test_a_picture_scale_that_would_make_pictures_unreadable_is_refused(tmp_path):
    cfg = write(tmp_path, "uept.yaml", "picture_scale: 0.3\n")
    line = assert_one_line_error(run_uept("run", "--config", str(cfg)), "picture_scale")
    assert "0.5" in line  # says the smallest scale it takes


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


def test_a_new_feature_needs_no_python_but_its_steps_must_exist(tmp_path):
    from tests.test_integrity import _suite_copy

    suite = _suite_copy(tmp_path)
    write(suite / "features", "orphan.feature", "Feature: Orphan\n  @UEPT-X-01\n  Scenario: s\n    Given a step\n")
    r = run_uept("run", "features/orphan.feature", cwd=suite)
    assert_one_line_error(r, "features/orphan.feature:4", "no step definition matches 'Given a step'")


def test_a_feature_outside_the_suite(tmp_path):
    f = write(tmp_path, "elsewhere.feature", "Feature: Elsewhere\n  @UEPT-X-01\n  Scenario: s\n    Given a step\n")
    assert_one_line_error(run_uept("run", str(f)), "is outside the suite", "features/")


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


# ---------------------------------------------------------------- found up front, before anything starts
def test_a_target_that_answers_but_is_not_an_ssi(tmp_path):
    import subprocess
    import sys

    port = free_port()
    server = subprocess.Popen([sys.executable, "-u", "-m", "http.server", str(port), "--bind", "127.0.0.1"],
                              cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    try:
        assert server.stdout is not None
        assert b"Serving HTTP" in server.stdout.readline()  # printed once it listens
        r = run_uept("run", "--target", f"http://127.0.0.1:{port}")
    finally:
        server.kill()
        server.wait()
    line = assert_one_line_error(r, "answers but is not a ServiceNow SSI", "/login.do")
    assert "starting" not in r.stdout and "browser" not in r.stdout, line


def test_a_browser_path_that_is_another_program(tmp_path):
    line = assert_one_line_error(run_uept("run", env={"UEPT_CHROMIUM": "/bin/true"}), "UEPT_CHROMIUM=/bin/true",
                                 "is not a Chromium browser")
    assert "true (GNU coreutils)" in line or "printed nothing" in line


def test_an_undefined_step_is_refused_before_the_server_starts(tmp_path):
    from tests.test_integrity import _suite_copy

    suite = _suite_copy(tmp_path)
    feature = suite / "features" / "mfa_login.feature"
    lines = feature.read_text(encoding="utf-8").splitlines()
    tag = next(i for i, ln in enumerate(lines) if "@UEPT-LOGIN-01" in ln.split())
    step = next(i for i in range(tag, len(lines)) if lines[i].strip().startswith("Given "))
    lines.insert(step + 1, "    And I dance the tango with the portal")
    feature.write_text("\n".join(lines) + "\n", encoding="utf-8")
    reports = tmp_path / "reports"
    r = run_uept("run", "features/mfa_login.feature", "--tags", "@UEPT-LOGIN-01", "--reports", str(reports),
                 cwd=suite)
    line = assert_one_line_error(r, f"features/mfa_login.feature:{step + 2}", "no step definition matches",
                                 "'And I dance the tango with the portal'")
    assert "starting the reference SSI" not in r.stdout and not any(reports.glob("*/run.json")), line


@pytest.mark.parametrize("where", ["file", "proc"])
def test_a_reports_folder_that_cannot_be_written(tmp_path, where):
    target = tmp_path / "a-file" if where == "file" else Path("/proc/uept-reports")
    if where == "file":
        target.write_text("not a folder")
    r = run_uept("run", "--reports", str(target))
    assert_one_line_error(r, str(target), "--reports")
    assert "starting the reference SSI" not in r.stdout


def test_serve_on_an_impossible_port():
    assert_one_line_error(run_uept("serve", "--port", "99999"), "--port 99999", "0 to 65535")


def test_a_bad_target_profile_is_named_at_once(tmp_path):
    import time

    profile = write(tmp_path, "dcc-profile.yaml", (ROOT / "ssi" / "profiles" / "reference.yaml").read_text()
                    .replace("lockout_threshold: 5 ", "lockout_threshold: lots "))
    (tmp_path / "role_matrix.yaml").write_text((ROOT / "ssi" / "profiles" / "role_matrix.yaml").read_text())
    cfg = write(tmp_path, "uept.yaml", f"targets:\n  uit:\n    url: http://127.0.0.1:{free_port()}\n"
                f"    profile: {profile}\n    personas: {{}}\n")
    t0 = time.monotonic()
    r = run_uept("run", "--config", str(cfg), "--target", "uit")
    line = assert_one_line_error(r, "session.lockout_threshold", str(profile))
    assert time.monotonic() - t0 < 15 and "bootstrap" not in line and "Error:" not in line, line


def test_a_profile_that_is_not_a_mapping(tmp_path):
    profile = write(tmp_path, "p.yaml", "- just\n- a list\n")
    cfg = write(tmp_path, "uept.yaml", f"targets:\n  uit:\n    url: http://127.0.0.1:1\n    profile: {profile}\n")
    assert_one_line_error(run_uept("run", "--config", str(cfg), "--target", "uit"), "must hold a mapping")


def test_a_target_url_of_another_scheme():
    assert_one_line_error(run_uept("run", "--target", "ftp://dccssi.example"), "is not an http(s) URL")


def test_a_run_refused_up_front_makes_no_signing_key(tmp_path):
    from tests.test_integrity import _suite_copy

    suite = _suite_copy(tmp_path)
    r = run_uept("run", "--target", f"http://127.0.0.1:{free_port()}", cwd=suite)
    assert_one_line_error(r, "unreachable")
    assert not (suite / ".uept" / "signing-key.pem").exists()


def test_verify_names_a_truncated_pack_and_an_unsafe_member(tmp_path):
    import zipfile

    from tests.evidence_helpers import make_run, new_key
    from uept.evidence.pack import build

    pack = build(make_run(tmp_path), new_key(tmp_path / "k.pem")).zip_path
    cut = tmp_path / "cut.zip"
    cut.write_bytes(pack.read_bytes()[: pack.stat().st_size // 2])
    r = run_uept("verify", str(cut))
    assert r.code == 1 and "damaged zip" in r.stdout and "cut short" in r.stdout, r.stdout
    evil = tmp_path / "evil.zip"
    with zipfile.ZipFile(pack) as src, zipfile.ZipFile(evil, "w") as out:
        for info in src.infolist():
            out.writestr(info, src.read(info))
        out.writestr("../../etc/cron.d/evil", "* * * * * root true\n")
    r = run_uept("verify", str(evil))
    assert r.code == 1 and "unsafe paths ('../../etc/cron.d/evil')" in r.stdout, r.stdout
    assert "manifest.json is missing" not in r.stdout


@pytest.mark.parametrize("value", ["soon", "0", "-1", "301", "nan"])
def test_a_wait_that_is_not_a_number_of_seconds(value):
    line = assert_one_line_error(run_uept("run", env={"UEPT_WAIT_SECONDS": value}), f"UEPT_WAIT_SECONDS={value}")
    assert "e.g. UEPT_WAIT_SECONDS=20" in line


def test_a_target_s_wait_out_of_range(tmp_path):
    cfg = write(tmp_path, "uept.yaml", "targets:\n  uit:\n    url: https://x.example\n    wait_seconds: 0\n")
    assert_one_line_error(run_uept("run", "--config", str(cfg), "--target", "uit"), "targets.uit.wait_seconds")
