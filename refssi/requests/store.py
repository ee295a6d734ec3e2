"""Service requests in the database: submitting an item (request, requested item, variables, task), reading
them back, and a user's comments and attachments (the incident module's journal and attachment tables)."""

from __future__ import annotations

import time
from typing import Any

from ssi.profile import CatalogItemConfig

from ..db import glide_time, new_sys_id
from ..faults import fault
from ..incidents.rules import clean
from ..incidents.store import Upload, journal, store_attachment
from ..incidents.store import update as update_incident
from ..settings import Settings
from ..tableapi.model import Principal
from .rules import (
    CLOSED_COMPLETE,
    CLOSED_INCOMPLETE,
    CLOSED_ITEM_STATES,
    CLOSED_SKIPPED,
    DESK_STAGES,
    OPEN,
    WORK_IN_PROGRESS,
    RequestError,
    answered_incident,
    state_label,
    updates_in,
)

DESK = Principal(user=None, admin=True)  # DCC's service desk


def next_number(conn, table: str, prefix: str) -> str:
    """ServiceNow's numbering per table: prefix + 7 digits from 0010001."""
    conn.execute("INSERT OR IGNORE INTO sys_number_counter VALUES (?, 10001)", (table,))
    n = conn.execute("UPDATE sys_number_counter SET next = next + 1 WHERE tbl = ? RETURNING next - 1",
                     (table,)).fetchone()[0]
    return f"{prefix}{n:07d}"


def submit(conn, settings: Settings, principal: Principal, item: CatalogItemConfig, values: dict[str, str],
           requested_for: dict[str, Any], files: dict[str, Upload] | None = None) -> dict[str, Any]:
    """Order one item for `requested_for` (a sys_user row): a request, its requested item with the variables
    (an attachment variable holds its file's name; the file is attached to the requested item) and a
    catalogue task for DCC's service desk. Returns the requested item with request_number."""
    files = files or {}
    values = {**values, **{name: u.file_name for name, u in files.items()}}
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
            "stage": item.first_stage, "state": OPEN, "opened_at": stamp, "sys_created_by": who,
            "sys_updated_by": who, **base}
    task = {"sys_id": new_sys_id(), "number": next_number(conn, "sc_task", cfg.task_prefix),
            "request_item": ritm["sys_id"], "request": req["sys_id"],
            "short_description": f"Fulfil {item.name}: {ritm['short_description']}", **base}
    for table, row in (("sc_request", req), ("sc_req_item", ritm), ("sc_task", task)):
        conn.execute(f"INSERT INTO {table} ({', '.join(row)}) VALUES ({', '.join('?' * len(row))})",
                     list(row.values()))
    order = [v.name for v in item.variables]
    conn.executemany("INSERT INTO sc_item_option VALUES (?,?,?,?,?)",
                     [(new_sys_id(), ritm["sys_id"], name, values[name], order.index(name)) for name in order
                      if name in values])
    for upload in files.values():  # checked by rules.file_errors before
        store_attachment(conn, settings, principal, "sc_req_item", ritm, upload, touch=False)
    return {**ritm, "request_number": req["number"], "request_state": req["request_state"]}


# ---------------------------------------------------------------- DCC's side of a file's workflow
# action -> (the stage it acts on, the stage it leads to, the item state, the request state, the email's words)
WORKFLOW = {
    "accept": ("validation", "processing", WORK_IN_PROGRESS, "in_process", "accepted by DCC"),
    "reject": ("validation", "rejected", CLOSED_INCOMPLETE, "closed_incomplete", "rejected by DCC"),
    "process": ("processing", "complete", CLOSED_COMPLETE, "closed_complete", "processed by DCC"),
}


def advance(conn, settings: Settings, ritm: dict[str, Any], action: str, reason: str = "") -> dict[str, Any]:
    """DCC's validation (accept, or reject with a reason the user sees) or processing of a request's file; a
    RequestError when the request is not at that step. Returns the email to send (to, subject, body) or {}."""
    if action not in WORKFLOW:
        raise RequestError({"action": f"no action {action!r}: use accept, reject or process"})
    at, to, state, request_state, words = WORKFLOW[action]
    if ritm["stage"] != at:
        stage = settings.profile.service_requests.stages.get(ritm["stage"], ritm["stage"])
        raise RequestError({"action": f"{ritm['number']} is {stage.lower()}: DCC cannot {action} it now"}, 409)
    if action == "reject" and not reason.strip():
        raise RequestError({"reason": "a rejection needs the reason the user will see"})
    if action == "accept" and fault(settings, "sr_skip_validation"):
        to, state, request_state, words = "complete", CLOSED_COMPLETE, "closed_complete", "processed by DCC"
    _move(conn, DESK, ritm, to, state, request_state)
    if reason:
        journal(conn, DESK, ritm, "comments", f"Rejected by DCC: {reason.strip()}", table="sc_req_item")
    item = settings.profile.service_requests.item(ritm["cat_item"])
    incident = answered_incident(conn, item, ritm["sys_id"])
    if incident is not None and to == "complete" and incident["active"]:
        request = conn.execute("SELECT number FROM sc_request WHERE sys_id = ?", (ritm["request"],)).fetchone()[0]
        update_incident(conn, settings, DESK, incident, {
            "state": "6", "close_code": "Solution provided",
            "close_notes": f"{item.name} received in {request} ({ritm['number']}) and processed by DCC."})
    return notice(conn, settings, ritm, words, reason)


def _move(conn, who: Principal, ritm: dict[str, Any], stage: str, state: int, request_state: str) -> None:
    """Set an item's stage and state, its request's state and its task's, in one place."""
    stamp, active = glide_time(), 0 if state in CLOSED_ITEM_STATES else 1
    conn.execute("UPDATE sc_req_item SET stage=?, state=?, active=?, sys_updated_on=?, sys_updated_by=?, "
                 "sys_mod_count=sys_mod_count+1 WHERE sys_id=?", (stage, state, active, stamp, who.user_name,
                                                                   ritm["sys_id"]))
    conn.execute("UPDATE sc_request SET request_state=?, active=?, sys_updated_on=? WHERE sys_id=?",
                 (request_state, active, stamp, ritm["request"]))
    conn.execute("UPDATE sc_task SET state=?, active=?, sys_updated_on=? WHERE request_item=?",
                 (3 if not active else 2, active, stamp, ritm["sys_id"]))


REQUEST_STATE_OF = {OPEN: "requested", WORK_IN_PROGRESS: "in_process", CLOSED_COMPLETE: "closed_complete",
                    CLOSED_INCOMPLETE: "closed_incomplete", CLOSED_SKIPPED: "closed_cancelled"}


def set_state(conn, settings: Settings, principal: Principal, ritm: dict[str, Any], value: str) -> None:
    """A Table API change of an item's state: DCC's desk sets any state (the stage follows: rules.DESK_STAGES); a
    requester only what service_requests.requester_transitions allows (403)."""
    cfg = settings.profile.service_requests
    try:
        new = int(value)
    except ValueError:
        new = -99
    if new not in cfg.item_states:
        raise RequestError({"state": f"{value!r} is not an item state"}, 400)
    old = ritm["state"]
    if new == old:
        return
    if not principal.admin and new not in cfg.changes_from(old) and not fault(settings, "sr_requester_sets_state"):
        raise RequestError({"state": f"Only DCC can set {ritm['number']} from {state_label(settings, old)} to "
                                     f"{state_label(settings, new)}."}, 403)
    _move(conn, principal, ritm, DESK_STAGES.get(new, ritm["stage"]), new, REQUEST_STATE_OF.get(new, "in_process"))


def notice(conn, settings: Settings, ritm: dict[str, Any], words: str, reason: str = "") -> dict[str, Any]:
    """The email to the requester of an item that notifies (profile notify), e.g. 'received'; {} otherwise."""
    item = settings.profile.service_requests.item(ritm["cat_item"])
    to = conn.execute("SELECT email FROM sys_user WHERE sys_id = ?", (ritm["requested_for"],)).fetchone()
    if not item.notify or not to or not to[0]:
        return {}
    subject = f"{ritm['number']} {item.name}: {words}"
    body = f"Your request {ritm['number']} ({ritm['short_description']}) has been {words}."
    if reason:
        body += f"\n\nReason: {reason.strip()}"
    return {"to": to[0], "subject": subject, "body": body + "\n\nDCC Self-Service Interface"}


def variables_of(conn, request_item: str) -> dict[str, str]:
    return {r[0]: r[1] for r in conn.execute(
        "SELECT name, value FROM sc_item_option WHERE request_item = ? ORDER BY ord", (request_item,))}


def _refuse(settings: Settings, ritm: dict[str, Any], update: str, what: str) -> None:
    """A comment or file the requester may not add to the item in its state (requester_updates): 403."""
    if update not in updates_in(settings, ritm["state"], page=False):
        stage = settings.profile.service_requests.stages.get(ritm["stage"], ritm["stage"])
        raise RequestError({what: f"{ritm['number']} is {stage.lower()}: it can no longer be updated."}, 403)


def comment(conn, settings: Settings, principal: Principal, ritm: dict[str, Any], typed: str | None) -> None:
    """A requester's additional comment (required, within incidents.limits.comment), where the state takes one."""
    _refuse(settings, ritm, "comment", "comments")
    text, label = clean(typed), settings.profile.label("incident.comment")
    limit = settings.profile.incidents.limits.comment
    if not text:
        raise RequestError({"comments": f"{label} is required."})
    if len(text) > limit:
        raise RequestError({"comments": f"{label} must be at most {limit} characters."})
    journal(conn, principal, ritm, "comments", text, table="sc_req_item")
    conn.execute("UPDATE sc_req_item SET sys_updated_on = ?, sys_updated_by = ?, sys_mod_count = sys_mod_count + 1"
                 " WHERE sys_id = ?", (glide_time(), principal.user_name, ritm["sys_id"]))


def attach(conn, settings: Settings, principal: Principal, ritm: dict[str, Any], upload: Upload) -> dict:
    _refuse(settings, ritm, "attach", "attachment")
    return store_attachment(conn, settings, principal, "sc_req_item", ritm, upload)


def open_items(conn, where: str, params: list[Any]) -> list[dict[str, Any]]:
    """The open requested items (SSI-FR-53's landing list) under a scope condition, newest first."""
    cond = " AND ".join(c for c in (where, "i.active = 1") if c)
    return [dict(r) for r in conn.execute(
        f"SELECT i.sys_id, i.number, i.short_description, i.cat_item, i.stage, i.sys_created_on, "
        f"r.number AS request_number FROM sc_req_item i JOIN sc_request r ON r.sys_id = i.request WHERE {cond} "
        f"ORDER BY i.sys_created_on DESC, i.number DESC LIMIT 200", params)]
