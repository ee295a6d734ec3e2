"""The service catalogue on the Service Portal (REFSSI_PORTAL_UI=sp): the catalogue page as a record widget
drawn from its classic handler's context, an item as the catalogue item widget (variables, select2 choices,
mandatory prefixes) ordered by XHR, and a requested item on the standard ticket page widget.

POST /api/sn_sc/v1/servicecatalog/items/{sys_id}/order_now  {"sysparm_quantity": "1", "variables": {...}}
     -> 200 {"result": {"sys_id", "number", "request_number", "request_id", "table": "sc_request",
                        "redirect_portal_url"}}  or 400 {"error", "errors", "status": "failure"}
POST /api/now/sp/ticket_action {"table": "sc_req_item", "sys_id", "action": "comment", "comments"}
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends
from fastapi.responses import Response

from ..catalog.sp import item_allowed, sp_catalog_item, sp_ticket_action, sp_ticket_table
from ..db import new_sys_id
from ..deps import get_ctx
from ..incidents.store import Upload, human_size
from ..sp.widgets import Refusal, Widgets, forbidden, from_handler, not_valid, pair, sp_page, sp_view
from ..sp.xhr import error, json_body, refused
from ..tableapi.model import Principal
from ..web import Ctx
from .portal import apply_action, catalogue, file_hint, order, prefilled, ticket_context, ticket_url
from .rules import COMPONENT, RequestError, file_errors, incident_errors, validate, visible_item

router = APIRouter()


@sp_view("sc_home.html")
def catalogue_view(ctx: Ctx, *, heading: str, items, rows, item_url, ticket, stage, item_name, **_: Any) -> dict:
    L = ctx.profile.labels["service_request"]
    return {"type": "record", "blocks": [
        {"kind": "heading", "text": heading},
        {"kind": "subheading", "text": L["items"]},
        {"kind": "tiles", "label": L["items"], "items": [
            {"id": f"sc_cat_item_{i.sys_id}", "label": i.name, "url": item_url(i), "text": i.short_description}
            for i in items]},
        {"kind": "subheading", "text": L["open_requests"]},
        {"kind": "table", "label": L["open_requests"], "empty": L["no_requests"],
         "columns": [L["number"], L["request_number"], L["item"], L["raised_on"], L["stage"]],
         "rows": [{"header": {"text": r["number"], "url": ticket(r["sys_id"])},
                   "cells": [r["request_number"], f"{item_name(r['cat_item'])}: {r['short_description']}",
                             f"{r['sys_created_on']} UTC", stage(r["stage"])]} for r in rows]},
    ]}


sp_page("sc_home")(from_handler(catalogue))


KINDS = {"text": "text", "email": "text", "tel": "text", "textarea": "textarea", "choice": "choice",
         "attachment": "attachment"}


@sp_catalog_item(lambda p: tuple(i.sys_id for i in p.service_requests.items))
def item_widgets(ctx: Ctx) -> Widgets:
    item = ctx.profile.service_requests.item(ctx.request.query_params.get("sys_id", ""))
    L = ctx.profile.label
    variables = []
    first = prefilled(ctx, item)
    for v in item.variables:
        out: dict[str, Any] = {"name": v.name, "label": v.label, "mandatory": v.mandatory, "value": first[v.name],
                               "kind": KINDS[v.type]}
        if v.type == "choice":
            out["choices"] = [{"value": "", "label": "-- None --"}] + [{"value": c.value, "label": c.label}
                                                                      for c in v.choices]
        if v.type in ("email", "tel"):
            out["input_type"] = v.type
        if v.type == "attachment":
            out.update(accept=",".join(f".{e}" for e in v.extensions) or None, hint=file_hint(v))
        variables.append(out)
    return {"title": item.name, "widgets": [{
        "type": "producer", "order": True, "sys_id": item.sys_id, "heading": item.name, "cart": new_sys_id(),
        "submit": L("service_request.submit"), "form_error": L("service_request.form_error"),
        "variables": variables,
        "sections": [{"legend": L("service_request.variables"), "hint": item.short_description,
                      "variables": [v.name for v in item.variables]}],
    }]}


@router.post("/api/sn_sc/v1/servicecatalog/items/{sys_id}/order_now")
async def order_now(sys_id: str, body: dict = Depends(json_body), ctx: Ctx = Depends(get_ctx)) -> Response:
    no = refused(ctx)
    if no:
        return no
    try:
        item_allowed(ctx, sys_id)
    except Refusal as refusal:
        return error(ctx, refusal.status, refusal.title, refusal.text)
    if not any(i.sys_id == sys_id for i in ctx.profile.service_requests.items):
        return error(ctx, 400, "Invalid item", "this catalogue item cannot be ordered")
    item = ctx.profile.service_requests.item(sys_id)
    variables = body.get("variables")
    raw = {k: str(v) for k, v in variables.items()} if isinstance(variables, dict) else {}
    values, errors = validate(ctx.settings, item, raw)
    staged = {v.name: staged_file(ctx, raw.get(v.name, "")) for v in item.variables if v.type == "attachment"}
    uploads = {name: u for name, (u, _) in staged.items() if u is not None}
    errors |= file_errors(ctx.settings, ctx.db, item, ctx.user["company"], uploads)
    errors |= incident_errors(ctx.db, item, ctx.user["company"], values)
    if errors:
        return error(ctx, 400, ctx.profile.label("service_request.form_error"), "; ".join(errors.values()), errors)
    ritm = order(ctx, item, values, uploads)
    for _, sys_id in staged.values():  # the file now belongs to the requested item
        ctx.db.execute("DELETE FROM sys_attachment WHERE sys_id = ?", (sys_id,))
    url = ticket_url(ctx, ritm["sys_id"])
    ctx.address_flash(url)
    return ctx.json({"result": {"sys_id": ritm["request"], "number": ritm["request_number"],
                                "request_number": ritm["request_number"], "request_id": ritm["request"],
                                "table": "sc_request", "redirect_portal_url": "?" + url.split("?", 1)[1]}})


def staged_file(ctx: Ctx, sys_id: str) -> tuple[Upload | None, str]:
    """A file this user uploaded to a cart item (an attachment variable's value), with its sys_id."""
    row = ctx.db.execute(
        "SELECT a.file_name, d.data FROM sys_attachment a JOIN sys_attachment_doc d ON d.sys_attachment = a.sys_id "
        "WHERE a.sys_id = ? AND a.table_name = 'sc_cart_item' AND a.author = ?", (sys_id, ctx.user["sys_id"])
    ).fetchone() if sys_id else None
    return (Upload(row[0], bytes(row[1])), sys_id) if row else (None, sys_id)


@sp_ticket_table("sc_req_item")
def request_ticket_widgets(ctx: Ctx, sys_id: str) -> Widgets:
    if COMPONENT not in ctx.components:
        raise forbidden(ctx)
    ritm = visible_item(ctx.db, ctx.settings, Principal.from_ctx(ctx), sys_id)
    if ritm is None:
        raise not_valid(ctx)
    L, c = ctx.profile.label, ticket_context(ctx, ritm)
    return {"title": ritm["number"], "widgets": [{
        "type": "ticket", "table": "sc_req_item", "sys_id": ritm["sys_id"], "number": ritm["number"],
        "title": ritm["short_description"],
        "meta": [pair(f"m_{k}", label, value, stamp) for k, label, value, stamp in c["meta"]],
        "details_heading": L("service_request.variables"),
        "fields": [pair(f"f_{k}", label, value) for k, label, value in c["fields"]],
        "actions_heading": L("incident.actions"), "actions": [],
        "conversation": {
            "heading": L("incident.activity"), "can_post": "comment" in c["updates"], "send": L("incident.send"),
            "comment_label": L("incident.comment"), "placeholder": "Type your message here...", "update_type": None,
            "entries": [{"sys_id": e["sys_id"], "author": e["author_name"] or e["sys_created_by"], "kind": e["element"],
                         "ago": "", "stamp": e["sys_created_on"], "update_type": "", "text": e["value"]}
                        for e in c["entries"]],
        },
        "attachments": {
            "heading": L("incident.attachments"), "can_add": "attach" in c["updates"],
            "add_label": L("incident.add_attachments"),
            "attached": L("incident.attached"), "empty": L("incident.no_attachments"),
            "hint": f"Up to {c['max_size']}; {c['allowed_types']}",
            "items": [{"sys_id": a["sys_id"], "file_name": a["file_name"], "size": human_size(a["size_bytes"]),
                       "by": a["sys_created_by"], "url": f"/sys_attachment.do?sys_id={a['sys_id']}"}
                      for a in c["attachments"]],
        },
    }]}


@sp_ticket_action("sc_req_item")
def request_ticket_action(ctx: Ctx, body: dict[str, Any]) -> Response:
    if COMPONENT not in ctx.components:
        return error(ctx, 404, "No Record found", ctx.profile.label("errors.not_authorized"))
    principal = Principal.from_ctx(ctx)
    ritm = visible_item(ctx.db, ctx.settings, principal, str(body.get("sys_id", "")))
    if ritm is None or body.get("action") != "comment":
        return error(ctx, 404, "No Record found", ctx.profile.label("errors.not_authorized"))
    ctx.form = {k: str(v) for k, v in body.items() if isinstance(v, (str, int, float))}
    try:
        message = apply_action(ctx, principal, ritm, "comment")
    except RequestError as err:
        return error(ctx, err.status, "Not saved", " ".join(err.errors.values()), err.errors)
    return ctx.json({"result": {"message": message, "number": ritm["number"]}})

