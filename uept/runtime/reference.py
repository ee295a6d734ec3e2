"""Start and stop a reference SSI as a process of its own (`python -m refssi`), on a free loopback port.

The harness never imports the reference app: it starts it by module name, hands it this run's
generated secrets in a file the server deletes once read, and reads the one line
'REFSSI READY <url> <smtp-port>' that says it accepts connections. The server's stdin is a pipe
only this process writes to, so it stops when the harness does, however the harness ends.
"""

from __future__ import annotations

import json
import os
import secrets as _random
import selectors
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from ssi.seed import generate_party_keys, generate_secrets, party_key_env, secrets_env
from ssi.signed_files import public_key_of


def new_token() -> str:
    """The operator token of one server (its bearer token for operator controls and the mail sink)."""
    return _random.token_urlsafe(32)


class LaunchError(RuntimeError):
    pass


# The reference SSI's settings a user chooses for `uept run` and `uept serve` in their own environment (the
# harness passes no other REFSSI_* variable through: tests and runs start servers with only what they ask for).
CHOSEN_BY_USER = ("REFSSI_PORTAL_UI", "REFSSI_ENTRA_UI", "REFSSI_LATENCY_MS", "REFSSI_ENTRA_HOST")


def chosen_settings(env: Mapping[str, str] | None = None) -> dict[str, str]:
    """{setting: value} of the CHOSEN_BY_USER variables set in env (default: this process's environment)."""
    env = os.environ if env is None else env
    return {k.removeprefix("REFSSI_").lower(): env[k] for k in CHOSEN_BY_USER if env.get(k)}


@dataclass
class RunningSSI:
    url: str
    operator_token: str
    secrets: dict[str, dict[str, str]]
    workdir: Path
    process: subprocess.Popen | None = None
    party_keys: dict[str, str] = field(default_factory=dict)  # organisation -> private file-signing key
    started_in: float = 0.0

    @property
    def ca_file(self) -> Path | None:
        """The self-signed certificate to trust, when started with tls=True."""
        path = self.workdir / "tls-cert.pem"
        return path if path.exists() else None

    @property
    def env(self) -> dict[str, str]:
        """What a harness process needs to use this server as its 'reference' target."""
        return {
            "UEPT_TARGET_URL": self.url,
            "UEPT_REF_OPERATOR_TOKEN": self.operator_token,
            **secrets_env(self.secrets),
            **{party_key_env(org): key for org, key in self.party_keys.items()},
        }

    def stop(self) -> None:
        if self.process and self.process.stdin:
            self.process.stdin.close()  # the server stops on end-of-file too (--exit-with-stdin)
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        shutil.rmtree(self.workdir, ignore_errors=True)

    def log_tail(self, lines: int = 20) -> str:
        log = self.workdir / "server.log"
        return "\n".join(log.read_text(errors="replace").splitlines()[-lines:]) if log.exists() else ""


def self_signed(workdir: Path) -> list[str]:
    """A one-day self-signed certificate for 127.0.0.1 (for HTTPS-only clients such as pysnc)."""
    cert, key = workdir / "tls-cert.pem", workdir / "tls-key.pem"
    if not shutil.which("openssl"):
        raise LaunchError("serving HTTPS needs the openssl command to make a certificate")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=127.0.0.1",
                    "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", str(key), "-out", str(cert)],
                   check=True, capture_output=True)
    return ["--tls-cert", str(cert), "--tls-key", str(key)]


@dataclass
class EmbeddedSSI:
    """Context manager: `with EmbeddedSSI() as ssi: ... ssi.url ...`."""

    profile: str = "reference"
    unsafe: Iterable[str] = ()
    overrides: Mapping[str, int | str] = field(default_factory=dict)  # REFSSI_* settings, e.g. idle timeout
    startup_timeout: float = 30.0
    tls: bool = False  # serve HTTPS with a throw-away self-signed certificate for 127.0.0.1 (needs openssl)
    host: str = "127.0.0.1"
    port: int = 0  # 0: any free port
    running: RunningSSI | None = None

    def start(self) -> RunningSSI:
        t0 = time.monotonic()
        workdir = Path(tempfile.mkdtemp(prefix="uept-refssi-"))
        generated = generate_secrets()
        keys = generate_party_keys()
        token = new_token()
        secrets_file = workdir / "secrets.json"
        fd = os.open(secrets_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as f:
            json.dump({"secrets": generated, "operator_token": token,
                       "party_keys": {org: [public_key_of(k)] for org, k in keys.items()}}, f)
        env = {k: v for k, v in os.environ.items() if not k.startswith("REFSSI_")}
        env["REFSSI_UNSAFE"] = ",".join(sorted(self.unsafe))
        env.update({f"REFSSI_{k.upper()}": str(v) for k, v in self.overrides.items()})
        log = open(workdir / "server.log", "wb")
        # stdin is a pipe only this process writes to: when it dies, however it dies, the server reads
        # end-of-file and stops, removing its folder (--exit-with-stdin)
        proc = subprocess.Popen(
            [sys.executable, "-m", "refssi", "--host", self.host, "--port", str(self.port), "--profile", self.profile,
             "--secrets-file", str(secrets_file), "--db-dir", str(workdir), "--exit-with-stdin",
             *(self_signed(workdir) if self.tls else [])],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=log, env=env, start_new_session=True,
        )
        log.close()
        running = RunningSSI(url="", operator_token=token, secrets=generated, workdir=workdir, process=proc,
                             party_keys=keys)
        try:
            line = self._wait_ready(proc)
        except BaseException:  # e.g. Ctrl-C while it starts
            running.stop()
            raise
        if line is None:
            tail = running.log_tail()
            running.stop()
            raise LaunchError("the reference SSI did not start" + (f": {tail.splitlines()[-1]}" if tail else ""))
        running.url = line.split()[2]
        running.started_in = time.monotonic() - t0
        self.running = running
        return running

    def _wait_ready(self, proc: subprocess.Popen) -> str | None:
        assert proc.stdout is not None
        sel = selectors.DefaultSelector()
        sel.register(proc.stdout, selectors.EVENT_READ)
        deadline = time.monotonic() + self.startup_timeout
        buf = b""
        while time.monotonic() < deadline:
            if not sel.select(timeout=max(0.0, deadline - time.monotonic())):
                break
            chunk = os.read(proc.stdout.fileno(), 4096)
            if not chunk:  # the child exited
                return None
            buf += chunk
            for raw in buf.split(b"\n")[:-1]:
                if raw.startswith(b"REFSSI READY "):
                    return raw.decode()
        return None

    def stop(self) -> None:
        if self.running:
            self.running.stop()
            self.running = None

    def __enter__(self) -> RunningSSI:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
