"""Which Chromium uept starts: the OS headless shell for headless runs, the full OS Chromium when headed."""

from __future__ import annotations

import os
import uuid
from pathlib import Path

import pytest

from ssi.errors import UsageError
from uept.runtime import browser


def fake_executable(path: Path) -> str:
    path.write_text("#!/bin/sh\nexit 0\n")
    path.chmod(0o755)
    return str(path)


def env_with(full: list[str], shell: list[str]) -> dict[str, str]:
    return {"UEPT_CHROMIUM_CANDIDATES": os.pathsep.join(full),
            "UEPT_CHROMIUM_HEADLESS_CANDIDATES": os.pathsep.join(shell)}


def test_headless_runs_use_the_headless_shell_and_headed_runs_the_full_chromium(tmp_path: Path) -> None:
    full = fake_executable(tmp_path / "chromium")
    shell = fake_executable(tmp_path / "chromium-headless-shell")
    found = browser.resolve(env_with([full], [str(tmp_path / "missing"), shell]), check_playwright=False)
    assert (found.source, found.executable, found.headless_shell) == ("os", full, shell)
    assert found.launch_args(headless=True)["executable_path"] == shell
    assert found.launch_args(headless=False)["executable_path"] == full
    assert found.launch_args()["args"][:len(browser.OS_CHROMIUM_ARGS)] == browser.OS_CHROMIUM_ARGS  # for both
    assert shell in found.describe() and full in found.describe()


def test_without_a_headless_shell_the_full_chromium_runs_headless_too(tmp_path: Path) -> None:
    full = fake_executable(tmp_path / "chromium")
    not_executable = tmp_path / "chromium-headless-shell"
    not_executable.write_text("")
    found = browser.resolve(env_with([full], [str(not_executable)]), check_playwright=False)
    assert found.headless_shell is None
    assert found.launch_args(headless=True)["executable_path"] == full


def test_a_headless_shell_alone_is_not_a_chromium(tmp_path: Path) -> None:
    shell = fake_executable(tmp_path / "chromium-headless-shell")
    with pytest.raises(UsageError, match="no Chromium browser found"):
        browser.resolve(env_with([str(tmp_path / "missing")], [shell]), check_playwright=False)


def test_an_explicit_chromium_is_used_for_headless_and_headed_runs(tmp_path: Path) -> None:
    mine = fake_executable(tmp_path / "my-chromium")
    shell = fake_executable(tmp_path / "chromium-headless-shell")
    found = browser.resolve({"UEPT_CHROMIUM": mine, **env_with([], [shell])}, check_playwright=False)
    assert found.launch_args(headless=True)["executable_path"] == mine
    assert found.launch_args(headless=False)["executable_path"] == mine


def test_the_chromium_uept_run_chose_is_its_childs_without_asking_playwright_again(tmp_path: Path,
                                                                                  monkeypatch) -> None:
    """`uept run` hands its choice to pytest (UEPT_CHROMIUM_RESOLVED): the child's browser fixture takes it and does
    not start Playwright's driver to look for Playwright's own build again. A choice whose programs are gone, or
    that is not one, is none; uept's commands themselves never take one."""
    full = fake_executable(tmp_path / "chromium")
    shell = fake_executable(tmp_path / "chromium-headless-shell")
    chosen = browser.resolve(env_with([full], [shell]), check_playwright=False)

    def no_driver() -> None:
        raise AssertionError("Playwright's driver was started to find the Chromium again")

    monkeypatch.setattr(browser, "playwright_chromium_path", no_driver)
    handed = {browser.RESOLVED_ENV: browser.handed_down(chosen)}
    assert browser.handed_down_by_uept_run(handed) == chosen
    with pytest.raises(AssertionError, match="driver was started"):  # uept's own commands look for themselves
        browser.resolve({**handed, **env_with([full], [])})
    (tmp_path / "chromium-headless-shell").unlink()
    for stale in (handed, {browser.RESOLVED_ENV: "{not json"}, {browser.RESOLVED_ENV: '{"source": "os"}'}, {}):
        assert browser.handed_down_by_uept_run(stale) is None


def test_where_playwrights_chromium_goes_is_asked_of_its_driver_once_and_whether_it_is_there_every_time(
        tmp_path: Path, monkeypatch) -> None:
    import playwright.sync_api

    place = tmp_path / "ms-playwright" / "chromium-1" / "chrome"
    started = []

    class Driver:
        def __enter__(self):
            started.append(1)
            return type("P", (), {"chromium": type("C", (), {"executable_path": str(place)})()})()

        def __exit__(self, *exc: object) -> None:
            pass

    monkeypatch.setattr(playwright.sync_api, "sync_playwright", Driver)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.delenv("PLAYWRIGHT_BROWSERS_PATH", raising=False)
    assert browser.playwright_chromium_path() is None and len(started) == 1  # not installed
    fake_executable(place.parent.mkdir(parents=True) or place)  # `playwright install chromium` since
    assert browser.playwright_chromium_path() == place and len(started) == 1  # known: the driver not asked again
    monkeypatch.setenv("PLAYWRIGHT_BROWSERS_PATH", str(tmp_path / "elsewhere"))  # Playwright would look elsewhere
    assert browser.playwright_chromium_path() == place and len(started) == 2


def _browser_command_line(**launch: object) -> list[str]:
    """The command line of a Chromium launched by Playwright with these options (Linux: /proc)."""
    from playwright.sync_api import sync_playwright

    marker = f"--uept-test-marker={uuid.uuid4().hex}"  # an unknown switch, ignored by Chromium
    launch = {**launch, "args": [*launch.get("args", []), marker]}  # type: ignore[misc]
    with sync_playwright() as pw:
        b = pw.chromium.launch(**launch)
        try:
            for pid in filter(str.isdigit, os.listdir("/proc")):
                try:
                    argv = Path(f"/proc/{pid}/cmdline").read_bytes().decode().split("\0")
                except OSError:
                    continue
                if marker in argv and not any(a.startswith("--type=") for a in argv):
                    return argv
        finally:
            b.close()
    raise AssertionError("the launched browser process was not found in /proc")


@pytest.mark.skipif(not Path("/proc/self/cmdline").exists(), reason="reads the browser's command line from /proc")
def test_the_browser_gets_playwrights_disabled_features_and_uepts_in_one_switch() -> None:
    """Chromium honours only the last --disable-features: uept's must repeat Playwright's own
    (read from the driver) and add RenderDocument, or Playwright's list would be lost."""
    chromium = browser.resolve()
    plain = _browser_command_line(**({"executable_path": chromium.executable} if chromium.executable else {}),
                                  args=list(chromium.args))
    playwrights = [a for a in plain if a.startswith("--disable-features=")]
    assert len(playwrights) == 1, playwrights
    assert browser.playwright_disabled_features() is not None, "Playwright's list was not found in its driver"
    assert playwrights[0].split("=", 1)[1].split(",") == list(browser.playwright_disabled_features())

    ours = [a for a in _browser_command_line(**chromium.launch_args()) if a.startswith("--disable-features=")]
    assert len(ours) == 1, ours
    assert ours[0].split("=", 1)[1].split(",") == [*browser.playwright_disabled_features(),
                                                    *browser.EXTRA_DISABLED_FEATURES]
