"""User administration by an organisation's Administration Users (UC_OrgManager_001..003).

SSI-FR-59: the list of the organisation's accounts (sortable, pageable: user name, name,
account status, last login). SSI-FR-61: create an account (user name unique across every
organisation, names, email, telephone, User IDs, Job Type Roles) with a one-time password
shown once. SSI-FR-60 / FSR-58: edit names, contact details, User IDs and roles (user name
and status read-only), unlock, reset the password, reset MFA, deactivate and reinstate.

An administrator reaches only the accounts of their own organisation: any other sys_id
answers ServiceNow's "not authorized or record is not valid". Every change is validated
in full before anything is written, in the request's single transaction, and recorded in
sys_user_admin_log.
"""

from __future__ import annotations

import re
from typing import Any

from fastapi.responses import Response

from ssi.seed import new_password

from .. import passwords
from ..auth.remember import forget_browsers
from ..db import glide_time, new_sys_id, now
from ..faults import fault
from ..sp.widgets import drawn
from ..web import Ctx, portal_page
from .rules import LIST_FIELDS, NEW, TEXT_FIELDS, status_label, validate
from .store import (
    SORTS,
    STATUS_SQL,
    end_sessions,
    issue_password,
    load_account,
    log,
    org_scope,
    org_user_ids,
    save_links,
)

LIST_PAGE = "user_admin"
USER_PAGE = "user_admin_user"


# ---------------------------------------------------------------- the list (SSI-FR-59)
@portal_page(LIST_PAGE, title="Manage users", component="user_admin", menu="Manage users", menu_order=80)
def user_list(ctx: Ctx) -> Response:
    q = ctx.request.query_params
    size = ctx.profile.user_admin.page_size
    order = q.get("o", "user_name") if q.get("o") in SORTS else "user_name"
    desc = q.get("d") == "desc"
    status = q.get("status", "") if q.get("status") in ("active", "inactive", "locked") else ""
    search = q.get("q", "").strip()[:100]
    cond, params = org_scope(ctx)
    where = [cond]
    params.update(now=now())
    if search:
        like = " LIKE :like ESCAPE '!'"
        where.append(f"(u.user_name{like} OR u.first_name{like} OR u.last_name{like} "
                     f"OR (u.first_name || ' ' || u.last_name){like} OR u.email{like})")
        params["like"] = "%" + re.sub(r"([!%_])", r"!\1", search) + "%"
    base = f"FROM (SELECT u.*, {STATUS_SQL} AS status FROM sys_user u) u WHERE {' AND '.join(where)}"
    if status:
        base += " AND u.status = :status"
        params["status"] = status
    total = ctx.db.execute(f"SELECT COUNT(*) {base}", params).fetchone()[0]
    pages = max(1, -(-total // size))
    try:
        page = min(max(1, int(q.get("p", "1"))), pages)
    except ValueError:
        page = 1
    direction = "DESC" if desc else "ASC"
    rows = ctx.db.execute(
        f"SELECT u.sys_id, u.user_name, u.first_name, u.last_name, u.status, u.last_login_time {base} "
        f"ORDER BY {SORTS[order]} {direction}, u.user_name COLLATE NOCASE {direction} LIMIT :limit OFFSET :offset",
        {**params, "limit": size, "offset": (page - 1) * size},
    ).fetchall()

    def url(**change: str) -> str:
        state = {"q": search, "status": status, "o": order, "d": "desc" if desc else "asc", "p": str(page)}
        state.update(change)
        return ctx.portal_url(LIST_PAGE, **{k: v for k, v in state.items() if v})

    columns = []
    for key, label in (("user_name", "user_name"), ("name", "display_name"), ("status", "status"),
                       ("last_login", "last_login")):
        sorted_here = key == order
        columns.append({
            "label": ctx.profile.label(f"user_admin.{label}"),
            "url": url(o=key, d="asc" if not sorted_here or desc else "desc", p="1"),
            "sort": ("descending" if desc else "ascending") if sorted_here else None,
        })
    users = [{
        "url": ctx.portal_url(USER_PAGE, sys_id=r["sys_id"]),
        "user_name": r["user_name"],
        "name": f"{r['first_name']} {r['last_name']}".strip(),
        "status": status_label(ctx, r["status"]),
        "last_login": r["last_login_time"] or ctx.profile.label("user_admin.never"),
    } for r in rows]
    first = (page - 1) * size + 1 if total else 0
    title = ctx.profile.label("user_admin.heading")
    context = dict(
        users=users, columns=columns,
        search=search, status_filter=status, page=page, pages=pages, total=total, first=first,
        last=first + len(users) - 1,
        prev_url=url(p=str(page - 1)) if page > 1 else None, next_url=url(p=str(page + 1)) if page < pages else None,
        new_url=ctx.portal_url(USER_PAGE, sys_id=NEW), order=order, desc=desc,
        statuses=[(s, status_label(ctx, s)) for s in ("active", "inactive", "locked")],
    )
    return drawn(ctx, "user_admin.html", title, 200, context) or ctx.render("user_admin.html", title=title, **context)


def done(ctx: Ctx, account: dict[str, Any], kind: str, message: str) -> Response:
    """An action that succeeded (or had nothing to do): a message on the account page, or the JSON of it."""
    if ctx.wants_json():
        return ctx.json({"result": {"kind": kind, "message": message, "sys_id": account["sys_id"]}})
    ctx.flash(kind, message)
    return ctx.redirect(ctx.portal_url(USER_PAGE, sys_id=account["sys_id"]))


def render_form(ctx: Ctx, account: dict[str, Any] | None, values: dict[str, Any], errors: dict[str, str],
                general: list[str], status: int = 200) -> Response:
    if ctx.wants_json():
        return ctx.json({"status": "failure", "errors": errors, "general": general,
                         "error": {"message": ctx.profile.label("user_admin.form_errors"), "detail": ""}},
                        status if status >= 400 else 400)
    matrix = ctx.profile.role_matrix
    grantable = set(ctx.profile.assignable_roles())
    history = []
    if account:
        history = [dict(r) for r in ctx.db.execute(
            "SELECT action, detail, actor, sys_created_on FROM sys_user_admin_log WHERE user=? "
            "ORDER BY sys_created_on DESC, rowid DESC LIMIT 10", (account["sys_id"],))]
    title = (f"{account['first_name']} {account['last_name']}".strip() or account["user_name"]) if account \
        else ctx.profile.label("user_admin.create_heading")
    return ctx.render(
        "user_admin_user.html", status=status, title=title, account=account, values=values, errors=errors,
        general=general, user_id_options=[(u, u) for u in org_user_ids(ctx)],
        role_options=[(r.abbr, r.name) for r in matrix.roles
                      if r.abbr in grantable or r.abbr in values.get("roles", [])],
        action_url=ctx.portal_url(USER_PAGE, sys_id=account["sys_id"] if account else NEW),
        list_url=ctx.portal_url(LIST_PAGE), history=history,
        status_text=status_label(ctx, account["status"]) if account else None,
        confirm_url=ctx.portal_url(USER_PAGE, sys_id=account["sys_id"], confirm="deactivate") if account else None,
        is_self=bool(account and account["sys_id"] == ctx.user["sys_id"]),
    )


def secret_message(account: dict[str, Any], what: str) -> str:
    return {"created": f"User {account['user_name']} created.",
            "reset": f"The password of {account['user_name']} was reset."}.get(
        what, f"User {account['user_name']} reinstated.")


def next_steps(account: dict[str, Any]) -> str:
    mfa = "" if account["mfa_method"] else " and set up multi-factor authentication"
    return (f"Give this one-time password to {account['first_name']} {account['last_name']} by a secure route. "
            f"It is shown only this once. At their next login they must change it{mfa}.")


def show_secret(ctx: Ctx, account: dict[str, Any], heading: str, what: str, password: str) -> Response:
    """The one-time password, shown to the administrator once: the response to the POST, never stored in clear."""
    if ctx.wants_json():
        return ctx.json({"result": {"kind": "success", "heading": heading, "message": secret_message(account, what),
                                    "sys_id": account["sys_id"], "user_name": account["user_name"],
                                    "one_time_password": password, "next_steps": next_steps(account)}})
    return ctx.render("user_admin_secret.html", title=heading, account=account, what=what, password=password,
                      user_url=ctx.portal_url(USER_PAGE, sys_id=account["sys_id"]), list_url=ctx.portal_url(LIST_PAGE))


@passwords.prepares("page", USER_PAGE)
def one_time_password_work(peek: passwords.Peek) -> passwords.Jobs:
    """A one-time password and its hash, made in advance for the actions that issue one."""
    sess = peek.session
    creating = peek.request.query_params.get("sys_id") == NEW and peek.form.get("action", "create") == "create"
    if not (peek.csrf_ok and sess and sess["stage"] == "active"):
        return passwords.Jobs()
    if creating or peek.form.get("action") in ("reset_password", "reinstate"):
        return passwords.Jobs(generate=[new_password])
    return passwords.Jobs()


# ---------------------------------------------------------------- create / manage (SSI-FR-58, 60, 61)
@portal_page(USER_PAGE, title="User", component="user_admin")
def user_page(ctx: Ctx) -> Response:
    sys_id = ctx.request.query_params.get("sys_id", "")
    if sys_id == NEW:
        return create_user(ctx)
    account = load_account(ctx, sys_id)
    if account is None:
        return ctx.not_valid()
    if ctx.request.method != "POST":
        if ctx.request.query_params.get("confirm") == "deactivate" and account["active"]:
            return ctx.render("user_admin_confirm.html", title="Deactivate user", account=account,
                              action_url=ctx.portal_url(USER_PAGE, sys_id=sys_id),
                              cancel_url=ctx.portal_url(USER_PAGE, sys_id=sys_id))
        return render_form(ctx, account, account, {}, [])
    action = ctx.form.get("action", "")
    handler = ACTIONS.get(action)
    if handler is None:
        return render_form(ctx, account, account, {}, [f"Unknown action '{action[:40]}'."], status=400)
    return handler(ctx, account)


def create_user(ctx: Ctx) -> Response:
    if ctx.request.method != "POST":
        return render_form(ctx, None, {"user_ids": [], "roles": []}, {}, [])
    if ctx.form.get("action", "create") != "create":
        return render_form(ctx, None, {"user_ids": [], "roles": []}, {},
                           ["Create the account first; other actions apply to an existing account."], status=400)
    values, errors, general = validate(ctx, None)
    if errors or general:
        return render_form(ctx, None, values, errors, general, status=400)
    sys_id, stamp = new_sys_id(), glide_time()
    password, hashed = ctx.passwords.new_password(new_password)
    ctx.db.execute(
        "INSERT INTO sys_user (sys_id, user_name, first_name, last_name, email, phone, company, user_password, "
        "password_needs_reset, mfa_method, source, sys_created_on, sys_updated_on) "
        "VALUES (?,?,?,?,?,?,?,?,1,NULL,'admin',?,?)",
        (sys_id, values["user_name"], values["first_name"], values["last_name"], values["email"], values["phone"],
         ctx.user["company"], hashed, stamp, stamp),
    )
    save_links(ctx, sys_id, values)
    log(ctx, sys_id, "created", f"roles {', '.join(values['roles'])}; User IDs {', '.join(values['user_ids'])}")
    account = load_account(ctx, sys_id)
    return show_secret(ctx, account, "User created", "created", password)


def update_user(ctx: Ctx, account: dict[str, Any]) -> Response:
    values, errors, general = validate(ctx, account)
    if errors or general:
        return render_form(ctx, account, {**account, **values}, errors, general, status=400)
    ctx.db.execute("UPDATE sys_user SET first_name=?, last_name=?, email=?, phone=?, sys_updated_on=? WHERE sys_id=?",
                   (values["first_name"], values["last_name"], values["email"], values["phone"], glide_time(),
                    account["sys_id"]))
    save_links(ctx, account["sys_id"], values)
    changes = [f"{k} {', '.join(account[k]) or '-'} -> {', '.join(values[k])}" for k in LIST_FIELDS
               if account[k] != sorted(values[k])]
    changes += [k for k in TEXT_FIELDS if account[k] != values[k]]
    log(ctx, account["sys_id"], "updated", "; ".join(changes) or "no change")
    return done(ctx, account, "success", f"User {account['user_name']} updated.")


def unlock_user(ctx: Ctx, account: dict[str, Any]) -> Response:
    if account["status"] != "locked":
        return done(ctx, account, "info", f"User {account['user_name']} is not locked.")
    ctx.db.execute("UPDATE sys_user SET locked_out=0, failed_attempts=0, locked_until=0, sys_updated_on=? "
                   "WHERE sys_id=?", (glide_time(), account["sys_id"]))
    log(ctx, account["sys_id"], "unlocked")
    return done(ctx, account, "success", f"User {account['user_name']} unlocked: they can log in again.")


def reset_password(ctx: Ctx, account: dict[str, Any]) -> Response:
    if not account["active"]:
        return render_form(ctx, account, account, {}, ["Reinstate the user before resetting their password."], 400)
    password = issue_password(ctx, account["sys_id"])
    end_sessions(ctx, account["sys_id"])
    log(ctx, account["sys_id"], "password reset")
    return show_secret(ctx, load_account(ctx, account["sys_id"]), "Password reset", "reset", password)


def reset_mfa(ctx: Ctx, account: dict[str, Any]) -> Response:
    if not fault(ctx.settings, "keep_mfa_on_reset"):
        ctx.db.execute("UPDATE sys_user SET mfa_method=NULL, totp_seed=NULL, last_totp_timecode=-1, "
                       "used_totp_steps='[]', sys_updated_on=? WHERE sys_id=?", (glide_time(), account["sys_id"]))
        ctx.db.execute("DELETE FROM mfa_email_code WHERE user=?", (account["sys_id"],))
        forget_browsers(ctx, account["sys_id"])
        end_sessions(ctx, account["sys_id"])
    log(ctx, account["sys_id"], "multi-factor authentication reset")
    return done(ctx, account, "success", f"Multi-factor authentication reset for {account['user_name']}: "
                                         "they must set it up again at their next login.")


def deactivate_user(ctx: Ctx, account: dict[str, Any]) -> Response:
    if account["sys_id"] == ctx.user["sys_id"]:
        return render_form(ctx, account, account, {}, ["You cannot deactivate your own account."], 400)
    if not account["active"]:
        return done(ctx, account, "info", f"User {account['user_name']} is already inactive.")
    if ctx.form.get("confirmed") != "yes":  # the confirmation page sends it; a bare POST does not
        if ctx.wants_json():  # the portal's dialog sends confirmed=yes: a post without it changes nothing
            return ctx.json({"status": "failure", "error": {"message": "Confirm the deactivation first.",
                                                            "detail": "confirmed=yes is missing"}}, 409)
        return ctx.redirect(ctx.portal_url(USER_PAGE, sys_id=account["sys_id"], confirm="deactivate"))
    ctx.db.execute("UPDATE sys_user SET active=0, sys_updated_on=? WHERE sys_id=?", (glide_time(), account["sys_id"]))
    if not fault(ctx.settings, "deactivate_keeps_access"):
        end_sessions(ctx, account["sys_id"])
    log(ctx, account["sys_id"], "deactivated")
    return done(ctx, account, "success", f"User {account['user_name']} deactivated: they can no longer log in.")


def reinstate_user(ctx: Ctx, account: dict[str, Any]) -> Response:
    if account["active"]:
        return done(ctx, account, "info", f"User {account['user_name']} is already active.")
    if not account["roles"]:
        return render_form(ctx, account, account, {"roles": "Give the user at least one Job Type Role, "
                                                            "select Update User, then reinstate them."}, [], 400)
    ctx.db.execute("UPDATE sys_user SET active=1, locked_out=0, failed_attempts=0, locked_until=0, sys_updated_on=? "
                   "WHERE sys_id=?", (glide_time(), account["sys_id"]))
    log(ctx, account["sys_id"], "reinstated")
    if not account["last_login_time"]:  # never logged in (e.g. migrated): no usable password yet
        password = issue_password(ctx, account["sys_id"])
        return show_secret(ctx, load_account(ctx, account["sys_id"]), "User reinstated", "reinstated", password)
    return done(ctx, account, "success", f"User {account['user_name']} reinstated: they can log in again.")


ACTIONS = {
    "update": update_user,
    "unlock": unlock_user,
    "reset_password": reset_password,
    "reset_mfa": reset_mfa,
    "deactivate": deactivate_user,
    "reinstate": reinstate_user,
}
