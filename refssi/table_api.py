"""ServiceNow's REST Table API (/api/now/table) over a registry of table definitions.

A module serves a table by registering a TableDef: its fields (types, references,
choices, read-only ones, who may read a field), the organisation-scoping rule
(an SQL condition built from the caller), the role-matrix component needed to
read, create, update and delete, and hooks that validate and write. The envelopes,
paging, display values and authentication live here once; encoded queries are parsed
by refssi/encoded_query.py and batches of calls by refssi/batch_api.py.

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
import json
import sqlite3
import time
import traceback
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import partial
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response

from . import passwords, security
from .encoded_query import MAX_INT, Query, QueryError, parse_query
from .faults import fault
from .settings import Settings

ADMIN = None  # component value meaning: DCC's administrator (operator token) only
ANY = ""  # component value meaning: any authenticated caller

DEFAULT_LIMIT = 10000
MAX_LIMIT = 10000
MIB = 1024 * 1024


class ApiError(Exception):
    def __init__(self, status: int, message: str, detail: str = "") -> None:
        super().__init__(message)
        self.status, self.message, self.detail = status, message, detail


def not_found() -> ApiError:
    return ApiError(404, "No Record found", "Record doesn't exist or ACL restricts the record retrieval")


# ---------------------------------------------------------------- who is calling
@dataclass
class Principal:
    user: dict[str, Any] | None  # sys_user row; None for the administrator
    components: set[str] = field(default_factory=set)
    admin: bool = False

    @property
    def sys_id(self) -> str | None:
        return self.user["sys_id"] if self.user else None

    @property
    def user_name(self) -> str:
        return self.user["user_name"] if self.user else "dcc.service.desk"

    @property
    def display_name(self) -> str:
        if not self.user:
            return "DCC Service Desk"
        return f"{self.user['first_name']} {self.user['last_name']}".strip() or self.user["user_name"]

    @property
    def company(self) -> str | None:
        return self.user["company"] if self.user else None

    def may(self, component: str | None) -> bool:
        if self.admin:
            return True
        if component is ADMIN:
            return False
        return component == ANY or component in self.components

    @classmethod
    def of_user(cls, conn: sqlite3.Connection, settings: Settings, user: dict[str, Any]) -> Principal:
        roles = [
            r[0] for r in conn.execute("SELECT role FROM sys_user_has_role WHERE user=?", (user["sys_id"],))
        ]
        return cls(user=user, components=settings.profile.role_matrix.components_for(roles))

    @classmethod
    def from_ctx(cls, ctx: Any) -> Principal:
        """The signed-in portal user of a request context (refssi.web.Ctx)."""
        return cls(user=ctx.user, components=set(ctx.components))


@dataclass
class Call:
    """One Table API call: the open transaction, the settings, the caller and the instance URL."""

    conn: sqlite3.Connection
    settings: Settings
    principal: Principal
    base_url: str = ""

    @property
    def profile(self):
        return self.settings.profile


# ---------------------------------------------------------------- table definitions
TYPES = {"string", "integer", "boolean", "glide_date_time", "reference", "choice", "journal", "guid"}


@dataclass(frozen=True)
class Field:
    name: str
    type: str = "string"
    label: str = ""
    reference: str | None = None  # referenced table, for type 'reference'
    choices: Callable[[Any], list[tuple[str, str]]] | None = None  # profile -> [(value, label)]
    column: str | None = None  # SQL expression when it is not the column of the same name
    read_only: bool = False  # never written through the API (system, calculated or identity fields)
    readable: Callable[[Call], bool] | None = None  # None: whoever may read the table
    display: Callable[[Call, list[str]], dict[str, str]] | None = None  # journal: record sys_ids -> text

    def __post_init__(self) -> None:
        if self.type not in TYPES:
            raise ValueError(f"field {self.name}: unknown type {self.type}")

    @property
    def sql(self) -> str:
        return self.column or self.name

    @property
    def queryable(self) -> bool:
        return self.type != "journal"


@dataclass(frozen=True)
class TableDef:
    name: str
    label: str
    fields: tuple[Field, ...]
    display_field: str  # shown for references to this table (e.g. number, name)
    scope: Callable[[Call], tuple[str, list[Any]]]  # SQL condition limiting the rows a caller may see
    read: str | None = ANY  # component needed to read; ANY = any authenticated caller; ADMIN = admin only
    create: str | None = ADMIN
    update: str | None = ADMIN
    delete: str | None = ADMIN
    sql_table: str = ""
    insert_hook: Callable[[Call, dict[str, str]], str] | None = None  # validate + insert; returns sys_id
    update_hook: Callable[[Call, dict[str, Any], dict[str, str]], None] | None = None
    delete_hook: Callable[[Call, dict[str, Any]], None] | None = None

    @property
    def table(self) -> str:
        return self.sql_table or self.name

    def field(self, name: str) -> Field | None:
        return self._by_name.get(name)

    @property
    def _by_name(self) -> dict[str, Field]:
        cache = self.__dict__.get("_fields_cache")
        if cache is None:
            cache = {f.name: f for f in self.fields}
            object.__setattr__(self, "_fields_cache", cache)
        return cache

    def readable_fields(self, call: Call) -> list[Field]:
        return [f for f in self.fields if f.readable is None or f.readable(call)]


TABLES: dict[str, TableDef] = {}


def register(table: TableDef) -> TableDef:
    """Serve a table through the Table API (each name once)."""
    if table.name in TABLES:
        raise ValueError(f"table {table.name!r} registered twice")
    if table.field("sys_id") is None:
        raise ValueError(f"table {table.name!r} needs a sys_id field")
    TABLES[table.name] = table
    return table


def table_or_400(name: str) -> TableDef:
    t = TABLES.get(name)
    if t is None:
        raise ApiError(400, f"Invalid table {name}", f"The Table API serves: {', '.join(sorted(TABLES))}.")
    return t


# ---------------------------------------------------------------- reading
@dataclass
class ReadOptions:
    display: str = "false"  # false | true | all
    exclude_links: bool = False
    fields: list[str] | None = None


def _bool_param(params: Any, name: str, default: bool = False) -> bool:
    raw = params.get(name)
    if raw is None or raw == "":
        return default
    v = raw.lower()
    if v not in ("true", "false"):
        raise ApiError(400, "Invalid parameter", f"{name} is true or false, not '{raw}'")
    return v == "true"


def _int_param(params: Any, name: str, default: int, minimum: int) -> int:
    raw = params.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ApiError(400, "Invalid parameter", f"{name} must be a whole number, not '{raw}'") from None
    if value < minimum:
        raise ApiError(400, "Invalid parameter", f"{name} must be at least {minimum}, not {value}")
    if value > MAX_INT:
        raise ApiError(400, "Invalid parameter", f"{name} must be at most {MAX_INT}, not {raw}")
    return value


def read_options(params: Any) -> ReadOptions:
    display = (params.get("sysparm_display_value") or "false").lower()
    if display not in ("true", "false", "all"):
        raise ApiError(
            400,
            "Invalid parameter",
            f"sysparm_display_value is true, false or all, not '{params.get('sysparm_display_value')}'",
        )
    raw_fields = params.get("sysparm_fields")
    fields = [f.strip() for f in raw_fields.split(",") if f.strip()] if raw_fields else None
    return ReadOptions(display, _bool_param(params, "sysparm_exclude_reference_link"), fields)


def _select_fields(call: Call, t: TableDef, opts: ReadOptions) -> list[Field]:
    readable = t.readable_fields(call)
    if opts.fields is None:
        return readable
    names = set(opts.fields)
    return [f for f in readable if f.name in names]  # invalid names are ignored, as ServiceNow does


def _raw(f: Field, value: Any) -> str:
    if value is None:
        return ""
    if f.type == "boolean":
        return "true" if value else "false"
    return str(value)


def serialize(call: Call, t: TableDef, rows: list[sqlite3.Row], opts: ReadOptions) -> list[dict[str, Any]]:
    fields = _select_fields(call, t, opts)
    # display values of references and journals, fetched once per result page
    ref_display: dict[str, dict[str, str]] = {}
    journal_display: dict[str, dict[str, str]] = {}
    ids = [r["sys_id"] for r in rows]
    if opts.display != "false":
        for f in fields:
            if f.type == "reference" and f.reference in TABLES:
                wanted = {r[f.name] for r in rows if r[f.name]}
                ref_display[f.name] = display_values(call.conn, TABLES[f.reference], wanted)
            elif f.type == "journal" and f.display is not None:
                journal_display[f.name] = f.display(call, ids)
    out = []
    for r in rows:
        rec: dict[str, Any] = {}
        for f in fields:
            value = "" if f.type == "journal" else _raw(f, r[f.name])
            link = None
            if f.type == "reference" and value and not opts.exclude_links:
                link = f"{call.base_url}/api/now/table/{f.reference}/{value}"
            if opts.display == "false":
                rec[f.name] = {"link": link, "value": value} if link else value
                continue
            if f.type == "reference":
                dv = ref_display.get(f.name, {}).get(value, "") if value else ""
            elif f.type == "journal":
                dv = journal_display.get(f.name, {}).get(r["sys_id"], "")
            elif f.type == "choice" and f.choices is not None:
                dv = next((label for v, label in f.choices(call.profile) if v == value), value)
            else:
                dv = value
            if opts.display == "true":
                # a reference keeps its link beside its display value, as in ServiceNow
                rec[f.name] = {"display_value": dv, "link": link} if link else dv
            else:
                entry: dict[str, str] = {"display_value": dv, "value": value}
                if link:
                    entry["link"] = link
                rec[f.name] = entry
        out.append(rec)
    return out


def display_values(conn: sqlite3.Connection, t: TableDef, ids: Iterable[str]) -> dict[str, str]:
    ids = list(ids)
    out: dict[str, str] = {}
    shown = t.field(t.display_field)
    col = shown.sql if shown else "sys_id"
    for i in range(0, len(ids), 500):
        chunk = ids[i : i + 500]
        marks = ",".join("?" * len(chunk))
        sql = f"SELECT {t.table}.sys_id, {col} FROM {t.table} WHERE {t.table}.sys_id IN ({marks})"
        out.update({row[0]: "" if row[1] is None else str(row[1]) for row in conn.execute(sql, chunk)})
    return out


def _select_sql(t: TableDef) -> str:
    cols = ", ".join(f"{f.sql} AS {f.name}" for f in t.fields if f.type != "journal")
    return f"SELECT {cols} FROM {t.table}"


def fetch_one(call: Call, t: TableDef, sys_id: str) -> sqlite3.Row | None:
    scope_sql, scope_params = t.scope(call)
    sql = f"{_select_sql(t)} WHERE {t.table}.sys_id = ?" + (f" AND ({scope_sql})" if scope_sql else "")
    return call.conn.execute(sql, [sys_id, *scope_params]).fetchone()


def query_rows(
    call: Call, t: TableDef, q: Query, limit: int, offset: int, count: bool
) -> tuple[list, int | None]:
    scope_sql, scope_params = t.scope(call)
    conds = [c for c in (scope_sql, q.where) if c]
    where = (" WHERE " + " AND ".join(f"({c})" for c in conds)) if conds else ""
    params = [*scope_params, *q.params]
    order = (" ORDER BY " + ", ".join(f"{c} {'DESC' if d else 'ASC'}" for c, d in q.order)) if q.order else ""
    rows = call.conn.execute(
        f"{_select_sql(t)}{where}{order} LIMIT ? OFFSET ?", [*params, limit, offset]
    ).fetchall()
    total = None
    if count:
        total = call.conn.execute(f"SELECT COUNT(*) FROM {t.table}{where}", params).fetchone()[0]
    return rows, total


# ---------------------------------------------------------------- writing
def parse_json(raw: bytes) -> Any:
    """A JSON request body; 400 with the envelope for anything Python's parser refuses, including integers
    over its 4,300-digit conversion limit (ValueError) and nesting deeper than its recursion limit."""
    try:
        return json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):  # json.JSONDecodeError is a ValueError
        raise ApiError(400, "Exception while reading request", "The payload is not valid JSON.") from None
    except RecursionError:
        raise ApiError(
            400, "Exception while reading request", "The payload is nested too deeply to be read."
        ) from None


def body_values(call: Call, t: TableDef, raw: bytes, input_display: bool) -> dict[str, str]:
    """A request body as {field: string value}; unknown and read-only fields are dropped, as in ServiceNow."""
    data = parse_json(raw) if raw.strip() else {}
    if not isinstance(data, dict):
        raise ApiError(
            400, "Exception while reading request", "The payload must be a JSON object of field values."
        )
    out: dict[str, str] = {}
    for name, value in data.items():
        f = t.field(name)
        if f is None or f.read_only or (f.readable is not None and not f.readable(call)):
            continue
        if isinstance(value, dict):
            value = value.get("value", "")
        if isinstance(value, bool):
            value = "true" if value else "false"
        elif value is None:
            value = ""
        elif isinstance(value, int):
            value = str(value)  # under 4,300 digits (parse_json refused longer ones): never through float
        elif isinstance(value, float):
            value = str(int(value)) if value.is_integer() else str(value)
        elif not isinstance(value, str):
            raise ApiError(
                400,
                "Invalid value",
                f"{name}: give a string, number or boolean, not a {type(value).__name__}",
            )
        if input_display and f.type == "choice" and f.choices is not None:
            value = next((v for v, label in f.choices(call.profile) if label == value), value)
        out[name] = value
    return out


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
    from . import auth  # lockout rules shared with the login pages
    from .web import Ctx

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
    if auth.is_locked(ctx, user):
        raise ApiError(401, "User Not Authenticated", "The account is locked out.")
    if verified_hash is None or verified_hash != user["user_password"]:
        _AUTH_CACHE.pop(key, None)
        auth.register_failure(ctx, user)
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


def _check_accept(request: Request) -> None:
    accept = request.headers.get("accept", "")
    if accept and not any(
        a.split(";")[0].strip() in ("application/json", "*/*", "application/*") for a in accept.split(",")
    ):
        raise ApiError(406, "Not Acceptable", "This reference SSI answers application/json only.")


def _check_content_type(request: Request) -> None:
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
            _check_accept(request)
        has_body = request.method in ("POST", "PUT", "PATCH")
        limit = body_limit(settings) if body_limit else settings.max_json_bytes
        refuse = partial(too_large, settings, request) if too_large else json_too_large(settings)
        if has_body:
            if json_body:
                _check_content_type(request)
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
        values = body_values(call, t, body, _bool_param(params, "sysparm_input_display_value"))
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
    values = body_values(call, t, body, _bool_param(params, "sysparm_input_display_value"))
    t.update_hook(call, dict(row), values)
    row = fetch_one(call, t, sys_id)
    if row is None:  # the update moved it out of the caller's scope
        return JSONResponse({"result": {}}, headers=API_HEADERS)
    return JSONResponse({"result": serialize(call, t, [row], read_options(params))[0]}, headers=API_HEADERS)


def _list(request: Request, call: Call, t: TableDef) -> Response:
    params = request.query_params
    opts = read_options(params)
    limit = min(_int_param(params, "sysparm_limit", DEFAULT_LIMIT, 1), MAX_LIMIT)
    offset = _int_param(params, "sysparm_offset", 0, 0)
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
    no_count = _bool_param(params, "sysparm_no_count")
    rows, total = query_rows(call, t, q, limit, offset, count=not no_count)
    headers = dict(API_HEADERS)
    if total is not None:
        headers["X-Total-Count"] = str(total)
        if not _bool_param(params, "sysparm_suppress_pagination_header"):
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


# ---------------------------------------------------------------- core tables
def _own_company(column: str) -> Callable[[Call], tuple[str, list[Any]]]:
    def scope(call: Call) -> tuple[str, list[Any]]:
        if call.principal.admin:
            return "", []
        return f"{column} = ?", [call.principal.company]

    return scope


register(
    TableDef(
        name="sys_user",
        label="User",
        display_field="name",
        scope=_own_company("sys_user.company"),  # people see the accounts of their own organisation only
        read=ANY,
        fields=(
            # never the password hash, the authenticator seed or lockout internals
            Field("sys_id", "guid", "Sys ID", column="sys_user.sys_id", read_only=True),
            Field("user_name", "string", "User ID", read_only=True),
            Field("first_name", "string", "First name"),
            Field("last_name", "string", "Last name"),
            Field("name", "string", "Name", column="trim(first_name || ' ' || last_name)", read_only=True),
            Field("email", "string", "Email"),
            Field("phone", "string", "Business phone"),
            Field(
                "company",
                "reference",
                "Company",
                reference="core_company",
                column="sys_user.company",
                read_only=True,
            ),
            Field("active", "boolean", "Active", read_only=True),
            Field("locked_out", "boolean", "Locked out", read_only=True),
            Field("last_login_time", "glide_date_time", "Last login time", read_only=True),
            Field(
                "enable_multifactor_authn",
                "boolean",
                "Enable Multifactor Authentication",
                column="(mfa_method IS NOT NULL)",
                read_only=True,
            ),
            Field(
                "roles",
                "string",
                "Roles",
                read_only=True,
                column="(SELECT group_concat(role, ',') FROM sys_user_has_role r "
                "WHERE r.user = sys_user.sys_id)",
            ),
            Field("sys_created_on", "glide_date_time", "Created", read_only=True),
            Field("sys_updated_on", "glide_date_time", "Updated", read_only=True),
        ),
    )
)

register(
    TableDef(
        name="core_company",
        label="Company",
        display_field="name",
        scope=_own_company("core_company.sys_id"),
        read=ANY,
        fields=(
            Field("sys_id", "guid", "Sys ID", column="core_company.sys_id", read_only=True),
            Field("name", "string", "Name", read_only=True),
            Field("u_key", "string", "Key", column='"key"', read_only=True),
            Field("u_sec_party_id", "string", "SEC Party ID", column="sec_party_id", read_only=True),
            Field("u_user_role", "string", "SEC User Role", column="user_role", read_only=True),
        ),
    )
)
