"""Shared helpers for uept's own tests: run the CLI, talk to a reference SSI over HTTP."""

from __future__ import annotations

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

    def login(self, user: str, password: str, seed: str) -> httpx.Response:
        r = self.password(user, password)
        assert r.headers.get("location") == "/validate_multifactor_auth_code.do", r.text[:500]
        return self.code(pyotp.TOTP(seed).now())
