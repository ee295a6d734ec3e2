"""The incident pages of the Service Portal: raising one, the ticket page and its actions, My Requests, downloads."""

from __future__ import annotations

import re
import time
from typing import Any

from fastapi import APIRouter, Depends
from fastapi.responses import Response
from markupsafe import Markup

from ..catalog.attachable import ATTACHABLE
from ..catalog.portal import LIST_SOURCES, catalog_item, links_for, ticket_table
from ..deps import get_ctx
from ..faults import fault
from ..settings import Settings
from ..tableapi.model import Principal
from ..web import Ctx, menu_link, portal_page
from .rules import (
    CLOSED,
    FORM_FIELDS,
    IN_PROGRESS,
    INACTIVE_STATES,
    NEW,
    ON_HOLD,
    RESOLVED,
    IncidentError,
    clean,
    epoch,
    scope,
    state_label,
    validate_new,
    visible,
)
from .store import Upload, attach, comments_for, content_disposition, create, human_size, update, user_names

router = APIRouter()


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
    """What the ticket page offers: updates and files while the incident is active, and the state actions the
    profile gives its state (incidents.caller_actions)."""
    if "incident_update" not in ctx.components:
        return set()
    state = inc["state"]
    out = set(ctx.profile.incidents.actions_in(state))
    if state not in INACTIVE_STATES:
        out |= {"comment", "attach"}
    if fault(ctx.settings, "close_offered_unresolved") and state in (NEW, IN_PROGRESS, ON_HOLD):
        out.add("close")
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
            message = apply_action(ctx, principal, inc, action)
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


def apply_action(ctx: Ctx, principal: Principal, inc: dict, action: str) -> str:
    s, f, L = ctx.settings, ctx.form, ctx.profile.label
    if action == "attach":
        upload = ctx.files.get("attachment")  # type: ignore[attr-defined]
        if not upload:
            raise IncidentError({"attachment": "Choose a file to attach."})
        row = attach(ctx.db, s, principal, inc, Upload(upload[0], upload[2]))
        return f"{L('incident.attached')}: {row['file_name']}"
    if action == "comment":
        text = clean(f.get("comments"))
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
    reason = clean(f.get("reason"))
    if not reason and inc["state"] == RESOLVED:
        raise IncidentError({"reason": f"{L('incident.reopen_reason')} is required."})
    update(ctx.db, s, principal, inc, {"state": str(IN_PROGRESS), "comments": reason})
    return f"{inc['number']} is reopened and {state_label(s, IN_PROGRESS).lower()}"


def ticket_fields(ctx: Ctx, inc: dict) -> list[tuple[str, str]]:
    """The record values the ticket page shows (label key, display value), the empty ones left out."""
    cfg = ctx.profile.incidents
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
    return [(k, v) for k, v in fields if v]


def ticket_attachments(ctx: Ctx, inc: dict) -> list[dict]:
    return [
        dict(r)
        for r in ctx.db.execute(
            "SELECT sys_id, file_name, size_bytes, sys_created_on, sys_created_by FROM sys_attachment "
            "WHERE table_sys_id = ? ORDER BY sys_created_on, rowid",
            (inc["sys_id"],),
        )
    ]


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
    entries = comments_for(ctx.db, s, [inc["sys_id"]], work_notes=fault(s, "show_work_notes"))
    attachments = ticket_attachments(ctx, inc)
    actions = allowed_actions(ctx, inc)
    return ctx.render(
        "incident_ticket.html",
        status=status,
        title=inc["number"],
        inc=inc,
        cfg=cfg,
        state=state_label(s, inc["state"]),
        fields=ticket_fields(ctx, inc),
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
        links=links_for(ctx, "incident", inc),
        max_size=human_size(cfg.attachments.max_bytes),
        allowed_types=", ".join(f".{e}" for e in cfg.attachments.allowed_extensions),
    )


@router.get("/sys_attachment.do")
async def download(ctx: Ctx = Depends(get_ctx)) -> Response:
    """Download an attachment (Content-Disposition: attachment, so the browser saves it: SSI-NFR-21)."""
    if not ctx.signed_in:
        return ctx.login_redirect()
    att = ctx.db.execute(
        "SELECT a.*, d.data FROM sys_attachment a JOIN sys_attachment_doc d "
        "ON d.sys_attachment = a.sys_id WHERE a.sys_id = ?",
        (ctx.request.query_params.get("sys_id", ""),),
    ).fetchone()
    entry = ATTACHABLE.get(att["table_name"]) if att else None  # a file is seen by whoever sees its record
    if entry is not None and entry.view not in ctx.components:
        return ctx.forbidden()
    if (
        att is None
        or entry is None
        or entry.visible(ctx.db, ctx.settings, Principal.from_ctx(ctx), att["table_sys_id"]) is None
    ):
        return ctx.not_valid()
    data = bytes(att["data"])
    if fault(ctx.settings, "attachment_truncated"):
        data = data[:-1]
    return ctx.finish(
        Response(
            data,
            media_type=att["content_type"],
            headers={"Content-Disposition": content_disposition(att["file_name"])},
        )
    )


# ---------------------------------------------------------------- portal: My Requests
NUMBER_RX = re.compile(r"^[A-Za-z]{2,6}\d{4,}$")


def like(q: str) -> str:
    """A LIKE pattern (ESCAPE '\\') for words a user searched for, their own % and _ taken literally."""
    return "%" + q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def request_list(ctx: Ctx) -> dict[str, Any]:
    """My Requests from the query string (view=open|closed, q=number or words, page): the rows and paging."""
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
            params.append(like(q))
    sql_where = " AND ".join(conds)
    incidents = ctx.db.execute(f"SELECT COUNT(*) FROM incident i WHERE {sql_where}", params).fetchone()[0]
    others = {t: n for t, src in LIST_SOURCES.items() if (n := src.count(ctx, view, q))}
    total = incidents + sum(others.values())
    size = cfg.list_page_size
    pages = max(1, (total + size - 1) // size)
    page = min(page, pages)
    # the incidents of this page; with other records listed too, the newest page*size of each, merged
    first, n = ((page - 1) * size, size) if not others else (0, page * size)
    rows = [
        {**dict(r), "url": ticket_url(ctx, r["sys_id"]), "state_label": cfg.states.get(r["state"], str(r["state"])),
         "priority_label": cfg.label_of(cfg.priority, r["priority"])}
        for r in ctx.db.execute(
            f"SELECT i.sys_id, i.number, i.short_description, i.state, i.priority, i.sys_updated_on, "
            f"trim(u.first_name || ' ' || u.last_name) AS caller FROM incident i LEFT JOIN sys_user u "
            f"ON u.sys_id = i.caller_id WHERE {sql_where} ORDER BY i.sys_updated_on DESC, i.number DESC "
            f"LIMIT ? OFFSET ?",
            [*params, n, first],
        )
    ]
    if others:
        for table in others:
            rows += LIST_SOURCES[table].rows(ctx, view, q, page * size)
        rows.sort(key=lambda r: (r["sys_updated_on"], r["number"]), reverse=True)
        rows = rows[(page - 1) * size: page * size]

    def link(p: int) -> str:
        extra = {"view": view, "page": str(p)}
        if q:
            extra["q"] = q
        return ctx.portal_url("my_requests", **extra)

    return {"rows": rows, "view": view, "q": q, "total": total, "page": page, "pages": pages, "size": size,
            "noun": "request" if others else "incident",
            "prev_url": link(page - 1) if page > 1 else "", "next_url": link(page + 1) if page < pages else ""}


@portal_page("my_requests", title="My Requests", component="incident_view")
def my_requests(ctx: Ctx) -> Response:
    cfg = ctx.profile.incidents
    return ctx.render(
        "incident_list.html",
        title=ctx.profile.label("incident.list_heading"),
        **request_list(ctx),
        cfg=cfg,
        ago=ago,
        txt=text_renderer(ctx.settings),
    )
