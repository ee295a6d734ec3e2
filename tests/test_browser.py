"""Which Chromium uept starts: the OS headless shell for headless runs, the full OS Chromium when headed."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from uept import browser
from uept.errors import UsageError


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
    assert found.launch_args()["args"] == browser.OS_CHROMIUM_ARGS  # the same locked-down flags for both
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
