"""`uept serve`: the reference SSI alone, with its URL, personas and a private secrets file."""

from __future__ import annotations

import os
import re
import selectors
import signal
import stat
import subprocess
import sys
import time

import httpx
import pytest

from tests.helpers import ROOT


def read_until(proc: subprocess.Popen, marker: str, timeout: float = 30) -> str:
    sel = selectors.DefaultSelector()
    sel.register(proc.stdout, selectors.EVENT_READ)
    out = ""
    deadline = time.monotonic() + timeout
    while marker not in out:
        assert time.monotonic() < deadline, f"no {marker!r} in: {out}"
        if sel.select(timeout=deadline - time.monotonic()):
            chunk = os.read(proc.stdout.fileno(), 65536).decode()
            assert chunk, f"uept serve exited: {out}"
            out += chunk
    return out


def test_serve_prints_url_and_personas_and_keeps_secrets_in_a_private_file(tmp_path):
    state = tmp_path / "state"
    proc = subprocess.Popen([sys.executable, "-m", "uept.cli", "serve", "--port", "0", "--state-dir", str(state)],
                            cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        out = read_until(proc, "Press Ctrl-C")
        url = re.search(r"running at (http://127\.0\.0\.1:\d+)", out).group(1)
        assert "alex.turner" in out and "oa.nps" in out and "authenticator app" in out
        env_file = state / "serve.env"
        assert stat.S_IMODE(env_file.stat().st_mode) == 0o600
        values = dict(line.split("=", 1) for line in env_file.read_text().splitlines())
        password = values["UEPT_REF_AUTHENTICATOR_USER_PASSWORD"].strip('"')
        assert password not in out  # not printed without --show-secrets
        assert httpx.get(f"{url}/sp?id=login").status_code == 200
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()  # and its server with it: --exit-with-stdin
            raise
    assert not env_file.exists()  # the secrets file goes with the server


def _ignore_sigint() -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # what a script's background job inherits


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_serve_stops_on_a_signal_even_when_started_with_sigint_ignored(tmp_path, sig):
    state = tmp_path / "state"
    proc = subprocess.Popen([sys.executable, "-m", "uept.cli", "serve", "--port", "0", "--state-dir", str(state)],
                            cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, preexec_fn=_ignore_sigint)
    try:
        read_until(proc, "Press Ctrl-C")
        assert (state / "serve.env").exists()
    finally:
        proc.send_signal(sig)
        try:
            code = proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            raise
    assert code == 0 and not (state / "serve.env").exists()
