"""Incidents on the REST API: the incident, journal and attachment tables, and the Attachment API."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response

from ..catalog.attachable import ATTACHABLE, Attachable, attachable
from ..faults import fault
from ..settings import Settings
from ..tableapi.model import ADMIN, ANY, TABLES, ApiError, Call, Field, TableDef, not_found, register
from ..tableapi.routes import API_HEADERS, handle, run_call
from ..tableapi.rows import fetch_one, read_options, serialize
from .rules import IncidentError, scope, validate_new, visible
from .store import Upload, attach, content_disposition, create, human_size, safe_file_name, update


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


attachable("incident", Attachable(view="incident_view", update="incident_update", visible=visible, attach=attach,
                                  scope=scope))


def _attachment_scope(call: Call) -> tuple[str, list[Any]]:
    """A file is seen by whoever sees its record (each attachable table's own scope)."""
    if call.principal.admin:
        return "", []
    conds, params = [], []
    for table, entry in ATTACHABLE.items():
        if not call.principal.may(entry.view):
            continue
        if not entry.listed:  # a form's files before it is submitted: only their uploader's
            conds.append(f"(sys_attachment.table_name = '{table}' AND sys_attachment.author = ?)")
            params.append(call.principal.sys_id)
            continue
        where, more = entry.scope(call.settings, call.principal, "company")
        if not where:
            conds.append(f"sys_attachment.table_name = '{table}'")
        else:
            conds.append(f"sys_attachment.table_sys_id IN (SELECT sys_id FROM {table} WHERE {where})")
            params += more
    return ("(" + " OR ".join(conds) + ")") if conds else "0", params


register(
    TableDef(
        name="sys_attachment",
        label="Attachment",
        display_field="file_name",
        scope=_attachment_scope,
        read=ANY,  # each attachable table's scope decides which files a caller sees
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
router = APIRouter()


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
            table = qp.get("table_name", "")
            entry = ATTACHABLE.get(table)
            if entry is None:
                raise ApiError(400, "Invalid parameter",
                               f"table_name: attachments can be added to {' and '.join(ATTACHABLE)} records")
            if not call.principal.may(entry.update):
                raise ApiError(403, "User Not Authorized", f"{call.principal.user_name} may not update {table}.")
            record = entry.visible(call.conn, call.settings, call.principal, qp.get("table_sys_id", ""))
            if record is None:
                raise not_found()
            if not qp.get("file_name"):
                raise ApiError(400, "Invalid parameter", "file_name is required")
            try:
                row = entry.attach(call.conn, call.settings, call.principal, record, Upload(qp["file_name"], body))
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
                headers={**API_HEADERS, "Content-Disposition": content_disposition(row["file_name"])},
            )

        return await run_call(request, work, accept_json=False)
