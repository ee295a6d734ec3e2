"""Single sign-on through Microsoft Entra ID, as ServiceNow's SAML 2 plugin does it (the service provider).

The portal login page links to /login_with_sso.do?glide_sso_id=<the IdP record>. The SSI sends the
browser to the identity provider with a signed request (SAMLRequest) and the page to come back to
(RelayState). The identity provider signs the user in (the password and the second factor are
Entra's, not ServiceNow's) and has the browser post a signed response (SAMLResponse) to the
Assertion Consumer Service, /navpage.do. Before anyone is signed in, the SSI checks the signature,
the destination and audience, that the response answers a request this SSI sent and that was not
answered before, the validity window, and that the assertion was not used before; then it finds the
account whose user name is the assertion's NameID, which must be active and allowed to log in.

Imitation: the messages are signed JSON (HMAC-SHA256 with a key the two sides share, as a SAML
service provider holds the identity provider's certificate), not XML-DSig; the checks are a SAML
service provider's. The identity provider is refssi/auth/entra.py.
"""

from __future__ import annotations

import secrets
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends
from fastapi.responses import Response

from .. import security
from ..db import now
from ..deps import get_ctx
from ..faults import fault
from ..settings import Settings
from ..web import SECURITY_HEADERS, Ctx, safe_goto
from .rules import advance, may_log_in

router = APIRouter()

ACS_PATH = "/navpage.do"  # where ServiceNow's SAML 2 plugin consumes assertions
REQUEST_LIFETIME = 600  # seconds a sign-in may take at the identity provider
CLOCK_SKEW = 60  # seconds of tolerance on the assertion's validity window


def request_key(settings: Settings) -> bytes:
    return security.signing_key(settings.server_key, "saml-request")


def response_key(settings: Settings) -> bytes:
    return security.signing_key(settings.server_key, "saml-response")


def sp_base(ctx: Ctx) -> str:
    """This SSI's own address (its entity ID), as the browser reached it."""
    return str(ctx.request.base_url).rstrip("/")


def idp_base(ctx: Ctx) -> str:
    """The identity provider: the same server under the Entra host name (another origin)."""
    port = ctx.request.url.port
    return f"{ctx.request.url.scheme}://{ctx.settings.entra_host}{f':{port}' if port else ''}"


def external_login_url(ctx: Ctx) -> str | None:
    """Where the login page's "Use external login" goes: the page asking for the user name, or the IdP."""
    cfg = ctx.profile.sso
    if not cfg.enabled:
        return None
    return cfg.locate_page or idp_login_url(ctx)


def idp_login_url(ctx: Ctx) -> str:
    return f"/login_with_sso.do?{urlencode({'glide_sso_id': ctx.profile.sso.glide_sso_id})}"


async def locate_sso(ctx: Ctx = Depends(get_ctx)) -> Response:
    """The intermediate page: which identity provider signs this user in? A user whose account is federated
    goes on to Entra; anyone else is told to use the login page (said the same whether or not the account
    exists, so the page does not tell who has an account)."""
    if not ctx.profile.sso.enabled:
        return ctx.not_valid()
    if ctx.request.method == "GET":
        return _locate_page(ctx)
    if not ctx.csrf_ok():
        return ctx.render("message.html", status=403, title="Invalid security token",
                          message="Invalid security token: the page was open too long or came from another site. "
                                  "Reload the page and try again.")
    user_name = ctx.form.get("user_name", "").strip()
    row = ctx.db.execute("SELECT source FROM sys_user WHERE user_name=? AND active=1", (user_name,)).fetchone()
    if row is not None and row["source"] == "entra":
        return ctx.redirect(idp_login_url(ctx))
    return _locate_page(ctx, user_name=user_name, error="External login is not available for this user name. "
                                                        "Log in with your user name and password on the login page.")


def _locate_page(ctx: Ctx, **context: str) -> Response:
    page = ctx.render("login_locate_sso.html", title=ctx.profile.label("login.locate_heading"), **context)
    # the form's answer sends the browser on to the IdP (another origin), which form-action must allow
    page.headers["Content-Security-Policy"] = SECURITY_HEADERS["Content-Security-Policy"].replace(
        "form-action 'self'", f"form-action 'self' {idp_base(ctx)}")
    return page


def register_locate_page(app: Any, profile: Any) -> None:
    """Serve the intermediate page where the profile says it is (sso.locate_page)."""
    if profile.sso.enabled and profile.sso.locate_page:
        app.add_api_route(profile.sso.locate_page, locate_sso, methods=["GET", "POST"])


@router.get("/login_with_sso.do")
async def login_with_sso(ctx: Ctx = Depends(get_ctx)) -> Response:
    cfg = ctx.profile.sso
    if not cfg.enabled or ctx.request.query_params.get("glide_sso_id") != cfg.glide_sso_id:
        return ctx.not_valid()
    request_id = "_" + secrets.token_hex(16)
    ctx.db.execute("INSERT INTO sso_request (id, created_at) VALUES (?,?)", (request_id, now()))
    sp = sp_base(ctx)
    saml_request = security.sign_message(request_key(ctx.settings), {
        "ID": request_id, "Issuer": sp, "AssertionConsumerServiceURL": sp + ACS_PATH, "IssueInstant": now()})
    relay = safe_goto((ctx.session or {}).get("goto"), ctx.portal_url(ctx.profile.portal.home_page))
    query = urlencode({"SAMLRequest": saml_request, "RelayState": relay})
    return ctx.redirect(f"{idp_base(ctx)}/{cfg.tenant}/saml2?{query}")


def check_response(ctx: Ctx, token: str) -> tuple[dict[str, Any] | None, str]:
    """(the accepted assertion, '') or (None, why it was refused). Marks request and assertion used."""
    key = None if fault(ctx.settings, "sso_skip_signature_check") else response_key(ctx.settings)
    data = security.open_message(key, token) if token else None
    if data is None:
        return None, "the response is missing or not signed by the identity provider"
    sp = sp_base(ctx)
    if data.get("Destination") != sp + ACS_PATH or data.get("Audience") != sp:
        return None, "the response was meant for another service"
    t = now()
    try:
        valid = float(data["NotBefore"]) - CLOCK_SKEW <= t < float(data["NotOnOrAfter"]) + CLOCK_SKEW
    except (KeyError, TypeError, ValueError):
        valid = False
    if not valid:
        return None, "the response has expired"
    request = ctx.db.execute("SELECT * FROM sso_request WHERE id=?", (str(data.get("InResponseTo", "")),)).fetchone()
    replay = fault(ctx.settings, "sso_allow_replay")
    if request is None or request["created_at"] < t - REQUEST_LIFETIME or (request["used"] and not replay):
        return None, "the response answers no sign-in this SSI started, or one already completed"
    assertion = str(data.get("ID", ""))
    seen = ctx.db.execute("SELECT 1 FROM sso_assertion WHERE id=?", (assertion,)).fetchone()
    if not assertion or (seen and not replay):
        return None, "the response was already used"
    ctx.db.execute("UPDATE sso_request SET used=1 WHERE id=?", (request["id"],))
    ctx.db.execute("INSERT OR IGNORE INTO sso_assertion VALUES (?,?)", (assertion, t))
    return data, ""


@router.post(ACS_PATH)
async def assertion_consumer(ctx: Ctx = Depends(get_ctx)) -> Response:
    """No CSRF token here: the identity provider's page posts this form from another site (SAML's POST
    binding). The signed response, answering a request of this SSI's, once, is the protection."""
    data, why = check_response(ctx, ctx.form.get("SAMLResponse", ""))
    user = None
    if data is not None:
        row = ctx.db.execute("SELECT * FROM sys_user WHERE user_name=?", (str(data.get("NameID", "")),)).fetchone()
        user = dict(row) if row and row["active"] else None
        if user is None:
            why = "no active SSI account has this user name"
        elif not may_log_in(ctx, user["sys_id"]):
            why, user = "your Job Type Roles do not give you access to the SSI", None
    if user is None:
        return ctx.render("message.html", status=403, title=ctx.profile.label("login.heading"),
                          message=f"{ctx.profile.label('login.sso_failed')}: {why}. Start again from the login page.")
    ctx.new_session(user=user["sys_id"], stage="sso")
    ctx.update_session(goto=safe_goto(ctx.form.get("RelayState"), ctx.portal_url(ctx.profile.portal.home_page)))
    return advance(ctx, user)
