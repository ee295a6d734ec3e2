"""Accounts in the database, within the administrator's organisation: loading, links, passwords, the log."""

from __future__ import annotations

from typing import Any

from ssi.seed import new_password

from ..db import glide_time, new_sys_id, now
from ..faults import fault
from ..web import Ctx

SORTS = {
    "user_name": "u.user_name COLLATE NOCASE",
    "name": "(u.first_name || ' ' || u.last_name) COLLATE NOCASE",
    "status": "status",
    "last_login": "u.last_login_time",
}
STATUS_SQL = ("CASE WHEN u.active=0 THEN 'inactive' "
              "WHEN u.locked_out=1 AND (u.locked_until=0 OR u.locked_until>:now) THEN 'locked' ELSE 'active' END")


# ---------------------------------------------------------------- helpers
def org_scope(ctx: Ctx) -> tuple[str, dict[str, Any]]:
    """SQL condition (on alias u) restricting accounts to the administrator's organisation."""
    if fault(ctx.settings, "no_org_scope"):
        return "1=1", {}
    return "u.company = :company", {"company": ctx.user["company"]}


def org_user_ids(ctx: Ctx) -> list[str]:
    return [r[0] for r in ctx.db.execute("SELECT user_id FROM org_user_id WHERE company=? ORDER BY user_id",
                                         (ctx.user["company"],))]


def load_account(ctx: Ctx, sys_id: str) -> dict[str, Any] | None:
    """The account if it belongs to the administrator's organisation, else None."""
    cond, params = org_scope(ctx)
    row = ctx.db.execute(f"SELECT u.*, {STATUS_SQL} AS status FROM sys_user u WHERE u.sys_id=:sys_id AND {cond}",
                         {"sys_id": sys_id, "now": now(), **params}).fetchone()
    if row is None:
        return None
    acc = dict(row)
    acc["roles"] = [r[0] for r in ctx.db.execute("SELECT role FROM sys_user_has_role WHERE user=? ORDER BY role",
                                                 (sys_id,))]
    acc["user_ids"] = [r[0] for r in ctx.db.execute("SELECT user_id FROM sys_user_org WHERE user=? ORDER BY user_id",
                                                    (sys_id,))]
    return acc


def log(ctx: Ctx, user: str, action: str, detail: str = "") -> None:
    ctx.db.execute("INSERT INTO sys_user_admin_log VALUES (?,?,?,?,?,?)",
                   (new_sys_id(), user, ctx.user["user_name"], action, detail, glide_time()))


def end_sessions(ctx: Ctx, user: str) -> None:
    ctx.db.execute("DELETE FROM sys_session WHERE user=?", (user,))


def role_names(ctx: Ctx) -> dict[str, str]:
    return {r.abbr: r.name for r in ctx.profile.role_matrix.roles}


def issue_password(ctx: Ctx, sys_id: str) -> str:
    password, hashed = ctx.passwords.new_password(new_password)
    ctx.db.execute("UPDATE sys_user SET user_password=?, password_needs_reset=1, locked_out=0, failed_attempts=0, "
                   "locked_until=0, sys_updated_on=? WHERE sys_id=?", (hashed, glide_time(), sys_id))
    return password


def save_links(ctx: Ctx, sys_id: str, values: dict[str, Any]) -> None:
    ctx.db.execute("DELETE FROM sys_user_has_role WHERE user=?", (sys_id,))
    ctx.db.executemany("INSERT INTO sys_user_has_role VALUES (?,?)", [(sys_id, r) for r in values["roles"]])
    ctx.db.execute("DELETE FROM sys_user_org WHERE user=?", (sys_id,))
    ctx.db.executemany("INSERT INTO sys_user_org VALUES (?,?)", [(sys_id, u) for u in values["user_ids"]])
