"""Incidents in the database: numbering, creating, updating (by the rules), the journal and attachments."""

from __future__ import annotations

import hashlib
import mimetypes
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from ..db import glide_time, new_sys_id
from ..faults import fault
from ..settings import Settings
from ..tableapi.model import Principal
from .rules import (
    CALLER_FIELDS,
    CONTROL_RX,
    DESK_FIELDS,
    FORM_FIELDS,
    INACTIVE_STATES,
    NEW,
    IncidentError,
    checked_values,
    clean,
    desk_changes,
    priority_of,
    refuse_inactive,
    same_state_change,
    state_change,
    state_label,
    target_resolution,
)


# ---------------------------------------------------------------- writing
def next_number(conn, settings: Settings) -> str:
    cfg = settings.profile.incidents
    conn.execute("INSERT OR IGNORE INTO sys_number_counter VALUES ('incident', ?)", (cfg.number_start,))
    n = conn.execute(
        "UPDATE sys_number_counter SET next = next + 1 WHERE tbl = 'incident' RETURNING next - 1"
    ).fetchone()[0]
    return f"{cfg.number_prefix}{n:0{cfg.number_digits}d}"


def create(
    conn, settings: Settings, principal: Principal, clean: dict[str, str], caller: dict[str, Any]
) -> dict:
    """Insert a validated incident raised by `principal` for `caller` (a sys_user row)."""
    opened = time.time()
    stamp = glide_time(opened)
    impact, urgency = int(clean["impact"]), int(clean["urgency"])
    priority = priority_of(settings, impact, urgency)
    sec, target = target_resolution(settings, priority, opened)
    row = {
        "sys_id": new_sys_id(),
        "number": next_number(conn, settings),
        "short_description": clean["short_description"],
        "description": clean["description"],
        "caller_id": caller["sys_id"],
        "opened_by": principal.sys_id or caller["sys_id"],
        "company": caller["company"],
        "category": clean["category"],
        "subcategory": clean["subcategory"],
        "contact_type": "self-service",
        "impact": impact,
        "urgency": urgency,
        "priority": priority,
        "state": NEW,
        "active": 1,
        **{k: clean[k] for k in FORM_FIELDS if k.startswith("u_")},
        "u_sec_category": sec,
        "u_target_resolution": target,
        "opened_at": stamp,
        "sys_created_on": stamp,
        "sys_updated_on": stamp,
        "sys_created_by": principal.user_name,
        "sys_updated_by": principal.user_name,
    }
    cols = ", ".join(row)
    conn.execute(f"INSERT INTO incident ({cols}) VALUES ({', '.join('?' * len(row))})", list(row.values()))
    return row


def journal(
    conn, principal: Principal, incident: dict, element: str, text: str, update_type: str = "",
    table: str = "incident",
) -> None:
    """An entry of a record's journal (comments or work_notes): incidents, and other tasks (sc_req_item)."""
    conn.execute(
        "INSERT INTO sys_journal_field VALUES (?,?,?,?,?,?,?,?,?)",
        (
            new_sys_id(),
            table,
            element,
            incident["sys_id"],
            text,
            update_type,
            principal.sys_id,
            principal.user_name,
            glide_time(),
        ),
    )


def update(conn, settings: Settings, principal: Principal, incident: dict, changes: dict[str, str]) -> dict:
    """Apply changes as the caller's organisation or DCC's desk, enforcing every rule; returns the new row."""
    desk = principal.admin
    allowed = DESK_FIELDS if desk else CALLER_FIELDS
    ch = {k: clean(v) for k, v in changes.items() if k in allowed}
    new_state, hold = checked_values(settings, incident, ch)
    refuse_inactive(settings, desk, incident, new_state)
    comment = ch.get("comments", "")
    stamp = glide_time()
    if new_state != incident["state"]:
        sets = state_change(settings, principal, incident, ch, new_state, hold, comment, stamp)
    else:
        sets = same_state_change(settings, desk, incident, ch, hold, comment)
    if desk:
        sets.update(desk_changes(settings, incident, ch))
    if comment:
        journal(conn, principal, incident, "comments", comment, ch.get("u_update_type", ""))
    if desk and ch.get("work_notes"):
        journal(conn, principal, incident, "work_notes", ch["work_notes"])
    if not sets and not comment and not ch.get("work_notes"):
        return incident
    sets.update(sys_updated_on=stamp, sys_updated_by=principal.user_name)
    cols = ", ".join(f"{k} = ?" for k in sets)
    conn.execute(
        f"UPDATE incident SET {cols}, sys_mod_count = sys_mod_count + 1 WHERE sys_id = ?",
        [*sets.values(), incident["sys_id"]],
    )
    return dict(conn.execute("SELECT * FROM incident WHERE sys_id = ?", (incident["sys_id"],)).fetchone())


# ---------------------------------------------------------------- attachments
@dataclass
class Upload:
    file_name: str
    data: bytes


def safe_file_name(name: str) -> str:
    name = name.replace("\\", "/").rsplit("/", 1)[-1]
    name = CONTROL_RX.sub("", name).strip().strip(".") or "file"
    return name[:100]


def attach(conn, settings: Settings, principal: Principal, incident: dict, upload: Upload) -> dict:
    if incident["state"] in INACTIVE_STATES:
        raise IncidentError(
            {
                "attachment": f"{incident['number']} is "
                f"{state_label(settings, incident['state']).lower()}: "
                "files can no longer be attached."
            },
            403,
        )
    return store_attachment(conn, settings, principal, "incident", incident, upload)


def store_attachment(conn, settings: Settings, principal: Principal, table: str, record: dict,
                     upload: Upload, *, touch: bool = True) -> dict:
    """Attach a file to a record of `table` within the profile's type and size rules (an IncidentError names the
    problem), and count it as an update of the record."""
    rules = settings.profile.incidents.attachments
    name = safe_file_name(upload.file_name)
    ext = name.rsplit(".", 1)[-1].lower() if "." in name else ""
    if not fault(settings, "no_attachment_check"):
        allowed = ", ".join(f".{e}" for e in rules.allowed_extensions)
        if ext not in rules.allowed_extensions:
            what = f"Files of type .{ext}" if ext else "Files without an extension"
            raise IncidentError({"attachment": f"{what} cannot be attached. Allowed types: {allowed}."})
        if len(upload.data) > rules.max_bytes or (len(upload.data) == rules.max_bytes
                                                  and fault(settings, "attachment_limit_exclusive")):
            raise IncidentError(
                {
                    "attachment": f"{name} is {human_size(len(upload.data))}; files larger than "
                    f"{human_size(rules.max_bytes)} cannot be attached."
                }
            )
    if not upload.data:
        raise IncidentError({"attachment": f"{name} is empty: choose a file with content."})
    ctype = mimetypes.guess_type(name)[0] or "application/octet-stream"
    row = {
        "sys_id": new_sys_id(),
        "table_name": table,
        "table_sys_id": record["sys_id"],
        "file_name": name,
        "content_type": ctype,
        "size_bytes": len(upload.data),
        "hash": hashlib.sha256(upload.data).hexdigest(),
        "author": principal.sys_id,
        "sys_created_by": principal.user_name,
        "sys_created_on": glide_time(),
    }
    conn.execute(
        f"INSERT INTO sys_attachment ({', '.join(row)}) VALUES ({', '.join('?' * len(row))})",
        list(row.values()),
    )
    conn.execute("INSERT INTO sys_attachment_doc VALUES (?, ?)", (row["sys_id"], upload.data))
    if touch:  # an update of the record (not when the file comes with the record being created)
        conn.execute(
            f"UPDATE {table} SET sys_updated_on = ?, sys_updated_by = ?, sys_mod_count = sys_mod_count + 1 "
            "WHERE sys_id = ?",
            (row["sys_created_on"], principal.user_name, record["sys_id"]),
        )
    return row


def user_names(conn, ids: set[str | None]) -> dict[str, str]:
    ids = {i for i in ids if i}
    if not ids:
        return {}
    rows = conn.execute(
        f"SELECT sys_id, trim(first_name || ' ' || last_name), user_name FROM sys_user "
        f"WHERE sys_id IN ({','.join('?' * len(ids))})",
        list(ids),
    )
    return {r[0]: r[1] or r[2] for r in rows}


def comments_for(conn, settings: Settings, sys_ids: list[str], *, work_notes: bool) -> list[dict]:
    elements = ("comments", "work_notes") if work_notes else ("comments",)
    rows = conn.execute(
        f"SELECT j.*, trim(u.first_name || ' ' || u.last_name) AS author_name FROM sys_journal_field j "
        f"LEFT JOIN sys_user u ON u.sys_id = j.author WHERE j.element_id IN ({','.join('?' * len(sys_ids))}) "
        f"AND j.element IN ({','.join('?' * len(elements))}) ORDER BY j.sys_created_on DESC, j.rowid DESC",
        [*sys_ids, *elements],
    ).fetchall()
    return [dict(r) for r in rows]


def human_size(n: int) -> str:
    if n >= 1024 * 1024:
        return f"{n / (1024 * 1024):.1f} MB".replace(".0 MB", " MB")
    if n >= 1024:
        return f"{n / 1024:.1f} KB".replace(".0 KB", " KB")
    return f"{n} bytes"


def content_disposition(name: str) -> str:
    ascii_name = name.encode("ascii", "replace").decode().replace('"', "_")
    return f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(name)}"
