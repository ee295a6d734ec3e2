"""Runtime settings of one reference SSI instance."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from ssi.profile import Profile, load_profile

from .faults import undeclared
from .latency import parse_latency


def _choice(name: str, allowed: tuple[str, ...]) -> str:
    value = os.environ.get(name, allowed[0])
    if value not in allowed:
        raise ValueError(f"{name}={value}: use one of {', '.join(allowed)}")
    return value


@dataclass(frozen=True)
class Settings:
    profile: Profile
    db_path: Path
    secrets: dict[str, dict[str, str]]  # persona -> generated password / totp_seed
    operator_token: str
    server_key: bytes  # HMAC key for emailed codes and session ids
    smtp_port: int = 0  # filled in when the mail sink starts
    unsafe: frozenset[str] = frozenset()  # the faults switched on (refssi/faults.py), from REFSSI_UNSAFE
    idle_timeout_seconds: int = 900
    lockout_threshold: int = 5
    lockout_seconds: int = 900
    email_code_validity_seconds: int = 300
    public_url: str = ""
    bulk_incidents: int = 0  # seed this many generated incidents at start (benchmarks)
    # The largest JSON body a REST call may send (the Table and Batch APIs), refused with 413 before it
    # is read. ServiceNow's own limit is glide.rest.max_content_length (10 MB by default, at most 25 MB);
    # the reference SSI's fields are small (4,000 characters at most), so 1 MB leaves room to spare.
    max_json_bytes: int = 1024 * 1024
    # Microsoft Entra ID, imitated by the same server under another host name (another origin, as
    # login.microsoftonline.com is): browsers resolve every *.localhost name to this machine.
    entra_host: str = "login.microsoftonline.localhost"
    entra_ui: str = "legacy"  # 'legacy': the element ids public automation knows; 'new': data-testid hooks
    # 'classic': server-rendered portal pages; 'sp': a single-page Service Portal (widgets as JSON by XHR)
    portal_ui: str = "classic"
    latency_ms: tuple[int, int] = (0, 0)  # REFSSI_LATENCY_MS: a random delay before each response (refssi/latency.py)
    # the public keys (raw, base64) each organisation registered for signing its files (ssi/signed_files.py)
    party_keys: dict[str, list[str]] = field(default_factory=dict)
    extra: dict = field(default_factory=dict)

    @classmethod
    def from_env(
        cls, *, profile: str, db_path: Path, secrets: dict, operator_token: str, server_key: bytes
    ) -> Settings:
        """Profile values, with REFSSI_* environment overrides (tests use seconds, not minutes)."""
        prof = load_profile(profile)
        unsafe = frozenset(s for s in os.environ.get("REFSSI_UNSAFE", "").split(",") if s)
        unknown = undeclared(unsafe)
        if unknown:
            raise ValueError(f"unknown REFSSI_UNSAFE switch(es): {', '.join(unknown)}")

        def num(name: str, default: int) -> int:
            value = os.environ.get(name, str(default))
            try:
                return int(value)
            except ValueError:
                raise ValueError(f"{name}={value}: use a whole number") from None

        return cls(
            profile=prof,
            db_path=db_path,
            secrets=secrets,
            operator_token=operator_token,
            server_key=server_key,
            unsafe=unsafe,
            idle_timeout_seconds=num("REFSSI_IDLE_TIMEOUT_SECONDS", prof.session.idle_timeout_seconds),
            lockout_threshold=num("REFSSI_LOCKOUT_THRESHOLD", prof.session.lockout_threshold),
            lockout_seconds=num("REFSSI_LOCKOUT_SECONDS", prof.session.lockout_seconds),
            bulk_incidents=num("REFSSI_BULK_INCIDENTS", 0),
            max_json_bytes=num("REFSSI_MAX_JSON_BYTES", 1024 * 1024),
            entra_host=os.environ.get("REFSSI_ENTRA_HOST", "login.microsoftonline.localhost").lower(),
            entra_ui=_choice("REFSSI_ENTRA_UI", ("legacy", "new")),
            portal_ui=_choice("REFSSI_PORTAL_UI", ("classic", "sp")),
            latency_ms=parse_latency(os.environ.get("REFSSI_LATENCY_MS", "0")),
            email_code_validity_seconds=num(
                "REFSSI_EMAIL_CODE_VALIDITY_SECONDS", prof.mfa.email_code.validity_seconds
            ),
        )
