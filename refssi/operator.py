"""Operator controls: what DCC staff, carriers or the clock do in real life,
driven on demand by the harness instead of by waiting. Bearer-token protected;
the token is generated per run and handed to the harness only."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Depends, Header, HTTPException, Request
from pydantic import BaseModel, Field

from . import security

router = APIRouter(prefix="/_operator")


def require_operator(request: Request, authorization: str = Header("")) -> None:
    token = request.app.state.settings.operator_token
    if not security.same(authorization, f"Bearer {token}"):
        raise HTTPException(401, "operator token required")


@router.get("/health")
async def health() -> dict:
    return {"status": "ok"}


class Age(BaseModel):
    kind: Literal["session", "email_code", "lockout"]
    user_name: str
    seconds: float = Field(gt=0)


@router.post("/age", dependencies=[Depends(require_operator)])
async def age(body: Age, request: Request) -> dict:
    """Make time pass for one user's session, emailed code or lockout."""
    db = request.app.state.db
    with db.tx() as c:
        row = c.execute("SELECT sys_id FROM sys_user WHERE user_name=?", (body.user_name,)).fetchone()
        if row is None:
            raise HTTPException(404, f"no user {body.user_name}")
        uid, s = row[0], body.seconds
        if body.kind == "session":
            n = c.execute("UPDATE sys_session SET last_activity=last_activity-? WHERE user=?", (s, uid)).rowcount
        elif body.kind == "email_code":
            n = c.execute("UPDATE mfa_email_code SET created_at=created_at-?, expires_at=expires_at-? WHERE user=?",
                          (s, s, uid)).rowcount
        else:
            n = c.execute("UPDATE sys_user SET locked_until=locked_until-? WHERE sys_id=? AND locked_out=1",
                          (s, uid)).rowcount
    return {"updated": n}


@router.get("/users/{user_name}", dependencies=[Depends(require_operator)])
async def user_state(user_name: str, request: Request) -> dict:
    """Account state for the harness's own tests (never secrets)."""
    with request.app.state.db.tx() as c:
        row = c.execute("SELECT user_name, active, locked_out, failed_attempts, mfa_method, last_login_time, "
                        "password_needs_reset, substr(user_password,1,10) AS hash_prefix FROM sys_user "
                        "WHERE user_name=?", (user_name,)).fetchone()
        if row is None:
            raise HTTPException(404, f"no user {user_name}")
        sessions = c.execute("SELECT COUNT(*) FROM sys_session s JOIN sys_user u ON s.user=u.sys_id "
                             "WHERE u.user_name=? AND s.stage='active'", (user_name,)).fetchone()[0]
    return {**dict(row), "active_sessions": sessions}


@router.get("/password_work", dependencies=[Depends(require_operator)])
async def password_work() -> dict:
    """How many password hashes and verifications ran on the event loop and how many on worker threads."""
    return dict(security.PASSWORD_WORK)
