"""Finding a Chromium: Playwright's own where it is installed, otherwise the OS one.

Like Playwright, which runs headless scenarios in its `chromium-headless-shell` build, uept
prefers the OS package of the same name for headless runs where it is installed (Debian's
`chromium-headless-shell`, built from the same source and version as `chromium`): it starts
and navigates faster and uses about half the browser-process CPU. `--headed` runs use `chromium`.
"""

from __future__ import annotations

import functools
import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from ssi.errors import UsageError

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
# The headless shell beside an OS Chromium (Debian's package `chromium-headless-shell`).
OS_HEADLESS_CANDIDATES = ("/usr/lib/chromium/chromium-headless-shell", "/usr/bin/chromium-headless-shell")
OS_CANDIDATES = ("/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome",
                 "/usr/bin/google-chrome-stable", "/snap/bin/chromium")

FIX = "run ./bootstrap.sh (it installs one), or set UEPT_CHROMIUM to a Chromium executable"

# Chromium features uept turns off, besides Playwright's own list. RenderDocument gives every
# navigation a new renderer-side frame; without it a same-site page load costs the renderer about
# half the CPU (15-17 ms against 30-35 ms here), and a UEPT run is mostly page loads. Chromium
# honours only the last --disable-features switch, so these are added to Playwright's list
# (playwright_disabled_features) in one switch that replaces Playwright's.
EXTRA_DISABLED_FEATURES = ("RenderDocument",)


@dataclass(frozen=True)
class Chromium:
    executable: str | None  # None: Playwright's bundled build
    source: str  # 'playwright' | 'os' | 'UEPT_CHROMIUM'
    args: tuple[str, ...] = ()
    headless_shell: str | None = None  # the OS headless shell, used instead of `executable` when headless

    def launch_args(self, *, headless: bool = True) -> dict:
        out: dict = {}
        executable = self.headless_shell if headless and self.headless_shell else self.executable
        if executable:
            out["executable_path"] = executable
        args = list(self.args)
        defaults = playwright_disabled_features()
        if defaults is not None:  # otherwise Playwright's list stays as it is, and pages load slower
            out["ignore_default_args"] = ["--disable-features=" + ",".join(defaults)]
            args.append("--disable-features=" + ",".join([*defaults, *EXTRA_DISABLED_FEATURES]))
        if args:
            out["args"] = args
        return out

    def check(self, *, headless: bool = True) -> str | None:
        """The version the executable that will be launched prints for --version; UsageError if it does not
        answer like a Chromium (e.g. UEPT_CHROMIUM names another program). None for Playwright's own build."""
        exe = self.headless_shell if headless and self.headless_shell else self.executable
        if exe is None:
            return None
        what = f"UEPT_CHROMIUM={exe}" if self.source == "UEPT_CHROMIUM" else exe
        try:
            proc = subprocess.run([exe, "--version"], capture_output=True, text=True, timeout=20,
                                  stdin=subprocess.DEVNULL)
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise UsageError(f"{what} does not start ({exc.__class__.__name__}: {exc})", FIX) from None
        first = (proc.stdout.strip().splitlines() or [""])[0]
        m = _VERSION.match(first)
        if proc.returncode != 0 or not m:
            shown = f"it printed {first[:60]!r}" if first else "it printed nothing"
            raise UsageError(f"{what} is not a Chromium browser ({shown} for --version, exit {proc.returncode})",
                             FIX)
        return m.group(0)

    def describe(self) -> str:
        shell = f" (headless: {self.headless_shell})" if self.headless_shell else ""
        return f"{self.source}: {self.executable or 'bundled with Playwright'}{shell}"


@functools.cache
def playwright_disabled_features() -> tuple[str, ...] | None:
    """The features Playwright's Chromium launcher disables, as its --disable-features switch
    lists them, read from the installed Playwright driver; None if they cannot be found there
    (tests/test_browser.py checks this against a launched browser's own command line)."""
    try:
        from playwright._impl._driver import compute_driver_executable

        lib = Path(compute_driver_executable()[1]).parent / "lib"
        sources = [lib / "coreBundle.js", lib / "server" / "chromium" / "chromiumSwitches.js"]
        for source in sources:
            if source.is_file():
                m = _DISABLED_FEATURES.search(source.read_text(encoding="utf-8", errors="replace"))
                if m:
                    names = re.findall(r'"([A-Za-z0-9_]+)"', re.sub(r"//[^\n]*", "", m.group(1)))
                    return tuple(names) or None
    except Exception:
        pass
    return None


_VERSION = re.compile(r"^(?:Chromium|Google Chrome|Chrome for Testing|HeadlessChrome|Microsoft Edge)\S*"
                      r"\s+\d+(?:\.\d+)+")
_DISABLED_FEATURES = re.compile(r"disabledFeatures\s*=\s*(?:\(\)\s*=>\s*)?\[(.*?)\]\s*\.filter\(Boolean\)", re.S)


def playwright_chromium_path() -> Path | None:
    """Where Playwright's own Chromium would be, if `playwright install chromium` succeeded."""
    from playwright.sync_api import sync_playwright

    try:
        with sync_playwright() as p:
            path = Path(p.chromium.executable_path)
    except Exception:
        return None
    return path if path.is_file() else None


def _candidates(env: dict[str, str], name: str = "UEPT_CHROMIUM_CANDIDATES",
                default: tuple[str, ...] = OS_CANDIDATES) -> list[str]:
    raw = env.get(name)
    return [c for c in raw.split(os.pathsep) if c] if raw is not None else list(default)


def _executable(path: str) -> bool:
    return os.path.isfile(path) and os.access(path, os.X_OK)


def resolve(env: dict[str, str] | None = None, *, check_playwright: bool = True) -> Chromium:
    env = dict(os.environ if env is None else env)
    explicit = env.get("UEPT_CHROMIUM")
    if explicit:
        if not _executable(explicit):
            raise UsageError(f"UEPT_CHROMIUM={explicit} is not an executable file", FIX)
        own = playwright_chromium_path()
        same = own is not None and Path(explicit).resolve() == own.resolve()
        return Chromium(explicit, "UEPT_CHROMIUM", () if same else tuple(OS_CHROMIUM_ARGS))
    if check_playwright and playwright_chromium_path() is not None:
        return Chromium(None, "playwright")
    for cand in _candidates(env):
        if _executable(cand):
            shell = next((s for s in _candidates(env, "UEPT_CHROMIUM_HEADLESS_CANDIDATES", OS_HEADLESS_CANDIDATES)
                          if _executable(s)), None)
            return Chromium(cand, "os", tuple(OS_CHROMIUM_ARGS), shell)
    raise UsageError("no Chromium browser found (neither Playwright's own nor an OS package)", FIX)


def install(log=print) -> Chromium:
    """Playwright's own Chromium if it downloads; otherwise the OS packages (as root, with apt-get)."""
    try:
        found = resolve()
    except UsageError:
        found = None
    if found is not None:
        if found.source == "os" and found.headless_shell is None \
                and _apt_install(["chromium-headless-shell"], update=False):
            found = resolve()  # the faster headless build beside an OS Chromium installed earlier
        return found
    log("uept: installing Playwright's Chromium ...")
    proc = subprocess.run([sys.executable, "-m", "playwright", "install", "chromium"],
                          capture_output=True, text=True, timeout=900)
    if proc.returncode == 0 and playwright_chromium_path():
        return resolve()
    log("uept: Playwright's browser download failed here; falling back to the OS Chromium package")
    if shutil.which("apt-get") and os.geteuid() != 0:
        raise UsageError("no Chromium, and installing the OS package needs root",
                         "run: sudo apt-get install -y chromium chromium-headless-shell  (then ./bootstrap.sh again)")
    # the headless shell is optional (not every release packages it): chromium alone if both fail
    _apt_install(["chromium", "chromium-headless-shell"]) or _apt_install(["chromium"])
    return resolve()


def _apt_install(packages: list[str], *, update: bool = True) -> bool:
    """apt-get install, as root only; with `update`, one retry after refreshing stale package lists."""
    apt = shutil.which("apt-get")
    if not apt or os.geteuid() != 0:
        return False
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    cmd = [apt, "install", "-y", "-q", "--no-install-recommends", *packages]
    if subprocess.run(cmd, env=env, capture_output=True).returncode == 0:
        return True
    if not update:
        return False
    subprocess.run([apt, "update", "-q"], env=env, capture_output=True)
    return subprocess.run(cmd, env=env, capture_output=True).returncode == 0
