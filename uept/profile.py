"""Target profiles: what DCC may configure on its ServiceNow instance, as data.

A profile holds the portal suffix, visible labels, session and lockout timings,
MFA methods, evidence masking and the Job Type Role x component matrix. The
reference SSI is built from a profile and the page objects read their labels from
the same one, so the two cannot drift apart.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from .errors import UsageError

PROFILES_DIR = Path(__file__).parent / "profiles"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Portal(_Strict):
    suffix: str = "/sp"
    title: str = "Self-Service Interface"
    home_page: str = "index"
    login_page: str = "login"

    @field_validator("suffix")
    @classmethod
    def _slash(cls, v: str) -> str:
        if not v.startswith("/") or v.endswith("/"):
            raise ValueError("must start with '/' and not end with one, e.g. /sp")
        return v


class Session(_Strict):
    idle_timeout_seconds: int = Field(900, gt=0)
    lockout_threshold: int = Field(5, gt=0)
    lockout_seconds: int = Field(900, gt=0)


class Totp(_Strict):
    digits: int = 6
    interval: int = 30
    algorithm: Literal["SHA1"] = "SHA1"
    valid_window: int = Field(1, ge=0, le=2)


class EmailCode(_Strict):
    digits: int = 6
    validity_seconds: int = Field(300, gt=0)


class Mfa(_Strict):
    methods: list[Literal["totp", "email"]] = ["totp", "email"]
    totp: Totp = Totp()
    email_code: EmailCode = EmailCode()
    email_subject: str = "Your verification code"
    email_code_pattern: str = r"\b(\d{6})\b"


class Evidence(_Strict):
    mask_selectors: list[str] = ["input[type=password]", "input[name=txtResponse]"]


class Role(_Strict):
    abbr: str
    name: str


class Component(_Strict):
    key: str
    bfd: str
    name: str
    use_cases: list[str] = []
    dcc_defined_access: str = ""
    allowed_roles: list[str]


class RoleMatrix(_Strict):
    source: str = ""
    note: str = ""
    roles: list[Role]
    components: list[Component]

    def components_for(self, roles: list[str] | set[str]) -> set[str]:
        """Components a person holding these roles may use: the union of their rows (SSI-NFR-27)."""
        held = set(roles)
        return {c.key for c in self.components if held & set(c.allowed_roles)}

    def component(self, key: str) -> Component:
        for c in self.components:
            if c.key == key:
                return c
        raise KeyError(key)

    def component_named(self, name_or_key: str) -> Component:
        """A component by its name in the matrix (as scenarios write it) or by its key."""
        for c in self.components:
            if name_or_key in (c.name, c.key):
                return c
        known = ", ".join(f'"{c.name}"' for c in self.components)
        raise UsageError(f'the role matrix has no function "{name_or_key}"', f"use one of: {known}")

    def role(self, name_or_abbr: str) -> Role:
        """A Job Type Role by its name ('Lead Agent') or abbreviation ('LA')."""
        for r in self.roles:
            if name_or_abbr in (r.name, r.abbr):
                return r
        known = ", ".join(f'"{r.name}"' for r in self.roles)
        raise UsageError(f'the role matrix has no Job Type Role "{name_or_abbr}"', f"use one of: {known}")

    @model_validator(mode="after")
    def _consistent(self) -> RoleMatrix:
        abbrs = [r.abbr for r in self.roles]
        if len(set(abbrs)) != len(abbrs):
            raise ValueError("roles: the same abbreviation appears twice")
        keys = [c.key for c in self.components]
        if len(set(keys)) != len(keys):
            raise ValueError("components: the same key appears twice")
        for c in self.components:
            unknown = sorted(set(c.allowed_roles) - set(abbrs))
            if unknown:
                raise ValueError(f"component {c.key}: allowed_roles names unknown role(s) {', '.join(unknown)}")
        return self

    @property
    def role_abbrs(self) -> list[str]:
        return [r.abbr for r in self.roles]


class ComponentPage(_Strict):
    """Where a role-matrix component lives on the portal: its page, its menu label and its heading.

    A component the profile does not list gets the reference SSI's defaults: page fn_<key>,
    and the component's name from the role matrix as menu label and heading.
    menu: null means the function has no menu entry (it is reached from another page).
    """

    page: str
    params: dict[str, str] = {}
    menu: str | None = None
    heading: str | None = None


class UserAdmin(_Strict):
    """Organisational Administrator functions (UC_OrgManager_001..003)."""

    page_size: int = Field(10, ge=1, le=200)
    # Roles an administrator may grant; empty: every role of the matrix (FSM: no DCC validation, 000 s2.2).
    assignable_roles: list[str] = []
    max_lengths: dict[str, int] = {"user_name": 40, "first_name": 50, "last_name": 50, "email": 100, "phone": 40}


class Profile(_Strict):
    name: str
    description: str = ""
    portal: Portal = Portal()
    session: Session = Session()
    mfa: Mfa = Mfa()
    labels: dict[str, dict[str, str]]
    evidence: Evidence = Evidence()
    role_matrix: RoleMatrix
    component_pages: dict[str, ComponentPage] = {}
    user_admin: UserAdmin = UserAdmin()

    def component_page(self, key: str) -> ComponentPage:
        """Where component `key` lives (listed in the profile, or the reference SSI's default)."""
        comp = self.role_matrix.component(key)
        found = self.component_pages.get(key)
        if found is None:
            return ComponentPage(page=f"fn_{key}", menu=comp.name, heading=comp.name)
        return found

    def assignable_roles(self) -> list[str]:
        return list(self.user_admin.assignable_roles) or self.role_matrix.role_abbrs

    @model_validator(mode="after")
    def _known_keys(self) -> Profile:
        keys = {c.key for c in self.role_matrix.components}
        unknown = sorted(set(self.component_pages) - keys)
        if unknown:
            raise ValueError(f"component_pages: {', '.join(unknown)} is not a component of the role matrix")
        bad = sorted(set(self.user_admin.assignable_roles) - set(self.role_matrix.role_abbrs))
        if bad:
            raise ValueError(f"user_admin.assignable_roles: {', '.join(bad)} is not a role of the role matrix")
        return self

    def label(self, dotted: str) -> str:
        """A visible label, e.g. label('login.username') -> 'User name'."""
        group, _, key = dotted.partition(".")
        try:
            return self.labels[group][key]
        except KeyError:
            raise UsageError(
                f"profile '{self.name}' has no label '{dotted}'",
                f"add labels.{group}.{key} to the profile",
            ) from None


def _one_line(err: ValidationError) -> str:
    first = err.errors()[0]
    where = ".".join(str(p) for p in first["loc"]) or "(top level)"
    more = f" (and {err.error_count() - 1} more)" if err.error_count() > 1 else ""
    return f"{where}: {first['msg'].removeprefix('Value error, ')}{more}"


@cache
def load_profile(name_or_path: str = "reference") -> Profile:
    """Load a profile by built-in name ('reference') or by path to a YAML file."""
    path = Path(name_or_path)
    if not path.suffix:
        path = PROFILES_DIR / f"{name_or_path}.yaml"
    if not path.is_file():
        raise UsageError(
            f"target profile '{name_or_path}' not found (looked for {path})",
            "give the name of a built-in profile ('reference') or the path to a profile YAML file",
        )
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        at = f":{mark.line + 1}" if mark else ""
        raise UsageError(f"profile {path}{at} is not valid YAML", "fix the YAML syntax") from None
    matrix_ref = data.get("role_matrix", "role_matrix.yaml")
    if isinstance(matrix_ref, str):
        matrix_path = path.parent / matrix_ref
        if not matrix_path.is_file():
            raise UsageError(f"profile {path}: role matrix file {matrix_path} not found", "fix 'role_matrix'")
        data["role_matrix"] = yaml.safe_load(matrix_path.read_text(encoding="utf-8"))
    try:
        return Profile.model_validate(data)
    except ValidationError as exc:
        raise UsageError(f"profile {path}: {_one_line(exc)}", "correct that value in the profile") from None
