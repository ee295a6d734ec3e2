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

from .config import Persona, ResolvedTarget, Settings
from .errors import UsageError
from .otp import ImapSource, MailsinkSource, OtpSource, PromptSource, TotpSource
from .profile import Profile, load_profile
from .secrets import Secret

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


class TableApiClient:
    """ServiceNow's REST Table API as one persona (basic auth) or as DCC's service desk (reference SSI only).

    Used to cross-check what the pages showed against the stored record. Never logs credentials.
    """

    def __init__(self, url: str, auth: httpx.Auth, who: str, path: str = "/api/now/table") -> None:
        self.who = who
        self.path = path.rstrip("/")
        self._http = httpx.Client(base_url=url, auth=auth, timeout=20,
                                  headers={"Accept": "application/json"})

    def request(self, method: str, table: str, sys_id: str | None = None, **kwargs) -> httpx.Response:
        url = f"{self.path}/{table}" + (f"/{sys_id}" if sys_id else "")
        return self._http.request(method, url, **kwargs)

    def get(self, table: str, sys_id: str, display: str = "all") -> dict | None:
        """One record ({field: {display_value, value}} with display='all'), or None when not visible."""
        r = self.request("GET", table, sys_id, params={"sysparm_display_value": display,
                                                       "sysparm_exclude_reference_link": "true"})
        if r.status_code == 404:
            return None
        r.raise_for_status()
        return r.json()["result"]

    def query(self, table: str, query: str, display: str = "false", limit: int = 100,
              fields: str | None = None) -> list[dict]:
        params = {"sysparm_query": query, "sysparm_display_value": display, "sysparm_limit": limit}
        if fields:
            params["sysparm_fields"] = fields
        r = self.request("GET", table, params=params)
        r.raise_for_status()
        return r.json()["result"]

    def update(self, table: str, sys_id: str, values: dict) -> dict:
        r = self.request("PATCH", table, sys_id, json=values)
        if r.status_code >= 400:
            raise AssertionError(f"Table API refused {self.who}'s update of {table}/{sys_id}: "
                                 f"{r.status_code} {r.text[:300]}")
        return r.json()["result"]


class _Bearer(httpx.Auth):
    def __init__(self, token: Secret) -> None:
        self._token = token

    def auth_flow(self, request: httpx.Request):
        request.headers["Authorization"] = f"Bearer {self._token.reveal()}"
        yield request


class TargetControl:
    """What the harness may make happen on the target besides using its UI.

    A real SSI offers nothing: a scenario that needs a control is skipped there,
    saying why. The reference SSI offers operator controls (e.g. let time pass).
    """

    available = False

    def __repr__(self) -> str:
        return f"{self.__class__.__name__}()"

    def age(self, kind: str, user_name: str, seconds: float) -> None:
        raise NotImplementedError

    def user_state(self, user_name: str) -> dict:
        raise NotImplementedError

    def desk_update(self, table: str, sys_id: str, **changes: str) -> dict:
        """What DCC's service desk does to a record (state, hold reason, work notes...)."""
        raise NotImplementedError

    # ---- OMS: what DCC and the carriers do
    def oms_consignment(self, number: str, to: str) -> dict:
        """A carrier dispatches ('dispatched') or delivers ('delivered') a consignment."""
        raise NotImplementedError

    def oms_return(self, number: str, to: str, outcomes: dict[str, str] | None = None) -> dict:
        """DCC authorises, the carrier collects, DCC receives, triages (an outcome per device ID) or closes
        a return."""
        raise NotImplementedError

    def oms_devices(self, organisation: str, count: int, item: str | None = None) -> list[str]:
        """Device IDs of Communications Hubs the organisation now holds (as if delivered earlier)."""
        raise NotImplementedError


class ReferenceControl(TargetControl):
    available = True

    def __init__(self, url: str, token: Secret) -> None:
        self._http = httpx.Client(base_url=f"{url}/_operator",
                                  headers={"Authorization": f"Bearer {token.reveal()}"}, timeout=10)
        # the reference SSI's operator token is also its system administrator on the Table API
        self.desk = TableApiClient(url, _Bearer(token), "DCC's service desk")

    def age(self, kind: str, user_name: str, seconds: float) -> None:
        r = self._http.post("/age", json={"kind": kind, "user_name": user_name, "seconds": seconds})
        r.raise_for_status()
        if r.json()["updated"] < 1:
            raise AssertionError(f"nothing of kind '{kind}' to age for {user_name}")

    def user_state(self, user_name: str) -> dict:
        r = self._http.get(f"/users/{user_name}")
        r.raise_for_status()
        return r.json()

    def desk_update(self, table: str, sys_id: str, **changes: str) -> dict:
        return self.desk.update(table, sys_id, changes)

    def _oms(self, path: str, body: dict) -> dict:
        r = self._http.post(f"/oms/{path}", json=body)
        if r.status_code >= 400:
            detail = r.json().get("error", {}).get("message", r.text) if r.content else r.reason_phrase
            raise AssertionError(f"the reference SSI refused the operator action on {path}: {detail}")
        return r.json()

    def oms_consignment(self, number: str, to: str) -> dict:
        return self._oms(f"consignments/{number}", {"to": to})

    def oms_return(self, number: str, to: str, outcomes: dict[str, str] | None = None) -> dict:
        return self._oms(f"returns/{number}", {"to": to, "outcomes": outcomes or {}})

    def oms_devices(self, organisation: str, count: int, item: str | None = None) -> list[str]:
        return self._oms("devices", {"organisation": organisation, "count": count, "item": item})["serials"]


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

    def table_api(self, key: str) -> TableApiClient | None:
        """The Table API as persona `key`, when the target's profile says it offers it (else None)."""
        cfg = self.profile.table_api
        if not cfg.enabled:
            return None
        p = self.persona(key)
        return TableApiClient(self.url, httpx.BasicAuth(p.username, p.password().reveal()), key, cfg.path)

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
        from .config import _require_env

        return ImapSource(box.host, box.port, Secret(_require_env(box.user_env, "IMAP user"), "IMAP user"),
                          Secret(_require_env(box.password_env, "IMAP password"), "IMAP password"),
                          mfa.email_code_pattern, mfa.email_subject, box.folder, box.timeout_seconds)
