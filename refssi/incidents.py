"""Incidents, as ServiceNow keeps them and as DCC's SSI shows them.

One set of rules serves the portal pages, the Table API and the operator (DCC's
service desk): numbering INC0010001.., states 1/2/3/6/7/8, hold reasons, priority
from the profile's impact x urgency matrix, the SEC H9 category and its target
resolution time, resolution code and notes, customer-visible comments versus
internal work notes, attachments within the profile's size and type limits, the
reopen count, and the SSI contact and premises fields (SSI-FR-22/26/34).

Visibility: a portal user sees the incidents of their own organisation only
(core_company); another organisation's incident answers ServiceNow's 'You are
either not authorized or record is not valid'. Raising, updating and viewing
need the role-matrix components incident_raise / incident_update / incident_view.
"""

from __future__ import annotations

import calendar
import hashlib
import mimetypes
import re
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse, Response
from markupsafe import Markup

from .auth.rules import EMAIL_RX, PHONE_RX
from .catalog import catalog_item, ticket_table
from .db import glide_time, new_sys_id
from .deps import get_ctx
from .faults import fault
from .settings import Settings
from .tableapi.model import ADMIN, TABLES, ApiError, Call, Field, Principal, TableDef, not_found, register
from .tableapi.routes import API_HEADERS, handle, run_call
from .tableapi.rows import fetch_one, read_options, serialize
from .web import Ctx, menu_link, portal_page

router = APIRouter()

ACTIVE_STATES = (1, 2, 3, 6)
INACTIVE_STATES = (7, 8)
NEW, IN_PROGRESS, ON_HOLD, RESOLVED, CLOSED, CANCELED = 1, 2, 3, 6, 7, 8
AWAITING_CALLER = 1

# What a portal user (the caller's organisation) may do, and what DCC's service desk may do.
CALLER_TRANSITIONS = {
    (NEW, RESOLVED),
    (IN_PROGRESS, RESOLVED),
    (ON_HOLD, RESOLVED),
    (RESOLVED, CLOSED),
    (RESOLVED, IN_PROGRESS),
}
DESK_TRANSITIONS = (
    {
        (NEW, IN_PROGRESS),
        (NEW, ON_HOLD),
        (IN_PROGRESS, ON_HOLD),
        (ON_HOLD, IN_PROGRESS),
        (RESOLVED, IN_PROGRESS),
    }
    | {(s, t) for s in (NEW, IN_PROGRESS, ON_HOLD) for t in (RESOLVED, CLOSED, CANCELED)}
    | {(RESOLVED, CLOSED)}
)
CALLER_FIELDS = {"comments", "u_update_type", "state", "close_code", "close_notes"}
DESK_FIELDS = CALLER_FIELDS | {
    "work_notes",
    "hold_reason",
    "impact",
    "urgency",
    "category",
    "subcategory",
    "short_description",
    "description",
}

# The variables of the Create Incident record producer (also the writable fields on insert).
FORM_FIELDS = (
    "category",
    "subcategory",
    "impact",
    "urgency",
    "short_description",
    "description",
    "u_contact_first_name",
    "u_contact_last_name",
    "u_contact_phone",
    "u_contact_email",
    "u_device_id",
    "u_mpxn",
    "u_your_reference",
)
LABEL_KEYS = {
    "category": "category",
    "subcategory": "subcategory",
    "impact": "impact",
    "urgency": "urgency",
    "short_description": "short_description",
    "description": "description",
    "u_contact_first_name": "contact_first_name",
    "u_contact_last_name": "contact_last_name",
    "u_contact_phone": "contact_phone",
    "u_contact_email": "contact_email",
    "u_device_id": "device_id",
    "u_mpxn": "mpxn",
    "u_your_reference": "your_reference",
    "close_code": "close_code",
    "close_notes": "close_notes",
    "comments": "comment",
    "u_update_type": "update_type",
    "hold_reason": "hold_reason",
    "state": "state",
    "work_notes": "comment",
}
LIMIT_KEYS = {
    "short_description": "short_description",
    "description": "description",
    "comments": "comment",
    "work_notes": "comment",
    "close_notes": "close_notes",
    "u_your_reference": "your_reference",
    "u_contact_first_name": "contact_name",
    "u_contact_last_name": "contact_name",
    "u_contact_email": "contact_email",
    "u_contact_phone": "contact_name",
    "u_device_id": "device_id",
    "u_mpxn": "mpxn",
}

MPAN_RX = re.compile(r"^\d{13}$")  # MPAN core
MPRN_RX = re.compile(r"^\d{6,10}$")  # gas meter point reference
DEVICE_ID_RX = re.compile(r"^[0-9A-F]{2}(-[0-9A-F]{2}){7}$")  # EUI-64, as the SSI writes it
CONTROL_RX = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


class IncidentError(Exception):
    """Refused input or a broken rule: field -> message; status 400 (bad value) or 403 (rule)."""

    def __init__(self, errors: dict[str, str], status: int = 400) -> None:
        super().__init__("; ".join(errors.values()))
        self.errors, self.status = errors, status

    def api(self) -> ApiError:
        if self.status == 403:
            return ApiError(403, "Operation Failed", " ".join(self.errors.values()))
        return ApiError(400, "Invalid value", "; ".join(f"{k}: {v}" for k, v in self.errors.items()))


def label(settings: Settings, key: str) -> str:
    return settings.profile.label(f"incident.{LABEL_KEYS.get(key, key)}")


def state_label(settings: Settings, state: int | None) -> str:
    return settings.profile.incidents.states.get(state or 0, str(state or ""))


# ---------------------------------------------------------------- visibility
def scope(
    settings: Settings, principal: Principal, column: str = "incident.company"
) -> tuple[str, list[Any]]:
    """The incidents a caller may see: their own organisation's (DCC's desk: all)."""
    if principal.admin or fault(settings, "no_org_scoping"):
        return "", []
    return f"{column} = ?", [principal.company]


def visible(conn, settings: Settings, principal: Principal, sys_id: str) -> dict[str, Any] | None:
    where, params = scope(settings, principal)
    row = conn.execute(
        "SELECT * FROM incident WHERE sys_id = ?" + (f" AND {where}" if where else ""), [sys_id, *params]
    ).fetchone()
    return dict(row) if row else None


# ---------------------------------------------------------------- validation
def _clean(value: Any) -> str:
    return "" if value is None else str(value).replace("\r\n", "\n").strip()


def _check_text(settings: Settings, values: dict[str, str], errors: dict[str, str]) -> None:
    limits = settings.profile.incidents.limits
    for name, value in values.items():
        if name in errors or not value:
            continue
        if CONTROL_RX.search(value):
            errors[name] = f"{label(settings, name)} contains control characters; remove them."
        elif name in LIMIT_KEYS and not fault(settings, "no_length_check"):
            limit = getattr(limits, LIMIT_KEYS[name])
            if len(value) > limit:
                errors[name] = (
                    f"{label(settings, name)} must be at most {limit} characters (you entered {len(value)})."
                )


def _choice(
    settings: Settings,
    name: str,
    value: str,
    choices: list[str],
    errors: dict[str, str],
    shown: list[str] | None = None,
) -> None:
    if value and value not in choices:
        listed = ", ".join(shown or choices)
        errors[name] = f"{label(settings, name)} must be one of: {listed}."


def split_mpxns(value: str) -> list[str]:
    return [v.strip() for v in re.split(r"[,\s;]+", value) if v.strip()]


def validate_new(settings: Settings, raw: dict[str, Any]) -> tuple[dict[str, str], dict[str, str]]:
    """Record-producer variables -> (clean values, field errors). Nothing is stored here."""
    cfg = settings.profile.incidents
    v = {k: _clean(raw.get(k)) for k in FORM_FIELDS}
    v["impact"] = v["impact"] or "3"
    v["urgency"] = v["urgency"] or "3"
    v["u_device_id"] = v["u_device_id"].upper()
    errors: dict[str, str] = {}
    category = cfg.category(v["category"])
    if not v["category"]:
        errors["category"] = f"{label(settings, 'category')} is required: choose one from the list."
    elif category is None:
        _choice(
            settings,
            "category",
            v["category"],
            [c.value for c in cfg.categories],
            errors,
            [f"{c.value} ({c.label})" for c in cfg.categories],
        )
    elif v["subcategory"]:
        _choice(
            settings,
            "subcategory",
            v["subcategory"],
            [s.value for s in category.subcategories],
            errors,
            [f"{s.value} ({s.label})" for s in category.subcategories] or ["(none for this category)"],
        )
    for name, choices in (("impact", cfg.impact), ("urgency", cfg.urgency)):
        _choice(
            settings,
            name,
            v[name],
            [c.value for c in choices],
            errors,
            [f"{c.value} ({c.label})" for c in choices],
        )
    if not v["short_description"]:
        errors["short_description"] = f"{label(settings, 'short_description')} is required."
    if not fault(settings, "no_contact_check"):
        for name in ("u_contact_first_name", "u_contact_last_name", "u_contact_phone"):
            if not v[name]:
                errors[name] = f"{label(settings, name)} is required."
        if v["u_contact_phone"] and not PHONE_RX.match(v["u_contact_phone"]):
            errors["u_contact_phone"] = (
                f"{label(settings, 'u_contact_phone')}: enter 10 to 15 digits, e.g. 01632 960123."
            )
        if v["u_contact_email"] and not EMAIL_RX.match(v["u_contact_email"]):
            errors["u_contact_email"] = (
                f"{label(settings, 'u_contact_email')}: enter an address like name@example.com."
            )
    if v["u_mpxn"]:
        bad = [m for m in split_mpxns(v["u_mpxn"]) if not (MPAN_RX.match(m) or MPRN_RX.match(m))]
        if bad:
            errors["u_mpxn"] = (
                f"{label(settings, 'u_mpxn')} '{bad[0]}' is not valid: give a 13-digit MPAN core "
                "or a 6 to 10-digit MPRN (several separated by commas)."
            )
        else:
            v["u_mpxn"] = ", ".join(split_mpxns(v["u_mpxn"]))  # SSI-FR-34: shown comma-separated
    if v["u_device_id"] and not DEVICE_ID_RX.match(v["u_device_id"]):
        errors["u_device_id"] = (
            f"{label(settings, 'u_device_id')} must be 8 pairs of hexadecimal digits "
            "separated by hyphens, e.g. 00-DB-12-34-56-78-9A-BC."
        )
    if category is not None and category.premises:
        if not v["u_device_id"] and not v["u_mpxn"] and "u_mpxn" not in errors:
            errors["u_mpxn"] = (
                f"A {category.label.lower()} incident needs a {label(settings, 'u_device_id')} "
                f"or an {label(settings, 'u_mpxn')}."
            )
        if not v["u_your_reference"]:
            errors["u_your_reference"] = (
                f"{label(settings, 'u_your_reference')} is required for {category.label.lower()} incidents."
            )
    _check_text(settings, v, errors)
    return v, errors


# ---------------------------------------------------------------- writing
def next_number(conn, settings: Settings) -> str:
    cfg = settings.profile.incidents
    conn.execute("INSERT OR IGNORE INTO sys_number_counter VALUES ('incident', ?)", (cfg.number_start,))
    n = conn.execute(
        "UPDATE sys_number_counter SET next = next + 1 WHERE tbl = 'incident' RETURNING next - 1"
    ).fetchone()[0]
    return f"{cfg.number_prefix}{n:0{cfg.number_digits}d}"


def priority_of(settings: Settings, impact: int, urgency: int) -> int:
    if fault(settings, "flat_priority"):
        return 3
    return settings.profile.incidents.priority_of(impact, urgency)


def target_resolution(settings: Settings, priority: int, opened: float) -> tuple[int, str]:
    sec = settings.profile.incidents.sec_category(priority)
    return sec.value, glide_time(opened + sec.target_resolution_hours * 3600)


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
    conn, principal: Principal, incident: dict, element: str, text: str, update_type: str = ""
) -> None:
    conn.execute(
        "INSERT INTO sys_journal_field VALUES (?,?,?,?,?,?,?,?,?)",
        (
            new_sys_id(),
            "incident",
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
    cfg = settings.profile.incidents
    desk = principal.admin
    allowed = DESK_FIELDS if desk else CALLER_FIELDS
    ch = {k: _clean(v) for k, v in changes.items() if k in allowed}
    errors: dict[str, str] = {}
    number = incident["number"]
    old_state = incident["state"]
    new_state = old_state
    if ch.get("state"):
        try:
            new_state = int(ch["state"])
        except ValueError:
            new_state = -1
        if new_state not in cfg.states:
            errors["state"] = (
                "State must be one of: " + ", ".join(f"{k} ({v})" for k, v in cfg.states.items()) + "."
            )
    hold = incident["hold_reason"]
    if "hold_reason" in ch:
        hold = (
            int(ch["hold_reason"]) if ch["hold_reason"].isdigit() else (None if not ch["hold_reason"] else -1)
        )
        if hold is not None and hold not in cfg.hold_reasons:
            errors["hold_reason"] = (
                "On hold reason must be one of: "
                + ", ".join(f"{k} ({v})" for k, v in cfg.hold_reasons.items())
                + "."
            )
    _choice(settings, "close_code", ch.get("close_code", ""), cfg.close_codes, errors)
    _choice(settings, "u_update_type", ch.get("u_update_type", ""), cfg.update_types, errors)
    for name, choices in (("impact", cfg.impact), ("urgency", cfg.urgency)):
        if name in ch:
            _choice(
                settings,
                name,
                ch[name] or "-",
                [c.value for c in choices],
                errors,
                [f"{c.value} ({c.label})" for c in choices],
            )
    if "category" in ch and cfg.category(ch["category"]) is None:
        _choice(settings, "category", ch["category"] or "-", [c.value for c in cfg.categories], errors)
    _check_text(settings, ch, errors)
    if errors:
        raise IncidentError(errors, 400)

    if old_state in INACTIVE_STATES:
        reopen_closed = (
            not desk
            and fault(settings, "reopen_closed")
            and old_state == CLOSED
            and new_state == IN_PROGRESS
        )
        if not reopen_closed:
            if new_state == IN_PROGRESS and old_state == CLOSED:
                raise IncidentError(
                    {"state": f"{number} is closed and cannot be reopened. Raise a new incident instead."},
                    403,
                )
            raise IncidentError(
                {
                    "state": f"{number} is {state_label(settings, old_state).lower()} "
                    "and can no longer be updated."
                },
                403,
            )
    comment = ch.get("comments", "")
    sets: dict[str, Any] = {}
    stamp = glide_time()
    if new_state != old_state:
        transitions = DESK_TRANSITIONS if desk else CALLER_TRANSITIONS
        if fault(settings, "reopen_closed") and not desk:
            transitions = transitions | {(CLOSED, IN_PROGRESS)}
        if (old_state, new_state) not in transitions:
            if not desk and (old_state, new_state) in DESK_TRANSITIONS:
                msg = f"Only DCC's service desk can set an incident to {state_label(settings, new_state)}."
            else:
                msg = (
                    f"An incident cannot go from {state_label(settings, old_state)} to "
                    f"{state_label(settings, new_state)}."
                )
            raise IncidentError({"state": msg}, 403)
        if new_state == ON_HOLD:
            if not hold:
                raise IncidentError({"hold_reason": "An On Hold incident needs an on hold reason."}, 403)
            if hold == AWAITING_CALLER and not comment:
                raise IncidentError(
                    {
                        "comments": "Awaiting Caller needs an additional comment telling the caller "
                        "what is needed."
                    },
                    403,
                )
            sets["hold_reason"] = hold
        else:
            sets["hold_reason"] = None
        if new_state in (RESOLVED, CLOSED):
            code = ch.get("close_code") or incident["close_code"]
            notes = ch.get("close_notes") or incident["close_notes"]
            missing = {}
            if not (not desk and fault(settings, "no_resolution_check")):
                if not code:
                    missing["close_code"] = (
                        f"{label(settings, 'close_code')} is required to resolve an incident."
                    )
                if not notes:
                    missing["close_notes"] = (
                        f"{label(settings, 'close_notes')} are required to resolve an incident."
                    )
            if missing:
                raise IncidentError(missing, 403)
            sets.update(close_code=code, close_notes=notes)
            if not incident["resolved_at"]:
                sets.update(resolved_at=stamp, resolved_by=principal.sys_id)
        if new_state in (CLOSED, CANCELED):
            sets.update(active=0, closed_at=stamp, closed_by=principal.sys_id)
        if old_state in (RESOLVED, CLOSED) and new_state == IN_PROGRESS:  # reopen
            sets.update(
                reopen_count=incident["reopen_count"] + 1,
                reopened_by=principal.sys_id,
                reopened_time=stamp,
                resolved_at="",
                resolved_by=None,
                close_code="",
                close_notes="",
                active=1,
                closed_at="",
                closed_by=None,
            )
        sets["state"] = new_state
    else:
        if "hold_reason" in ch and hold != incident["hold_reason"]:
            if old_state != ON_HOLD or not hold:
                raise IncidentError(
                    {
                        "hold_reason": "An on hold reason belongs to an On Hold incident: set the "
                        "state to On Hold with it."
                    },
                    403,
                )
            sets["hold_reason"] = hold
        for name in ("close_code", "close_notes"):
            if ch.get(name) and old_state == RESOLVED:
                sets[name] = ch[name]
        if (
            comment
            and not desk
            and old_state == ON_HOLD
            and incident["hold_reason"] == AWAITING_CALLER
            and not fault(settings, "no_caller_resume")
        ):
            sets.update(state=IN_PROGRESS, hold_reason=None)  # the caller answered: back to the desk
    if desk:
        for name in ("short_description", "description", "category", "subcategory"):
            if name in ch:
                sets[name] = ch[name]
        if "impact" in ch or "urgency" in ch:
            impact = int(ch.get("impact") or incident["impact"])
            urgency = int(ch.get("urgency") or incident["urgency"])
            priority = priority_of(settings, impact, urgency)
            sec, target = target_resolution(settings, priority, epoch(incident["opened_at"]))
            sets.update(
                impact=impact,
                urgency=urgency,
                priority=priority,
                u_sec_category=sec,
                u_target_resolution=target,
            )
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
    rules = settings.profile.incidents.attachments
    name = safe_file_name(upload.file_name)
    ext = name.rsplit(".", 1)[-1].lower() if "." in name else ""
    if incident["state"] in INACTIVE_STATES:
        raise IncidentError(
            {
                "attachment": f"{incident['number']} is "
                f"{state_label(settings, incident['state']).lower()}: "
                "files can no longer be attached."
            },
            403,
        )
    if not fault(settings, "no_attachment_check"):
        allowed = ", ".join(f".{e}" for e in rules.allowed_extensions)
        if ext not in rules.allowed_extensions:
            what = f"Files of type .{ext}" if ext else "Files without an extension"
            raise IncidentError({"attachment": f"{what} cannot be attached. Allowed types: {allowed}."})
        if len(upload.data) > rules.max_bytes:
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
        "table_name": "incident",
        "table_sys_id": incident["sys_id"],
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
    conn.execute(
        "UPDATE incident SET sys_updated_on = ?, sys_updated_by = ?, sys_mod_count = sys_mod_count + 1 "
        "WHERE sys_id = ?",
        (row["sys_created_on"], principal.user_name, incident["sys_id"]),
    )
    return row


def human_size(n: int) -> str:
    if n >= 1024 * 1024:
        return f"{n / (1024 * 1024):.1f} MB".replace(".0 MB", " MB")
    if n >= 1024:
        return f"{n / 1024:.1f} KB".replace(".0 KB", " KB")
    return f"{n} bytes"


# ---------------------------------------------------------------- portal: shared bits
def epoch(stamp: str) -> float:
    return calendar.timegm(time.strptime(stamp, "%Y-%m-%d %H:%M:%S"))


def ago(stamp: str) -> str:
    """ServiceNow's 'x minutes ago' rendering of a UTC glide time."""
    if not stamp:
        return ""
    s = max(0, int(time.time() - epoch(stamp)))
    for unit, size in (("day", 86400), ("hour", 3600), ("minute", 60)):
        if s >= size:
            n = s // size
            return f"{n} {unit}{'s' if n != 1 else ''} ago"
    return "just now"


def text_renderer(settings: Settings):
    """User-entered text is escaped by the templates; the test-only switch renders it as HTML."""
    if fault(settings, "no_escaping"):
        return lambda s: Markup(s or "")
    return lambda s: s or ""


def ticket_url(ctx: Ctx, sys_id: str, **extra: str) -> str:
    return ctx.portal_url("ticket", table="incident", sys_id=sys_id, **extra)


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


# ---------------------------------------------------------------- portal: Create Incident
menu_link(
    "incident.menu_create",
    "sc_cat_item",
    params=lambda p: {"sys_id": p.incidents.record_producer_sys_id},
    component="incident_raise",
    order=10,
)
menu_link("incident.menu_my_requests", "my_requests", component="incident_view", order=20)


def _create_options(cfg) -> dict[str, list[tuple[str, str]]]:
    return {
        "category": [("", "-- Choose --")] + [(c.value, c.label) for c in cfg.categories],
        "impact": [(c.value, c.label) for c in cfg.impact],
        "urgency": [(c.value, c.label) for c in cfg.urgency],
    }


@catalog_item(
    lambda p: p.incidents.record_producer_sys_id, component="incident_raise", bypass_fault="no_raise_check"
)
def create_incident_page(ctx: Ctx) -> Response:
    values: dict[str, str] = {k: "" for k in FORM_FIELDS}
    values.update(impact="3", urgency="3")
    errors: dict[str, str] = {}
    if ctx.request.method == "POST":
        values, errors = validate_new(ctx.settings, ctx.form)
        if not errors:
            principal = Principal.from_ctx(ctx)
            row = create(ctx.db, ctx.settings, principal, values, ctx.user)
            ctx.flash("success", f"{ctx.profile.label('incident.raised')}: {row['number']}")
            return ctx.redirect(ticket_url(ctx, row["sys_id"]))
    return ctx.render(
        "incident_create.html",
        status=400 if errors else 200,
        title=ctx.profile.label("incident.create_heading"),
        values=values,
        errors=errors,
        cfg=ctx.profile.incidents,
        opts=_create_options(ctx.profile.incidents),
        action=ctx.portal_url("sc_cat_item", sys_id=ctx.profile.incidents.record_producer_sys_id),
    )


# ---------------------------------------------------------------- portal: the ticket page
ACTIONS = ("comment", "resolve", "close", "reopen", "attach")


def allowed_actions(ctx: Ctx, inc: dict) -> set[str]:
    if "incident_update" not in ctx.components:
        return set()
    state = inc["state"]
    out = set()
    if state not in INACTIVE_STATES:
        out |= {"comment", "attach"}
    if state in (NEW, IN_PROGRESS, ON_HOLD):
        out.add("resolve")
    if state == RESOLVED:
        out |= {"close", "reopen"}
    return out


@ticket_table("incident")
def incident_ticket(ctx: Ctx, sys_id: str) -> Response:
    if "incident_view" not in ctx.components:
        return ctx.forbidden()
    principal = Principal.from_ctx(ctx)
    inc = visible(ctx.db, ctx.settings, principal, sys_id)
    if inc is None:
        return ctx.not_valid()
    errors: dict[str, str] = {}
    dialog = ctx.request.query_params.get("dialog", "")
    form = dict(ctx.form)
    if ctx.request.method == "POST":
        action = ctx.form.get("action", "")
        if action not in ACTIONS:
            return ctx.not_valid()
        if "incident_update" not in ctx.components:
            return ctx.forbidden()
        try:
            message = _apply_action(ctx, principal, inc, action)
        except IncidentError as err:
            errors = err.errors
            dialog = action if action in ("resolve", "reopen") else ""
        else:
            ctx.flash("success", message)
            anchor = {"comment": "#activity", "attach": "#attachments"}.get(action, "")
            return ctx.redirect(ticket_url(ctx, sys_id) + anchor)
    return render_ticket(
        ctx,
        inc,
        errors=errors,
        dialog=dialog if dialog in ("resolve", "reopen") else "",
        form=form,
        status=(403 if any(k == "state" for k in errors) else 400) if errors else 200,
    )


def _apply_action(ctx: Ctx, principal: Principal, inc: dict, action: str) -> str:
    s, f, L = ctx.settings, ctx.form, ctx.profile.label
    if action == "attach":
        upload = ctx.files.get("attachment")  # type: ignore[attr-defined]
        if not upload:
            raise IncidentError({"attachment": "Choose a file to attach."})
        row = attach(ctx.db, s, principal, inc, Upload(upload[0], upload[2]))
        return f"{L('incident.attached')}: {row['file_name']}"
    if action == "comment":
        text = _clean(f.get("comments"))
        errors = {}
        if not text:
            errors["comments"] = f"{L('incident.comment')} is required."
        if not f.get("u_update_type"):
            errors["u_update_type"] = f"{L('incident.update_type')} is required: choose one from the list."
        if errors:
            raise IncidentError(errors)
        update(ctx.db, s, principal, inc, {"comments": text, "u_update_type": f.get("u_update_type", "")})
        return L("incident.update_added")
    if action == "resolve":
        update(
            ctx.db,
            s,
            principal,
            inc,
            {
                "state": str(RESOLVED),
                "close_code": f.get("close_code", ""),
                "close_notes": f.get("close_notes", ""),
            },
        )
        return f"{inc['number']} is {state_label(s, RESOLVED).lower()}"
    if action == "close":
        update(ctx.db, s, principal, inc, {"state": str(CLOSED)})
        return f"{inc['number']} is {state_label(s, CLOSED).lower()}"
    reason = _clean(f.get("reason"))
    if not reason and inc["state"] == RESOLVED:
        raise IncidentError({"reason": f"{L('incident.reopen_reason')} is required."})
    update(ctx.db, s, principal, inc, {"state": str(IN_PROGRESS), "comments": reason})
    return f"{inc['number']} is reopened and {state_label(s, IN_PROGRESS).lower()}"


def comments_for(conn, settings: Settings, sys_ids: list[str], *, work_notes: bool) -> list[dict]:
    elements = ("comments", "work_notes") if work_notes else ("comments",)
    rows = conn.execute(
        f"SELECT j.*, trim(u.first_name || ' ' || u.last_name) AS author_name FROM sys_journal_field j "
        f"LEFT JOIN sys_user u ON u.sys_id = j.author WHERE j.element_id IN ({','.join('?' * len(sys_ids))}) "
        f"AND j.element IN ({','.join('?' * len(elements))}) ORDER BY j.sys_created_on DESC, j.rowid DESC",
        [*sys_ids, *elements],
    ).fetchall()
    return [dict(r) for r in rows]


def render_ticket(
    ctx: Ctx,
    inc: dict,
    *,
    errors: dict[str, str] | None = None,
    dialog: str = "",
    form: dict | None = None,
    status: int = 200,
) -> Response:
    s, cfg = ctx.settings, ctx.profile.incidents
    names = user_names(ctx.db, {inc["caller_id"], inc["opened_by"]})
    company = ctx.db.execute("SELECT name FROM core_company WHERE sys_id = ?", (inc["company"],)).fetchone()
    category = cfg.category(inc["category"])
    sub = next(
        (x.label for x in (category.subcategories if category else []) if x.value == inc["subcategory"]), ""
    )
    sec = next((c.label for c in cfg.sec_categories if c.value == inc["u_sec_category"]), "")
    fields = [
        ("category", category.label if category else inc["category"]),
        ("subcategory", sub),
        ("impact", cfg.label_of(cfg.impact, inc["impact"])),
        ("urgency", cfg.label_of(cfg.urgency, inc["urgency"])),
        ("priority", cfg.label_of(cfg.priority, inc["priority"])),
        ("sec_category", sec),
        ("target_resolution", f"{inc['u_target_resolution']} UTC" if inc["u_target_resolution"] else ""),
        ("organisation", company[0] if company else ""),
        ("caller", names.get(inc["caller_id"], "")),
        ("your_reference", inc["u_your_reference"]),
        ("device_id", inc["u_device_id"]),
        ("mpxn", inc["u_mpxn"]),
        ("contact_first_name", inc["u_contact_first_name"]),
        ("contact_last_name", inc["u_contact_last_name"]),
        ("contact_phone", inc["u_contact_phone"]),
        ("contact_email", inc["u_contact_email"]),
        ("hold_reason", cfg.hold_reasons.get(inc["hold_reason"] or 0, "")),
        ("close_code", inc["close_code"]),
        ("close_notes", inc["close_notes"]),
        ("reopen_count", str(inc["reopen_count"]) if inc["reopen_count"] else ""),
    ]
    entries = comments_for(ctx.db, s, [inc["sys_id"]], work_notes=fault(s, "show_work_notes"))
    attachments = [
        dict(r)
        for r in ctx.db.execute(
            "SELECT sys_id, file_name, size_bytes, sys_created_on, sys_created_by FROM sys_attachment "
            "WHERE table_sys_id = ? ORDER BY sys_created_on, rowid",
            (inc["sys_id"],),
        )
    ]
    actions = allowed_actions(ctx, inc)
    return ctx.render(
        "incident_ticket.html",
        status=status,
        title=inc["number"],
        inc=inc,
        cfg=cfg,
        state=state_label(s, inc["state"]),
        fields=[(k, v) for k, v in fields if v],
        entries=entries,
        attachments=attachments,
        actions=actions,
        errors=errors or {},
        dialog=dialog if dialog in actions else "",
        form=form or {},
        ago=ago,
        txt=text_renderer(s),
        human_size=human_size,
        url=ticket_url(ctx, inc["sys_id"]),
        max_size=human_size(cfg.attachments.max_bytes),
        allowed_types=", ".join(f".{e}" for e in cfg.attachments.allowed_extensions),
    )


@router.get("/sys_attachment.do")
async def download(ctx: Ctx = Depends(get_ctx)) -> Response:
    """Download an attachment (Content-Disposition: attachment, so the browser saves it: SSI-NFR-21)."""
    if not ctx.signed_in:
        return ctx.login_redirect()
    if "incident_view" not in ctx.components:
        return ctx.forbidden()
    att = ctx.db.execute(
        "SELECT a.*, d.data FROM sys_attachment a JOIN sys_attachment_doc d "
        "ON d.sys_attachment = a.sys_id WHERE a.sys_id = ?",
        (ctx.request.query_params.get("sys_id", ""),),
    ).fetchone()
    if (
        att is None
        or att["table_name"] != "incident"
        or visible(ctx.db, ctx.settings, Principal.from_ctx(ctx), att["table_sys_id"]) is None
    ):
        return ctx.not_valid()
    data = bytes(att["data"])
    if fault(ctx.settings, "attachment_truncated"):
        data = data[:-1]
    return ctx.finish(
        Response(
            data,
            media_type=att["content_type"],
            headers={"Content-Disposition": _content_disposition(att["file_name"])},
        )
    )


# ---------------------------------------------------------------- portal: My Requests
NUMBER_RX = re.compile(r"^[A-Za-z]{2,6}\d{4,}$")


@portal_page("my_requests", title="My Requests", component="incident_view")
def my_requests(ctx: Ctx) -> Response:
    cfg = ctx.profile.incidents
    qp = ctx.request.query_params
    view = qp.get("view", "open")
    if view not in ("open", "closed"):
        view = "open"
    q = (qp.get("q") or "").strip()[:200]
    try:
        page = max(1, int(qp.get("page") or 1))
    except ValueError:
        page = 1
    where, params = scope(ctx.settings, Principal.from_ctx(ctx), "i.company")
    conds = [where] if where else []
    conds.append("i.active = ?")
    params.append(1 if view == "open" else 0)
    if q:
        if NUMBER_RX.match(q):
            conds.append("i.number = ?")
            params.append(q.upper())
        else:
            conds.append("i.short_description LIKE ? ESCAPE '\\'")
            params.append("%" + q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%")
    sql_where = " AND ".join(conds)
    total = ctx.db.execute(f"SELECT COUNT(*) FROM incident i WHERE {sql_where}", params).fetchone()[0]
    size = cfg.list_page_size
    pages = max(1, (total + size - 1) // size)
    page = min(page, pages)
    rows = [
        dict(r)
        for r in ctx.db.execute(
            f"SELECT i.sys_id, i.number, i.short_description, i.state, i.priority, i.sys_updated_on, "
            f"trim(u.first_name || ' ' || u.last_name) AS caller FROM incident i LEFT JOIN sys_user u "
            f"ON u.sys_id = i.caller_id WHERE {sql_where} ORDER BY i.sys_updated_on DESC, i.number DESC "
            f"LIMIT ? OFFSET ?",
            [*params, size, (page - 1) * size],
        )
    ]

    def link(p: int) -> str:
        extra = {"view": view, "page": str(p)}
        if q:
            extra["q"] = q
        return ctx.portal_url("my_requests", **extra)

    return ctx.render(
        "incident_list.html",
        title=ctx.profile.label("incident.list_heading"),
        rows=rows,
        view=view,
        q=q,
        total=total,
        page=page,
        pages=pages,
        size=size,
        cfg=cfg,
        ago=ago,
        txt=text_renderer(ctx.settings),
        states=cfg.states,
        prev_url=link(page - 1) if page > 1 else "",
        next_url=link(page + 1) if page < pages else "",
        ticket=lambda sid: ticket_url(ctx, sid),
    )


# ---------------------------------------------------------------- Table API: incident and its journal
def _caller_row(call: Call, values: dict[str, str]) -> dict[str, Any]:
    if not call.principal.admin:
        return call.principal.user  # a portal user raises for themself
    wanted = values.get("caller_id", "")
    row = call.conn.execute("SELECT * FROM sys_user WHERE sys_id = ?", (wanted,)).fetchone()
    if row is None:
        raise ApiError(400, "Invalid value", "caller_id: give the sys_id of an existing user")
    return dict(row)


def api_insert(call: Call, values: dict[str, str]) -> str:
    caller = _caller_row(call, values)
    raw = dict(values)
    for k, col in (
        ("u_contact_first_name", "first_name"),
        ("u_contact_last_name", "last_name"),
        ("u_contact_phone", "phone"),
        ("u_contact_email", "email"),
    ):
        if not any(values.get(x) for x in ("u_contact_first_name", "u_contact_last_name", "u_contact_phone")):
            raw[k] = caller[col]  # no contact block given: the caller's own details
    clean, errors = validate_new(call.settings, raw)
    if errors:
        raise IncidentError(errors).api()
    row = create(call.conn, call.settings, call.principal, clean, caller)
    if values.get("comments"):
        try:
            update(call.conn, call.settings, call.principal, row, {"comments": values["comments"]})
        except IncidentError as err:
            raise err.api() from None
    return row["sys_id"]


def api_update(call: Call, row: dict, values: dict[str, str]) -> None:
    inc = dict(call.conn.execute("SELECT * FROM incident WHERE sys_id = ?", (row["sys_id"],)).fetchone())
    try:
        update(call.conn, call.settings, call.principal, inc, values)
    except IncidentError as err:
        raise err.api() from None


def api_delete(call: Call, row: dict) -> None:
    sid = row["sys_id"]
    call.conn.execute("DELETE FROM sys_journal_field WHERE element_id = ?", (sid,))
    call.conn.execute("DELETE FROM sys_attachment WHERE table_sys_id = ?", (sid,))
    call.conn.execute("DELETE FROM incident WHERE sys_id = ?", (sid,))


def journal_text(element: str):
    def display(call: Call, ids: list[str]) -> dict[str, str]:
        out: dict[str, list[str]] = {}
        if not ids:
            return {}
        rows = call.conn.execute(
            f"SELECT j.element_id, j.value, j.sys_created_on, j.u_update_type, "
            f"coalesce(nullif(trim(u.first_name || ' ' || u.last_name), ''), j.sys_created_by) AS who "
            f"FROM sys_journal_field j LEFT JOIN sys_user u ON u.sys_id = j.author WHERE j.element = ? AND "
            f"j.element_id IN ({','.join('?' * len(ids))}) ORDER BY j.sys_created_on DESC, j.rowid DESC",
            [element, *ids],
        )
        kind = "Additional comments" if element == "comments" else "Work notes"
        for r in rows:
            typed = f"[{r['u_update_type']}] " if r["u_update_type"] else ""
            out.setdefault(r["element_id"], []).append(
                f"{r['sys_created_on']} - {r['who']} ({kind})\n{typed}{r['value']}\n"
            )
        return {k: "\n".join(v) for k, v in out.items()}

    return display


def _desk_only(call: Call) -> bool:
    return call.principal.admin or fault(call.settings, "show_work_notes")


def _choices(getter):
    return lambda p: getter(p.incidents)


def _incident_scope(call: Call) -> tuple[str, list[Any]]:
    return scope(call.settings, call.principal)


INCIDENT_FIELDS = (
    Field("sys_id", "guid", "Sys ID", column="incident.sys_id", read_only=True),
    Field("number", "string", "Number", read_only=True),
    Field("short_description", "string", "Short description"),
    Field("description", "string", "Description"),
    Field("caller_id", "reference", "Caller", reference="sys_user"),
    Field("opened_by", "reference", "Opened by", reference="sys_user", read_only=True),
    Field(
        "company", "reference", "Company", reference="core_company", column="incident.company", read_only=True
    ),
    Field(
        "category",
        "choice",
        "Category",
        choices=_choices(lambda c: [(x.value, x.label) for x in c.categories]),
    ),
    Field(
        "subcategory",
        "choice",
        "Subcategory",
        choices=_choices(lambda c: [(s.value, s.label) for x in c.categories for s in x.subcategories]),
    ),
    Field("contact_type", "string", "Channel", read_only=True),
    Field("impact", "choice", "Impact", choices=_choices(lambda c: [(x.value, x.label) for x in c.impact])),
    Field(
        "urgency", "choice", "Urgency", choices=_choices(lambda c: [(x.value, x.label) for x in c.urgency])
    ),
    Field(
        "priority",
        "choice",
        "Priority",
        read_only=True,
        choices=_choices(lambda c: [(x.value, x.label) for x in c.priority]),
    ),
    Field("state", "choice", "State", choices=_choices(lambda c: [(str(k), v) for k, v in c.states.items()])),
    Field(
        "hold_reason",
        "choice",
        "On hold reason",
        choices=_choices(lambda c: [(str(k), v) for k, v in c.hold_reasons.items()]),
    ),
    Field("active", "boolean", "Active", read_only=True),
    Field(
        "close_code", "choice", "Resolution code", choices=_choices(lambda c: [(x, x) for x in c.close_codes])
    ),
    Field("close_notes", "string", "Resolution notes"),
    Field("resolved_by", "reference", "Resolved by", reference="sys_user", read_only=True),
    Field("resolved_at", "glide_date_time", "Resolved", read_only=True),
    Field("closed_by", "reference", "Closed by", reference="sys_user", read_only=True),
    Field("closed_at", "glide_date_time", "Closed", read_only=True),
    Field("reopen_count", "integer", "Reopen count", read_only=True),
    Field("reopened_by", "reference", "Last reopened by", reference="sys_user", read_only=True),
    Field("reopened_time", "glide_date_time", "Last reopened at", read_only=True),
    Field("u_contact_first_name", "string", "Contact first name"),
    Field("u_contact_last_name", "string", "Contact last name"),
    Field("u_contact_phone", "string", "Contact telephone number"),
    Field("u_contact_email", "string", "Contact email"),
    Field("u_device_id", "string", "Device ID"),
    Field("u_mpxn", "string", "MPxN"),
    Field("u_your_reference", "string", "Your reference"),
    Field(
        "u_sec_category",
        "choice",
        "SEC incident category",
        read_only=True,
        choices=_choices(lambda c: [(str(x.value), x.label) for x in c.sec_categories]),
    ),
    Field("u_target_resolution", "glide_date_time", "Target resolution", read_only=True),
    Field("opened_at", "glide_date_time", "Opened", read_only=True),
    Field("sys_created_on", "glide_date_time", "Created", read_only=True),
    Field("sys_updated_on", "glide_date_time", "Updated", read_only=True),
    Field("sys_created_by", "string", "Created by", read_only=True),
    Field("sys_updated_by", "string", "Updated by", read_only=True),
    Field("sys_mod_count", "integer", "Updates", read_only=True),
    Field("comments", "journal", "Additional comments", display=journal_text("comments")),
    Field("work_notes", "journal", "Work notes", readable=_desk_only, display=journal_text("work_notes")),
)

register(
    TableDef(
        name="incident",
        label="Incident",
        display_field="number",
        fields=INCIDENT_FIELDS,
        scope=_incident_scope,
        read="incident_view",
        create="incident_raise",
        update="incident_update",
        delete=ADMIN,
        insert_hook=api_insert,
        update_hook=api_update,
        delete_hook=api_delete,
    )
)


def _journal_scope(call: Call) -> tuple[str, list[Any]]:
    where, params = scope(call.settings, call.principal, "company")
    parts = ["sys_journal_field.name = 'incident'"]
    if where:
        parts.append(f"sys_journal_field.element_id IN (SELECT sys_id FROM incident WHERE {where})")
    if not _desk_only(call):
        parts.append("sys_journal_field.element = 'comments'")  # work notes never reach portal users
    return " AND ".join(parts), params


register(
    TableDef(
        name="sys_journal_field",
        label="Journal Entry",
        display_field="value",
        scope=_journal_scope,
        read="incident_view",
        fields=(
            Field("sys_id", "guid", "Sys ID", column="sys_journal_field.sys_id", read_only=True),
            Field("name", "string", "Table", column="sys_journal_field.name", read_only=True),
            Field("element", "string", "Element", read_only=True),
            Field("element_id", "string", "Element ID", read_only=True),
            Field("value", "string", "Value", read_only=True),
            Field("u_update_type", "string", "Type of update", read_only=True),
            Field("sys_created_by", "string", "Created by", read_only=True),
            Field("sys_created_on", "glide_date_time", "Created", read_only=True),
        ),
    )
)


def _attachment_scope(call: Call) -> tuple[str, list[Any]]:
    where, params = scope(call.settings, call.principal, "company")
    if not where:
        return "", []
    return f"sys_attachment.table_sys_id IN (SELECT sys_id FROM incident WHERE {where})", params


register(
    TableDef(
        name="sys_attachment",
        label="Attachment",
        display_field="file_name",
        scope=_attachment_scope,
        read="incident_view",
        fields=(
            Field("sys_id", "guid", "Sys ID", column="sys_attachment.sys_id", read_only=True),
            Field("table_name", "string", "Table name", read_only=True),
            Field("table_sys_id", "string", "Table sys ID", read_only=True),
            Field("file_name", "string", "File name", read_only=True),
            Field("content_type", "string", "Content type", read_only=True),
            Field("size_bytes", "integer", "Size bytes", read_only=True),
            Field("hash", "string", "Hash (SHA-256)", read_only=True),
            Field("sys_created_by", "string", "Created by", read_only=True),
            Field("sys_created_on", "glide_date_time", "Created", read_only=True),
        ),
    )
)


# ---------------------------------------------------------------- REST Attachment API (subset)
def _content_disposition(name: str) -> str:
    ascii_name = name.encode("ascii", "replace").decode().replace('"', "_")
    return f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(name)}"


def _attachment_limit(settings: Settings) -> int | None:
    """An upload is read up to the profile's size limit and no further (any size with the test-only switch)."""
    return None if fault(settings, "no_attachment_check") else settings.profile.incidents.attachments.max_bytes


def _attachment_too_large(settings: Settings, request: Request, size: int | None) -> ApiError:
    name = safe_file_name(request.query_params.get("file_name", "") or "The file")
    limit = human_size(settings.profile.incidents.attachments.max_bytes)
    what = f"{name} is {human_size(size)}" if size is not None else f"{name} is larger than {limit}"
    return IncidentError({"attachment": f"{what}; files larger than {limit} cannot be attached."}).api()


for _prefix in ("/api/now/attachment", "/api/now/v1/attachment"):

    @router.get(_prefix, include_in_schema=False)
    async def api_attachments(request: Request) -> Response:
        return await handle(request, "sys_attachment", None)

    @router.post(_prefix + "/file", include_in_schema=False)
    async def api_attachment_upload(request: Request) -> Response:
        """POST /api/now/attachment/file?table_name=incident&table_sys_id=&file_name= with the raw bytes."""

        def work(call: Call, body: bytes) -> Response:
            qp = request.query_params
            if qp.get("table_name") != "incident":
                raise ApiError(
                    400, "Invalid parameter", "table_name: attachments can be added to incident records"
                )
            if not call.principal.may(TABLES["incident"].update):
                raise ApiError(
                    403, "User Not Authorized", f"{call.principal.user_name} may not update incidents."
                )
            inc = visible(call.conn, call.settings, call.principal, qp.get("table_sys_id", ""))
            if inc is None:
                raise not_found()
            if not qp.get("file_name"):
                raise ApiError(400, "Invalid parameter", "file_name is required")
            try:
                row = attach(call.conn, call.settings, call.principal, inc, Upload(qp["file_name"], body))
            except IncidentError as err:
                raise err.api() from None
            t = TABLES["sys_attachment"]
            result = serialize(call, t, [fetch_one(call, t, row["sys_id"])], read_options(qp))[0]
            return JSONResponse(
                {"result": result},
                status_code=201,
                headers={**API_HEADERS, "Location": f"{call.base_url}/api/now/attachment/{row['sys_id']}"},
            )

        return await run_call(request, work, json_body=False, body_limit=_attachment_limit,
                              too_large=_attachment_too_large)

    @router.get(_prefix + "/{sys_id}", include_in_schema=False)
    async def api_attachment(sys_id: str, request: Request) -> Response:
        return await handle(request, "sys_attachment", sys_id)

    @router.get(_prefix + "/{sys_id}/file", include_in_schema=False)
    async def api_attachment_file(sys_id: str, request: Request) -> Response:
        def work(call: Call, body: bytes) -> Response:
            t = TABLES["sys_attachment"]
            if not call.principal.may(t.read):
                raise ApiError(
                    403, "User Not Authorized", f"{call.principal.user_name} may not read attachments."
                )
            row = fetch_one(call, t, sys_id)
            if row is None:
                raise not_found()
            data = bytes(
                call.conn.execute(
                    "SELECT data FROM sys_attachment_doc WHERE sys_attachment = ?", (sys_id,)
                ).fetchone()[0]
            )
            if fault(call.settings, "attachment_truncated"):
                data = data[:-1]
            return Response(
                data,
                media_type=row["content_type"],
                headers={**API_HEADERS, "Content-Disposition": _content_disposition(row["file_name"])},
            )

        return await run_call(request, work, accept_json=False)


# ---------------------------------------------------------------- operator: volume figures for the benchmarks
from .operator import require_operator  # noqa: E402


@router.get("/_operator/incidents/stats", dependencies=[Depends(require_operator)], include_in_schema=False)
async def incident_stats(request: Request) -> dict:
    from .bulk import STATS

    with request.app.state.db.tx() as c:
        total = c.execute("SELECT COUNT(*) FROM incident").fetchone()[0]
        orgs = c.execute("SELECT COUNT(DISTINCT company) FROM incident").fetchone()[0]
    return {"incidents": total, "organisations_with_incidents": orgs, "bulk_seed": dict(STATS)}
