"""The OMS tables (store.py OMS_TABLES) on the Table API, read-only.

Built from the table definitions the OMS module publishes: every column of the
SQL schema becomes a field (REFERENCES -> reference field, *_on -> date-time,
INTEGER -> integer), each table is scoped to the caller's organisation (directly,
or through its parent record), and reading needs the OMS component. Writes stay
with the OMS pages and operator controls, which hold the OMS rules.
"""

from __future__ import annotations

import re
import sqlite3
from typing import Any

from ..db import SCHEMA
from ..tableapi.model import ANY, Call, Field, TableDef, register
from .rules import COMPONENT
from .store import OMS_TABLES

_REFERENCE = re.compile(r"REFERENCES\s+(\w+)\s*\(", re.I)


def _fields(conn: sqlite3.Connection, table: str) -> tuple[Field, ...]:
    ddl = conn.execute("SELECT sql FROM sqlite_master WHERE name = ?", (table,)).fetchone()[0]
    refs = {}
    for line in ddl.splitlines():
        for part in line.split(","):
            m = _REFERENCE.search(part)
            if m:
                refs[part.strip().split()[0]] = m.group(1)
    out = []
    for _cid, name, sqltype, *_ in conn.execute(f"PRAGMA table_info({table})"):
        column = f"{table}.{name}"
        if name in refs and refs[name] in ("sys_user", "core_company", *OMS_TABLES):
            out.append(Field(name, "reference", name, reference=refs[name], column=column, read_only=True))
        elif name.endswith("_on"):
            out.append(Field(name, "glide_date_time", name, column=column, read_only=True))
        elif sqltype.upper() == "INTEGER":
            out.append(Field(name, "integer", name, column=column, read_only=True))
        else:
            out.append(Field(name, "string", name, column=column, read_only=True))
    return tuple(out)


def _scope(table: str, meta: dict[str, Any]):
    def scope(call: Call) -> tuple[str, list[Any]]:
        if call.principal.admin:
            return "", []
        if meta.get("company"):
            return f"{table}.{meta['company']} = ?", [call.principal.company]
        column, parent = meta.get("parent") or (None, None)
        if parent and OMS_TABLES.get(parent, {}).get("company"):
            return (f"{table}.{column} IN (SELECT sys_id FROM {parent} WHERE {OMS_TABLES[parent]['company']} = ?)",
                    [call.principal.company])
        return "0", []  # no organisation to scope by: the administrator only

    return scope


def register_oms_tables() -> None:
    conn = sqlite3.connect(":memory:")
    try:
        conn.executescript(SCHEMA)
        for table, meta in OMS_TABLES.items():
            fields = _fields(conn, table)
            names = {f.name for f in fields}
            display = "number" if "number" in names else "sys_id"
            register(TableDef(name=table, label=meta["label"], fields=fields, display_field=display,
                              scope=_scope(table, meta), read=COMPONENT if COMPONENT else ANY))
    finally:
        conn.close()


register_oms_tables()
