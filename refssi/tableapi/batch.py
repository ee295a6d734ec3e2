"""ServiceNow's Batch API: POST /api/now/v1/batch (also /api/now/batch and /api/now/v2/batch).

The request is {"batch_request_id", "rest_requests": [{"id", "method", "url", "headers": [{"name",
"value"}], "body": base64, "exclude_response_headers"}]}; the answer is {"batch_request_id",
"serviced_requests": [{"id", "status_code", "status_text", "headers", "body": base64,
"execution_time" (ms), "error_message" when refused}], "unserviced_requests": [ids]} (ServiceNow's
Batch API reference, ServiceNowDocs markdown/api-reference/rest-apis/batch-api.md). pysnc sends its
update_multiple(), delete_multiple() and queries of over 10,000 characters this way.

Each inner request goes through this server's own routes one after the other, each in its own
transaction, exactly as if it had been sent alone with the batch's credentials (the batch's
Authorization, session cookie and X-UserToken; an inner request's own credentials are ignored), so
it is authorised, scoped and validated as alone and can gain nothing by being in a batch. Only
REST API paths under /api/now/ may be called, and a batch may not contain a batch. The batch itself
is authenticated first (401 for the whole batch, as ServiceNow answers) and its body is held to the
JSON size limit of every REST call. Requests still waiting after 30 seconds (ServiceNow's "REST Batch
API request timeout" quota rule) are returned in unserviced_requests.
"""

from __future__ import annotations

import base64
import binascii
import re
import time
from http import HTTPStatus
from typing import Any
from urllib.parse import quote, unquote, urlsplit

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response

from .model import ApiError
from .routes import (
    API_HEADERS,
    authenticate,
    check_accept,
    check_content_type,
    declared_length,
    error_response,
    json_too_large,
    principal_for,
    read_body,
)
from .rows import parse_json

router = APIRouter()

TIME_LIMIT = 30.0  # seconds; then the rest are unserviced, as ServiceNow's transaction quota rule does
METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")
BATCH_PATH = re.compile(r"^/api/now/(v\d+/)?batch(/|$)")
# Never taken from an inner request: the batch's own credentials are, and the server sets the rest.
DROPPED_HEADERS = frozenset({
    "authorization", "cookie", "x-usertoken", "host", "content-length", "transfer-encoding", "connection",
    "keep-alive", "te", "trailer", "upgrade", "expect", "proxy-authorization",
})
PASSED_ON = ("authorization", "cookie", "x-usertoken")


def _bad(detail: str) -> ApiError:
    return ApiError(400, "Exception while reading request", detail)


def _requests(data: Any) -> tuple[str, list[dict[str, Any]]]:
    """The batch id and its requests, each checked for the fields ServiceNow requires."""
    if not isinstance(data, dict) or not isinstance(data.get("rest_requests"), list):
        raise _bad("The batch needs rest_requests: a list of {id, method, url, headers, body} requests.")
    batch_id = data.get("batch_request_id", "")
    if isinstance(batch_id, dict | list):
        raise _bad("batch_request_id is a string.")
    seen: set[str] = set()
    items = []
    for n, raw in enumerate(data["rest_requests"], 1):
        if not isinstance(raw, dict):
            raise _bad(f"rest_requests[{n}] is not an object.")
        rid = raw.get("id")
        if not isinstance(rid, str | int) or isinstance(rid, bool) or str(rid) == "":
            raise _bad(f"rest_requests[{n}]: id is required (a string).")
        if str(rid) in seen:
            raise _bad(f"rest_requests[{n}]: id {rid} is used twice.")
        seen.add(str(rid))
        for name in ("method", "url"):
            if not isinstance(raw.get(name), str) or not raw[name]:
                raise _bad(f"rest_requests[{n}] ({rid}): {name} is required (a string).")
        headers = raw.get("headers", [])
        if not isinstance(headers, list) or not all(
            isinstance(h, dict) and isinstance(h.get("name"), str) and isinstance(h.get("value"), str) for h in headers
        ):
            raise _bad(f"rest_requests[{n}] ({rid}): headers is a list of {{name, value}} strings.")
        if not isinstance(raw.get("body", ""), str):
            raise _bad(f"rest_requests[{n}] ({rid}): body is a base64-encoded string.")
        if not isinstance(raw.get("exclude_response_headers", False), bool):
            raise _bad(f"rest_requests[{n}] ({rid}): exclude_response_headers is true or false.")
        items.append({**raw, "id": str(rid), "headers": headers})
    return str(batch_id), items


def _target(url: str) -> tuple[str, bytes, bytes]:
    """(path as routed, raw path, query string) of an inner request's URL: a REST API path under
    /api/now/ of this server, nothing else."""
    outside = ApiError(400, "Invalid batch request",
                       "An inner request's url is a path of this instance's REST API under /api/now/ "
                       "(never another batch), e.g. /api/now/table/incident?sysparm_limit=1.")
    parts = urlsplit(url)
    if parts.scheme or parts.netloc or "\\" in url or any(ord(c) < 0x21 for c in url):
        raise outside
    raw_path = quote(parts.path, safe="/%!$&'()*+,;=:@~-._")
    path = unquote(raw_path)
    segments = path.split("/")
    if not path.startswith("/api/now/") or "" in segments[1:-1] or any(s in (".", "..") for s in segments) \
            or "\\" in path or BATCH_PATH.match(path):
        raise outside
    return path, raw_path.encode("ascii"), quote(parts.query, safe="=&%+;/?:@,$!'()*~[]").encode("ascii")


async def _serve(request: Request, item: dict[str, Any]) -> tuple[int, list[tuple[str, str]], bytes]:
    """One inner request through the server's own routes, with the batch's credentials."""
    method = item["method"].upper()
    if method not in METHODS:
        raise ApiError(405, "Method not Supported", f"An inner request's method is one of {', '.join(METHODS)}.")
    path, raw_path, query = _target(item["url"])
    try:
        body = base64.b64decode("".join(item.get("body", "").split()), validate=True)
    except (binascii.Error, ValueError):
        raise ApiError(400, "Invalid batch request", "The inner request's body is not base64.") from None
    headers: list[tuple[bytes, bytes]] = []
    for h in item["headers"]:
        name, value = h["name"].strip().lower(), h["value"]
        if name in DROPPED_HEADERS:
            continue
        if not re.fullmatch(r"[!#$%&'*+.^_`|~0-9a-z-]+", name) or any(c in value for c in "\r\n\0"):
            raise ApiError(400, "Invalid batch request", f"The inner request's header {name[:40]!r} is malformed.")
        try:
            headers.append((name.encode("ascii"), value.encode("latin-1")))
        except UnicodeEncodeError:
            raise ApiError(400, "Invalid batch request", f"The inner request's header {name} is not Latin-1.") from None
    for name in ("host", *PASSED_ON):
        if name in request.headers:
            headers.append((name.encode(), request.headers[name].encode("latin-1")))
    if body or method in ("POST", "PUT", "PATCH"):
        headers.append((b"content-length", str(len(body)).encode()))
    outer = request.scope
    scope = {
        "type": "http", "asgi": outer.get("asgi", {"version": "3.0"}), "http_version": "1.1", "method": method,
        "scheme": outer.get("scheme", "http"), "server": outer.get("server"), "client": outer.get("client"),
        "root_path": "", "path": path, "raw_path": raw_path, "query_string": query, "headers": headers,
        "state": dict(outer.get("state") or {}),
    }
    sent = False

    async def receive() -> dict[str, Any]:
        nonlocal sent
        if sent:
            return {"type": "http.disconnect"}
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    status, out_headers, chunks = 500, [], []

    async def send(message: dict[str, Any]) -> None:
        nonlocal status, out_headers
        if message["type"] == "http.response.start":
            status = message["status"]
            out_headers = [(k.decode("latin-1"), v.decode("latin-1")) for k, v in message.get("headers", [])]
        elif message["type"] == "http.response.body":
            chunks.append(message.get("body", b""))

    await request.app(scope, receive, send)
    return status, out_headers, b"".join(chunks)


def _answer(item: dict[str, Any], status: int, headers: list[tuple[str, str]], body: bytes, ms: float) -> dict:
    out: dict[str, Any] = {
        "id": item["id"],
        "status_code": status,
        "status_text": HTTPStatus(status).phrase if status in HTTPStatus._value2member_map_ else "",
        "headers": [] if item.get("exclude_response_headers") else [{"name": k, "value": v} for k, v in headers],
        "body": base64.b64encode(body).decode(),
        "execution_time": round(ms),
    }
    if status >= 400:
        try:
            out["error_message"] = str(parse_json(body)["error"]["message"])
        except (ApiError, KeyError, TypeError):
            pass
    return out


async def batch(request: Request) -> Response:
    settings = request.app.state.settings
    db = request.app.state.db
    try:
        if not settings.profile.table_api.enabled:
            raise ApiError(404, "Not Found", "The REST API is not enabled on this instance.")
        check_accept(request)
        check_content_type(request)
        size = declared_length(request)
        if size is not None and size > settings.max_json_bytes:
            raise json_too_large(settings)(size)
        how, info = await authenticate(request, settings, db)
        with db.tx() as conn:  # the batch's caller, checked (and locked out) as for any call
            principal_for(request, conn, settings, how, info)
        batch_id, items = _requests(parse_json(await read_body(request, settings.max_json_bytes,
                                                               json_too_large(settings))))
    except ApiError as err:
        return error_response(err)
    deadline = time.monotonic() + TIME_LIMIT
    serviced, unserviced = [], []
    for item in items:
        if time.monotonic() > deadline:
            unserviced.append(item["id"])
            continue
        t0 = time.perf_counter()
        try:
            status, headers, body = await _serve(request, item)
        except ApiError as err:
            refused = error_response(err)
            status, headers, body = err.status, [(k, v) for k, v in refused.headers.items()], refused.body
        except Exception:  # a bug in a route: still an answer for this item, and the traceback in the log
            import traceback

            traceback.print_exc()
            status, headers, body = 500, [], b'{"error":{"message":"Internal server error","detail":""},' \
                                             b'"status":"failure"}'
        serviced.append(_answer(item, status, headers, body, (time.perf_counter() - t0) * 1000))
    return JSONResponse({"batch_request_id": batch_id, "serviced_requests": serviced,
                         "unserviced_requests": unserviced}, headers=API_HEADERS)


for _path in ("/api/now/batch", "/api/now/v1/batch", "/api/now/v2/batch"):
    router.add_api_route(_path, batch, methods=["POST"], include_in_schema=False)
