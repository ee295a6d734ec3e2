"""The incident pages of the sp generation: the Create Incident record producer and the standard ticket page.

Same rules and store as the classic pages (validate_new, create, apply_action, attach); only the portal
differs. The XHR endpoints, all with the session cookie and X-UserToken:

GET  /api/now/sp/variable_choices?sys_id=<item>&variable=subcategory&parent=<category>
     -> {"result": [{"value", "label"}]}
POST /api/sn_sc/v1/servicecatalog/items/{sys_id}/submit_producer  {"variables": {name: value}}
     -> 200 {"result": {"sys_id", "number", "table", "record", "redirect_portal_url", ...}}
     -> 400 {"error": {"message", "detail"}, "errors": {variable: message}, "status": "failure"}
POST /api/now/sp/ticket_action  {"table", "sys_id", "action": comment|resolve|close|reopen, ...inputs}
     -> 200 {"result": {"message", "number", "state"}} or 400/403 with "errors" as above
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends
from fastapi.responses import Response

from ..catalog.portal import links_for
from ..catalog.sp import SP_TICKET_ACTIONS, item_allowed, sp_catalog_item, sp_ticket_table
from ..deps import get_ctx
from ..faults import fault
from ..sp.widgets import Refusal, Widgets, forbidden, not_valid, pair, sp_page
from ..sp.xhr import error as _error
from ..sp.xhr import json_body
from ..sp.xhr import refused as _refused
from ..tableapi.model import Principal
from ..web import Ctx
from .portal import (
    ACTIONS,
    ago,
    allowed_actions,
    apply_action,
    request_list,
    ticket_attachments,
    ticket_fields,
)
from .rules import FORM_FIELDS, IncidentError, label, state_label, validate_new, visible
from .store import comments_for, create, human_size

router = APIRouter()

MANDATORY = ("category", "short_description", "u_contact_first_name", "u_contact_last_name", "u_contact_phone")
SECTIONS = (
    ("details", "", ("category", "subcategory", "impact", "urgency", "short_description", "description")),
    ("premises_heading", "premises", ("u_device_id", "u_mpxn", "u_your_reference")),
    ("contact_heading", "contact", ("u_contact_first_name", "u_contact_last_name", "u_contact_phone",
                                    "u_contact_email")),
)
INPUT_TYPES = {"u_contact_phone": ("tel", "tel"), "u_contact_email": ("email", "email"),
               "u_contact_first_name": ("text", "given-name"), "u_contact_last_name": ("text", "family-name")}


# ---------------------------------------------------------------- the record producer
def _subcategories(ctx: Ctx, category: str) -> list[dict[str, str]]:
    found = ctx.profile.incidents.category(category)
    return [{"value": "", "label": "-- None --"}] + [
        {"value": s.value, "label": s.label} for s in (found.subcategories if found else [])]


def _variable(ctx: Ctx, name: str, value: str) -> dict[str, Any]:
    cfg = ctx.profile.incidents
    v: dict[str, Any] = {"name": name, "label": label(ctx.settings, name), "mandatory": name in MANDATORY,
                         "value": value, "kind": "textarea" if name == "description" else "text"}
    choices = {
        "category": [{"value": "", "label": "-- Choose --"}] + [{"value": c.value, "label": c.label}
                                                                for c in cfg.categories],
        "subcategory": _subcategories(ctx, ""),
        "impact": [{"value": c.value, "label": c.label} for c in cfg.impact],
        "urgency": [{"value": c.value, "label": c.label} for c in cfg.urgency],
    }
    if name in choices:
        v.update(kind="choice", choices=choices[name])
    if name == "subcategory":
        v["depends_on"] = "category"
    if name in INPUT_TYPES:
        v["input_type"], v["autocomplete"] = INPUT_TYPES[name]
    return v


@sp_catalog_item(lambda p: p.incidents.record_producer_sys_id)
def create_incident_widgets(ctx: Ctx) -> Widgets:
    L = ctx.profile.label
    values = {k: "" for k in FORM_FIELDS} | {"impact": "3", "urgency": "3"}
    hints = {
        "premises": f"For a premises-related incident give a {L('incident.device_id')} or an {L('incident.mpxn')} "
                    f"(several separated by commas) and {L('incident.your_reference').lower()}.",
        "contact": f"{L('incident.contact_first_name')}, {L('incident.contact_last_name').lower()} and "
                   f"{L('incident.contact_phone').lower()} are required; {L('incident.contact_email').lower()} "
                   "is optional.",
    }
    return {"title": L("incident.create_heading"), "widgets": [{
        "type": "producer", "sys_id": ctx.profile.incidents.record_producer_sys_id,
        "heading": L("incident.create_heading"), "submit": L("incident.submit"), "form_error": L("incident.form_error"),
        "variables": [_variable(ctx, name, values[name]) for name in FORM_FIELDS],
        "sections": [{"legend": L(f"incident.{legend}"), "hint": hints.get(hint, ""), "variables": list(names)}
                     for legend, hint, names in SECTIONS],
    }]}


@router.get("/api/now/sp/variable_choices")
async def variable_choices(ctx: Ctx = Depends(get_ctx)) -> Response:
    if not ctx.signed_in:
        return _error(ctx, 401, "User Not Authenticated")
    qp = ctx.request.query_params
    try:
        item_allowed(ctx, qp.get("sys_id", ""))
    except Refusal as refusal:
        return _error(ctx, refusal.status, refusal.title, refusal.text)
    if qp.get("sys_id") != ctx.profile.incidents.record_producer_sys_id or qp.get("variable") != "subcategory":
        return _error(ctx, 400, "Invalid parameter", "only subcategory depends on another variable")
    return ctx.json({"result": _subcategories(ctx, qp.get("parent", ""))})


@router.post("/api/sn_sc/v1/servicecatalog/items/{sys_id}/submit_producer")
async def submit_producer(sys_id: str, body: dict = Depends(json_body), ctx: Ctx = Depends(get_ctx)) -> Response:
    refused = _refused(ctx)
    if refused:
        return refused
    try:
        item_allowed(ctx, sys_id)
    except Refusal as refusal:
        return _error(ctx, refusal.status, refusal.title, refusal.text)
    if sys_id != ctx.profile.incidents.record_producer_sys_id:
        return _error(ctx, 400, "Invalid item", "this catalogue item is not a record producer")
    variables = body.get("variables")
    raw = {k: str(v) for k, v in variables.items()} if isinstance(variables, dict) else {}
    values, errors = validate_new(ctx.settings, raw)
    if errors:
        return _error(ctx, 400, ctx.profile.label("incident.form_error"), "; ".join(errors.values()), errors)
    row = create(ctx.db, ctx.settings, Principal.from_ctx(ctx), values, ctx.user)
    ctx.flash("success", f"{ctx.profile.label('incident.raised')}: {row['number']}")
    base = f"{ctx.request.url.scheme}://{ctx.request.url.netloc}"
    return ctx.json({"result": {
        "sys_id": row["sys_id"], "number": row["number"], "table": "incident", "parent_id": None,
        "parent_table": "task", "record": f"{base}/api/now/table/incident/{row['sys_id']}",
        "redirect_url": f"incident.do?sys_id={row['sys_id']}",
        "redirect_portal_url": f"?id=ticket&table=incident&sys_id={row['sys_id']}",
    }})


# ---------------------------------------------------------------- the ticket page
def _actions(ctx: Ctx, inc: dict) -> list[dict[str, Any]]:
    L, allowed, number = ctx.profile.label, allowed_actions(ctx, inc), inc["number"]
    codes = ", ".join(ctx.profile.incidents.close_codes)
    dialogs = {
        "resolve": {"title": f"{L('incident.resolve')} {number}", "submit": L("incident.resolve_submit"), "fields": [
            {"name": "close_code", "label": L("incident.close_code"), "kind": "text", "hint": f"One of: {codes}"},
            {"name": "close_notes", "label": L("incident.close_notes"), "kind": "textarea"}]},
        "close": {"title": f"{L('incident.close')} {number}", "intro": f"Close {number}? It cannot be reopened.",
                  "submit": L("incident.close"), "fields": []},
        "reopen": {"title": f"{L('incident.reopen')} {number}", "submit": L("incident.reopen_submit"), "fields": [
            {"name": "reason", "label": L("incident.reopen_reason"), "kind": "textarea"}]},
    }
    return [{"action": a, "label": L(f"incident.{a}"), "dialog": {**dialogs[a], "cancel": L("incident.cancel")}}
            for a in ("resolve", "close", "reopen") if a in allowed]


@sp_ticket_table("incident")
def incident_ticket_widgets(ctx: Ctx, sys_id: str) -> Widgets:
    if "incident_view" not in ctx.components:
        raise forbidden(ctx)
    inc = visible(ctx.db, ctx.settings, Principal.from_ctx(ctx), sys_id)
    if inc is None:
        raise not_valid(ctx)
    s, L, cfg = ctx.settings, ctx.profile.label, ctx.profile.incidents
    allowed = allowed_actions(ctx, inc)
    fields = [pair("f_short_description", L("incident.short_description"), inc["short_description"])]
    if inc["description"]:
        fields.append(pair("f_description", L("incident.description"), inc["description"]))
    fields += [pair(f"f_{k}", L(f"incident.{k}"), v) for k, v in ticket_fields(ctx, inc)]
    entries = comments_for(ctx.db, s, [inc["sys_id"]], work_notes=fault(s, "show_work_notes"))
    return {"title": inc["number"], "widgets": [{
        "type": "ticket", "table": "incident", "sys_id": inc["sys_id"], "number": inc["number"],
        "title": inc["short_description"],
        "meta": [pair("m_state", L("incident.state"), state_label(s, inc["state"])),
                 pair("m_created", L("incident.created"), ago(inc["sys_created_on"]), inc["sys_created_on"]),
                 pair("m_updated", L("incident.updated"), ago(inc["sys_updated_on"]), inc["sys_updated_on"])],
        "details_heading": L("incident.details"), "fields": fields, "links": links_for(ctx, "incident", inc),
        "actions_heading": L("incident.actions"), "actions": _actions(ctx, inc),
        "conversation": {
            "heading": L("incident.activity"), "can_post": "comment" in allowed, "send": L("incident.send"),
            "comment_label": L("incident.comment"), "placeholder": "Type your message here...",
            "update_type": {"label": L("incident.update_type"), "choices": list(cfg.update_types)},
            "entries": [{"sys_id": e["sys_id"], "author": e["author_name"] or e["sys_created_by"], "kind": e["element"],
                         "ago": ago(e["sys_created_on"]), "stamp": e["sys_created_on"],
                         "update_type": e["u_update_type"] or "", "text": e["value"]} for e in entries],
        },
        "attachments": {
            "heading": L("incident.attachments"), "can_add": "attach" in allowed,
            "add_label": L("incident.add_attachments"),
            "attached": L("incident.attached"), "empty": L("incident.no_attachments"),
            "hint": f"Up to {human_size(cfg.attachments.max_bytes)}; "
                    + ", ".join(f".{e}" for e in cfg.attachments.allowed_extensions),
            "items": [{"sys_id": a["sys_id"], "file_name": a["file_name"], "size": human_size(a["size_bytes"]),
                       "by": a["sys_created_by"], "url": f"/sys_attachment.do?sys_id={a['sys_id']}"}
                      for a in ticket_attachments(ctx, inc)],
        },
    }]}


@router.post("/api/now/sp/ticket_action")
async def ticket_action(body: dict = Depends(json_body), ctx: Ctx = Depends(get_ctx)) -> Response:
    refused = _refused(ctx)
    if refused:
        return refused
    other = SP_TICKET_ACTIONS.get(str(body.get("table", "")))
    if other is not None:  # another table's ticket page (requests/sp.py)
        return other(ctx, body)
    if body.get("table") != "incident" or "incident_view" not in ctx.components:
        return _error(ctx, 404, "No Record found", ctx.profile.label("errors.not_authorized"))
    principal = Principal.from_ctx(ctx)
    inc = visible(ctx.db, ctx.settings, principal, str(body.get("sys_id", "")))
    action = body.get("action")
    if inc is None or action not in ACTIONS or action == "attach":
        return _error(ctx, 404, "No Record found", ctx.profile.label("errors.not_authorized"))
    if "incident_update" not in ctx.components:
        return _error(ctx, 403, "User Not Authorized", ctx.profile.label("errors.forbidden"))
    ctx.form = {k: str(v) for k, v in body.items() if isinstance(v, (str, int, float))}
    try:
        message = apply_action(ctx, principal, inc, action)
    except IncidentError as err:
        status = 403 if "state" in err.errors else 400
        return _error(ctx, status, "Not saved", " ".join(err.errors.values()), err.errors)
    after = visible(ctx.db, ctx.settings, principal, inc["sys_id"]) or inc
    return ctx.json({"result": {"message": message, "number": inc["number"],
                                "state": state_label(ctx.settings, after["state"])}})


# ---------------------------------------------------------------- My Requests (my-requests-v2)
@sp_page("my_requests")
def my_requests_widgets(ctx: Ctx) -> Widgets:
    L = ctx.profile.label
    found = request_list(ctx)
    view_label = L(f"incident.show_{found['view']}").lower()
    total, first = found["total"], (found["page"] - 1) * found["size"] + 1
    matching = f' matching "{found["q"]}"' if found["q"] else ""
    noun = found["noun"] + ("s" if total != 1 else "")
    summary = (f"Showing {first} to {min(found['page'] * found['size'], total)} of {total} {view_label} "
               f"{noun}{matching}") if total else f"{L('incident.no_results')}{matching}"
    return {"title": L("incident.list_heading"), "widgets": [{
        "type": "requests", "heading": L("incident.list_heading"), "summary": summary,
        "view": {"label": L("incident.show"), "value": found["view"],
                 "choices": [{"value": v, "label": L(f"incident.show_{v}")} for v in ("open", "closed")]},
        "search": {"label": L("incident.search"), "value": found["q"], "submit": L("incident.search_submit")},
        "rows": [{"number": r["number"], "url": r["url"], "title": r["short_description"],
                  "state": r["state_label"], "priority": r["priority_label"], "updated": ago(r["sys_updated_on"])}
                 for r in found["rows"]],
        "pager": {"page": found["page"], "pages": found["pages"], "prev_url": found["prev_url"],
                  "next_url": found["next_url"], "previous": L("incident.previous"), "next": L("incident.next")},
    }]}
