"""Local login with multi-factor authentication, as ServiceNow does it.

Stages of one sign-in: password (login.do or the portal login widget) -> MFA
(verify a code, or enrol on first login) -> password change when an administrator
reset it -> first-login profile (SSI-FR-1) -> active, with a login confirmation on
the portal home (SSI-FR-1a). Failures of the password or the code count towards
the lockout; the session idles out; every rule is checked here, on the server.
"""

from __future__ import annotations

from typing import Any

import pyotp
import segno
from fastapi import APIRouter, Depends
from fastapi.responses import Response

from .. import passwords
from ..db import glide_time
from ..deps import get_ctx
from ..faults import fault
from ..web import Ctx, portal_page
from . import remember
from .rules import (
    advance,
    authenticate,
    check_code,
    is_locked,
    locked_message,
    masked_email,
    register_failure,
    send_email_code,
    validate_contact,
)
from .sso import external_login_url

router = APIRouter()


@passwords.prepares("route", "/login.do")
@passwords.prepares("page", "login")
def login_password_work(peek: passwords.Peek) -> passwords.Jobs:
    """The password check of authenticate(), against the stored hash (a dummy one for no such user)."""
    if not (peek.csrf_ok and "user_password" in peek.form):
        return passwords.Jobs()
    stored = peek.stored_hash(peek.form.get("user_name", ""))
    return passwords.Jobs(verify=[(stored, peek.form["user_password"])])


def login_form_post(ctx: Ctx, template: str) -> Response:
    if not ctx.csrf_ok():
        return csrf_failure(ctx)
    outcome, value = authenticate(ctx, ctx.form.get("user_name", ""), ctx.form.get("user_password", ""))
    wants_json = "application/json" in ctx.request.headers.get("accept", "")
    if outcome == "remembered":  # this browser was remembered at an earlier sign-in: no code asked
        moved = advance(ctx, ctx.user)
        return ctx.json({"status": "success", "redirect_url": moved.headers["location"]}) if wants_json else moved
    if outcome == "next":
        return ctx.json({"status": "mfa_code_required", "redirect_url": value}) if wants_json else ctx.redirect(value)
    if wants_json:
        return ctx.json({"status": "error", "message": value})
    return ctx.render(template, status=200, title="Log in", error=value, user_name=ctx.form.get("user_name", ""),
                      external_login=external_login_url(ctx))


def csrf_failure(ctx: Ctx) -> Response:
    return ctx.render("message.html", status=403, title="Invalid security token",
                      message="Invalid security token: the page was open too long or came from another site. "
                              "Reload the page and try again.")


@router.get("/login.do")
async def login_do(ctx: Ctx = Depends(get_ctx)) -> Response:
    if ctx.signed_in:
        return ctx.redirect(ctx.portal_url(ctx.profile.portal.home_page))
    return ctx.render("login_classic.html", title="Log in")


@router.post("/login.do")
async def login_do_post(ctx: Ctx = Depends(get_ctx)) -> Response:
    return login_form_post(ctx, "login_classic.html")


@portal_page("login", title="Log in", public=True)
def portal_login(ctx: Ctx) -> Response:
    if ctx.request.method == "POST":
        return login_form_post(ctx, "login.html")
    if ctx.signed_in:
        return ctx.redirect(ctx.portal_url(ctx.profile.portal.home_page))
    return ctx.render("login.html", title="Log in", external_login=external_login_url(ctx))


# ---------------------------------------------------------------- MFA stage
def _stage_user(ctx: Ctx, *stages: str) -> dict[str, Any] | None:
    if ctx.session and ctx.user and ctx.session["stage"] in stages:
        return ctx.user
    return None


def _stage_post(ctx: Ctx, *stages: str) -> tuple[dict[str, Any], None] | tuple[None, Response]:
    """(the user, None) for a post at one of these sign-in stages with a good token; else (None, the answer)."""
    user = _stage_user(ctx, *stages)
    if not user:
        return None, ctx.redirect(ctx.portal_url(ctx.profile.portal.login_page))
    if not ctx.csrf_ok():
        return None, csrf_failure(ctx)
    return user, None


def otpauth_qr(user: dict[str, Any], seed: str, issuer: str) -> str:
    uri = pyotp.TOTP(seed).provisioning_uri(name=user["user_name"], issuer_name=issuer)
    return segno.make(uri, error="m").svg_data_uri(scale=4)


def render_mfa(ctx: Ctx, *, error: str | None = None, status: int = 200) -> Response:
    user = ctx.user
    assert user is not None
    stage = ctx.session["stage"]
    method = user["mfa_method"] if stage == "mfa" else ctx.session["setup_method"]
    info: dict[str, Any] = {"error": error, "stage": stage, "method": method, "methods": ctx.profile.mfa.methods,
                            "remember_browser": remember.offered(ctx)}
    if stage == "mfa_setup" and method == "totp":
        seed = ctx.session["pending_totp_seed"]
        info.update(setup_key=" ".join(seed[i:i + 4] for i in range(0, len(seed), 4)),
                    qr=otpauth_qr(user, seed, ctx.profile.portal.title))
    if method == "email":
        info["email"] = masked_email(user["email"])
    return ctx.render("mfa.html", status=status, title=ctx.profile.label("mfa.heading"), **info)


@router.get("/validate_multifactor_auth_code.do")
async def mfa_page(ctx: Ctx = Depends(get_ctx)) -> Response:
    if not _stage_user(ctx, "mfa", "mfa_setup"):
        return ctx.redirect(ctx.portal_url(ctx.profile.portal.login_page))
    return render_mfa(ctx)


@router.post("/multifactor_setup.do")
async def mfa_choose(ctx: Ctx = Depends(get_ctx)) -> Response:
    user, refused = _stage_post(ctx, "mfa_setup")
    if refused:
        return refused
    method = ctx.form.get("method", "")
    if method not in ctx.profile.mfa.methods:
        return render_mfa(ctx, error="Choose how you want to receive verification codes.", status=400)
    if method == "totp":
        ctx.update_session(setup_method="totp", pending_totp_seed=pyotp.random_base32(32))
        ctx.db.execute("DELETE FROM mfa_email_code WHERE user=?", (user["sys_id"],))
    else:
        ctx.update_session(setup_method="email", pending_totp_seed=None)
        send_email_code(ctx, user)
    return ctx.redirect("/validate_multifactor_auth_code.do")


@router.post("/mfa_resend_code.do")
async def mfa_resend(ctx: Ctx = Depends(get_ctx)) -> Response:
    user, refused = _stage_post(ctx, "mfa", "mfa_setup")
    if refused:
        return refused
    method = user["mfa_method"] if ctx.session["stage"] == "mfa" else ctx.session["setup_method"]
    if method == "email":
        send_email_code(ctx, user)
        ctx.flash("info", f"A new code was sent to {masked_email(user['email'])}.")
    return ctx.redirect("/validate_multifactor_auth_code.do")


@router.post("/validate_mfa_code.do")
async def mfa_validate(ctx: Ctx = Depends(get_ctx)) -> Response:
    user, refused = _stage_post(ctx, "mfa", "mfa_setup")
    if refused:
        return refused
    if is_locked(ctx, user):
        ctx.new_session(flash=[("danger", locked_message(ctx))])
        return ctx.redirect(ctx.portal_url(ctx.profile.portal.login_page))
    if ctx.session["stage"] == "mfa_setup" and not ctx.session["setup_method"]:
        return render_mfa(ctx, error="Choose how you want to receive verification codes.", status=400)
    ok, message, store = check_code(ctx, user, ctx.form.get("txtResponse", ""))
    if not ok:
        if register_failure(ctx, user):
            ctx.new_session(flash=[("danger", locked_message(ctx))])
            return ctx.redirect(ctx.portal_url(ctx.profile.portal.login_page))
        user["failed_attempts"] += 1
        return render_mfa(ctx, error=message, status=200)
    if store:
        cols = ", ".join(f"{k}=?" for k in store)
        ctx.db.execute(f"UPDATE sys_user SET {cols} WHERE sys_id=?", (*store.values(), user["sys_id"]))
        user.update(store)
    ctx.update_session(pending_totp_seed=None, setup_method=None)
    if ctx.form.get("remember_browser") and remember.offered(ctx):
        remember.remember(ctx, user)
    return advance(ctx, user)


# ---------------------------------------------------------------- after MFA
@passwords.prepares("page", "password_change")
def password_change_work(peek: passwords.Peek) -> passwords.Jobs:
    """Is the new password the old one, and its hash."""
    sess, new = peek.session, peek.form.get("new_password", "")
    if not (peek.csrf_ok and new and sess and sess["stage"] == "password_change" and sess["user_password"]):
        return passwords.Jobs()
    return passwords.Jobs(verify=[(sess["user_password"], new)], hash=[new])


@portal_page("password_change", title="Change password", login_stage="password_change")
def password_change(ctx: Ctx) -> Response:
    errors: dict[str, str] = {}
    if ctx.request.method == "POST":
        new, confirm = ctx.form.get("new_password", ""), ctx.form.get("confirm_password", "")
        s = ctx.settings
        if (len(new) < 12 or not (any(c.islower() for c in new) and any(c.isupper() for c in new)
                                  and any(c.isdigit() for c in new))) and not fault(s, "weak_passwords"):
            errors["new_password"] = "Use at least 12 characters with upper- and lower-case letters and a digit."
        elif new != confirm and not fault(s, "no_password_confirmation"):
            errors["confirm_password"] = "The two passwords do not match."
        elif ctx.passwords.verify(ctx.user["user_password"], new) and not fault(s, "keep_one_time_password"):
            errors["new_password"] = "Choose a password different from the one you were given."
        if not errors:
            ctx.db.execute("UPDATE sys_user SET user_password=?, password_needs_reset=0, sys_updated_on=? "
                           "WHERE sys_id=?", (ctx.passwords.hash(new), glide_time(), ctx.user["sys_id"]))
            ctx.user["password_needs_reset"] = 0
            return advance(ctx, ctx.user)
    return ctx.render("password_change.html", status=400 if errors else 200, title="Change password", errors=errors)


@portal_page("complete_profile", title="Complete your profile", login_stage="profile")
def complete_profile(ctx: Ctx) -> Response:
    user = ctx.user
    values = {k: user[k] for k in ("first_name", "last_name", "email", "phone")}
    errors: dict[str, str] = {}
    if ctx.request.method == "POST":
        values, errors = validate_contact(ctx.form)
        if not errors:
            ctx.db.execute("UPDATE sys_user SET first_name=?, last_name=?, email=?, phone=?, sys_updated_on=? "
                           "WHERE sys_id=?", (*values.values(), glide_time(), user["sys_id"]))
            user.update(values)
            return advance(ctx, user)
    return ctx.render("complete_profile.html", status=400 if errors else 200, title="Complete your profile",
                      values=values, errors=errors)


# ---------------------------------------------------------------- sign out
@router.get("/logout.do")
async def logout_page(ctx: Ctx = Depends(get_ctx)) -> Response:
    if not ctx.signed_in:
        return ctx.redirect(ctx.portal_url(ctx.profile.portal.login_page))
    return ctx.render("logout.html", title=ctx.profile.label("home.sign_out"))


_FAILED_ONCE: set[str] = set()  # test-only faults that have had their one failure in this server process


@router.post("/logout.do")
async def logout(ctx: Ctx = Depends(get_ctx)) -> Response:
    if not ctx.csrf_ok():
        return csrf_failure(ctx)
    if fault(ctx.settings, "signout_fails_once") and "signout_fails_once" not in _FAILED_ONCE:
        _FAILED_ONCE.add("signout_fails_once")  # test-only: a transient failure, for retries to meet
        return Response("Service temporarily unavailable. Please try again.", status_code=503,
                        media_type="text/plain")
    ctx.new_session(flash=[("info", ctx.profile.label("home.signed_out") + ".")])
    return ctx.redirect(ctx.portal_url(ctx.profile.portal.login_page))
