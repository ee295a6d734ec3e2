"""ServiceNow's REST Table API (/api/now/table) over a registry of table definitions.

A module serves a table by registering a TableDef: its fields (types, references,
choices, read-only ones, who may read a field), the organisation-scoping rule
(an SQL condition built from the caller), the role-matrix component needed to
read, create, update and delete, and hooks that validate and write. The envelopes,
paging, display values and authentication live here once; encoded queries are parsed
by query.py and batches of calls by batch.py.

Shapes follow ServiceNow (servicenow-conventions.md section 3): {"result": ...}
envelopes whose values are all strings, references as {"link", "value"} (with
display values {"display_value", "link"}, or all three with display_value=all),
sysparm_query / limit / offset / fields / display_value / exclude_reference_link,
X-Total-Count and Link headers, 201 + Location on POST, 204 on DELETE and the
error envelope {"error": {"message", "detail"}, "status": "failure"}.

Two deliberate differences, because the reference SSI exists to help testers:
an encoded query naming an unknown field, or giving a value that cannot match
the field's type or choices, is answered 400 with the reason (ServiceNow
silently ignores such terms unless glide.invalid_query.returns_no_rows is set);
and invalid choice values in writes are refused (400) instead of stored.

Callers authenticate with HTTP basic auth (user name and password, no second
factor: ServiceNow does not ask one for basic-auth REST calls), with a portal
session cookie plus its X-UserToken, or with the run's operator token as a
bearer token, which acts as DCC's system administrator (every component, no
organisation scoping, fulfiller state changes, deletes).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import sqlite3
import time
import traceback
from collections.abc import Callable
from functools import partial
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response

from .. import passwords, security
from ..faults import fault
from ..settings import Settings
from .model import DEFAULT_LIMIT, MAX_LIMIT, MIB, ApiError, Call, Principal, TableDef, not_found, table_or_400
from .query import QueryError, parse_query
from .rows import body_values, bool_param, fetch_one, int_param, query_rows, read_options, serialize

# ---------------------------------------------------------------- authentication
_AUTH_CACHE: dict[str, tuple[str, str, float]] = {}  # hmac(header) -> (sys_id, password hash, expiry)
AUTH_CACHE_SECONDS = 300


def _cache_key(settings: Settings, header: str) -> str:
    return hmac.new(settings.server_key, header.encode(), hashlib.sha256).hexdigest()


async def authenticate(request: Request, settings: Settings, db: Any) -> tuple[str, Any]:
    """('admin', None) | ('basic', (user_name, verified hash or None, header key)) | ('session', None)."""
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() == "bearer":
        if value and security.same(value.strip(), settings.operator_token):
            return "admin", None
        raise ApiError(401, "User Not Authenticated", "The bearer token is not valid.")
    if scheme.lower() == "basic":
        try:
            user_name, sep, password = (
                base64.b64decode(value.strip(), validate=True).decode("utf-8").partition(":")
            )
        except (binascii.Error, UnicodeDecodeError):
            raise ApiError(401, "User Not Authenticated", "The basic auth header is malformed.") from None
        if not sep or not user_name:
            raise ApiError(401, "User Not Authenticated", "Required to provide Auth information")
        key = _cache_key(settings, header)
        cached = _AUTH_CACHE.get(key)
        if cached and cached[2] > time.monotonic():
            return "basic", (user_name, cached[1], key)
        with db.tx() as c:
            row = c.execute("SELECT user_password FROM sys_user WHERE user_name=?", (user_name,)).fetchone()
        stored = row[0] if row else None
        # argon2 is slow on purpose: verify outside the database lock, on a worker thread
        ok = await passwords.verify_off_loop(stored, password)
        if fault(settings, "skip_password_check") and stored:
            ok = True
        return "basic", (user_name, stored if ok else None, key)
    if header:
        raise ApiError(401, "User Not Authenticated", "Use basic authentication or a bearer token.")
    return "session", None


def principal_for(
    request: Request, conn: sqlite3.Connection, settings: Settings, how: str, info: Any
) -> Principal:
    from ..auth.rules import is_locked, register_failure  # lockout rules shared with the login pages
    from ..web import Ctx

    if how == "admin":
        return Principal(user=None, admin=True)
    ctx = Ctx(request=request, db=conn, settings=settings)
    if how == "session":
        ctx.load_session()
        token = request.headers.get("x-usertoken", "")
        if not (ctx.signed_in and token and security.same(token, ctx.session["csrf"])):
            raise ApiError(401, "User Not Authenticated", "Required to provide Auth information")
        return Principal.of_user(conn, settings, ctx.user)
    user_name, verified_hash, key = info
    row = conn.execute("SELECT * FROM sys_user WHERE user_name=?", (user_name,)).fetchone()
    user = dict(row) if row else None
    if user is None or not user["active"]:
        raise ApiError(401, "User Not Authenticated", "Required to provide Auth information")
    if is_locked(ctx, user):
        raise ApiError(401, "User Not Authenticated", "The account is locked out.")
    if verified_hash is None or verified_hash != user["user_password"]:
        _AUTH_CACHE.pop(key, None)
        register_failure(ctx, user)
        raise ApiError(401, "User Not Authenticated", "Required to provide Auth information")
    if len(_AUTH_CACHE) > 1000:
        _AUTH_CACHE.clear()
    _AUTH_CACHE[key] = (user["sys_id"], verified_hash, time.monotonic() + AUTH_CACHE_SECONDS)
    if user["failed_attempts"]:
        conn.execute("UPDATE sys_user SET failed_attempts=0 WHERE sys_id=?", (user["sys_id"],))
    return Principal.of_user(conn, settings, user)


# ---------------------------------------------------------------- HTTP
router = APIRouter()
API_HEADERS = {"Cache-Control": "no-store", "X-Content-Type-Options": "nosniff"}


def error_response(err: ApiError) -> JSONResponse:
    headers = dict(API_HEADERS)
    if err.status == 401:
        headers["WWW-Authenticate"] = 'Basic realm="Service-now"'
    return JSONResponse(
        {"error": {"message": err.message, "detail": err.detail}, "status": "failure"},
        status_code=err.status,
        headers=headers,
    )


def check_accept(request: Request) -> None:
    accept = request.headers.get("accept", "")
    if accept and not any(
        a.split(";")[0].strip() in ("application/json", "*/*", "application/*") for a in accept.split(",")
    ):
        raise ApiError(406, "Not Acceptable", "This reference SSI answers application/json only.")


def check_content_type(request: Request) -> None:
    ctype = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if ctype != "application/json":
        raise ApiError(415, "Unsupported Media Type", "Send the body as application/json.")


def human_bytes(n: int) -> str:
    return f"{n / MIB:.1f} MB".replace(".0 MB", " MB") if n >= MIB else f"{n} bytes"


def json_too_large(settings: Settings) -> Callable[[int | None], ApiError]:
    def error(size: int | None) -> ApiError:
        return ApiError(
            413,
            "Request Entity Too Large",
            f"The request body is larger than {human_bytes(settings.max_json_bytes)}, the most this reference "
            "SSI reads for a REST request (ServiceNow's glide.rest.max_content_length: 10 MB by default).",
        )

    return error


def declared_length(request: Request) -> int | None:
    declared = request.headers.get("content-length")
    if declared is None:
        return None
    if not declared.strip().isdigit():
        raise ApiError(400, "Exception while reading request", "Content-Length is not a number.")
    return int(declared)


async def read_body(request: Request, limit: int | None, too_large: Callable[[int | None], ApiError]) -> bytes:
    """The request body, refused with too_large(declared size or None) as soon as it is known to exceed
    limit: from its Content-Length before a byte is read, else while it streams in. What the server
    does not read it discards as it arrives (uvicorn, once the response is sent), never holding it."""
    declared = declared_length(request)
    if limit is not None and declared is not None and declared > limit:
        raise too_large(declared)
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if limit is not None and size > limit:
            raise too_large(None)
        chunks.append(chunk)
    return b"".join(chunks)


async def run_call(
    request: Request,
    work: Callable[[Call, bytes], Response],
    *,
    accept_json: bool = True,
    json_body: bool = True,
    body_limit: Callable[[Settings], int | None] | None = None,
    too_large: Callable[[Settings, Request, int | None], ApiError] | None = None,
) -> Response:
    """Authenticate, open one transaction and run work(call, body); ApiErrors become the error envelope
    and undo everything the call wrote. Other REST endpoints (e.g. attachments) reuse it.

    Bodies are read only after the caller is authenticated and never beyond body_limit (by default
    settings.max_json_bytes, answered 413 by json_too_large): too_large(settings, request, size) words
    the refusal."""
    settings: Settings = request.app.state.settings
    db = request.app.state.db
    try:
        if not settings.profile.table_api.enabled:
            raise ApiError(404, "Not Found", "The REST API is not enabled on this instance.")
        if accept_json:
            check_accept(request)
        has_body = request.method in ("POST", "PUT", "PATCH")
        limit = body_limit(settings) if body_limit else settings.max_json_bytes
        refuse = partial(too_large, settings, request) if too_large else json_too_large(settings)
        if has_body:
            if json_body:
                check_content_type(request)
            declared = declared_length(request)
            if limit is not None and declared is not None and declared > limit:
                raise refuse(declared)  # before authenticating, and before a byte of it is read
        how, info = await authenticate(request, settings, db)
        body = await read_body(request, limit, refuse) if has_body else b""
        with db.tx() as conn:
            principal = principal_for(request, conn, settings, how, info)
            conn.execute("SAVEPOINT table_api")
            call = Call(conn, settings, principal, str(request.base_url).rstrip("/"))
            try:
                return work(call, body)
            except ApiError:
                conn.execute("ROLLBACK TO table_api")  # nothing half-saved
                raise
    except ApiError as err:
        return error_response(err)
    except Exception:  # a bug: still ServiceNow's envelope, and the traceback in the server log
        traceback.print_exc()
        return error_response(ApiError(500, "Internal server error", "The reference SSI failed; see its log."))


async def handle(request: Request, table: str, sys_id: str | None) -> Response:
    return await run_call(
        request, lambda call, body: _dispatch(request, call, table_or_400(table), sys_id, body)
    )


def _dispatch(request: Request, call: Call, t: TableDef, sys_id: str | None, body: bytes) -> Response:
    params = request.query_params
    p = call.principal
    verb = {"GET": "read", "POST": "create", "PUT": "update", "PATCH": "update", "DELETE": "delete"}[
        request.method
    ]
    if not p.may(getattr(t, verb)):
        raise ApiError(
            403,
            "User Not Authorized",
            f"{p.user_name} has no role allowing to {verb} records of the {t.name} table.",
        )
    if request.method == "GET" and sys_id is None:
        return _list(request, call, t)
    if request.method == "POST":
        if sys_id is not None:
            raise ApiError(
                405, "Method not Supported", "POST creates records: send it to /api/now/table/<table>."
            )
        if t.insert_hook is None:
            raise ApiError(
                403, "User Not Authorized", f"records of the {t.name} table cannot be created here."
            )
        values = body_values(call, t, body, bool_param(params, "sysparm_input_display_value"))
        new_id = t.insert_hook(call, values)
        row = fetch_one(call, t, new_id)
        location = f"{call.base_url}/api/now/table/{t.name}/{new_id}"
        if request.headers.get("x-no-response-body", "").lower() == "true":
            return Response(status_code=201, headers={**API_HEADERS, "Location": location})
        result = serialize(call, t, [row], read_options(params))[0] if row else {}
        return JSONResponse(
            {"result": result}, status_code=201, headers={**API_HEADERS, "Location": location}
        )
    assert sys_id is not None
    row = fetch_one(call, t, sys_id)
    if row is None:
        raise not_found()
    if request.method == "GET":
        return JSONResponse(
            {"result": serialize(call, t, [row], read_options(params))[0]}, headers=API_HEADERS
        )
    if request.method == "DELETE":
        if t.delete_hook is None:
            raise ApiError(403, "User Not Authorized", f"records of the {t.name} table cannot be deleted.")
        t.delete_hook(call, dict(row))
        return Response(status_code=204, headers=API_HEADERS)
    if t.update_hook is None:
        raise ApiError(403, "User Not Authorized", f"records of the {t.name} table cannot be changed.")
    values = body_values(call, t, body, bool_param(params, "sysparm_input_display_value"))
    t.update_hook(call, dict(row), values)
    row = fetch_one(call, t, sys_id)
    if row is None:  # the update moved it out of the caller's scope
        return JSONResponse({"result": {}}, headers=API_HEADERS)
    return JSONResponse({"result": serialize(call, t, [row], read_options(params))[0]}, headers=API_HEADERS)


def _list(request: Request, call: Call, t: TableDef) -> Response:
    params = request.query_params
    opts = read_options(params)
    limit = min(int_param(params, "sysparm_limit", DEFAULT_LIMIT, 1), MAX_LIMIT)
    offset = int_param(params, "sysparm_offset", 0, 0)
    encoded = params.get("sysparm_query") or ""
    # ServiceNow's name-value shortcut (&active=true&state=2), mutually exclusive with sysparm_query
    shortcut = [f"{k}={v}" for k, v in params.multi_items() if not k.startswith("sysparm_") and t.field(k)]
    unknown = [k for k in params if not k.startswith("sysparm_") and not t.field(k)]
    if unknown:
        raise ApiError(
            400,
            "Invalid parameter",
            f"unknown parameter(s) {', '.join(unknown)}; "
            "filter with sysparm_query or with field names of the table",
        )
    if shortcut and encoded:
        raise ApiError(
            400, "Invalid parameter", "give either sysparm_query or field=value parameters, not both"
        )
    try:
        q = parse_query(call, t, encoded or "^".join(shortcut))
    except QueryError as err:
        raise ApiError(400, "Invalid query", str(err)) from None
    no_count = bool_param(params, "sysparm_no_count")
    rows, total = query_rows(call, t, q, limit, offset, count=not no_count)
    headers = dict(API_HEADERS)
    if total is not None:
        headers["X-Total-Count"] = str(total)
        if not bool_param(params, "sysparm_suppress_pagination_header"):
            headers["Link"] = _links(call, t, params, limit, offset, total)
    return JSONResponse({"result": serialize(call, t, rows, opts)}, headers=headers)


def _links(call: Call, t: TableDef, params: Any, limit: int, offset: int, total: int) -> str:
    base = [(k, v) for k, v in params.multi_items() if k not in ("sysparm_offset", "sysparm_limit")]

    def url(off: int) -> str:
        return f"{call.base_url}/api/now/table/{t.name}?" + urlencode(
            [*base, ("sysparm_limit", limit), ("sysparm_offset", off)]
        )

    last = max(0, ((total - 1) // limit) * limit) if total else 0
    links = [f'<{url(0)}>;rel="first"']
    if offset > 0:
        links.append(f'<{url(max(0, offset - limit))}>;rel="prev"')
    if offset + limit < total:
        links.append(f'<{url(offset + limit)}>;rel="next"')
    links.append(f'<{url(last)}>;rel="last"')
    return ",".join(links)


for prefix in ("/api/now/table", "/api/now/v1/table", "/api/now/v2/table"):

    @router.api_route(prefix + "/{table}", methods=["GET", "POST"], include_in_schema=False)
    async def collection(table: str, request: Request) -> Response:
        return await handle(request, table, None)

    @router.api_route(
        prefix + "/{table}/{sys_id}",
        methods=["GET", "PUT", "PATCH", "DELETE", "POST"],
        include_in_schema=False,
    )
    async def record(table: str, sys_id: str, request: Request) -> Response:
        return await handle(request, table, sys_id)
