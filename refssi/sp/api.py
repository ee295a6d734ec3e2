"""GET /api/now/sp/page?id=<page>&...: the widgets of a portal page as JSON, for the sp shell's script.

The same session cookie and access rules as the page itself; the reply is
{"result": {"id", "title", "url", "messages": [[kind, text]], "widgets": [...]}} (200), the same with a
message widget (403 / 404), {"result": {"id", "url", "document": true}} for a page that keeps its classic
rendering (the script loads it as a document), or 401 {"error": {...}} when the visitor must sign in.
"""

from __future__ import annotations

from urllib.parse import urlencode

from fastapi import APIRouter, Depends
from fastapi.responses import Response

from ..deps import get_ctx
from ..web import PAGES, Ctx, page_access
from .widgets import SP_PAGES, Refusal, forbidden, not_valid

router = APIRouter()


def _error(ctx: Ctx, status: int, message: str) -> Response:
    return ctx.json({"error": {"message": message, "detail": ""}, "status": "failure"}, status)


@router.get("/api/now/sp/page")
async def sp_page_widgets(ctx: Ctx = Depends(get_ctx)) -> Response:
    qp = ctx.request.query_params
    page_id = qp.get("id") or ctx.profile.portal.home_page
    url = f"{ctx.profile.portal.suffix}?{urlencode(list(qp.multi_items()))}"
    page = PAGES.get(page_id)
    access = page_access(ctx, page) if page else ("ok" if ctx.signed_in else "login")
    if access in ("login", "stage"):
        return _error(ctx, 401, "User Not Authenticated")
    sp = SP_PAGES.get(page_id)
    if page is not None and access == "ok" and (sp is None or not sp.applies(ctx)):
        return ctx.json({"result": {"id": page_id, "url": url, "document": True}})
    try:
        if page is None or access == "home":
            raise not_valid(ctx)
        if access == "forbidden":
            raise forbidden(ctx)
        assert sp is not None
        widgets, status = sp.build(ctx), 200
    except Refusal as refusal:
        widgets, status = refusal.widgets(), refusal.status
    messages = [list(m) for m in ctx.take_flash()]
    return ctx.json({"result": {"id": page_id, "url": url, "messages": messages, **widgets}}, status)
