"""Portal pages every signed-in user has: home and their own profile."""

from __future__ import annotations

from fastapi import APIRouter, Depends
from fastapi.responses import Response

from .deps import get_ctx
from .faults import fault
from .web import PAGES, STAGE_PAGES, TEMPLATES, Ctx, portal_page

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
    if page.public:
        return page.handler(ctx)
    if page.login_stage:
        if ctx.session and ctx.user and ctx.session["stage"] == page.login_stage:
            return page.handler(ctx)
        return ctx.login_redirect() if not ctx.signed_in else ctx.redirect(ctx.portal_url("index"))
    if not ctx.signed_in:
        if ctx.session and ctx.user and ctx.session["stage"] in STAGE_PAGES:
            return ctx.redirect(STAGE_PAGES[ctx.session["stage"]])
        return ctx.login_redirect()
    if page.component and page.component not in ctx.components and not fault(ctx.settings, "no_component_check"):
        return ctx.forbidden()
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
