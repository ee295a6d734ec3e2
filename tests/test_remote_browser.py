"""Remote browsers: `uept run --browser-endpoint ws://HOST:PORT/` against a real `playwright run-server` started
on loopback by the test (`--unsafe`, so that it accepts the OS Chromium uept names for it through
UEPT_REMOTE_CHROMIUM: this machine has no Playwright browser build for the server to launch).

The slow test runs features/mfa_login.feature (the Entra scenarios included: their host,
login.microsoftonline.localhost, is reached through the connection) with per-step screenshots, traces and
the secret scan, as tests/test_mfa_feature.py does with a local browser. The others check what uept says,
before anything starts, about an endpoint that is wrong, unreachable, of another Playwright version or
without a browser to launch.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.evidence_helpers import new_key, public_key_file
from tests.helpers import ROOT, UeptRun, run_secrets, run_uept, scan_for_secrets
from uept.runtime import browser
from uept.runtime.reference import EmbeddedSSI


@pytest.fixture(scope="module")
def browser_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict]:
    """`playwright run-server --unsafe` on a free loopback port, logging its connections."""
    from playwright._impl._driver import compute_driver_executable

    node, cli = compute_driver_executable()
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    log = tmp_path_factory.mktemp("server") / "run-server.log"
    out = open(log, "w")
    proc = subprocess.Popen([node, cli, "run-server", "--port", str(port), "--host", "127.0.0.1", "--unsafe"],
                            stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True,
                            env={**os.environ, "DEBUG": "pw:server"})
    try:
        deadline = time.monotonic() + 30
        while f"ws://127.0.0.1:{port}/" not in log.read_text():
            assert proc.poll() is None and time.monotonic() < deadline, log.read_text()[-2000:]
            time.sleep(0.1)  # waiting for the server to listen
        yield {"endpoint": f"ws://127.0.0.1:{port}/", "log": log, "port": port, "pid": proc.pid}
    finally:
        os.killpg(proc.pid, signal.SIGTERM)  # the server and the browsers it launched, nothing else
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)
        out.close()


def _browsers_under(pid: int) -> set[str]:
    """The executables of the Chromium processes that descend from this process now."""
    children: dict[int, list[int]] = {}
    for d in Path("/proc").iterdir():
        if d.name.isdigit():
            try:
                children.setdefault(int((d / "stat").read_text().rsplit(")", 1)[1].split()[1]), []).append(int(d.name))
            except (OSError, IndexError, ValueError):
                continue
    found, todo = set(), [pid]
    while todo:
        for c in children.get(todo.pop(), []):
            todo.append(c)
            try:
                exe = os.readlink(f"/proc/{c}/exe")
            except OSError:
                continue
            if "chrom" in exe:
                found.add(exe)
    return found


def _os_chromium() -> str:
    found = browser.resolve(check_playwright=False)
    return found.headless_shell or found.executable


# ---------------------------------------------------------------- without a browser run
def test_loopback_and_what_it_covers() -> None:
    assert browser.covered_by_loopback("login.microsoftonline.localhost") and browser.covered_by_loopback("[::1]")
    assert not browser.covered_by_loopback("127.0.0.2") and not browser.covered_by_loopback("example.com")
    assert browser.expose_network(["127.0.0.1", "login.microsoftonline.localhost"]) == "<loopback>"
    assert browser.expose_network(["127.0.0.2"]) == "<loopback>,127.0.0.2"  # loopback, but not what it covers
    assert browser.expose_network(["ssi.example.invalid"]) is None  # a real SSI: nothing of this machine exposed


def test_launch_options_are_sent_in_playwright_s_own_names() -> None:
    remote = browser.RemoteBrowser("ws://127.0.0.1:1/", "<loopback>", "/opt/chromium/chrome")
    options = remote.launch_options(headless=True)
    assert options["executablePath"] == "/opt/chromium/chrome" and options["headless"] is True
    assert "--no-sandbox" in options["args"] and "executable_path" not in options
    assert browser.RemoteBrowser("ws://h:1/").launch_options(headless=False) == {"headless": False}
    env = remote.env({})
    assert env["UEPT_BROWSER_ENDPOINT"] == "ws://127.0.0.1:1/" and env["UEPT_BROWSER_EXPOSE"] == "<loopback>"
    assert str(browser.LOCALHOST_DNS) in env["NODE_OPTIONS"] and browser.LOCALHOST_DNS.is_file()


@pytest.mark.parametrize("value, message", [
    ("http://127.0.0.1:3000/", "--browser-endpoint 'http://127.0.0.1:3000/' is not a browser server address"),
    ("ws://127.0.0.1:port/", "has a port that is not a number"),
    ("grid", "--browser-endpoint 'grid' is not a browser server address"),
])
def test_an_endpoint_that_is_not_one_is_refused(value: str, message: str, tmp_path: Path) -> None:
    result = run_uept("run", "--tags", "@UEPT-LOGIN-01", "--browser-endpoint", value, "--reports", str(tmp_path))
    assert result.code == 2 and len(result.error_lines) == 1 and message in result.stderr, result.stderr
    assert not any(tmp_path.iterdir())


@pytest.mark.parametrize("given", ["--browser-endpoint", "UEPT_BROWSER_ENDPOINT", "browser_endpoint"])
def test_an_unreachable_server_is_one_line_exit_2_before_anything_starts(tmp_path: Path, given: str) -> None:
    """However the endpoint is given (option, environment, uept.yaml), uept connects to it before it starts."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # nothing listens there once the socket is closed
    endpoint = f"ws://127.0.0.1:{port}/"
    reports = tmp_path / "reports"
    args, env = ["run", "--tags", "@UEPT-LOGIN-01", "--reports", str(reports)], {}
    if given == "--browser-endpoint":
        args += ["--browser-endpoint", endpoint]
    elif given == "UEPT_BROWSER_ENDPOINT":
        env["UEPT_BROWSER_ENDPOINT"] = endpoint
    else:
        (tmp_path / "uept.yaml").write_text(f"browser_endpoint: {endpoint}\n")
        args += ["--config", str(tmp_path / "uept.yaml")]
    result = run_uept(*args, env=env)
    assert result.code == 2 and result.error_lines == [
        f"uept: error: cannot reach the browser server {endpoint} (ECONNREFUSED). start it "
        "(`playwright run-server --port PORT --host HOST`) or correct the address."], result.stderr
    assert not reports.exists() or not any(reports.iterdir())


def test_a_server_of_another_playwright_version_is_named_with_both_versions(browser_server: dict) -> None:
    """The real server's refusal of a client of another major.minor (it reads the client's User-Agent), as uept
    reports it: one line saying which versions differ and what to run."""
    from playwright.sync_api import Error, sync_playwright

    with sync_playwright() as p, pytest.raises(Error) as caught:
        p.chromium.connect(browser_server["endpoint"], timeout=10_000,
                           headers={"User-Agent": "Playwright/1.64.0 (x64; debian 12) python/3.11"})
    server = ".".join(browser.playwright_version().split(".")[:2])
    line = browser.remote_error(browser.RemoteBrowser(browser_server["endpoint"]), str(caught.value)).line()
    assert line == (f"the browser server {browser_server['endpoint']} runs Playwright {server} and uept's "
                    "Playwright is 1.64: their major and minor versions must match. run the server from Playwright "
                    "1.64 (e.g. `pip install 'playwright==1.64.*'`, then `playwright run-server`, or the Playwright "
                    "1.64 container image).")


def test_a_server_without_a_browser_to_launch_is_one_line_exit_2(browser_server: dict, tmp_path: Path) -> None:
    """Without UEPT_REMOTE_CHROMIUM the server launches Playwright's own Chromium, which this machine lacks."""
    result = run_uept("run", "--tags", "@UEPT-LOGIN-01", "--browser-endpoint", browser_server["endpoint"],
                      "--reports", str(tmp_path))
    assert result.code == 2 and len(result.error_lines) == 1, result.stderr
    assert f"the browser server {browser_server['endpoint']} could not launch Chromium" in result.stderr
    assert "UEPT_REMOTE_CHROMIUM" in result.stderr and not any(tmp_path.iterdir())


# ---------------------------------------------------------------- the MFA feature in a remote browser
@pytest.mark.slow
def test_the_mfa_feature_passes_in_a_remote_browser_with_complete_evidence_and_no_secret(
        browser_server: dict, tmp_path: Path) -> None:
    pub = public_key_file(new_key(tmp_path / "party.pem"), tmp_path / "party.pub")
    chromium = _os_chromium()
    with EmbeddedSSI() as ssi:
        t0 = time.time()
        env = {k: v for k, v in os.environ.items() if not k.startswith(("UEPT_", "REFSSI_", "PYTEST_"))}
        env.update(ssi.env, UEPT_SIGNING_KEY=str(tmp_path / "party.pem"), UEPT_REMOTE_CHROMIUM=chromium)
        out, err = open(tmp_path / "uept.out", "w+"), open(tmp_path / "uept.err", "w+")
        proc = subprocess.Popen([sys.executable, "-m", "uept.cli", "run", "features/mfa_login.feature", "-n", "2",
                                 "--browser-endpoint", browser_server["endpoint"], "--target", ssi.url,
                                 "--reports", str(tmp_path / "reports")], cwd=ROOT, env=env, stdout=out, stderr=err)
        launched: set[str] = set()
        while proc.poll() is None:  # which browsers the server runs while the scenarios run
            launched |= _browsers_under(browser_server["pid"])
            time.sleep(0.2)
        result = UeptRun(proc.returncode, (tmp_path / "uept.out").read_text(), (tmp_path / "uept.err").read_text())
        out.close()
        err.close()
        secrets = run_secrets(ssi, t0, time.time())
    assert result.code == 0, result.stdout[-4000:] + result.stderr[-2000:]
    assert launched == {chromium}  # the server launched the OS Chromium uept named for it
    run_dir = result.run_dir
    assert f"browser remote: {browser_server['endpoint']}" in result.stdout
    log = browser_server["log"].read_text()
    assert log.count("serving connection") >= 3  # the check before the run, then each of its two workers
    run = json.loads((run_dir / "run.json").read_text())
    selected = json.loads((run_dir / "scenario-set.json").read_text())["scenarios"]
    cases = sum(e["examples"] for e in selected if e["selected"])
    assert cases >= 15  # the feature's scenarios, as many as the run selected
    assert run["browser"].startswith(f"remote: {browser_server['endpoint']}") and run["counts"] == {"passed": cases}
    results = [json.loads(p.read_text()) for p in run_dir.glob("scenarios/*/result.json")]
    assert len(results) == cases and {r["browser"]["name"] for r in results} == {"chromium"}
    entra = next(r for r in results if r["uept_id"] == "UEPT-LOGIN-13")
    assert any("login.microsoftonline.localhost" in (st.get("url") or "") for st in entra["steps"])
    for r in results:  # a screenshot (or why not) after every step, and the trace parts
        for st in r["steps"]:
            assert st.get("screenshot") or st.get("no_screenshot"), (r["key"], st)
        assert r["traces"], r["key"]
        assert all((run_dir / "scenarios" / r["key"] / t).is_file() for t in r["traces"])
    leaks = scan_for_secrets(run_dir, secrets)
    assert not leaks, "\n".join(leaks[:20])
    (pack,) = run_dir.glob("evidence-pack-*.zip")
    v = run_uept("verify", str(pack), "--key", str(pub), "--no-completeness")
    assert v.code == 0 and "OK   secrets" in v.stdout, v.stdout
