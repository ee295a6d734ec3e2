"""The login rules: password and lockout, the Log In component, codes, the stages after MFA, contact details."""

from __future__ import annotations

import json
import re
from typing import Any

from fastapi.responses import Response

from .. import security
from ..db import glide_time, now
from ..faults import fault
from ..web import STAGE_PAGES, Ctx, safe_goto
from .remember import is_remembered

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


def lockout_threshold(ctx: Ctx) -> int:
    """The failures that lock an account (the profile's session.lockout_threshold)."""
    off_by = -1 if fault(ctx.settings, "lockout_one_early") else 1 if fault(ctx.settings, "lockout_one_late") else 0
    return ctx.settings.lockout_threshold + off_by


def email_code_validity(ctx: Ctx) -> int:
    """Seconds an emailed code stays valid (the profile's mfa.email_code.validity_seconds)."""
    if fault(ctx.settings, "email_code_30_minutes"):
        return 1800
    return ctx.settings.email_code_validity_seconds - (60 if fault(ctx.settings, "email_code_expires_early") else 0)


def register_failure(ctx: Ctx, user: dict[str, Any]) -> bool:
    """Count a failed password or code; True when this failure locked the account."""
    if fault(ctx.settings, "no_lockout"):
        return False
    n = user["failed_attempts"] + 1
    if n >= lockout_threshold(ctx):
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
         now() + email_code_validity(ctx)),
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
    """('error', message), ('next', url) or ('remembered', '') (this browser skips the code: advance())
    after checking a user name and password."""
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
    if stage == "mfa" and is_remembered(ctx, user):
        return "remembered", ""
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
        window = cfg.totp.valid_window
        if fault(s, "totp_window_3"):
            window = 3
        step = security.totp_match(seed, code, at=now(), window=window,
                                   interval=cfg.totp.interval, digits=cfg.totp.digits)
        if step is not None and step < int(now() // cfg.totp.interval) and fault(s, "totp_no_earlier_step"):
            step = None
        if fault(s, "skip_code_check"):
            step = step if step is not None else int(now() // cfg.totp.interval)
        if step is None:
            return False, f"{invalid}. Enter the current code from your authenticator app.", {}
        # A code already used is refused (its time step is remembered while it could still be valid);
        # an unused code of an earlier step within the window is not, whatever was used since.
        used = [u for u in json.loads(user["used_totp_steps"]) if u >= int(now() // cfg.totp.interval)
                - cfg.totp.valid_window - 1]
        if fault(s, "replay_after_step"):
            used = [u for u in used if u >= int(now() // cfg.totp.interval)]
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
    enrolled = not user["mfa_method"] and not fault(ctx.settings, "email_enrolment_forgotten")
    return True, "", ({"mfa_method": "email"} if enrolled else {})


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
