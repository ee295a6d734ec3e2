"""Shared helpers for uept's own tests: run the CLI, talk to a reference SSI over HTTP."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import httpx
import pyotp

ROOT = Path(__file__).resolve().parent.parent
CSRF = re.compile(r'name="sysparm_ck" value="([^"]+)"')


@dataclass
class UeptRun:
    code: int
    stdout: str
    stderr: str

    @property
    def run_dir(self) -> Path:
        m = re.search(r"^Evidence: (.+?)/  ", self.stdout, re.M)
        assert m, f"no evidence folder in the output:\n{self.stdout[-2000:]}\n{self.stderr[-2000:]}"
        return Path(m.group(1))

    @property
    def error_lines(self) -> list[str]:
        return [ln for ln in self.stderr.splitlines() if ln.strip()]


# A run meant to fail (a check of the SSI switched off) waits 4 s instead of the target's 10 s for what would prove
# the outcome: the step that catches the broken rule fails the same way, sooner.
FAIL_SOONER = {"UEPT_WAIT_SECONDS": "4"}


def login_catalogue(*tags: str) -> str:
    """A scenario catalogue in which exactly these UEPT-LOGIN scenarios (tags or IDs) are mandatory for every role."""
    return ("version: 1\nroles: {Supplier: {groups: []}}\nrole_groups: {}\nthemes:\n"
            "  UEPT-LOGIN: {title: Log in with multi-factor authentication, mandatory_for: []}\nscenarios:\n"
            + "".join(f"  {t.lstrip('@')}: {{mandatory_for: [all]}}\n" for t in tags))


def run_uept(*args: str, env: dict[str, str] | None = None, cwd: Path = ROOT, timeout: float = 900) -> UeptRun:
    """`uept ARGS` in a subprocess, as a user would run it."""
    full_env = {k: v for k, v in os.environ.items() if not k.startswith(("UEPT_", "REFSSI_", "PYTEST_"))}
    full_env.update(env or {})
    proc = subprocess.run([sys.executable, "-m", "uept.cli", *args], cwd=cwd, env=full_env, capture_output=True,
                          text=True, timeout=timeout)
    return UeptRun(proc.returncode, proc.stdout, proc.stderr)


class Portal:
    """A plain HTTP client for the reference SSI, for server-side checks without a browser."""

    def __init__(self, url: str) -> None:
        self.http = httpx.Client(base_url=url, follow_redirects=False, timeout=20)

    def csrf(self, path: str = "/sp?id=login") -> str:
        r = self.http.get(path)
        if r.status_code in (302, 303):
            r = self.http.get(r.headers["location"])
        m = CSRF.search(r.text)
        assert m, f"no CSRF token on {path}"
        return m.group(1)

    def post(self, path: str, data: dict, *, csrf_from: str | None = None) -> httpx.Response:
        token = self.csrf(csrf_from or path)
        return self.http.post(path, data={"sysparm_ck": token, **data})

    def password(self, user: str, password: str) -> httpx.Response:
        return self.post("/sp?id=login", {"sysparm_type": "view_form.login", "user_name": user,
                                          "user_password": password})

    def code(self, code: str) -> httpx.Response:
        return self.post("/validate_mfa_code.do", {"txtResponse": code},
                         csrf_from="/validate_multifactor_auth_code.do")

    _totp: dict[tuple[str, str], object] = {}

    def totp_source(self, user: str, seed: str):
        """The one TotpSource of this test process for a user of this server: codes it gives are never
        used twice (the server refuses a replayed code, and tests log the same personas in more than once)."""
        import tempfile

        from uept.runtime.otp import TotpSource
        from uept.runtime.secrets import Secret

        key = (str(self.http.base_url), user)
        if key not in Portal._totp:
            Portal._totp[key] = TotpSource(Secret(seed, f"seed of {user}"), account="|".join(key),
                                           state_dir=Path(tempfile.gettempdir()) / f"uept-tests-totp-{os.getpid()}",
                                           lookahead=1, margin=2)
        return Portal._totp[key]

    def fresh_code(self, user: str, seed: str) -> str:
        return self.totp_source(user, seed).code().reveal()

    def login(self, user: str, password: str, seed: str) -> httpx.Response:
        r = self.password(user, password)
        assert r.headers.get("location") == "/validate_multifactor_auth_code.do", r.text[:500]
        return self.code(self.fresh_code(user, seed))


# ---------------------------------------------------------------- secret scanning
TEXT_SUFFIXES = {".json", ".txt", ".xml", ".log", ".html", ".htm", ".trace", ".network", ".stacks", ".py", ".css",
                 ".js", ".dat", ".md", ".csv", ".properties", ".yaml", ".yml", ""}


def secret_variants(value: str) -> set[str]:
    """How a secret could appear in an artefact: as is, URL-encoded (form posts), spaced in groups of 4 (setup keys)."""
    from urllib.parse import quote, quote_plus

    out = {value, quote(value, safe=""), quote_plus(value)}
    if value.isalnum() and value.isupper() and len(value) >= 16:  # a Base32 seed as shown on a setup page
        out.add(" ".join(value[i:i + 4] for i in range(0, len(value), 4)))
    return out


# a one-time code on its own: not part of a longer word or number, nor of a decimal (trace timestamps such as
# "endTime":172605.737 are full of six-digit runs, which a run's thousands of possible codes would collide with)
CODE_SHAPE = re.compile(r"(?<![0-9A-Za-z])(?<!\d\.)\d{4,10}(?![0-9A-Za-z])(?!\.\d)")


def iter_artefacts(folder: Path):
    """(name, text) of every text artefact under folder, zip members (traces) included, recursively."""
    import io
    import zipfile

    def from_zip(name: str, data: bytes):
        with zipfile.ZipFile(io.BytesIO(data)) as z:
            for member in z.namelist():
                yield from from_member(f"{name}!{member}", z.read(member))

    def from_tar_xz(name: str, data: bytes):  # an evidence pack's records.tar.xz
        import lzma
        import tarfile

        with tarfile.open(fileobj=io.BytesIO(lzma.decompress(data))) as tar:
            for entry in tar:
                if entry.isfile():
                    yield from from_member(f"{name}!{entry.name}", tar.extractfile(entry).read())

    def from_member(full: str, blob: bytes):
        if full.endswith(".zip"):
            yield from from_zip(full, blob)
        elif full.endswith(".tar.xz"):
            yield from from_tar_xz(full, blob)
        elif Path(full).suffix.lower() in TEXT_SUFFIXES:
            yield full, blob.decode("utf-8", "replace")

    for path in sorted(folder.rglob("*")):
        if not path.is_file():
            continue
        if path.name.endswith((".zip", ".tar.xz")):
            yield from from_member(str(path), path.read_bytes())
        elif path.suffix.lower() in TEXT_SUFFIXES:
            yield str(path), path.read_text("utf-8", "replace")


def iter_distinct_artefacts(folder: Path):
    """iter_artefacts, each distinct text once (the evidence pack holds the run's files again)."""
    import hashlib

    seen: set[bytes] = set()
    for name, text in iter_artefacts(folder):
        digest = hashlib.sha256(text.encode("utf-8", "surrogatepass")).digest()
        if digest not in seen:
            seen.add(digest)
            yield name, text


def is_json_number(text: str, start: int, end: int) -> bool:
    """Whether text[start:end] is the whole of a number value of a JSON line of a trace ("startTime":303220,):
    Playwright's own figures (times, sizes, ids), never text from the page, which a trace holds as strings. A
    number inside a string (a request body's \\"code\\":123456) is still a candidate."""
    return text[max(0, start - 2):start] == '":' and text[start - 3:start - 2] != "\\" and text[end:end + 1] in ",}]"


def is_file_size(text: str, start: int, end: int) -> bool:
    """Whether text[start:end] is a file's size in the pack's manifest ("size": 632396,): a trace part of 100 KB to
    1 MB has a six-digit size, which the thousands of codes a whole-suite run could have used collide with."""
    return text[max(0, start - 8):start] == '"size": ' and text[end:end + 1] in ",\n}"


def scan_for_secrets(folder: Path, secrets: dict[str, str]) -> list[str]:
    """Every place under folder where one of the secrets (value -> label) appears."""
    expanded: dict[str, str] = {}
    for value, label in secrets.items():
        for variant in secret_variants(value):
            expanded[variant] = label
    # Numeric codes (thousands: every authenticator step of the run) are found by shape and looked up; every
    # other secret by substring search, which is fast C however many there are (no giant alternation).
    codes = {v for v in expanded if v.isdigit()}
    literals = sorted((v for v in expanded if not v.isdigit()), key=len, reverse=True)
    found = []

    def place(name: str, text: str, start: int, end: int, value: str) -> str:
        return f"{expanded[value]} in {name}: ...{text[max(0, start - 40):end + 20]!r}..."

    for name, text in iter_distinct_artefacts(folder):
        trace_json = "!" in name and name.endswith((".trace", ".network", ".stacks"))
        manifest = name.endswith("manifest.json")
        for m in CODE_SHAPE.finditer(text):
            if m.group(0) in codes and not (trace_json and is_json_number(text, m.start(), m.end())) \
                    and not (manifest and is_file_size(text, m.start(), m.end())):
                found.append(place(name, text, m.start(), m.end(), m.group(0)))
        for value in literals:
            at = text.find(value)
            while at != -1:
                found.append(place(name, text, at, at + len(value), value))
                at = text.find(value, at + len(value))
    return found


def suite_data_numbers() -> set[str]:
    """Code-shaped numbers the suite's own steps type as test data: the OMS quantity limit and one past it
    (steps/oms.py, UEPT-OMS-12: 100000 and 100001). A whole-suite run's thousands of possible authenticator codes
    once included 100001; in the evidence it is the scenario's quantity, written where the step typed it. (The run's
    own scan, which knows the very codes it used, still refuses such a number if it was one.)"""
    from ssi.profile import load_profile

    oms = load_profile().oms
    return {str(oms.max_quantity), str(oms.max_quantity + 1)}


def run_secrets(server, t_start: float, t_end: float) -> dict[str, str]:
    """Every password, seed and one-time code a run against `server` can have used (but a number the suite types
    as data: suite_data_numbers)."""
    import sqlite3

    secrets: dict[str, str] = {}
    for persona, values in server.secrets.items():
        secrets[values["password"]] = f"password of {persona}"
        if "totp_seed" in values:
            secrets[values["totp_seed"]] = f"seed of {persona}"
    for org, key in getattr(server, "party_keys", {}).items():
        secrets[key] = f"file-signing key of {org}"
    db = sqlite3.connect(f"file:{server.workdir / 'refssi.sqlite3'}?mode=ro", uri=True)
    try:
        rows = db.execute("SELECT user_name, totp_seed FROM sys_user WHERE totp_seed IS NOT NULL UNION ALL "
                          "SELECT upn, totp_seed FROM entra_user WHERE totp_seed IS NOT NULL")  # Entra's directory
        seeds = {seed: user for user, seed in rows}
        for body, to in db.execute("SELECT body, recipients FROM sys_email"):
            for code in re.findall(r"\b(\d{6})\b", body):
                secrets[code] = f"emailed code to {to}"
    finally:
        db.close()
    for seed, user in seeds.items():
        secrets[seed] = f"seed of {user}"
        totp = pyotp.TOTP(seed)
        t = t_start - 150
        while t < t_end + 60:
            secrets.setdefault(totp.at(t), f"authenticator code of {user}")
            t += 30
    for number in suite_data_numbers():
        secrets.pop(number, None)
    return secrets



def run_with_switches(folder: Path, features: list[str], scenarios: list[str], unsafe: set[str], *,
                      overrides: dict[str, str] | None = None) -> tuple[UeptRun, dict[str, list[dict]]]:
    """One `uept run` of these scenarios (UEPT IDs), on 2 workers and failing sooner, against a reference SSI of its
    own with these test-only switches all on; the run and each scenario's results (its outline rows together).
    The can-fail tests group switches this way so that no scenario meets two switches (each breaks its own)."""
    from uept.runtime.reference import EmbeddedSSI

    with EmbeddedSSI(unsafe=unsafe, overrides=overrides or {}) as ssi:
        run = run_uept("run", *features, "--tags", " or ".join(f"@{s}" for s in sorted(scenarios)), "-n", "2",
                       "--reports", str(folder), env={**ssi.env, **FAIL_SOONER}, timeout=900)
    assert run.code == 1, run.stdout[-3000:]
    results: dict[str, list[dict]] = {s: [] for s in scenarios}
    for path in sorted((run.run_dir / "scenarios").glob("*/result.json")):
        result = json.loads(path.read_text())
        results.setdefault(result["uept_id"], []).append(result)
    return run, results


def failed_steps(results: list[dict]) -> list[str]:
    """The step each failed result failed at."""
    return [next((s["text"] for s in r["steps"] if s["status"] == "failed"), "") for r in results
            if r["status"] == "failed"]


def selected_cases(run_dir: Path) -> int:
    """How many scenario cases (outline rows counted) the run selected, from its scenario-set.json (which
    tests/test_step_bindings.py checks against what pytest collects)."""
    entries = json.loads((run_dir / "scenario-set.json").read_text())["scenarios"]
    return sum(e["examples"] for e in entries if e["selected"])


def run_feature_on_fresh_server(feature: str, reports: Path, *args: str,
                                **overrides: str) -> tuple[UeptRun, dict[str, str]]:
    """`uept run FEATURE` against a reference SSI of its own (REFSSI_* overrides, e.g. portal_ui="sp"),
    and every secret that run could have used."""
    import time

    from uept.runtime.reference import EmbeddedSSI

    with EmbeddedSSI(overrides=overrides) as server:
        t0 = time.time()
        result = run_uept("run", feature, *args, "--target", server.url, "--reports", str(reports), env=server.env,
                          timeout=1500)
        secrets = run_secrets(server, t0, time.time())
    return result, secrets


# ---------------------------------------------------------------- browsers signed in without the login pages
def signed_in_portal(url: str, user: str, secrets: dict[str, str]) -> Portal:
    """A Portal holding the session of `user`, signed in over HTTP (password and TOTP code)."""
    p = Portal(url)
    r = p.login(user, secrets["password"], secrets["totp_seed"])
    assert r.status_code == 303, r.text[:300]
    return p


def browser_context_for(browser, portal: Portal, **context_args):
    """A new browser context sharing the session of a signed-in Portal (its cookies)."""
    context = browser.new_context(**{"viewport": {"width": 1280, "height": 800}, "locale": "en-GB", **context_args})
    context.add_cookies([{"name": c.name, "value": c.value, "url": str(portal.http.base_url)}
                         for c in portal.http.cookies.jar])
    return context
