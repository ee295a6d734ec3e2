"""The target one process talks to: URL, profile, personas, OTP sources and controls.

Built once per pytest process (controller or xdist worker) from the config and the
environment. For the embedded reference SSI, the `uept run` command starts the
server and passes its URL and this run's secrets through the environment; a bare
`pytest` run starts one itself.
"""

from __future__ import annotations

import json
import os
import socket
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from urllib.parse import urlparse

import httpx

from ssi.errors import UsageError
from ssi.profile import Profile, load_profile
from uept.runtime.clock import TargetClock
from uept.runtime.config import Persona, ResolvedTarget, Settings
from uept.runtime.control import ReferenceControl, TargetControl
from uept.runtime.mailbox import Inbox
from uept.runtime.otp import ImapSource, MailsinkSource, OtpSource, PromptSource, TotpSource
from uept.runtime.secrets import Secret
from uept.runtime.tableapi import TableApiClient

STATE_DIR = Path(os.environ.get("UEPT_STATE_DIR", ".uept"))


def check_reachable(url: str, timeout: float = 5.0) -> None:
    """One clear line when the target cannot be reached."""
    u = urlparse(url)
    port = u.port or (443 if u.scheme == "https" else 80)
    try:
        with socket.create_connection((u.hostname, port), timeout=timeout):
            pass
    except OSError as exc:
        reason = exc.strerror or exc.__class__.__name__
        raise UsageError(
            f"target {url} is unreachable ({reason})",
            "check the URL, your network or VPN, or start the reference SSI with `uept serve`",
        ) from None


# What only a ServiceNow login page holds: its password field, or the instance's page globals and tokens
_SSI_MARKERS = ('name="user_password"', "id=\"user_password\"", "g_ck", "sysparm_ck", "glide", "servicenow",
                "sp-page-root", "window.NOW")


def check_is_ssi(url: str, profile: Profile, timeout: float = 15.0) -> None:
    """One clear line when the target answers but is not a ServiceNow SSI (e.g. a typo'd host or port that
    serves something else): its classic login page or the portal's login page must look like ServiceNow's."""
    pages = ["/login.do", f"{profile.portal.suffix}?id={profile.portal.login_page}"]
    seen: list[str] = []
    with httpx.Client(base_url=url, timeout=timeout, follow_redirects=True, headers={"Accept": "text/html"}) as c:
        for path in pages:
            try:
                r = c.get(path)
            except httpx.HTTPError as exc:
                seen.append(f"{path}: {exc.__class__.__name__}")
                continue
            body = r.text[:200_000].lower()
            if r.status_code < 400 and any(m.lower() in body for m in _SSI_MARKERS):
                return
            seen.append(f"{path}: HTTP {r.status_code}" + ("" if r.status_code >= 400 else ", no login form"))
    raise UsageError(f"target {url} answers but is not a ServiceNow SSI ({'; '.join(seen)})",
                     "check the URL (e.g. https://<instance>.service-now.com) and the profile's portal.suffix "
                     "and portal.login_page")


@dataclass
class TargetSession:
    settings: Settings
    resolved: ResolvedTarget
    url: str
    _otp: dict[str, OtpSource] = field(default_factory=dict)

    def __repr__(self) -> str:  # shown as a step parameter in Allure
        return f"Target({self.name}: {self.url})"

    @cached_property
    def profile(self) -> Profile:
        return load_profile(self.resolved.target.profile)

    @property
    def name(self) -> str:
        return self.resolved.name

    @property
    def personas(self) -> dict[str, Persona]:
        return self.resolved.target.personas

    def persona(self, key: str) -> Persona:
        try:
            return self.personas[key]
        except KeyError:
            known = ", ".join(f'"{k}"' for k in sorted(self.personas))
            raise UsageError(f'target {self.name} has no persona "{key}"',
                             f"add it under targets.{self.name}.personas in the config (known: {known})") from None

    def write_metrics(self, run_dir: Path) -> None:
        """Seconds spent waiting for fresh authenticator time steps (benchmarks subtract them)."""
        waited = sum(getattr(src, "waited", 0.0) for src in self._otp.values())
        if self._otp:
            out = run_dir / "metrics" / f"totp-wait-{os.environ.get('PYTEST_XDIST_WORKER', 'main')}.json"
            out.parent.mkdir(parents=True, exist_ok=True)
            out.write_text(json.dumps({"totp_wait_seconds": round(waited, 3)}))

    def check_secrets(self) -> None:
        """Every persona's secrets are set: fail before the browser starts, not mid-run."""
        for p in self.personas.values():
            p.password()
            p.totp_seed()

    @cached_property
    def control(self) -> TargetControl:
        env = self.resolved.target.operator_token_env
        if self.resolved.is_reference and env and os.environ.get(env):
            return ReferenceControl(self.url, Secret(os.environ[env], "operator token"))
        return TargetControl()

    @property
    def clock(self) -> TargetClock:
        """The target's own clock (real-clock scenarios wait on it)."""
        return TargetClock(self.url)

    def table_api(self, key: str) -> TableApiClient | None:
        """The Table API as persona `key`, when the target's profile says it offers it (else None)."""
        cfg = self.profile.table_api
        if not cfg.enabled:
            return None
        p = self.persona(key)
        return TableApiClient(self.url, httpx.BasicAuth(p.username, p.password().reveal()), key, cfg.path)

    def signing_key(self, organisation: str) -> Secret:
        """The private key an organisation signs its files with (targets.<name>.signing_keys names its variable)."""
        env = self.resolved.target.signing_keys.get(organisation)
        if not env:
            raise UsageError(f"target {self.name} has no file-signing key for organisation {organisation}",
                             f"add targets.{self.name}.signing_keys.{organisation}: <ENV VAR holding the key>")
        if not os.environ.get(env):
            raise UsageError(f"{env} is not set (the file-signing key of {organisation})",
                             f"export {env}=<the base64 Ed25519 private key {organisation} registered with DCC>")
        return Secret(os.environ[env], f"file-signing key of {organisation}")

    def otp(self, key: str) -> OtpSource:
        """The code source of a persona (one per process, so 'never reuse' holds)."""
        if key not in self._otp:
            p = self.persona(key)
            if p.otp == "prompt":
                self._otp[key] = PromptSource(p.username)
            elif p.otp == "email":
                self._otp[key] = self._mail_source(p)
            else:
                seed = p.totp_seed()
                if seed is None:
                    raise UsageError(f'persona "{key}" has no authenticator seed yet',
                                     "set totp_seed_env, or enrol the authenticator in the scenario first")
                self._otp[key] = self.totp_source(p, seed)
        return self._otp[key]

    def totp_source(self, p: Persona, seed: Secret) -> TotpSource:
        cfg = self.profile.mfa.totp
        return TotpSource(seed, account=f"{self.url}|{p.username}", state_dir=STATE_DIR / "totp",
                          interval=cfg.interval, digits=cfg.digits, lookahead=cfg.valid_window)

    def enrol_totp(self, key: str, seed: Secret) -> TotpSource:
        """Remember a seed captured from an enrolment page for the rest of this process."""
        src = self.totp_source(self.persona(key), seed)
        self._otp[key] = src
        return src

    def inbox(self, key: str) -> Inbox:
        """The mailbox where persona `key` receives the SSI's emails (the target's mailbox)."""
        from uept.runtime.config import _require_env
        from uept.runtime.mailbox import ImapInbox, MailsinkInbox

        p = self.persona(key)
        box = self.resolved.target.mailbox
        if box is None:
            raise UsageError(f"target {self.name} has no mailbox to read {p.username}'s emails from",
                             f"add targets.{self.name}.mailbox to the config")
        if box.kind == "mailsink":
            token = Secret(os.environ[box.token_env], "mail sink token") if box.token_env in os.environ else None
            return MailsinkInbox(box.url or f"{self.url}/_mailsink/api/v1", token, p.email or p.username)
        return ImapInbox(box.host, box.port, Secret(_require_env(box.user_env, "IMAP user"), "IMAP user"),
                         Secret(_require_env(box.password_env, "IMAP password"), "IMAP password"), box.folder)

    def _mail_source(self, p: Persona) -> OtpSource:
        box = self.resolved.target.mailbox
        if box is None:
            raise UsageError(f"persona {p.username} uses emailed codes but target {self.name} has no mailbox",
                             f"add targets.{self.name}.mailbox to the config")
        address = p.email or p.username
        mfa = self.profile.mfa
        if box.kind == "mailsink":
            token = Secret(os.environ[box.token_env], "mail sink token") if box.token_env in os.environ else None
            return MailsinkSource(box.url or f"{self.url}/_mailsink/api/v1", token, address,
                                  mfa.email_code_pattern, mfa.email_subject, timeout=box.timeout_seconds)
        from uept.runtime.config import _require_env

        return ImapSource(box.host, box.port, Secret(_require_env(box.user_env, "IMAP user"), "IMAP user"),
                          Secret(_require_env(box.password_env, "IMAP password"), "IMAP password"),
                          mfa.email_code_pattern, mfa.email_subject, box.folder, box.timeout_seconds)
