"""A table's rows: read options, SQL over a table definition, serialised records, request bodies."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from .model import TABLES, ApiError, Call, Field, TableDef
from .query import MAX_INT, Query


# ---------------------------------------------------------------- reading
@dataclass
class ReadOptions:
    display: str = "false"  # false | true | all
    exclude_links: bool = False
    fields: list[str] | None = None


def bool_param(params: Any, name: str, default: bool = False) -> bool:
    raw = params.get(name)
    if raw is None or raw == "":
        return default
    v = raw.lower()
    if v not in ("true", "false"):
        raise ApiError(400, "Invalid parameter", f"{name} is true or false, not '{raw}'")
    return v == "true"


def int_param(params: Any, name: str, default: int, minimum: int) -> int:
    raw = params.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ApiError(400, "Invalid parameter", f"{name} must be a whole number, not '{raw}'") from None
    if value < minimum:
        raise ApiError(400, "Invalid parameter", f"{name} must be at least {minimum}, not {value}")
    if value > MAX_INT:
        raise ApiError(400, "Invalid parameter", f"{name} must be at most {MAX_INT}, not {raw}")
    return value


def read_options(params: Any) -> ReadOptions:
    display = (params.get("sysparm_display_value") or "false").lower()
    if display not in ("true", "false", "all"):
        raise ApiError(
            400,
            "Invalid parameter",
            f"sysparm_display_value is true, false or all, not '{params.get('sysparm_display_value')}'",
        )
    raw_fields = params.get("sysparm_fields")
    fields = [f.strip() for f in raw_fields.split(",") if f.strip()] if raw_fields else None
    return ReadOptions(display, bool_param(params, "sysparm_exclude_reference_link"), fields)


def _select_fields(call: Call, t: TableDef, opts: ReadOptions) -> list[Field]:
    readable = t.readable_fields(call)
    if opts.fields is None:
        return readable
    names = set(opts.fields)
    return [f for f in readable if f.name in names]  # invalid names are ignored, as ServiceNow does


def _raw(f: Field, value: Any) -> str:
    if value is None:
        return ""
    if f.type == "boolean":
        return "true" if value else "false"
    return str(value)


def serialize(call: Call, t: TableDef, rows: list[sqlite3.Row], opts: ReadOptions) -> list[dict[str, Any]]:
    fields = _select_fields(call, t, opts)
    # display values of references and journals, fetched once per result page
    ref_display: dict[str, dict[str, str]] = {}
    journal_display: dict[str, dict[str, str]] = {}
    ids = [r["sys_id"] for r in rows]
    if opts.display != "false":
        for f in fields:
            if f.type == "reference" and f.reference in TABLES:
                wanted = {r[f.name] for r in rows if r[f.name]}
                ref_display[f.name] = display_values(call.conn, TABLES[f.reference], wanted)
            elif f.type == "journal" and f.display is not None:
                journal_display[f.name] = f.display(call, ids)
    out = []
    for r in rows:
        rec: dict[str, Any] = {}
        for f in fields:
            value = "" if f.type == "journal" else _raw(f, r[f.name])
            link = None
            if f.type == "reference" and value and not opts.exclude_links:
                link = f"{call.base_url}/api/now/table/{f.reference}/{value}"
            if opts.display == "false":
                rec[f.name] = {"link": link, "value": value} if link else value
                continue
            if f.type == "reference":
                dv = ref_display.get(f.name, {}).get(value, "") if value else ""
            elif f.type == "journal":
                dv = journal_display.get(f.name, {}).get(r["sys_id"], "")
            elif f.type == "choice" and f.choices is not None:
                dv = next((label for v, label in f.choices(call.profile) if v == value), value)
            else:
                dv = value
            if opts.display == "true":
                # a reference keeps its link beside its display value, as in ServiceNow
                rec[f.name] = {"display_value": dv, "link": link} if link else dv
            else:
                entry: dict[str, str] = {"display_value": dv, "value": value}
                if link:
                    entry["link"] = link
                rec[f.name] = entry
        out.append(rec)
    return out


def display_values(conn: sqlite3.Connection, t: TableDef, ids: Iterable[str]) -> dict[str, str]:
    ids = list(ids)
    out: dict[str, str] = {}
    shown = t.field(t.display_field)
    col = shown.sql if shown else "sys_id"
    for i in range(0, len(ids), 500):
        chunk = ids[i : i + 500]
        marks = ",".join("?" * len(chunk))
        sql = f"SELECT {t.table}.sys_id, {col} FROM {t.table} WHERE {t.table}.sys_id IN ({marks})"
        out.update({row[0]: "" if row[1] is None else str(row[1]) for row in conn.execute(sql, chunk)})
    return out


def _select_sql(t: TableDef) -> str:
    cols = ", ".join(f"{f.sql} AS {f.name}" for f in t.fields if f.type != "journal")
    return f"SELECT {cols} FROM {t.table}"


def fetch_one(call: Call, t: TableDef, sys_id: str) -> sqlite3.Row | None:
    scope_sql, scope_params = t.scope(call)
    sql = f"{_select_sql(t)} WHERE {t.table}.sys_id = ?" + (f" AND ({scope_sql})" if scope_sql else "")
    return call.conn.execute(sql, [sys_id, *scope_params]).fetchone()


def query_rows(
    call: Call, t: TableDef, q: Query, limit: int, offset: int, count: bool
) -> tuple[list, int | None]:
    scope_sql, scope_params = t.scope(call)
    conds = [c for c in (scope_sql, q.where) if c]
    where = (" WHERE " + " AND ".join(f"({c})" for c in conds)) if conds else ""
    params = [*scope_params, *q.params]
    order = (" ORDER BY " + ", ".join(f"{c} {'DESC' if d else 'ASC'}" for c, d in q.order)) if q.order else ""
    rows = call.conn.execute(
        f"{_select_sql(t)}{where}{order} LIMIT ? OFFSET ?", [*params, limit, offset]
    ).fetchall()
    total = None
    if count:
        total = call.conn.execute(f"SELECT COUNT(*) FROM {t.table}{where}", params).fetchone()[0]
    return rows, total


# ---------------------------------------------------------------- writing
def parse_json(raw: bytes) -> Any:
    """A JSON request body; 400 with the envelope for anything Python's parser refuses, including integers
    over its 4,300-digit conversion limit (ValueError) and nesting deeper than its recursion limit."""
    try:
        return json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):  # json.JSONDecodeError is a ValueError
        raise ApiError(400, "Exception while reading request", "The payload is not valid JSON.") from None
    except RecursionError:
        raise ApiError(
            400, "Exception while reading request", "The payload is nested too deeply to be read."
        ) from None


def body_values(call: Call, t: TableDef, raw: bytes, input_display: bool) -> dict[str, str]:
    """A request body as {field: string value}; unknown and read-only fields are dropped, as in ServiceNow."""
    data = parse_json(raw) if raw.strip() else {}
    if not isinstance(data, dict):
        raise ApiError(
            400, "Exception while reading request", "The payload must be a JSON object of field values."
        )
    out: dict[str, str] = {}
    for name, value in data.items():
        f = t.field(name)
        if f is None or f.read_only or (f.readable is not None and not f.readable(call)):
            continue
        if isinstance(value, dict):
            value = value.get("value", "")
        if isinstance(value, bool):
            value = "true" if value else "false"
        elif value is None:
            value = ""
        elif isinstance(value, int):
            value = str(value)  # under 4,300 digits (parse_json refused longer ones): never through float
        elif isinstance(value, float):
            value = str(int(value)) if value.is_integer() else str(value)
        elif not isinstance(value, str):
            raise ApiError(
                400,
                "Invalid value",
                f"{name}: give a string, number or boolean, not a {type(value).__name__}",
            )
        if input_display and f.type == "choice" and f.choices is not None:
            value = next((v for v, label in f.choices(call.profile) if label == value), value)
        out[name] = value
    return out
