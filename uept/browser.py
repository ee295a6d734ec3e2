"""Finding a Chromium: Playwright's own where it is installed, otherwise the OS one."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from .errors import UsageError

# Flags for a distribution Chromium on a locked-down machine: no sandbox (root in CI),
# and none of the background traffic that a closed network refuses.
OS_CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-dev-shm-usage",
]
OS_CANDIDATES = ("/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome",
                 "/usr/bin/google-chrome-stable", "/snap/bin/chromium")

FIX = "run ./bootstrap.sh (it installs one), or set UEPT_CHROMIUM to a Chromium executable"


@dataclass(frozen=True)
class Chromium:
    executable: str | None  # None: Playwright's bundled build
    source: str  # 'playwright' | 'os' | 'UEPT_CHROMIUM'
    args: tuple[str, ...] = ()

    def launch_args(self) -> dict:
        out: dict = {}
        if self.executable:
            out["executable_path"] = self.executable
        if self.args:
            out["args"] = list(self.args)
        return out

    def describe(self) -> str:
        return f"{self.source}: {self.executable or 'bundled with Playwright'}"


def playwright_chromium_path() -> Path | None:
    """Where Playwright's own Chromium would be, if `playwright install chromium` succeeded."""
    from playwright.sync_api import sync_playwright

    try:
        with sync_playwright() as p:
            path = Path(p.chromium.executable_path)
    except Exception:
        return None
    return path if path.is_file() else None


def _candidates(env: dict[str, str]) -> list[str]:
    raw = env.get("UEPT_CHROMIUM_CANDIDATES")
    return [c for c in raw.split(os.pathsep) if c] if raw is not None else list(OS_CANDIDATES)


def resolve(env: dict[str, str] | None = None, *, check_playwright: bool = True) -> Chromium:
    env = dict(os.environ if env is None else env)
    explicit = env.get("UEPT_CHROMIUM")
    if explicit:
        if not (os.path.isfile(explicit) and os.access(explicit, os.X_OK)):
            raise UsageError(f"UEPT_CHROMIUM={explicit} is not an executable file", FIX)
        own = playwright_chromium_path()
        same = own is not None and Path(explicit).resolve() == own.resolve()
        return Chromium(explicit, "UEPT_CHROMIUM", () if same else tuple(OS_CHROMIUM_ARGS))
    if check_playwright and playwright_chromium_path() is not None:
        return Chromium(None, "playwright")
    for cand in _candidates(env):
        if os.path.isfile(cand) and os.access(cand, os.X_OK):
            return Chromium(cand, "os", tuple(OS_CHROMIUM_ARGS))
    raise UsageError("no Chromium browser found (neither Playwright's own nor an OS package)", FIX)


def install(log=print) -> Chromium:
    """Playwright's own Chromium if it downloads; otherwise the OS package (as root, with apt-get)."""
    try:
        return resolve()
    except UsageError:
        pass
    log("uept: installing Playwright's Chromium ...")
    proc = subprocess.run([sys.executable, "-m", "playwright", "install", "chromium"],
                          capture_output=True, text=True, timeout=900)
    if proc.returncode == 0 and playwright_chromium_path():
        return resolve()
    log("uept: Playwright's browser download failed here; falling back to the OS Chromium package")
    apt = shutil.which("apt-get")
    if apt and os.geteuid() == 0:
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        cmd = [apt, "install", "-y", "-q", "--no-install-recommends", "chromium"]
        if subprocess.run(cmd, env=env, capture_output=True).returncode != 0:
            subprocess.run([apt, "update", "-q"], env=env, capture_output=True)
            subprocess.run(cmd, env=env, capture_output=True)
    elif apt:
        raise UsageError("no Chromium, and installing the OS package needs root",
                         "run: sudo apt-get install -y chromium  (then ./bootstrap.sh again)")
    return resolve()
