"""Local login with multi-factor authentication, as ServiceNow does it.

Stages of one sign-in: password (login.do or the portal login widget) -> MFA
(verify a code, or enrol on first login) -> password change when an administrator
reset it -> first-login profile (SSI-FR-1) -> active, with a login confirmation on
the portal home (SSI-FR-1a). Failures of the password or the code count towards
the lockout; the session idles out; every rule is checked here, on the server.
"""

from __future__ import annotations

import json
import re
from typing import Any

import pyotp
import segno
from fastapi import APIRouter, Depends
from fastapi.responses import Response

from . import passwords, security
from .db import glide_time, now
from .deps import get_ctx
from .faults import fault
from .web import STAGE_PAGES, Ctx, portal_page, safe_goto

router = APIRouter()

EMAIL_RX = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
PHONE_RX = re.compile(r"^\+?[0-9][0-9 ()-]{8,18}[0-9]$")


def human_duration(seconds: int) -> str:
    if seconds % 60 == 0 and seconds >= 60:
        m = seconds // 60
        return f"{m} minute{'s' if m != 1 else ''}"
    return f"{seconds} second{'s' if seconds != 1 else ''}"


def locked_message(ctx: Ctx) -> str:
    s = ctx.settings
    return (
        f"{ctx.profile.label('login.locked')} after {s.lockout_threshold} failed attempts. "
        f"Try again in {human_duration(s.lockout_seconds)} or ask your organisation's administrator to unlock it."
    )


def is_locked(ctx: Ctx, user: dict[str, Any]) -> bool:
    if fault(ctx.settings, "no_lockout"):
        return False
    if user["locked_out"] and user["locked_until"] and user["locked_until"] <= now():
        # the lockout ran out: unlock automatically (glide.user.unlock_timeout_in_mins)
        ctx.db.execute("UPDATE sys_user SET locked_out=0, failed_attempts=0, locked_until=0 WHERE sys_id=?",
                       (user["sys_id"],))
        user.update(locked_out=0, failed_attempts=0, locked_until=0)
    return bool(user["locked_out"])


def register_failure(ctx: Ctx, user: dict[str, Any]) -> bool:
    """Count a failed password or code; True when this failure locked the account."""
    if fault(ctx.settings, "no_lockout"):
        return False
    n = user["failed_attempts"] + 1
    if n >= ctx.settings.lockout_threshold:
        ctx.db.execute("UPDATE sys_user SET failed_attempts=?, locked_out=1, locked_until=? WHERE sys_id=?",
                       (n, now() + ctx.settings.lockout_seconds, user["sys_id"]))
        return True
    ctx.db.execute("UPDATE sys_user SET failed_attempts=? WHERE sys_id=?", (n, user["sys_id"]))
    return False


def send_email_code(ctx: Ctx, user: dict[str, Any]) -> None:
    cfg = ctx.profile.mfa
    code = security.new_numeric_code(cfg.email_code.digits)
    ctx.db.execute(
        "INSERT OR REPLACE INTO mfa_email_code VALUES (?,?,?,?)",
        (user["sys_id"], security.code_hash(ctx.settings.server_key, user["sys_id"], code), now(),
         now() + ctx.settings.email_code_validity_seconds),
    )
    minutes = human_duration(ctx.settings.email_code_validity_seconds)
    body = (
        f"Hello {user['first_name'] or user['user_name']},\n\n"
        f"Your verification code for the DCC Self-Service Interface is {code}.\n"
        f"It expires in {minutes}. If you did not try to log in, tell your organisation's administrator.\n"
    )
    ctx.outbox.append((user["email"], cfg.email_subject, body))  # type: ignore[attr-defined]


def masked_email(email: str) -> str:
    name, _, domain = email.partition("@")
    return f"{name[:1]}***@{domain}"


# ---------------------------------------------------------------- password stage
def authenticate(ctx: Ctx, user_name: str, password: str) -> tuple[str, str]:
    """('error', message) or ('next', url) after checking a user name and password."""
    invalid = ctx.profile.label("login.invalid")
    row = ctx.db.execute("SELECT * FROM sys_user WHERE user_name=?", (user_name.strip(),)).fetchone()
    user = dict(row) if row else None
    if user and is_locked(ctx, user):
        return "error", locked_message(ctx)
    ok = ctx.passwords.verify(user["user_password"] if user else None, password)
    if fault(ctx.settings, "skip_password_check") and user:
        ok = True
    active = bool(user and (user["active"] or fault(ctx.settings, "deactivate_keeps_access")))
    if not user or not active or not ok:
        if user and active and register_failure(ctx, user):
            return "error", locked_message(ctx)
        return "error", invalid
    if not may_log_in(ctx, user["sys_id"]):
        return "error", ("Your Job Type Roles do not give you access to the SSI. "
                         "Ask your organisation's administrator to assign you a role.")
    stage = "mfa" if user["mfa_method"] else "mfa_setup"
    ctx.new_session(user=user["sys_id"], stage=stage)
    if stage == "mfa" and user["mfa_method"] == "email":
        send_email_code(ctx, user)
    return "next", STAGE_PAGES[stage]


def may_log_in(ctx: Ctx, sys_id: str) -> bool:
    """The role matrix's Log In component (when the matrix has one) must be granted by the user's roles."""
    matrix = ctx.profile.role_matrix
    if not any(c.key == "log_in" for c in matrix.components):
        return True
    roles = [r[0] for r in ctx.db.execute("SELECT role FROM sys_user_has_role WHERE user=?", (sys_id,))]
    return "log_in" in matrix.components_for(roles)


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
    if outcome == "next":
        return ctx.json({"status": "mfa_code_required", "redirect_url": value}) if wants_json else ctx.redirect(value)
    if wants_json:
        return ctx.json({"status": "error", "message": value})
    from .sso import external_login_url

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
    from .sso import external_login_url

    return ctx.render("login.html", title="Log in", external_login=external_login_url(ctx))


# ---------------------------------------------------------------- MFA stage
def _stage_user(ctx: Ctx, *stages: str) -> dict[str, Any] | None:
    if ctx.session and ctx.user and ctx.session["stage"] in stages:
        return ctx.user
    return None


def otpauth_qr(user: dict[str, Any], seed: str, issuer: str) -> str:
    uri = pyotp.TOTP(seed).provisioning_uri(name=user["user_name"], issuer_name=issuer)
    return segno.make(uri, error="m").svg_data_uri(scale=4)


def render_mfa(ctx: Ctx, *, error: str | None = None, status: int = 200) -> Response:
    user = ctx.user
    assert user is not None
    stage = ctx.session["stage"]
    method = user["mfa_method"] if stage == "mfa" else ctx.session["setup_method"]
    info: dict[str, Any] = {"error": error, "stage": stage, "method": method, "methods": ctx.profile.mfa.methods}
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
    user = _stage_user(ctx, "mfa_setup")
    if not user:
        return ctx.redirect(ctx.portal_url(ctx.profile.portal.login_page))
    if not ctx.csrf_ok():
        return csrf_failure(ctx)
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
    user = _stage_user(ctx, "mfa", "mfa_setup")
    if not user:
        return ctx.redirect(ctx.portal_url(ctx.profile.portal.login_page))
    if not ctx.csrf_ok():
        return csrf_failure(ctx)
    method = user["mfa_method"] if ctx.session["stage"] == "mfa" else ctx.session["setup_method"]
    if method == "email":
        send_email_code(ctx, user)
        ctx.flash("info", f"A new code was sent to {masked_email(user['email'])}.")
    return ctx.redirect("/validate_multifactor_auth_code.do")


def check_code(ctx: Ctx, user: dict[str, Any], code: str) -> tuple[bool, str, dict[str, Any]]:
    """(accepted, message if refused, fields to store on the user if accepted)."""
    s = ctx.settings
    cfg = ctx.profile.mfa
    code = code.strip().replace(" ", "")
    invalid = ctx.profile.label("mfa.invalid_code")
    setup_seed = ctx.session["pending_totp_seed"] if ctx.session["stage"] == "mfa_setup" else None
    method = user["mfa_method"] if ctx.session["stage"] == "mfa" else ctx.session["setup_method"]
    if method == "totp":
        seed = setup_seed or user["totp_seed"]
        step = security.totp_match(seed, code, at=now(), window=cfg.totp.valid_window,
                                   interval=cfg.totp.interval, digits=cfg.totp.digits)
        if fault(s, "skip_code_check"):
            step = step if step is not None else int(now() // cfg.totp.interval)
        if step is None:
            return False, f"{invalid}. Enter the current code from your authenticator app.", {}
        # A code already used is refused (its time step is remembered while it could still be valid);
        # an unused code of an earlier step within the window is not, whatever was used since.
        used = [u for u in json.loads(user["used_totp_steps"]) if u >= int(now() // cfg.totp.interval)
                - cfg.totp.valid_window - 1]
        if step in used and not fault(s, "allow_replay"):
            return False, "This code has already been used. Wait for your authenticator app to show a new code.", {}
        store = {"last_totp_timecode": max(step, user["last_totp_timecode"]),
                 "used_totp_steps": json.dumps(sorted({*used, step}))}
        if setup_seed:
            store.update(mfa_method="totp", totp_seed=setup_seed)
        return True, "", store
    row = ctx.db.execute("SELECT * FROM mfa_email_code WHERE user=?", (user["sys_id"],)).fetchone()
    expected = security.code_hash(s.server_key, user["sys_id"], code)
    matches = row is not None and security.same(row["code_hash"], expected)
    if fault(s, "skip_code_check"):
        matches, row = True, row or {"expires_at": now() + 1}
    if not matches:
        resend = ctx.profile.label("mfa.resend")
        return False, f"{invalid}. Check the code in the email we sent you, or select {resend}.", {}
    if row["expires_at"] < now():
        return False, f"This code has expired. Select {ctx.profile.label('mfa.resend')} to get a new one.", {}
    ctx.db.execute("DELETE FROM mfa_email_code WHERE user=?", (user["sys_id"],))
    return True, "", ({"mfa_method": "email"} if not user["mfa_method"] else {})


@router.post("/validate_mfa_code.do")
async def mfa_validate(ctx: Ctx = Depends(get_ctx)) -> Response:
    user = _stage_user(ctx, "mfa", "mfa_setup")
    if not user:
        return ctx.redirect(ctx.portal_url(ctx.profile.portal.login_page))
    if not ctx.csrf_ok():
        return csrf_failure(ctx)
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
    return advance(ctx, user)


def profile_complete(user: dict[str, Any]) -> bool:
    return all(user[k].strip() for k in ("first_name", "last_name", "email", "phone"))


def advance(ctx: Ctx, user: dict[str, Any]) -> Response:
    """Move a user who passed MFA to the next login stage, or finish signing in."""
    if user["password_needs_reset"]:
        ctx.update_session(stage="password_change")
        return ctx.redirect(STAGE_PAGES["password_change"])
    if not profile_complete(user):
        ctx.update_session(stage="profile")
        return ctx.redirect(STAGE_PAGES["profile"])
    goto = safe_goto(ctx.session.get("goto"), ctx.portal_url(ctx.profile.portal.home_page))
    ctx.new_session(user=user["sys_id"], stage="active")  # a new session id once fully signed in
    ctx.update_session(login_confirmation=1, goto="", previous_login=user["last_login_time"])
    ctx.db.execute("UPDATE sys_user SET failed_attempts=0, locked_out=0, locked_until=0, last_login_time=? "
                   "WHERE sys_id=?", (glide_time(), user["sys_id"]))
    return ctx.redirect(goto)


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
        if len(new) < 12 or not (any(c.islower() for c in new) and any(c.isupper() for c in new)
                                 and any(c.isdigit() for c in new)):
            errors["new_password"] = "Use at least 12 characters with upper- and lower-case letters and a digit."
        elif new != confirm:
            errors["confirm_password"] = "The two passwords do not match."
        elif ctx.passwords.verify(ctx.user["user_password"], new):
            errors["new_password"] = "Choose a password different from the one you were given."
        if not errors:
            ctx.db.execute("UPDATE sys_user SET user_password=?, password_needs_reset=0, sys_updated_on=? "
                           "WHERE sys_id=?", (ctx.passwords.hash(new), glide_time(), ctx.user["sys_id"]))
            ctx.user["password_needs_reset"] = 0
            return advance(ctx, ctx.user)
    return ctx.render("password_change.html", status=400 if errors else 200, title="Change password", errors=errors)


def validate_contact(form: dict[str, str]) -> tuple[dict[str, str], dict[str, str]]:
    values = {k: form.get(k, "").strip() for k in ("first_name", "last_name", "email", "phone")}
    errors = {}
    for k, label in (("first_name", "First name"), ("last_name", "Last name"), ("email", "Email"),
                     ("phone", "Contact telephone number")):
        if not values[k]:
            errors[k] = f"{label} is required."
        elif len(values[k]) > 100:
            errors[k] = f"{label} must be at most 100 characters."
    if "email" not in errors and not EMAIL_RX.match(values["email"]):
        errors["email"] = "Enter an email address like name@example.com."
    if "phone" not in errors and not PHONE_RX.match(values["phone"]):
        errors["phone"] = "Enter a telephone number of 10 to 15 digits, e.g. 01632 960123."
    return values, errors


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


@router.post("/logout.do")
async def logout(ctx: Ctx = Depends(get_ctx)) -> Response:
    if not ctx.csrf_ok():
        return csrf_failure(ctx)
    ctx.new_session(flash=[("info", ctx.profile.label("home.signed_out") + ".")])
    return ctx.redirect(ctx.portal_url(ctx.profile.portal.login_page))

