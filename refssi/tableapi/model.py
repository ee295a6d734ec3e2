"""What the Table API serves: callers (Principal, Call), fields and table definitions, and the registry of tables."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ..settings import Settings

ADMIN = None  # component value meaning: DCC's administrator (operator token) only
ANY = ""  # component value meaning: any authenticated caller

DEFAULT_LIMIT = 10000
MAX_LIMIT = 10000
MIB = 1024 * 1024


class ApiError(Exception):
    def __init__(self, status: int, message: str, detail: str = "") -> None:
        super().__init__(message)
        self.status, self.message, self.detail = status, message, detail


def not_found() -> ApiError:
    return ApiError(404, "No Record found", "Record doesn't exist or ACL restricts the record retrieval")


# ---------------------------------------------------------------- who is calling
@dataclass
class Principal:
    user: dict[str, Any] | None  # sys_user row; None for the administrator
    components: set[str] = field(default_factory=set)
    admin: bool = False

    @property
    def sys_id(self) -> str | None:
        return self.user["sys_id"] if self.user else None

    @property
    def user_name(self) -> str:
        return self.user["user_name"] if self.user else "dcc.service.desk"

    @property
    def display_name(self) -> str:
        if not self.user:
            return "DCC Service Desk"
        return f"{self.user['first_name']} {self.user['last_name']}".strip() or self.user["user_name"]

    @property
    def company(self) -> str | None:
        return self.user["company"] if self.user else None

    def may(self, component: str | None) -> bool:
        if self.admin:
            return True
        if component is ADMIN:
            return False
        return component == ANY or component in self.components

    @classmethod
    def of_user(cls, conn: sqlite3.Connection, settings: Settings, user: dict[str, Any]) -> Principal:
        roles = [
            r[0] for r in conn.execute("SELECT role FROM sys_user_has_role WHERE user=?", (user["sys_id"],))
        ]
        return cls(user=user, components=settings.profile.role_matrix.components_for(roles))

    @classmethod
    def from_ctx(cls, ctx: Any) -> Principal:
        """The signed-in portal user of a request context (refssi.web.Ctx)."""
        return cls(user=ctx.user, components=set(ctx.components))


@dataclass
class Call:
    """One Table API call: the open transaction, the settings, the caller and the instance URL."""

    conn: sqlite3.Connection
    settings: Settings
    principal: Principal
    base_url: str = ""

    @property
    def profile(self):
        return self.settings.profile


# ---------------------------------------------------------------- table definitions
TYPES = {"string", "integer", "boolean", "glide_date_time", "reference", "choice", "journal", "guid"}


@dataclass(frozen=True)
class Field:
    name: str
    type: str = "string"
    label: str = ""
    reference: str | None = None  # referenced table, for type 'reference'
    choices: Callable[[Any], list[tuple[str, str]]] | None = None  # profile -> [(value, label)]
    column: str | None = None  # SQL expression when it is not the column of the same name
    read_only: bool = False  # never written through the API (system, calculated or identity fields)
    readable: Callable[[Call], bool] | None = None  # None: whoever may read the table
    display: Callable[[Call, list[str]], dict[str, str]] | None = None  # journal: record sys_ids -> text

    def __post_init__(self) -> None:
        if self.type not in TYPES:
            raise ValueError(f"field {self.name}: unknown type {self.type}")

    @property
    def sql(self) -> str:
        return self.column or self.name

    @property
    def queryable(self) -> bool:
        return self.type != "journal"


@dataclass(frozen=True)
class TableDef:
    name: str
    label: str
    fields: tuple[Field, ...]
    display_field: str  # shown for references to this table (e.g. number, name)
    scope: Callable[[Call], tuple[str, list[Any]]]  # SQL condition limiting the rows a caller may see
    read: str | None = ANY  # component needed to read; ANY = any authenticated caller; ADMIN = admin only
    create: str | None = ADMIN
    update: str | None = ADMIN
    delete: str | None = ADMIN
    sql_table: str = ""
    insert_hook: Callable[[Call, dict[str, str]], str] | None = None  # validate + insert; returns sys_id
    update_hook: Callable[[Call, dict[str, Any], dict[str, str]], None] | None = None
    delete_hook: Callable[[Call, dict[str, Any]], None] | None = None

    @property
    def table(self) -> str:
        return self.sql_table or self.name

    def field(self, name: str) -> Field | None:
        return self._by_name.get(name)

    @property
    def _by_name(self) -> dict[str, Field]:
        cache = self.__dict__.get("_fields_cache")
        if cache is None:
            cache = {f.name: f for f in self.fields}
            object.__setattr__(self, "_fields_cache", cache)
        return cache

    def readable_fields(self, call: Call) -> list[Field]:
        return [f for f in self.fields if f.readable is None or f.readable(call)]


TABLES: dict[str, TableDef] = {}


def register(table: TableDef) -> TableDef:
    """Serve a table through the Table API (each name once)."""
    if table.name in TABLES:
        raise ValueError(f"table {table.name!r} registered twice")
    if table.field("sys_id") is None:
        raise ValueError(f"table {table.name!r} needs a sys_id field")
    TABLES[table.name] = table
    return table


def table_or_400(name: str) -> TableDef:
    t = TABLES.get(name)
    if t is None:
        raise ApiError(400, f"Invalid table {name}", f"The Table API serves: {', '.join(sorted(TABLES))}.")
    return t
