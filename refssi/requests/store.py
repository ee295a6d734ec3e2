"""Service requests in the database: submitting an item (request, requested item, variables, task), reading
them back, and a user's comments and attachments (the incident module's journal and attachment tables)."""

from __future__ import annotations

import time
from typing import Any

from ssi.profile import CatalogItemConfig

from ..db import glide_time, new_sys_id
from ..incidents.store import Upload, journal, store_attachment
from ..settings import Settings
from ..tableapi.model import Principal
from .rules import CLOSED_ITEM_STATES, OPEN, RequestError


def next_number(conn, table: str, prefix: str) -> str:
    """ServiceNow's numbering per table: prefix + 7 digits from 0010001."""
    conn.execute("INSERT OR IGNORE INTO sys_number_counter VALUES (?, 10001)", (table,))
    n = conn.execute("UPDATE sys_number_counter SET next = next + 1 WHERE tbl = ? RETURNING next - 1",
                     (table,)).fetchone()[0]
    return f"{prefix}{n:07d}"


def submit(conn, settings: Settings, principal: Principal, item: CatalogItemConfig, values: dict[str, str],
           requested_for: dict[str, Any]) -> dict[str, Any]:
    """Order one item for `requested_for` (a sys_user row): a request, its requested item with the variables,
    and a catalogue task for DCC's service desk. Returns the requested item with request_number."""
    cfg = settings.profile.service_requests
    stamp = glide_time(time.time())
    who = principal.user_name
    base = {"company": requested_for["company"], "sys_created_on": stamp, "sys_updated_on": stamp}
    req = {"sys_id": new_sys_id(), "number": next_number(conn, "sc_request", cfg.request_prefix),
           "requested_for": requested_for["sys_id"], "opened_by": principal.sys_id or requested_for["sys_id"],
           "request_state": "requested", "stage": "requested", "short_description": item.name, "opened_at": stamp,
           "sys_created_by": who, "sys_updated_by": who, **base}
    ritm = {"sys_id": new_sys_id(), "number": next_number(conn, "sc_req_item", cfg.item_prefix),
            "request": req["sys_id"], "cat_item": item.sys_id, "requested_for": req["requested_for"],
            "opened_by": req["opened_by"], "short_description": values.get("summary", "") or item.name,
            "stage": "request_approved", "state": OPEN, "opened_at": stamp, "sys_created_by": who,
            "sys_updated_by": who, **base}
    task = {"sys_id": new_sys_id(), "number": next_number(conn, "sc_task", cfg.task_prefix),
            "request_item": ritm["sys_id"], "request": req["sys_id"],
            "short_description": f"Fulfil {item.name}: {ritm['short_description']}", **base}
    for table, row in (("sc_request", req), ("sc_req_item", ritm), ("sc_task", task)):
        conn.execute(f"INSERT INTO {table} ({', '.join(row)}) VALUES ({', '.join('?' * len(row))})",
                     list(row.values()))
    conn.executemany("INSERT INTO sc_item_option VALUES (?,?,?,?,?)",
                     [(new_sys_id(), ritm["sys_id"], name, value, n) for n, (name, value) in
                      enumerate(values.items())])
    return {**ritm, "request_number": req["number"], "request_state": req["request_state"]}


def variables_of(conn, request_item: str) -> dict[str, str]:
    return {r[0]: r[1] for r in conn.execute(
        "SELECT name, value FROM sc_item_option WHERE request_item = ? ORDER BY ord", (request_item,))}


def _refuse_closed(settings: Settings, ritm: dict[str, Any], what: str) -> None:
    if ritm["state"] in CLOSED_ITEM_STATES:
        stage = settings.profile.service_requests.stages.get(ritm["stage"], ritm["stage"])
        raise RequestError({what: f"{ritm['number']} is {stage.lower()}: it can no longer be updated."}, 403)


def comment(conn, settings: Settings, principal: Principal, ritm: dict[str, Any], text: str) -> None:
    _refuse_closed(settings, ritm, "comments")
    journal(conn, principal, ritm, "comments", text, table="sc_req_item")
    conn.execute("UPDATE sc_req_item SET sys_updated_on = ?, sys_updated_by = ?, sys_mod_count = sys_mod_count + 1"
                 " WHERE sys_id = ?", (glide_time(), principal.user_name, ritm["sys_id"]))


def attach(conn, settings: Settings, principal: Principal, ritm: dict[str, Any], upload: Upload) -> dict:
    _refuse_closed(settings, ritm, "attachment")
    return store_attachment(conn, settings, principal, "sc_req_item", ritm, upload)


def open_items(conn, where: str, params: list[Any]) -> list[dict[str, Any]]:
    """The open requested items (SSI-FR-53's landing list) under a scope condition, newest first."""
    cond = " AND ".join(c for c in (where, "i.active = 1") if c)
    return [dict(r) for r in conn.execute(
        f"SELECT i.sys_id, i.number, i.short_description, i.cat_item, i.stage, i.sys_created_on, "
        f"r.number AS request_number FROM sc_req_item i JOIN sc_request r ON r.sys_id = i.request WHERE {cond} "
        f"ORDER BY i.sys_created_on DESC, i.number DESC LIMIT 200", params)]
