"""The service catalogue pages: the catalogue (items and the organisation's open requests, SSI-FR-53), an
item's form (/sp?id=sc_cat_item&sys_id=<item>, SSI-FR-56) and a requested item's ticket page (SSI-FR-54/55)
with its conversation and attachments. Each draws its widgets on the Service Portal (requests/sp.py)."""

from __future__ import annotations

from typing import Any

from fastapi.responses import Response

from ..catalog.portal import ListSource, catalog_item, listed_in_my_requests, ticket_link, ticket_table
from ..incidents.portal import NUMBER_RX, ago, like
from ..incidents.store import Upload, comments_for, human_size, user_names
from ..sp.widgets import drawn, moved
from ..tableapi.model import Principal
from ..web import Ctx, portal_page
from .rules import (
    COMPONENT,
    RequestError,
    display,
    file_errors,
    incident_errors,
    scope,
    state_label,
    updates_in,
    validate,
    visible_item,
)
from .store import attach, comment, notice, open_items, submit, variables_of


def render(ctx: Ctx, template: str, title: str, status: int = 200, **context: Any) -> Response:
    """The page: its template, or on the Service Portal its widget view (requests/sp.py) of the same context."""
    return drawn(ctx, template, title, status, context) or ctx.render(template, status=status, title=title,
                                                                         **context)


def ticket_url(ctx: Ctx, sys_id: str) -> str:
    return ctx.portal_url("ticket", table="sc_req_item", sys_id=sys_id)


def item_url(ctx: Ctx, item) -> str:
    return ctx.portal_url("sc_cat_item", sys_id=item.sys_id)


def stage_label(ctx: Ctx, stage: str) -> str:
    return ctx.profile.service_requests.stages.get(stage, stage)


def item_name(ctx: Ctx, sys_id: str) -> str:
    return next((i.name for i in ctx.profile.service_requests.items if i.sys_id == sys_id), sys_id)


# ---------------------------------------------------------------- the catalogue
@portal_page("sc_home", title="Service catalogue", component=COMPONENT, menu=f"component:{COMPONENT}",
             menu_order=30)
def catalogue(ctx: Ctx) -> Response:
    where, params = scope(ctx.settings, Principal.from_ctx(ctx), "i.company")
    heading = ctx.profile.component_page(COMPONENT).heading or "Service catalogue"
    return render(ctx, "sc_home.html", heading, heading=heading, items=ctx.profile.service_requests.items,
                  rows=open_items(ctx.db, where, params), item_url=lambda i: item_url(ctx, i),
                  ticket=lambda sid: ticket_url(ctx, sid), stage=lambda s: stage_label(ctx, s),
                  item_name=lambda sid: item_name(ctx, sid))


# ---------------------------------------------------------------- My Requests lists requested items too
def _listed(ctx: Ctx, view: str, q: str) -> tuple[str, list[Any]] | None:
    """The requested items My Requests lists for this view and search (None: the user may see none)."""
    if COMPONENT not in ctx.components:
        return None
    where, params = scope(ctx.settings, Principal.from_ctx(ctx), "r.company")
    conds = [where] if where else []
    conds.append("r.active = ?")
    params.append(1 if view == "open" else 0)
    if q and NUMBER_RX.match(q):  # the item's number, or its request's
        conds.append("(r.number = ? OR r.request IN (SELECT sys_id FROM sc_request WHERE number = ?))")
        params += [q.upper(), q.upper()]
    elif q:
        conds.append("r.short_description LIKE ? ESCAPE '\\'")
        params.append(like(q))
    return " AND ".join(conds), params


def _count(ctx: Ctx, view: str, q: str) -> int:
    found = _listed(ctx, view, q)
    return 0 if found is None else ctx.db.execute(f"SELECT COUNT(*) FROM sc_req_item r WHERE {found[0]}",
                                                  found[1]).fetchone()[0]


def _rows(ctx: Ctx, view: str, q: str, n: int) -> list[dict[str, Any]]:
    found = _listed(ctx, view, q)
    if found is None:
        return []
    rows = ctx.db.execute(
        f"SELECT r.sys_id, r.number, r.short_description, r.stage, r.sys_updated_on, "
        f"trim(u.first_name || ' ' || u.last_name) AS caller FROM sc_req_item r LEFT JOIN sys_user u "
        f"ON u.sys_id = r.requested_for WHERE {found[0]} ORDER BY r.sys_updated_on DESC, r.number DESC LIMIT ?",
        [*found[1], n])
    return [{**dict(r), "url": ticket_url(ctx, r["sys_id"]), "state_label": stage_label(ctx, r["stage"]),
             "priority_label": ""} for r in rows]


listed_in_my_requests("sc_req_item", ListSource(count=_count, rows=_rows))


# ---------------------------------------------------------------- an item's form
def raised_message(ctx: Ctx, ritm: dict[str, Any]) -> str:
    return f"{ctx.profile.label('service_request.raised')}: {ritm['request_number']} ({ritm['number']})"


@catalog_item(lambda p: tuple(i.sys_id for i in p.service_requests.items), component=COMPONENT,
              bypass_fault="sr_no_raise_check")
def item_form(ctx: Ctx) -> Response:
    item = ctx.profile.service_requests.item(ctx.request.query_params.get("sys_id", ""))
    values = prefilled(ctx, item)
    errors: dict[str, str] = {}
    if ctx.request.method == "POST":
        values, errors = validate(ctx.settings, item, ctx.form)
        sent = ctx.files  # type: ignore[attr-defined]
        uploads = {v.name: Upload(sent[v.name][0], sent[v.name][2]) for v in item.variables
                   if v.type == "attachment" and sent.get(v.name)}
        errors |= file_errors(ctx.settings, ctx.db, item, ctx.user["company"], uploads)
        errors |= incident_errors(ctx.db, item, ctx.user["company"], values)
        if not errors:
            ritm = order(ctx, item, values, uploads)
            return moved(ctx, ticket_url(ctx, ritm["sys_id"]))
    return render(ctx, "sc_item.html", item.name, status=400 if errors else 200, item=item, values=values,
                  errors=errors, action=item_url(ctx, item), file_hint=file_hint)


def prefilled(ctx: Ctx, item) -> dict[str, str]:
    """The form's first values: empty, but for the incident an item answers, from the incident's link."""
    values = {v.name: "" for v in item.variables}
    if item.answers_incident:
        values[item.answers_incident] = ctx.request.query_params.get("incident", "")[:40]
    return values


@ticket_link("incident")
def respond_link(ctx: Ctx, inc: dict[str, Any]) -> dict[str, str] | None:
    """On an open incident that asks for a catalogue item: the link to that item, naming the incident."""
    if not inc.get("u_action_item") or not inc.get("active"):
        return None
    item = next((i for i in ctx.profile.service_requests.items if i.sys_id == inc["u_action_item"]), None)
    if item is None or COMPONENT not in ctx.components:
        return None
    return {"label": f"{ctx.profile.label('service_request.respond')}: {item.name}",
            "url": ctx.portal_url("sc_cat_item", sys_id=item.sys_id, incident=inc["number"])}


def file_hint(v) -> str:
    """What an attachment variable accepts, as its hint says."""
    types = " or ".join(f".{e}" for e in v.extensions) or "any"
    signed = ", signed with your organisation's registered key" if v.signed else ""
    return f"One {types} file, up to {human_size(v.max_bytes)}{signed}."


def order(ctx: Ctx, item, values: dict[str, str], uploads: dict[str, Upload]) -> dict[str, Any]:
    """Submit a checked item: the request, its confirmation, and the email saying it was received (an item that
    notifies). The requested item, with its request's number."""
    ritm = submit(ctx.db, ctx.settings, Principal.from_ctx(ctx), item, values, ctx.user, uploads)
    ctx.flash("success", raised_message(ctx, ritm))
    mail = notice(ctx.db, ctx.settings, ritm, "received")
    if mail:
        ctx.outbox.append((mail["to"], mail["subject"], mail["body"]))  # type: ignore[attr-defined]
    return ritm


# ---------------------------------------------------------------- a requested item's ticket page
@ticket_table("sc_req_item")
def request_ticket(ctx: Ctx, sys_id: str) -> Response:
    if COMPONENT not in ctx.components:
        return ctx.forbidden()
    principal = Principal.from_ctx(ctx)
    ritm = visible_item(ctx.db, ctx.settings, principal, sys_id)
    if ritm is None:
        return ctx.not_valid()
    errors: dict[str, str] = {}
    status = 200
    if ctx.request.method == "POST":
        action = ctx.form.get("action", "")
        try:
            message = apply_action(ctx, principal, ritm, action)
        except RequestError as err:
            errors, status = err.errors, err.status
        else:
            if message is None:
                return ctx.not_valid()
            ctx.flash("success", message)
            return moved(ctx, ticket_url(ctx, sys_id) + {"comment": "#activity", "attach": "#attachments"}[action])
    return render_ticket(ctx, ritm, errors=errors, status=status)


def apply_action(ctx: Ctx, principal: Principal, ritm: dict[str, Any], action: str) -> str | None:
    """A user's comment or attachment; None for anything else (not an action of this page)."""
    L = ctx.profile.label
    if action == "comment":
        comment(ctx.db, ctx.settings, principal, ritm, ctx.form.get("comments"))
        return L("incident.update_added")
    if action == "attach":
        upload = ctx.files.get("attachment")  # type: ignore[attr-defined]
        if not upload:
            raise RequestError({"attachment": "Choose a file to attach."})
        from ..incidents.rules import IncidentError

        try:
            row = attach(ctx.db, ctx.settings, principal, ritm, Upload(upload[0], upload[2]))
        except IncidentError as err:
            raise RequestError(err.errors, err.status) from None
        return f"{L('incident.attached')}: {row['file_name']}"
    return None


def ticket_context(ctx: Ctx, ritm: dict[str, Any]) -> dict[str, Any]:
    """What the ticket page shows of a requested item, for the template and the widget view alike."""
    L, cfg = ctx.profile.label, ctx.profile.service_requests
    item = cfg.item(ritm["cat_item"])
    names = user_names(ctx.db, {ritm["requested_for"]})
    company = ctx.db.execute("SELECT name FROM core_company WHERE sys_id = ?", (ritm["company"],)).fetchone()
    meta = [("request", L("service_request.request_number"), ritm["request_number"], ""),
            ("item", L("service_request.item"), item.name, ""),
            ("stage", L("service_request.stage"), stage_label(ctx, ritm["stage"]), ""),
            ("state", L("incident.state"), state_label(ctx.settings, ritm["state"]), ""),
            ("created", L("service_request.raised_on"), ago(ritm["sys_created_on"]), ritm["sys_created_on"]),
            ("updated", L("incident.updated"), ago(ritm["sys_updated_on"]), ritm["sys_updated_on"])]
    variables = variables_of(ctx.db, ritm["sys_id"])
    fields = [(f"v_{name}", item.variable(name).label, display(item, name, value))
              for name, value in variables.items() if value and any(v.name == name for v in item.variables)]
    fields += [("requested_for", L("service_request.requested_for"), names.get(ritm["requested_for"], "")),
               ("organisation", L("service_request.organisation"), company[0] if company else "")]
    attachments = [dict(r) for r in ctx.db.execute(
        "SELECT sys_id, file_name, size_bytes, sys_created_on, sys_created_by FROM sys_attachment "
        "WHERE table_sys_id = ? ORDER BY sys_created_on, rowid", (ritm["sys_id"],))]
    rules = ctx.profile.incidents.attachments
    return {"ritm": ritm, "meta": meta, "fields": fields, "attachments": attachments,
            "url": ticket_url(ctx, ritm["sys_id"]),
            "entries": comments_for(ctx.db, ctx.settings, [ritm["sys_id"]], work_notes=False),
            "updates": updates_in(ctx.settings, ritm["state"], page=True), "max_size": human_size(rules.max_bytes),
            "allowed_types": ", ".join(f".{e}" for e in rules.allowed_extensions)}


def render_ticket(ctx: Ctx, ritm: dict[str, Any], *, errors: dict[str, str], status: int = 200) -> Response:
    return render(ctx, "sc_ticket.html", ritm["number"], status=status, errors=errors, form=dict(ctx.form),
                  ago=ago, txt=lambda s: s or "", human_size=human_size, **ticket_context(ctx, ritm))
