"""Finding a Chromium: Playwright's own where it is installed, otherwise the OS one.

Like Playwright, which runs headless scenarios in its `chromium-headless-shell` build, uept
prefers the OS package of the same name for headless runs where it is installed (Debian's
`chromium-headless-shell`, built from the same source and version as `chromium`): it starts
and navigates faster and uses about half the browser-process CPU. `--headed` runs use `chromium`.
"""

from __future__ import annotations

import functools
import ipaddress
import json
import os
import re
import shutil
import socket
import subprocess
import sys
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

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
    """Playwright's own Chromium, if `playwright install chromium` succeeded (None otherwise)."""
    path = _playwright_chromium_place()
    return path if path is not None and path.is_file() else None


def _playwright_chromium_place() -> Path | None:
    """Where Playwright's own Chromium is or would be. Only Playwright's driver can say, and starting it takes a
    third of a second, so its answer is kept for the next run (in ~/.cache/uept), for the same Playwright and the
    same variables it reads to place its browsers; whether the browser is there is looked at every time."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        key = json.dumps([version("playwright"), sys.platform] + [os.environ.get(v) for v in (
            "PLAYWRIGHT_BROWSERS_PATH", "XDG_CACHE_HOME", "HOME")])
    except PackageNotFoundError:
        return None
    cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "uept" / "playwright-chromium.json"
    try:
        known = json.loads(cache.read_text(encoding="utf-8"))
        if known.get("key") == key and isinstance(known.get("path"), str):
            return Path(known["path"])
    except (OSError, ValueError, AttributeError):
        pass
    from playwright.sync_api import sync_playwright

    try:
        with sync_playwright() as p:
            path = Path(p.chromium.executable_path)
    except Exception:
        return None
    try:
        cache.parent.mkdir(parents=True, exist_ok=True)
        tmp = cache.with_name(f"{cache.name}.{os.getpid()}.tmp")
        tmp.write_text(json.dumps({"key": key, "path": str(path)}), encoding="utf-8")
        tmp.replace(cache)
    except OSError:
        pass  # not kept: the driver answers again next time
    return path


def _candidates(env: dict[str, str], name: str = "UEPT_CHROMIUM_CANDIDATES",
                default: tuple[str, ...] = OS_CANDIDATES) -> list[str]:
    raw = env.get(name)
    return [c for c in raw.split(os.pathsep) if c] if raw is not None else list(default)


def _executable(path: str) -> bool:
    return os.path.isfile(path) and os.access(path, os.X_OK)


# The Chromium `uept run` chose, handed to its pytest child (JSON of the Chromium's fields): finding out whether
# Playwright's own build is installed starts Playwright's driver, a third of a second the child need not spend again
RESOLVED_ENV = "UEPT_CHROMIUM_RESOLVED"


def handed_down(chromium: Chromium) -> str:
    """What `uept run` puts in RESOLVED_ENV for its child."""
    return json.dumps({"executable": chromium.executable, "source": chromium.source, "args": list(chromium.args),
                       "headless_shell": chromium.headless_shell})


def handed_down_by_uept_run(env: dict[str, str] | None = None) -> Chromium | None:
    """The Chromium `uept run` chose for this process (its pytest child), if its programs are still there; None
    otherwise (then it is found again). Only the child reads it: uept's own commands always look for themselves."""
    raw = (os.environ if env is None else env).get(RESOLVED_ENV)
    if not raw:
        return None
    try:
        fields = json.loads(raw)
        found = Chromium(fields["executable"], fields["source"], tuple(fields["args"]), fields["headless_shell"])
    except (ValueError, KeyError, TypeError):
        return None
    programs = [p for p in (found.executable, found.headless_shell) if p is not None]
    return found if all(isinstance(p, str) and _executable(p) for p in programs) else None


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


# ---------------------------------------------------------------- a browser on another machine
# `uept run --browser-endpoint ws://HOST:PORT/` (or browser_endpoint in uept.yaml, or UEPT_BROWSER_ENDPOINT):
# the scenarios run in a browser that a Playwright browser server (`playwright run-server`) launches, reached
# through pytest-playwright's connect_options. uept run passes the child UEPT_BROWSER_ENDPOINT and
# UEPT_BROWSER_EXPOSE (the client-side hosts the remote browser may reach through the connection, Playwright's
# expose_network); UEPT_REMOTE_CHROMIUM names a Chromium on the server's machine for a server without
# Playwright's own browsers (it must run with --unsafe to accept it).
ENDPOINT_ENV, EXPOSE_ENV, REMOTE_CHROMIUM_ENV = "UEPT_BROWSER_ENDPOINT", "UEPT_BROWSER_EXPOSE", "UEPT_REMOTE_CHROMIUM"
LOOPBACK = "<loopback>"  # Playwright's token: localhost, every *.localhost name, 127.0.0.1 and [::1]
CONNECT_TIMEOUT_MS = 30_000
LOCALHOST_DNS = Path(__file__).with_name("localhost_dns.js")


def covered_by_loopback(host: str) -> bool:
    """Whether Playwright's <loopback> token covers this host (playwright-core's parsePattern)."""
    host = host.lower()
    return host == "localhost" or host.endswith(".localhost") or host in ("127.0.0.1", "[::1]", "::1")


def is_loopback(host: str) -> bool:
    """Whether the host is this machine: a loopback address, or a name that resolves only to loopback ones."""
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        pass
    if covered_by_loopback(host):
        return True
    try:
        infos = socket.getaddrinfo(host, None)
    except OSError:
        return False
    return bool(infos) and all(ipaddress.ip_address(i[4][0].split("%")[0]).is_loopback for i in infos)


def expose_network(hosts: Iterable[str]) -> str | None:
    """Playwright's expose_network for a remote browser that must reach these hosts on the client's machine:
    None when none of them is this machine (a real SSI), else <loopback> plus every loopback host it does
    not cover (e.g. 127.0.0.2, or an Entra host name outside .localhost)."""
    local = sorted({h.lower() for h in hosts if h and is_loopback(h)})
    if not local:
        return None
    return ",".join([LOOPBACK, *(h for h in local if not covered_by_loopback(h))])


def check_endpoint(text: str, where: str = "--browser-endpoint") -> str:
    """A browser server's address (ws:// or wss://, as `playwright run-server` prints it), or UsageError."""
    parts = urlsplit(text.strip())
    if parts.scheme not in ("ws", "wss") or not parts.hostname:
        raise UsageError(f"{where} '{text}' is not a browser server address",
                         "give the ws://HOST:PORT/ address that `playwright run-server` prints")
    try:
        parts.port  # noqa: B018 (a port that is not a number raises)
    except ValueError:
        raise UsageError(f"{where} '{text}' has a port that is not a number",
                         "give the ws://HOST:PORT/ address that `playwright run-server` prints") from None
    return text.strip()


@dataclass(frozen=True)
class RemoteBrowser:
    endpoint: str
    expose: str | None = None  # expose_network
    executable: str | None = None  # the server-side Chromium to launch (UEPT_REMOTE_CHROMIUM; needs --unsafe)

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None) -> RemoteBrowser | None:
        env = dict(os.environ if env is None else env)
        endpoint = env.get(ENDPOINT_ENV)
        if not endpoint:
            return None
        return cls(check_endpoint(endpoint, ENDPOINT_ENV), env.get(EXPOSE_ENV) or None,
                   env.get(REMOTE_CHROMIUM_ENV) or None)

    def env(self, current: dict[str, str] | None = None) -> dict[str, str]:
        """What the pytest process needs: the server, what to expose to it, and (when something is exposed) the
        driver's resolution of *.localhost names (localhost_dns.js; NODE_OPTIONS is read when the driver starts)."""
        out = {ENDPOINT_ENV: self.endpoint, **({EXPOSE_ENV: self.expose} if self.expose else {}),
               **({REMOTE_CHROMIUM_ENV: self.executable} if self.executable else {})}
        if self.expose:
            node = (current if current is not None else os.environ).get("NODE_OPTIONS", "")
            if LOCALHOST_DNS.name not in node:
                out["NODE_OPTIONS"] = f'{node} --require "{LOCALHOST_DNS}"'.strip()
        return out

    def connect_options(self) -> dict:
        """pytest-playwright's connect_options (BrowserType.connect's keyword arguments)."""
        return {"endpoint": self.endpoint, "timeout": CONNECT_TIMEOUT_MS,
                **({"expose_network": self.expose} if self.expose else {})}

    def launch_options(self, *, headless: bool = True) -> dict:
        """The launch options the server is asked for (x-playwright-launch-options), in Playwright's own names:
        the server ignores Python's (executable_path), and without --unsafe it ignores executablePath, args and
        ignoreDefaultArgs too (playwright-core's filterLaunchOptions)."""
        out: dict = {"headless": headless}
        if self.executable:
            local = Chromium(self.executable, "remote", tuple(OS_CHROMIUM_ARGS)).launch_args(headless=headless)
            out["executablePath"] = local["executable_path"]
            if "args" in local:
                out["args"] = local["args"]
            if "ignore_default_args" in local:
                out["ignoreDefaultArgs"] = local["ignore_default_args"]
        return out

    def describe(self) -> str:
        return f"remote: {self.endpoint}" + (f" (server's Chromium: {self.executable})" if self.executable else "")


def playwright_version() -> str:
    from importlib.metadata import version

    return version("playwright")


def check_remote(remote: RemoteBrowser, *, headless: bool = True) -> str:
    """Connect to the browser server as the run will, and close again: the browser's version, or UsageError
    saying what is wrong (unreachable, another Playwright version, no Chromium there)."""
    from playwright.sync_api import Error, sync_playwright

    try:
        with sync_playwright() as p:
            browser = p.chromium.connect(**remote.connect_options(), headers={
                "x-playwright-launch-options": json.dumps(remote.launch_options(headless=headless))})
            try:
                return browser.version
            finally:
                browser.close()
    except Error as exc:
        raise remote_error(remote, str(exc)) from None


def remote_error(remote: RemoteBrowser, message: str) -> UsageError:
    """One line for what Playwright said when connecting to a browser server failed."""
    where = f"the browser server {remote.endpoint}"
    mine = ".".join(playwright_version().split(".")[:2])
    m = re.search(r"server version: v([\d.]+).*?client version: v([\d.]+)", message, re.S)
    if "version mismatch" in message or m:
        server, mine = (m.group(1), m.group(2)) if m else ("another version", mine)  # as the server saw them
        return UsageError(f"{where} runs Playwright {server} and uept's Playwright is {mine}: their major and "
                          "minor versions must match",
                          f"run the server from Playwright {mine} (e.g. `pip install 'playwright=={mine}.*'`, then "
                          f"`playwright run-server`, or the Playwright {mine} container image)")
    if "Executable doesn't exist" in message or "Failed to launch" in message:
        first = next((ln.strip() for ln in message.splitlines() if ln.strip()), message)
        return UsageError(f"{where} could not launch Chromium ({first.removeprefix('BrowserType.connect: ')[:200]})",
                          "install Playwright's Chromium on that machine (`playwright install chromium`), or "
                          f"start the server with --unsafe and set {REMOTE_CHROMIUM_ENV} to a Chromium executable "
                          "there")
    if "ECONNREFUSED" in message or "ENOTFOUND" in message or "EAI_AGAIN" in message or "WebSocket error" in message:
        why = re.search(r"(ECONNREFUSED|ENOTFOUND|EAI_AGAIN|\d{3} [A-Za-z ]+)", message)
        return UsageError(f"cannot reach {where} ({why.group(1) if why else 'WebSocket error'})",
                          "start it (`playwright run-server --port PORT --host HOST`) or correct the address")
    if "Timeout" in message:
        return UsageError(f"{where} did not answer within {CONNECT_TIMEOUT_MS // 1000} s",
                          "check that it is a Playwright browser server and that it is reachable from here")
    first = next((ln.strip() for ln in message.splitlines() if ln.strip()), message)
    return UsageError(f"connecting to {where} failed ({first[:200]})", "check the server's log")
