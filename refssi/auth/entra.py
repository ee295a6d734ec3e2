"""Microsoft Entra ID's sign-in pages, imitated: the identity provider of the SSI's single sign-on.

Served by the same server under another host name (settings.entra_host, by default
login.microsoftonline.localhost: another origin, as login.microsoftonline.com is; browsers resolve
every *.localhost name to this machine). A sign-in walks Entra's screens with the element ids and
names public automation relies on (../shared/reference/servicenow-conventions.md, section 4):

  Sign in        input loginfmt (#i0116), Next (#idSIButton9), error #usernameError
  Enter password input passwd (#i0118), Sign in (#idSIButton9), error #passwordError
  Enter code     input otc (#idTxtBx_SAOTCC_OTC), Verify (#idSubmit_SAOTCC_Continue),
                 error #idSpan_SAOTCC_Error_OTC
  Stay signed in? Don't show this again (#KmsiCheckboxField), Yes (#idSIButton9), No (#idBtn_Back)

then posts the signed response to the SSI (refssi/auth/sso.py). With REFSSI_ENTRA_UI=new the pages carry
the newer sign-in UI's data-testid hooks (primaryButton, error) instead of the legacy ids, so that page
objects are tested against both. Every rule is checked here: the password (argon2id), the
authenticator code (RFC 6238, one step of tolerance, a code used once only), smart lockout after
repeated failures, and one flowToken per sign-in, which also protects each form as a CSRF token would.
"""

from __future__ import annotations

import json
import secrets
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from fastapi import FastAPI, Request
from fastapi.responses import Response
from fastapi.staticfiles import StaticFiles

from .. import passwords, security
from ..db import Database, now
from ..faults import fault, switched_on
from ..settings import Settings
from ..web import TEMPLATES
from .sso import ACS_PATH, request_key, response_key

FLOW_LIFETIME = 900  # seconds a sign-in may take
ASSERTION_LIFETIME = 300  # seconds the SSI may take to consume a response


def _headers(form_targets: str = "") -> dict[str, str]:
    return {
        "X-Frame-Options": "DENY",
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "strict-origin-when-cross-origin",
        "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
        f"frame-ancestors 'none'; form-action 'self'{form_targets}",
        "Cache-Control": "no-store",
    }


class Flow:
    """One sign-in in progress, with the request it answers."""

    def __init__(self, row: Any) -> None:
        self.token_hash = row["token_hash"]
        self.request: dict[str, Any] = json.loads(row["request"])
        self.relay_state: str = row["relay_state"]
        self.upn: str | None = row["upn"]
        self.stage: str = row["stage"]


def create_entra_app(settings: Settings, db: Database) -> FastAPI:
    app = FastAPI(title="Microsoft Entra ID (imitated)", docs_url=None, redoc_url=None, openapi_url=None)
    app.mount("/shared", StaticFiles(directory=str(Path(__file__).parent.parent / "static" / "entra")), name="shared")
    profile = settings.profile
    cfg = profile.sso
    L = profile.labels["entra"]

    def page(request: Request, template: str, status: int = 200, form_targets: str = "", **context: Any) -> Response:
        base = {"L": L, "ui": settings.entra_ui, "tenant": cfg.tenant, "unsafe": switched_on(settings)}
        resp = TEMPLATES.TemplateResponse(request, f"entra/{template}", {**base, **context}, status_code=status)
        resp.headers.update(_headers(form_targets))
        return resp

    def error_page(request: Request, code: str, text: str, status: int = 400) -> Response:
        return page(request, "error.html", status=status, code=code, text=text)

    def load_flow(conn: Any, token: str) -> Flow | None:
        row = conn.execute("SELECT * FROM entra_flow WHERE token_hash=?", (security.token_hash(token),)).fetchone()
        if row is None or row["created_at"] < now() - FLOW_LIFETIME:
            return None
        return Flow(row)

    def is_locked(user: Any) -> bool:
        return user["locked_until"] > now()

    def register_failure(conn: Any, user: Any) -> None:
        failed = user["failed"] + 1
        if failed >= cfg.lockout_threshold:
            conn.execute("UPDATE entra_user SET failed=0, locked_until=? WHERE upn=?",
                         (now() + cfg.lockout_seconds, user["upn"]))
        else:
            conn.execute("UPDATE entra_user SET failed=? WHERE upn=?", (failed, user["upn"]))

    def code_ok(conn: Any, user: Any, code: str) -> bool:
        totp = profile.mfa.totp
        code = code.strip().replace(" ", "")
        step = security.totp_match(user["totp_seed"] or "", code, at=now(), window=1, interval=totp.interval,
                                   digits=totp.digits) if user["totp_seed"] else None
        if fault(settings, "entra_skip_code_check"):
            step = step if step is not None else int(now() // totp.interval)
        if step is None:
            return False
        used = [u for u in json.loads(user["used_totp_steps"]) if u >= int(now() // totp.interval) - 2]
        if step in used:  # a code is good for one sign-in only
            return False
        conn.execute("UPDATE entra_user SET used_totp_steps=? WHERE upn=?",
                     (json.dumps(sorted({*used, step})), user["upn"]))
        return True

    @app.get("/{tenant}/saml2")
    async def saml2(request: Request, tenant: str) -> Response:
        if tenant != cfg.tenant:
            return error_page(request, "AADSTS90002", f"Tenant '{tenant}' not found. Check that you have the "
                              "correct tenant ID and are signing into the correct cloud.", 404)
        raw = request.query_params.get("SAMLRequest", "")
        if not raw:
            return error_page(request, "AADSTS750054", "SAMLRequest or SAMLResponse must be present as query "
                              "string parameters in HTTP request for SAML Redirect binding.")
        saml_request = security.open_message(request_key(settings), raw)
        if saml_request is None or not str(saml_request.get("AssertionConsumerServiceURL", "")).endswith(ACS_PATH):
            return error_page(request, "AADSTS50011", "The reply URL specified in the request does not match "
                              "the reply URLs configured for the application.")
        token = security.new_token()
        with db.tx() as conn:
            conn.execute("INSERT INTO entra_flow VALUES (?,?,?,?,?,?)",
                         (security.token_hash(token), json.dumps(saml_request),
                          request.query_params.get("RelayState", ""), None, "email", now()))
        return page(request, "email.html", flow=token)

    @app.post("/{tenant}/login")
    async def login(request: Request, tenant: str) -> Response:
        form = {k: v for k, v in (await request.form()).items() if isinstance(v, str)}
        token = form.get("flowToken", "")
        jobs = passwords.Jobs()
        if tenant == cfg.tenant and token and "passwd" in form:  # the password check, off the event loop
            with db.tx() as conn:
                flow = load_flow(conn, token)
                user = conn.execute("SELECT password FROM entra_user WHERE upn=?", (flow.upn,)).fetchone() \
                    if flow and flow.stage == "password" and flow.upn else None
            if user is not None:
                jobs.verify.append((user["password"], form["passwd"]))
        work = await passwords.run(jobs)
        with db.tx() as conn:  # no await inside: one transaction at a time (refssi/deps.py)
            flow = load_flow(conn, token) if tenant == cfg.tenant and token else None
            if flow is None:
                return error_page(request, "AADSTS50132", "The session is not valid due to password expiration "
                                  "or recent password change, or it timed out. Sign in again from the SSI.")
            return step(request, conn, flow, token, form, work)

    def step(request: Request, conn: Any, flow: Flow, token: str, form: dict[str, str],
             work: passwords.PasswordWork) -> Response:
        def go(stage: str, upn: str | None = flow.upn) -> None:
            conn.execute("UPDATE entra_flow SET stage=?, upn=? WHERE token_hash=?", (stage, upn, flow.token_hash))

        user = conn.execute("SELECT * FROM entra_user WHERE upn=?", (flow.upn,)).fetchone() if flow.upn else None
        if flow.stage == "email":
            upn = form.get("loginfmt", "").strip()
            found = conn.execute("SELECT * FROM entra_user WHERE upn=?", (upn,)).fetchone() if upn else None
            if found is None:  # Entra says so at this step (as the real one does for work accounts)
                return page(request, "email.html", flow=token, error=L["unknown_account"], value=upn)
            go("password", found["upn"])
            return page(request, "password.html", flow=token, upn=found["upn"])
        if user is None:
            return error_page(request, "AADSTS50034", "The user account does not exist in this directory.")
        if is_locked(user):
            return page(request, "password.html", flow=token, upn=user["upn"], error=locked_text())
        if flow.stage == "password":
            ok = work.verify(user["password"], form.get("passwd", ""))
            if not ok and not fault(settings, "entra_skip_password_check"):
                register_failure(conn, user)
                return page(request, "password.html", flow=token, upn=user["upn"], error=L["wrong_password"])
            go("code")
            return page(request, "code.html", flow=token, upn=user["upn"])
        if flow.stage == "code":
            if not code_ok(conn, user, form.get("otc", "")):
                register_failure(conn, user)
                return page(request, "code.html", flow=token, upn=user["upn"], error=L["wrong_code"])
            conn.execute("UPDATE entra_user SET failed=0 WHERE upn=?", (user["upn"],))
            go("kmsi")
            return page(request, "kmsi.html", flow=token, upn=user["upn"])
        # stay signed in? (either answer finishes the sign-in): the response goes to the SSI, once
        conn.execute("DELETE FROM entra_flow WHERE token_hash=?", (flow.token_hash,))
        acs = str(flow.request["AssertionConsumerServiceURL"])
        t = now()
        response = security.sign_message(response_key(settings), {
            "ID": "_" + secrets.token_hex(16), "InResponseTo": flow.request.get("ID"),
            "Issuer": f"https://sts.windows.net/{cfg.tenant}/", "Destination": acs,
            "Audience": flow.request.get("Issuer"), "NameID": user["upn"], "NotBefore": t,
            "NotOnOrAfter": t + ASSERTION_LIFETIME, "AuthnMethods": ["pwd", "mfa"],
            "StaySignedIn": form.get("LoginOptions") == "1"})
        origin = urlparse(acs)
        return page(request, "post.html", form_targets=f" {origin.scheme}://{origin.netloc}", action=acs,
                    saml_response=response, relay_state=flow.relay_state)

    def locked_text() -> str:
        return (f"{L['locked']} You've tried to sign in too many times with an incorrect user ID or password. "
                "Try again later.")

    return app


class HostDispatch:
    """ASGI: requests for the Entra host name go to the Entra app, everything else to the SSI."""

    def __init__(self, ssi: Any, entra: Any, entra_host: str) -> None:
        self.ssi, self.entra, self.entra_host = ssi, entra, entra_host

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] in ("http", "websocket"):
            host = next((v.decode("latin-1") for k, v in scope.get("headers", []) if k == b"host"), "")
            name = host.rsplit(":", 1)[0] if not host.startswith("[") else host
            if name.lower() == self.entra_host:
                await self.entra(scope, receive, send)
                return
        await self.ssi(scope, receive, send)
