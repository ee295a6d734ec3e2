"""'Remember this browser' on the MFA page, as ServiceNow's MFA browser remembering does it: a later sign-in
of the same user in the same browser skips the code for a while.

The browser holds a random token in a long-lived cookie; the SSI keeps only its digest, with the user and an
expiry. Resetting a user's MFA forgets every browser of theirs; another user signing in in that browser is
asked for a code. Only a sign-in whose password was checked here can use it: never a way past the password.
"""

from __future__ import annotations

from typing import Any

from .. import security
from ..db import now
from ..faults import fault
from ..web import Ctx

COOKIE = "glide_mfa_remembered_browser"  # assumed name: what matters is that it is the server's to honour


def offered(ctx: Ctx) -> bool:
    return ctx.profile.mfa.remember_browser_days > 0


def remember(ctx: Ctx, user: dict[str, Any]) -> None:
    """Remember this browser for the user (after a code was accepted): set the cookie on this response."""
    seconds = ctx.profile.mfa.remember_browser_days * 86400
    token = security.new_token()
    ctx.db.execute("DELETE FROM mfa_remembered_browser WHERE expires_at < ?", (now(),))
    ctx.db.execute("INSERT INTO mfa_remembered_browser VALUES (?,?,?)",
                   (security.token_hash(token), user["sys_id"], now() + seconds))
    ctx.cookies[COOKIE] = (token, seconds)


def is_remembered(ctx: Ctx, user: dict[str, Any]) -> bool:
    token = ctx.request.cookies.get(COOKIE, "")
    if not (offered(ctx) and user["mfa_method"] and token):
        return False
    row = ctx.db.execute("SELECT user FROM mfa_remembered_browser WHERE token_hash=? AND expires_at>?",
                         (security.token_hash(token), now())).fetchone()
    return row is not None and (row["user"] == user["sys_id"] or fault(ctx.settings, "remembered_for_anyone"))


def forget_browsers(ctx: Ctx, user_sys_id: str) -> None:
    ctx.db.execute("DELETE FROM mfa_remembered_browser WHERE user=?", (user_sys_id,))
