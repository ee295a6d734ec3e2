"""Seed data (organisations and personas) and the per-run secrets that go with it."""

from __future__ import annotations

import re
import secrets
import string
from functools import cache
from pathlib import Path
from typing import Literal

import pyotp
from pydantic import BaseModel, ConfigDict

from .errors import read_yaml

SEED_FILE = Path(__file__).parent / "data" / "seed.yaml"


class Organisation(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    key: str
    name: str
    sec_party_id: str
    user_role: str
    user_ids: list[str]


class SeedPersona(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    persona: str
    user_name: str
    first_name: str
    last_name: str
    email: str | None = None
    phone: str | None = None
    organisation: str = "NPS"
    roles: list[str]
    mfa: Literal["totp", "email", "none"]
    enrols: Literal["totp", "email"] = "totp"  # with mfa: none, the method the persona sets up at first login
    identity: Literal["local", "entra"] = "local"
    description: str = ""

    @property
    def otp(self) -> Literal["totp", "email"]:
        """How the persona gets its codes: by email, or from an authenticator app."""
        return "email" if (self.mfa if self.mfa != "none" else self.enrols) == "email" else "totp"

    def model_post_init(self, _ctx: object) -> None:
        if self.email is None:
            object.__setattr__(self, "email", f"{self.user_name}@{self.organisation.lower()}.example.com")
        if self.phone is None:
            # Ofcom's drama range, spaced so that no six-digit run stands alone: the tests' secret scan finds
            # one-time codes by shape, and a persona's phone number on every profile page would collide with one
            digits = "".join(str(ord(c) % 10) for c in self.user_name)[:3].ljust(3, "0")
            object.__setattr__(self, "phone", f"01632 960 {digits}")


class MigratedAccount(BaseModel):
    """An account migrated from the legacy DSMS/OMS: inactive until an administrator reinstates it (FSM 001 s3.1).

    It has no usable password and no MFA enrolment; reinstating it issues a one-time password.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)
    user_name: str
    first_name: str
    last_name: str
    email: str | None = None
    organisation: str = "NPS"
    roles: list[str] = []

    def model_post_init(self, _ctx: object) -> None:
        if self.email is None:
            object.__setattr__(self, "email", f"{self.user_name}@{self.organisation.lower()}.example.com")


class Seed(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    organisations: list[Organisation]
    personas: list[SeedPersona]
    migrated_accounts: list[MigratedAccount] = []

    def organisation(self, key: str) -> Organisation:
        return next(o for o in self.organisations if o.key == key)


@cache
def load_seed(path: Path = SEED_FILE) -> Seed:
    return Seed.model_validate(read_yaml(path, "personas seed"))


def persona_env_names(persona: str) -> dict[str, str]:
    slug = re.sub(r"[^A-Z0-9]+", "_", persona.upper()).strip("_")
    return {"password": f"UEPT_REF_{slug}_PASSWORD", "totp_seed": f"UEPT_REF_{slug}_TOTP_SEED"}


def new_password() -> str:
    """20 characters with every character class, so any sane policy accepts it."""
    alphabet = string.ascii_letters + string.digits + "!#%+-=@^_~"
    while True:
        pw = "".join(secrets.choice(alphabet) for _ in range(20))
        if (
            any(c.islower() for c in pw)
            and any(c.isupper() for c in pw)
            and any(c.isdigit() for c in pw)
            and any(not c.isalnum() for c in pw)
        ):
            return pw


def new_totp_seed() -> str:
    """A 160-bit Base32 seed (RFC 4226 recommends 160 bits; pyotp requires at least 112)."""
    return pyotp.random_base32(32)


def generate_secrets(seed: Seed | None = None) -> dict[str, dict[str, str]]:
    """Fresh secrets for one run: {persona: {'password': ..., 'totp_seed': ...}}."""
    seed = seed or load_seed()
    out: dict[str, dict[str, str]] = {}
    for p in seed.personas:
        entry = {"password": new_password()}
        if p.mfa == "totp":
            entry["totp_seed"] = new_totp_seed()
        out[p.persona] = entry
    return out


def generate_party_keys(seed: Seed | None = None) -> dict[str, str]:
    """A fresh file-signing key per organisation for one run: {organisation key: private key}; the reference
    SSI is given only the public halves, as DCC holds only what a Party registered."""
    from .signed_files import new_private_key

    return {o.key: new_private_key() for o in (seed or load_seed()).organisations}


def party_key_env(organisation: str) -> str:
    """The environment variable that holds an organisation's file-signing key for the harness."""
    return f"UEPT_ORG_{re.sub(r'[^A-Z0-9]+', '_', organisation.upper()).strip('_')}_SIGNING_KEY"


def secrets_env(generated: dict[str, dict[str, str]]) -> dict[str, str]:
    """The same secrets as the environment variables the harness's personas name."""
    env: dict[str, str] = {}
    for persona, values in generated.items():
        names = persona_env_names(persona)
        env[names["password"]] = values["password"]
        if "totp_seed" in values:
            env[names["totp_seed"]] = values["totp_seed"]
    return env
