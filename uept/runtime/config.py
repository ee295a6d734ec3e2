"""Harness configuration: a YAML file plus environment variables, validated on load.

Secrets are never written in the file: a persona names the environment variables
that hold its password and authenticator seed. The built-in target 'reference' is
the embedded reference SSI; its personas come from the reference SSI's seed data,
and its secrets are generated afresh for every run.

Environment variables:
  UEPT_CONFIG      path of the config file (default: ./uept.yaml when present)
  UEPT_TARGET      target name from the config, or a URL (default: the config's 'target')
  UEPT_TARGET_URL  URL of the chosen target, overriding the file (for 'reference':
                   attach to a running `uept serve` instead of starting one)
  UEPT_CHROMIUM    path of the Chromium executable (default: Playwright's own, then the OS one)
  UEPT_REPORTS_DIR where run folders are written (default: ./reports)
  UEPT_SIGNING_KEY Ed25519 PEM private key that signs evidence packs (default: the config's
                   signing_key, else .uept/signing-key.pem, made on first use)
  UEPT_SCENARIO_CATALOGUE  scenario catalogue for the exit criteria (default: the config's, else uept's own)
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Literal
from urllib.parse import urlparse

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from ssi.errors import UsageError, first_problem, read_yaml
from uept.runtime.secrets import Secret

# Step pictures are kept at three quarters of the browser's size (960 x 600 of the 1280 x 800 viewport) unless the
# config says otherwise: the page as at 75% zoom, its smallest text (11 px hints) still legible, for two thirds of
# the bytes (bench/screenshot_formats.py keeps a picture of each scale to look at).
PICTURE_SCALE = 0.75

ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
REFERENCE = "reference"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


def _check_env_name(v: str | None) -> str | None:
    if v is not None and not ENV_NAME.match(v):
        raise ValueError(f"'{v}' is not an environment variable name (write the variable's NAME, not the secret)")
    return v


class Party(_Strict):
    name: str = "Demo Party (reference run)"
    sec_party_id: str = "DEMO"
    user_role: str = "Supplier"


class Mailbox(_Strict):
    """Where emailed one-time codes arrive."""

    kind: Literal["mailsink", "imap"] = "mailsink"
    url: str | None = None  # mailsink: Mailpit-compatible API base URL
    token_env: str | None = None  # mailsink: env var holding its bearer token
    host: str | None = None  # imap
    port: int = 993
    user_env: str | None = None
    password_env: str | None = None
    folder: str = "INBOX"
    timeout_seconds: float = Field(60, gt=0)

    _env = field_validator("token_env", "user_env", "password_env")(_check_env_name)

    @model_validator(mode="after")
    def _complete(self) -> Mailbox:
        if self.kind == "imap" and not (self.host and self.user_env and self.password_env):
            raise ValueError("an imap mailbox needs host, user_env and password_env")
        return self


class Persona(_Strict):
    username: str = Field(min_length=1)
    password_env: str
    # local: ServiceNow's own login page and MFA; entra: "Use external login", then Microsoft Entra ID's
    # sign-in pages (username = the Entra sign-in name; the password and the authenticator are Entra's)
    identity: Literal["local", "entra"] = "local"
    otp: Literal["totp", "email", "prompt"] = "totp"
    totp_seed_env: str | None = None  # unset: the seed is captured at enrolment
    # the account has never logged in: it sets up MFA (and its profile) at its first login in the scenarios, so
    # `uept probe` never signs in with it (that would use up its first login)
    first_login: bool = False
    roles: list[str] = []
    organisation: str | None = None
    email: str | None = None
    description: str = ""

    _env = field_validator("password_env", "totp_seed_env")(_check_env_name)

    def password(self, env: Mapping[str, str] | None = None) -> Secret:
        what = f"password of {self.username}"
        return Secret(_require_env(self.password_env, what, env), what)

    def totp_seed(self, env: Mapping[str, str] | None = None) -> Secret | None:
        if not self.totp_seed_env:
            return None
        value = _require_env(self.totp_seed_env, f"authenticator seed of {self.username}", env)
        return Secret(value, f"authenticator seed of {self.username}")


class Target(_Strict):
    url: str | None = None  # None only for the embedded reference SSI
    kind: Literal["reference", "servicenow"] = "servicenow"
    profile: str = "reference"
    environment: str = "UIT"
    mailbox: Mailbox | None = None
    operator_token_env: str | None = None  # reference SSI operator controls
    # organisation -> the environment variable holding the private key it signs its ADT and action files with
    signing_keys: dict[str, str] = {}
    personas: dict[str, Persona] = {}
    # how long a step waits for what proves an action's outcome (the element, the message, the changed value)
    # before it fails; a slow instance may need more (UEPT_WAIT_SECONDS overrides it for one run)
    wait_seconds: float = Field(10, gt=0, le=300)

    @field_validator("url")
    @classmethod
    def _url(cls, v: str | None) -> str | None:
        if v is None:
            return v
        u = urlparse(v)
        if u.scheme not in ("http", "https") or not u.netloc:
            raise ValueError(f"'{v}' is not an http(s) URL, e.g. https://dccssi-uit.service-now.com")
        return v.rstrip("/")

    @model_validator(mode="after")
    def _complete(self) -> Target:
        if self.kind == "servicenow" and not self.url:
            raise ValueError("a servicenow target needs a url")
        return self


class Settings(_Strict):
    party: Party = Party()
    target: str = REFERENCE
    targets: dict[str, Target] = {}
    reports_dir: str = "reports"
    requirement_url: str = "urn:ssi-requirement:{id}"
    signing_key: str | None = None  # Ed25519 PEM key that signs evidence packs (default .uept/signing-key.pem)
    scenario_catalogue: str | None = None  # which scenarios are mandatory per User Role (default: uept's own)
    browser_endpoint: str | None = None  # a Playwright browser server (ws://HOST:PORT/) instead of a local browser
    # how large each step's picture is kept, as a fraction of the browser's 1280 x 800 page (1 keeps it whole)
    picture_scale: float = Field(PICTURE_SCALE, ge=0.5, le=1.0)


def _require_env(name: str, what: str, env: Mapping[str, str] | None = None) -> str:
    env = os.environ if env is None else env
    value = env.get(name)
    if not value:
        raise UsageError(
            f"environment variable {name} ({what}) is not set",
            f"export {name}=... before running, or fix the persona's *_env setting in the config",
        )
    return value


def reference_target() -> Target:
    """The built-in target: the embedded reference SSI with its seeded personas."""
    from ssi.seed import load_seed, party_key_env, persona_env_names

    seed = load_seed()
    personas = {}
    for p in seed.personas:
        names = persona_env_names(p.persona)
        personas[p.persona] = Persona(
            username=p.user_name,
            password_env=names["password"],
            identity=p.identity,
            otp=p.otp,
            totp_seed_env=names["totp_seed"] if p.mfa == "totp" else None,
            first_login=p.mfa == "none",
            roles=p.roles,
            organisation=p.organisation,
            email=p.email,
            description=p.description,
        )
    return Target(
        url=None,
        kind="reference",
        profile=REFERENCE,
        environment="Reference SSI (embedded)",
        mailbox=Mailbox(kind="mailsink", url=None, token_env="UEPT_REF_OPERATOR_TOKEN"),
        operator_token_env="UEPT_REF_OPERATOR_TOKEN",
        personas=personas,
        signing_keys={o.key: party_key_env(o.key) for o in seed.organisations},
    )


def config_path(explicit: str | os.PathLike[str] | None = None, env: Mapping[str, str] | None = None) -> Path | None:
    env = os.environ if env is None else env
    if explicit:
        return Path(explicit)
    if env.get("UEPT_CONFIG"):
        return Path(env["UEPT_CONFIG"])
    default = Path("uept.yaml")
    return default if default.is_file() else None


def load_settings(path: Path | None) -> Settings:
    if path is None:
        data: dict = {}
    else:
        if not path.is_file():
            raise UsageError(f"config file {path} not found", "check UEPT_CONFIG or --config, or create the file")
        data = read_yaml(path, "config file") or {}
        if not isinstance(data, dict):
            raise UsageError(f"config file {path} must hold a mapping (party:, target:, targets:)", "see README")
    try:
        settings = Settings.model_validate(data)
    except ValidationError as exc:
        raise UsageError(f"config {path}: {first_problem(exc)}", "correct that value") from None
    if REFERENCE in settings.targets:
        raise UsageError(
            f"config {path}: the target name 'reference' is built in", "give your target another name"
        )
    return settings


class ResolvedTarget(BaseModel):
    """The target a run talks to, after the file and the environment are applied."""

    model_config = ConfigDict(frozen=True)

    name: str
    target: Target
    url: str | None  # None: an embedded reference SSI must be started

    @property
    def is_reference(self) -> bool:
        return self.target.kind == "reference"


def resolve_target(
    settings: Settings, choice: str | None = None, env: Mapping[str, str] | None = None
) -> ResolvedTarget:
    env = os.environ if env is None else env
    targets = {REFERENCE: reference_target(), **settings.targets}
    choice = choice or env.get("UEPT_TARGET") or settings.target
    url_override = env.get("UEPT_TARGET_URL") or None
    if choice.startswith(("http://", "https://")):
        base_name = settings.target if settings.target in targets else REFERENCE
        url_override, choice = choice, base_name
    elif "://" in choice:
        raise UsageError(f"--target {choice} is not an http(s) URL", "give the SSI's https:// address, or a target "
                         "name from the config")
    if choice not in targets:
        known = ", ".join(sorted(targets))
        raise UsageError(f"unknown target '{choice}'", f"use one of: {known}, or a URL")
    target = targets[choice]
    url = url_override or target.url
    if url_override:
        try:
            target = target.model_copy(update={"url": Target._url(url_override)})
        except ValueError as exc:
            raise UsageError(f"target URL: {exc}", "give an http(s) URL") from None
        url = target.url
    if env.get("UEPT_WAIT_SECONDS"):
        target = target.model_copy(update={"wait_seconds": wait_seconds(env["UEPT_WAIT_SECONDS"])})
    return ResolvedTarget(name=choice, target=target, url=url)


def wait_seconds(text: str) -> float:
    """UEPT_WAIT_SECONDS's value: a number of seconds above 0, at most 300."""
    try:
        value = float(text)
    except ValueError:
        value = float("nan")
    if not 0 < value <= 300:
        raise UsageError(f"UEPT_WAIT_SECONDS={text} is not a number of seconds from above 0 to 300",
                         "e.g. UEPT_WAIT_SECONDS=20 for a slow instance, or unset it for the target's wait_seconds")
    return value


def load(
    config: str | os.PathLike[str] | None = None, target: str | None = None, env: Mapping[str, str] | None = None
) -> tuple[Settings, ResolvedTarget]:
    settings = load_settings(config_path(config, env))
    return settings, resolve_target(settings, target, env)
