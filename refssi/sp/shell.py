"""The sp page shell: header with the user menu, a loading indicator, an empty widget container, the script."""

from __future__ import annotations

from fastapi.responses import Response

from .. import security
from ..faults import switched_on
from ..web import SECURITY_HEADERS, TEMPLATES, Ctx, PortalPage


def sp_shell(ctx: Ctx, page: PortalPage) -> Response:
    """The document of every sp page; the widgets come later, from GET /api/now/sp/page (refssi/sp/api.py)."""
    sess = ctx.ensure_session()
    nonce = security.new_token(16)
    context = {
        "title": page.title,
        "profile": ctx.profile,
        "L": ctx.profile.labels,
        "user": ctx.user,
        "menu": ctx.menu(),
        "g_ck": sess["csrf"],
        "nonce": nonce,
        "unsafe": switched_on(ctx.settings),
        "portal": ctx.profile.portal.suffix,
    }
    resp = TEMPLATES.TemplateResponse(ctx.request, "sp/shell.html", context)
    # the one inline script (the session token g_ck, as ServiceNow's pages carry it) runs by its nonce
    resp.headers["Content-Security-Policy"] = SECURITY_HEADERS["Content-Security-Policy"].replace(
        "script-src 'self'", f"script-src 'self' 'nonce-{nonce}'")
    return ctx.finish(resp)
