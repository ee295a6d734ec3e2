"""What every XHR endpoint of the portal's widgets shares: ServiceNow's error body, the checks of a signed-in
session and its X-UserToken, and the JSON object a call sent."""

from __future__ import annotations

import json
from typing import Any

from fastapi import Request
from fastapi.responses import Response

from ..web import Ctx


def error(ctx: Ctx, status: int, message: str, detail: str = "", errors: dict | None = None) -> Response:
    body: dict[str, Any] = {"error": {"message": message, "detail": detail}, "status": "failure"}
    if errors is not None:
        body["errors"] = errors
    return ctx.json(body, status)


def refused(ctx: Ctx) -> Response | None:
    """The checks of every XHR here: signed in (401) and the session token in X-UserToken (403)."""
    if not ctx.signed_in:
        return error(ctx, 401, "User Not Authenticated", "Required to provide Auth information")
    if not ctx.csrf_ok():
        return error(ctx, 403, "Invalid token", "The X-UserToken header is missing or not this session's")
    return None


async def json_body(request: Request) -> dict[str, Any]:
    """The JSON object a call sent (read before the transaction opens); anything else is an empty object."""
    raw = await request.body()
    if len(raw) > request.app.state.settings.max_json_bytes:
        return {}
    try:
        data = json.loads(raw or b"{}")
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}
