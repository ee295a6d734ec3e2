"""Portal pages every signed-in user has: home and their own profile."""

from __future__ import annotations

from fastapi import APIRouter, Depends
from fastapi.responses import Response

from .deps import get_ctx
from .sp.shell import sp_shell
from .sp.widgets import pair, sp_applies, sp_page
from .web import PAGES, STAGE_PAGES, TEMPLATES, Ctx, page_access, portal_page

TEMPLATES_ENV = TEMPLATES.env

router = APIRouter()


@router.get("/")
async def root(ctx: Ctx = Depends(get_ctx)) -> Response:
    return ctx.redirect(ctx.portal_url(ctx.profile.portal.home_page))


@router.api_route("/sp", methods=["GET", "POST"])
async def service_portal(ctx: Ctx = Depends(get_ctx)) -> Response:
    """/sp?id=<page>: ServiceNow's portal routing, with the access rules applied first."""
    page = PAGES.get(ctx.request.query_params.get("id") or ctx.profile.portal.home_page)
    if page is None:
        return ctx.not_valid() if ctx.signed_in else ctx.login_redirect()
    if ctx.request.method == "POST" and not page.public and not ctx.csrf_ok():
        from .auth.portal import csrf_failure

        return csrf_failure(ctx)
    access = page_access(ctx, page)
    if access == "login":
        return ctx.login_redirect()
    if access == "stage":
        return ctx.redirect(STAGE_PAGES[ctx.session["stage"]])
    if access == "home":
        return ctx.redirect(ctx.portal_url("index"))
    if access == "forbidden":
        return ctx.forbidden()
    if ctx.settings.portal_ui == "sp" and ctx.request.method == "GET" and sp_applies(ctx, page.id):
        return sp_shell(ctx, page)
    return page.handler(ctx)


@portal_page("index", title="Home", menu="Home", menu_order=0, component="log_in")
def home(ctx: Ctx) -> Response:
    confirmation = None
    if ctx.session["login_confirmation"]:
        confirmation = {"previous": ctx.session["previous_login"]}
        ctx.update_session(login_confirmation=0)
    tiles = [(label, url) for label, url in ctx.menu() if label != "Home"]
    return ctx.render("index.html", title="Home", confirmation=confirmation, tiles=tiles)


def profile_facts(ctx: Ctx, user: dict) -> dict:
    """What a person may see about their own account (SSI-FR-62/63)."""
    org = ctx.db.execute("SELECT * FROM core_company WHERE sys_id=?", (user["company"],)).fetchone()
    user_ids = [r[0] for r in ctx.db.execute("SELECT user_id FROM sys_user_org WHERE user=? ORDER BY user_id",
                                             (user["sys_id"],))]
    roles = [r[0] for r in ctx.db.execute("SELECT role FROM sys_user_has_role WHERE user=? ORDER BY role",
                                          (user["sys_id"],))]
    matrix = ctx.profile.role_matrix
    names = {r.abbr: r.name for r in matrix.roles}
    granted = matrix.components_for(roles)
    return {
        "organisation": dict(org),
        "user_ids": user_ids,
        "roles": [(r, names.get(r, r)) for r in roles],
        "components": [(c.bfd, c.name, c.key in granted) for c in matrix.components],
        "manage_users": ctx.portal_url(ctx.profile.component_page("user_admin").page)
        if "user_admin" in granted and any(c.key == "user_admin" for c in matrix.components) else None,
    }


@portal_page("user_profile", title="My profile", menu="My profile", menu_order=90, component="user_profile")
def user_profile(ctx: Ctx) -> Response:
    return ctx.render("user_profile.html", title="My profile", u=ctx.user, **profile_facts(ctx, ctx.user))


# ---------------------------------------------------------------- the same two pages as sp widgets
@sp_page("index")
def home_widgets(ctx: Ctx) -> dict:
    confirmation = ""
    if ctx.session["login_confirmation"]:
        u, previous = ctx.user, ctx.session["previous_login"]
        confirmation = (f"{ctx.profile.label('home.confirmation')} as {u['first_name']} {u['last_name']} "
                        f"({u['user_name']}). " + (f"Your previous login was at {previous} UTC." if previous
                                                  else "This is your first login."))
        ctx.update_session(login_confirmation=0)
    tiles = [{"label": label, "url": url} for label, url in ctx.menu() if label != "Home"]
    return {"title": "Home", "widgets": [{
        "type": "tiles", "heading": f"Welcome, {ctx.user['first_name']}", "confirmation": confirmation,
        "intro": "Use the DCC Self-Service Interface to raise and follow incidents, manage your organisation's "
                 "users and order Communications Hubs.", "tiles": tiles}]}


@sp_page("user_profile")
def user_profile_widgets(ctx: Ctx) -> dict:
    u, facts, L = ctx.user, profile_facts(ctx, ctx.user), ctx.profile.labels["user_profile"]
    org = facts["organisation"]
    pairs = [
        pair("profile_user_name", L["user_id"], u["user_name"]),
        pair("profile_name", L["name"], f"{u['first_name']} {u['last_name']}"),
        pair("profile_email", "Email", u["email"]),
        pair("profile_phone", "Contact telephone number", u["phone"]),
        pair("profile_organisation", "Organisation", f"{org['name']} ({org['sec_party_id']})"),
        pair("profile_user_ids", L["user_ids"], ", ".join(facts["user_ids"])),
        pair("profile_roles", L["roles"], ", ".join(f"{name} ({abbr})" for abbr, name in facts["roles"])),
        pair("profile_mfa", "Multi-factor authentication",
             {"totp": "Authenticator app", "email": "Email one-time code"}.get(u["mfa_method"], "Not set up")),
    ]
    links = [{"label": ctx.profile.label("user_admin.manage_my_users"), "url": facts["manage_users"]}] \
        if facts["manage_users"] else []
    table = {"label": L["functions"], "columns": ["Business function", L["function"], L["available"]],
             "rows": [[bfd, name, "Yes" if ok else "No"] for bfd, name, ok in facts["components"]]}
    return {"title": "My profile", "widgets": [{"type": "facts", "heading": "My profile", "pairs": pairs,
                                                "links": links, "table": table}]}
