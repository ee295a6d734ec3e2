"""The service catalogue on the Table API: sc_request, sc_req_item (with its variables) and sc_task, each
scoped to the caller's organisation and readable with the service_catalogue component; files attach to a
requested item through the Attachment API as to an incident."""

from __future__ import annotations

from typing import Any

from ssi.errors import UsageError

from ..catalog.attachable import Attachable, attachable
from ..incidents.api import journal_text
from ..incidents.store import store_attachment
from ..tableapi.model import ADMIN, ApiError, Call, Field, TableDef, register
from .rules import COMPONENT, RequestError, scope, validate, visible_item
from .store import attach, comment, set_state, submit


def _scoped(table: str):
    def where(call: Call) -> tuple[str, list[Any]]:
        return scope(call.settings, call.principal, f"{table}.company")

    return where


def _states(kind: str):
    return lambda p: [(str(k), v) for k, v in getattr(p.service_requests, kind).items()]


def _variables(call: Call, ids: list[str]) -> dict[str, str]:
    """A requested item's variables as name=value lines (the Table API's dot-walked variables, flattened)."""
    if not ids:
        return {}
    out: dict[str, list[str]] = {}
    for r in call.conn.execute(f"SELECT request_item, name, value FROM sc_item_option WHERE request_item IN "
                               f"({','.join('?' * len(ids))}) ORDER BY ord", ids):
        out.setdefault(r[0], []).append(f"{r[1]}={r[2]}")
    return {k: "\n".join(v) for k, v in out.items()}


COMMON = (
    Field("sys_created_on", "glide_date_time", "Created", read_only=True),
    Field("sys_updated_on", "glide_date_time", "Updated", read_only=True),
)

register(TableDef(
    name="sc_request", label="Request", display_field="number", scope=_scoped("sc_request"), read=COMPONENT,
    create=ADMIN, update=ADMIN, delete=ADMIN,
    fields=(
        Field("sys_id", "guid", "Sys ID", column="sc_request.sys_id", read_only=True),
        Field("number", "string", "Number", read_only=True),
        Field("requested_for", "reference", "Requested for", reference="sys_user", read_only=True),
        Field("opened_by", "reference", "Opened by", reference="sys_user", read_only=True),
        Field("company", "reference", "Company", reference="core_company", column="sc_request.company",
              read_only=True),
        Field("request_state", "choice", "Request state", choices=_states("request_states"), read_only=True),
        Field("stage", "string", "Stage", read_only=True),
        Field("short_description", "string", "Short description", read_only=True),
        Field("active", "boolean", "Active", read_only=True),
        Field("opened_at", "glide_date_time", "Opened", read_only=True),
        *COMMON,
    ),
))

def _order(call: Call, values: dict[str, str]) -> str:
    """POST sc_req_item {cat_item, variables: "name=value" lines}: the item ordered as on the portal (the same
    checks, a request and a task); items that take a file are ordered on the portal, where the file goes."""
    try:
        item = call.profile.service_requests.item(values.get("cat_item", ""))
    except UsageError:
        raise ApiError(400, "Invalid cat_item", "give the sys_id of a catalogue item") from None
    if any(v.type == "attachment" for v in item.variables) or call.principal.user is None:
        raise ApiError(400, "Invalid cat_item", f"{item.name} takes a file: order it on the portal")
    raw = dict(line.split("=", 1) for line in values.get("variables", "").splitlines() if "=" in line)
    clean_values, errors = validate(call.settings, item, raw)
    if errors:
        raise ApiError(400, "Not saved", "; ".join(errors.values()))
    return submit(call.conn, call.settings, call.principal, item, clean_values, call.principal.user)["sys_id"]


def _update(call: Call, row: dict[str, Any], values: dict[str, str]) -> None:
    """PATCH sc_req_item: an additional comment (when the item's state takes one) and a state change (DCC's
    desk: any state; a requester: service_requests.requester_transitions); any other field is not theirs (403)."""
    ritm = dict(call.conn.execute("SELECT * FROM sc_req_item WHERE sys_id = ?", (row["sys_id"],)).fetchone())
    other = sorted(set(values) - {"state", "comments"})
    try:
        if other and not call.principal.admin:
            raise RequestError({other[0]: f"{other[0]} of a requested item is set by DCC, not by its requester"}, 403)
        if "state" in values:
            set_state(call.conn, call.settings, call.principal, ritm, values["state"])
        if values.get("comments", "").strip():  # an empty journal field adds nothing, as in ServiceNow
            comment(call.conn, call.settings, call.principal, ritm, values["comments"])
    except RequestError as err:
        raise err.api() from None


register(TableDef(
    name="sc_req_item", label="Requested Item", display_field="number", scope=_scoped("sc_req_item"),
    read=COMPONENT, create=COMPONENT, update=COMPONENT, delete=ADMIN, insert_hook=_order, update_hook=_update,
    fields=(
        Field("sys_id", "guid", "Sys ID", column="sc_req_item.sys_id", read_only=True),
        Field("number", "string", "Number", read_only=True),
        Field("request", "reference", "Request", reference="sc_request", read_only=True),
        Field("cat_item", "string", "Item"),  # given when ordering (insert), never changed (update is DCC's)
        Field("requested_for", "reference", "Requested for", reference="sys_user", read_only=True),
        Field("opened_by", "reference", "Opened by", reference="sys_user", read_only=True),
        Field("company", "reference", "Company", reference="core_company", column="sc_req_item.company",
              read_only=True),
        Field("short_description", "string", "Short description", read_only=True),
        Field("quantity", "integer", "Quantity", read_only=True),
        Field("stage", "choice", "Stage", choices=_states("stages"), read_only=True),
        Field("state", "choice", "State", choices=_states("item_states")),
        Field("active", "boolean", "Active", read_only=True),
        Field("opened_at", "glide_date_time", "Opened", read_only=True),
        *COMMON,
        Field("variables", "journal", "Variables", display=_variables),
        Field("comments", "journal", "Additional comments", display=journal_text("comments")),
    ),
))

def _option_scope(call: Call) -> tuple[str, list[Any]]:
    where, params = scope(call.settings, call.principal, "company")
    return (f"sc_item_option.request_item IN (SELECT sys_id FROM sc_req_item WHERE {where})", params) if where \
        else ("", [])


register(TableDef(  # ServiceNow links options to items through sc_item_option_mtom; here each names its item
    name="sc_item_option", label="Options", display_field="value", scope=_option_scope, read=COMPONENT,
    create=ADMIN, update=ADMIN, delete=ADMIN,
    fields=(
        Field("sys_id", "guid", "Sys ID", column="sc_item_option.sys_id", read_only=True),
        Field("request_item", "reference", "Requested item", reference="sc_req_item", read_only=True),
        Field("name", "string", "Variable", read_only=True),
        Field("value", "string", "Value", read_only=True),
        Field("ord", "integer", "Order", read_only=True),
    ),
))

register(TableDef(
    name="sc_task", label="Catalog Task", display_field="number", scope=_scoped("sc_task"), read=COMPONENT,
    create=ADMIN, update=ADMIN, delete=ADMIN,
    fields=(
        Field("sys_id", "guid", "Sys ID", column="sc_task.sys_id", read_only=True),
        Field("number", "string", "Number", read_only=True),
        Field("request_item", "reference", "Requested item", reference="sc_req_item", read_only=True),
        Field("request", "reference", "Request", reference="sc_request", read_only=True),
        Field("company", "reference", "Company", reference="core_company", column="sc_task.company", read_only=True),
        Field("short_description", "string", "Short description", read_only=True),
        Field("state", "integer", "State", read_only=True),
        Field("assignment_group", "string", "Assignment group", read_only=True),
        Field("active", "boolean", "Active", read_only=True),
        *COMMON,
    ),
))






def _cart(conn, settings, principal, sys_id: str) -> dict[str, Any] | None:
    """A cart item (the form a user is filling in) is theirs: no one else has put a file on it."""
    if len(sys_id) != 32 or any(c not in "0123456789abcdef" for c in sys_id):
        return None
    other = conn.execute("SELECT 1 FROM sys_attachment WHERE table_sys_id = ? AND author IS NOT ?",
                         (sys_id, principal.sys_id)).fetchone()
    return None if other else {"sys_id": sys_id}


def _stage(conn, settings, principal, cart: dict[str, Any], upload) -> dict[str, Any]:
    return store_attachment(conn, settings, principal, "sc_cart_item", cart, upload, touch=False)


attachable("sc_cart_item", Attachable(view=COMPONENT, update=COMPONENT, visible=_cart, attach=_stage,
                                      scope=scope, listed=False))
attachable("sc_req_item",
           Attachable(view=COMPONENT, update=COMPONENT, visible=visible_item, attach=attach, scope=scope))
