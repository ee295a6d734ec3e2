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

from . import passwords
from .auth.rules import EMAIL_RX, PHONE_RX
from .db import glide_time, new_sys_id, now
from .faults import fault
from .web import Ctx, portal_page

LIST_PAGE = "user_admin"
USER_PAGE = "user_admin_user"
NEW = "-1"  # ServiceNow's sys_id for a record not yet created

USER_NAME_RX = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@-]*$")
CONTROL_RX = re.compile(r"[\x00-\x1f\x7f]")

SORTS = {
    "user_name": "u.user_name COLLATE NOCASE",
    "name": "(u.first_name || ' ' || u.last_name) COLLATE NOCASE",
    "status": "status",
    "last_login": "u.last_login_time",
}
STATUS_SQL = ("CASE WHEN u.active=0 THEN 'inactive' "
              "WHEN u.locked_out=1 AND (u.locked_until=0 OR u.locked_until>:now) THEN 'locked' ELSE 'active' END")

TEXT_FIELDS = ("first_name", "last_name", "email", "phone")
LIST_FIELDS = ("user_ids", "roles")


# ---------------------------------------------------------------- helpers
def org_scope(ctx: Ctx) -> tuple[str, dict[str, Any]]:
    """SQL condition (on alias u) restricting accounts to the administrator's organisation."""
    if fault(ctx.settings, "no_org_scope"):
        return "1=1", {}
    return "u.company = :company", {"company": ctx.user["company"]}


def org_user_ids(ctx: Ctx) -> list[str]:
    return [r[0] for r in ctx.db.execute("SELECT user_id FROM org_user_id WHERE company=? ORDER BY user_id",
                                         (ctx.user["company"],))]


def status_label(ctx: Ctx, status: str) -> str:
    return ctx.profile.label(f"user_admin.{status}")


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
    return ctx.render(
        "user_admin.html", title=ctx.profile.label("user_admin.heading"), users=users, columns=columns,
        search=search, status_filter=status, page=page, pages=pages, total=total, first=first,
        last=first + len(users) - 1,
        prev_url=url(p=str(page - 1)) if page > 1 else None, next_url=url(p=str(page + 1)) if page < pages else None,
        new_url=ctx.portal_url(USER_PAGE, sys_id=NEW), order=order, desc=desc,
        statuses=[(s, status_label(ctx, s)) for s in ("active", "inactive", "locked")],
    )


# ---------------------------------------------------------------- validation
def validate(ctx: Ctx, account: dict[str, Any] | None) -> tuple[dict[str, Any], dict[str, str], list[str]]:
    """(values, errors per field, errors about the form) for a create (account None) or an update."""
    form: dict[str, str] = ctx.form
    lists: dict[str, list[str]] = getattr(ctx, "form_lists", {})
    limits = ctx.profile.user_admin.max_lengths
    names = role_names(ctx)
    labels = ctx.profile.labels["user_admin"]
    errors: dict[str, str] = {}
    general: list[str] = []
    creating = account is None

    allowed = {"sysparm_ck", "action", *TEXT_FIELDS, *LIST_FIELDS} | ({"user_name"} if creating else set())
    for key in sorted(set(form) - allowed):
        if key == "user_name":
            if form[key].strip().casefold() != account["user_name"].casefold():
                errors["user_name"] = "The user name cannot be changed."
        elif key in ("active", "status", "locked_out"):
            general.append(f"The account status cannot be set in this form (field '{key}'): "
                           "use Deactivate, Reinstate or Unlock.")
        else:
            general.append(f"The field '{key[:40]}' cannot be set in this form.")
    for key in (*TEXT_FIELDS, "user_name"):
        if len(lists.get(key, [])) > 1:
            errors[key] = f"{labels.get(key, key)} was sent more than once."

    values: dict[str, Any] = {k: form.get(k, "").strip() for k in TEXT_FIELDS}
    if creating:
        values["user_name"] = form.get("user_name", "").strip()
    for key, value in values.items():
        label = labels.get(key, key)
        if key in errors:
            continue
        if key in ("first_name", "last_name", "email", "user_name") and not value:
            errors[key] = f"{label} is required."
        elif len(value) > limits.get(key, 100):
            errors[key] = f"{label} must be at most {limits.get(key, 100)} characters (you entered {len(value)})."
        elif CONTROL_RX.search(value):
            errors[key] = f"{label} must not contain control characters such as line breaks or tabs."
    if creating and "user_name" not in errors:
        if not USER_NAME_RX.match(values["user_name"]):
            errors["user_name"] = ("Use letters, digits and the characters . _ - @ only, "
                                   "starting with a letter or a digit.")
        elif ctx.db.execute("SELECT 1 FROM sys_user WHERE user_name=?", (values["user_name"],)).fetchone():
            errors["user_name"] = (f"The user name '{values['user_name']}' {labels['duplicate_user_name']}. "
                                   "Choose another user name.")
    if "email" not in errors and not EMAIL_RX.match(values["email"]):
        errors["email"] = "Enter an email address like name@example.com."
    if "phone" not in errors and values["phone"] and not PHONE_RX.match(values["phone"]):
        errors["phone"] = "Enter a telephone number of 10 to 15 digits, e.g. 01632 960123, or leave it empty."

    own_ids = org_user_ids(ctx)
    user_ids = list(dict.fromkeys(v.strip() for v in lists.get("user_ids", []) if v.strip()))
    foreign = [u for u in user_ids if u not in own_ids]
    if foreign:
        errors["user_ids"] = (f"'{foreign[0][:40]}' is not a User ID of your organisation. "
                              "Choose from the User IDs listed.")
    elif not user_ids:
        errors["user_ids"] = "Choose at least one organisation (User ID)."
    values["user_ids"] = user_ids

    roles = list(dict.fromkeys(v.strip() for v in lists.get("roles", []) if v.strip()))
    unknown = [r for r in roles if r not in names]
    grantable = ctx.profile.assignable_roles()
    refused = [r for r in roles if r in names and r not in grantable]
    if unknown:
        errors["roles"] = f"'{unknown[0][:40]}' is not a Job Type Role. Choose from the roles listed."
    elif refused:
        errors["roles"] = (f"You may not grant the role {names[refused[0]]} ({refused[0]}). "
                           f"Roles you may grant: {', '.join(names[r] for r in grantable)}.")
    elif not roles:
        errors["roles"] = "Choose at least one Job Type Role."
    elif (not creating and account["sys_id"] == ctx.user["sys_id"]
          and "user_admin" not in ctx.profile.role_matrix.components_for(roles)):
        errors["roles"] = ("You cannot remove your own access to user administration. "
                           "Ask another administrator of your organisation to change your roles.")
    values["roles"] = roles
    return values, errors, general


def render_form(ctx: Ctx, account: dict[str, Any] | None, values: dict[str, Any], errors: dict[str, str],
                general: list[str], status: int = 200) -> Response:
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


def show_secret(ctx: Ctx, account: dict[str, Any], heading: str, what: str, password: str) -> Response:
    """The one-time password, shown to the administrator once: the response to the POST, never stored in clear."""
    return ctx.render("user_admin_secret.html", title=heading, account=account, what=what, password=password,
                      user_url=ctx.portal_url(USER_PAGE, sys_id=account["sys_id"]), list_url=ctx.portal_url(LIST_PAGE))


def issue_password(ctx: Ctx, sys_id: str) -> str:
    password, hashed = ctx.passwords.new_password(new_password)
    ctx.db.execute("UPDATE sys_user SET user_password=?, password_needs_reset=1, locked_out=0, failed_attempts=0, "
                   "locked_until=0, sys_updated_on=? WHERE sys_id=?", (hashed, glide_time(), sys_id))
    return password


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


def save_links(ctx: Ctx, sys_id: str, values: dict[str, Any]) -> None:
    ctx.db.execute("DELETE FROM sys_user_has_role WHERE user=?", (sys_id,))
    ctx.db.executemany("INSERT INTO sys_user_has_role VALUES (?,?)", [(sys_id, r) for r in values["roles"]])
    ctx.db.execute("DELETE FROM sys_user_org WHERE user=?", (sys_id,))
    ctx.db.executemany("INSERT INTO sys_user_org VALUES (?,?)", [(sys_id, u) for u in values["user_ids"]])


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
    ctx.flash("success", f"User {account['user_name']} updated.")
    return ctx.redirect(ctx.portal_url(USER_PAGE, sys_id=account["sys_id"]))


def unlock_user(ctx: Ctx, account: dict[str, Any]) -> Response:
    if account["status"] != "locked":
        ctx.flash("info", f"User {account['user_name']} is not locked.")
    else:
        ctx.db.execute("UPDATE sys_user SET locked_out=0, failed_attempts=0, locked_until=0, sys_updated_on=? "
                       "WHERE sys_id=?", (glide_time(), account["sys_id"]))
        log(ctx, account["sys_id"], "unlocked")
        ctx.flash("success", f"User {account['user_name']} unlocked: they can log in again.")
    return ctx.redirect(ctx.portal_url(USER_PAGE, sys_id=account["sys_id"]))


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
        end_sessions(ctx, account["sys_id"])
    log(ctx, account["sys_id"], "multi-factor authentication reset")
    ctx.flash("success", f"Multi-factor authentication reset for {account['user_name']}: "
                         "they must set it up again at their next login.")
    return ctx.redirect(ctx.portal_url(USER_PAGE, sys_id=account["sys_id"]))


def deactivate_user(ctx: Ctx, account: dict[str, Any]) -> Response:
    if account["sys_id"] == ctx.user["sys_id"]:
        return render_form(ctx, account, account, {}, ["You cannot deactivate your own account."], 400)
    if not account["active"]:
        ctx.flash("info", f"User {account['user_name']} is already inactive.")
        return ctx.redirect(ctx.portal_url(USER_PAGE, sys_id=account["sys_id"]))
    if ctx.form.get("confirmed") != "yes":  # the confirmation page sends it; a bare POST does not
        return ctx.redirect(ctx.portal_url(USER_PAGE, sys_id=account["sys_id"], confirm="deactivate"))
    ctx.db.execute("UPDATE sys_user SET active=0, sys_updated_on=? WHERE sys_id=?", (glide_time(), account["sys_id"]))
    if not fault(ctx.settings, "deactivate_keeps_access"):
        end_sessions(ctx, account["sys_id"])
    log(ctx, account["sys_id"], "deactivated")
    ctx.flash("success", f"User {account['user_name']} deactivated: they can no longer log in.")
    return ctx.redirect(ctx.portal_url(USER_PAGE, sys_id=account["sys_id"]))


def reinstate_user(ctx: Ctx, account: dict[str, Any]) -> Response:
    if account["active"]:
        ctx.flash("info", f"User {account['user_name']} is already active.")
        return ctx.redirect(ctx.portal_url(USER_PAGE, sys_id=account["sys_id"]))
    if not account["roles"]:
        return render_form(ctx, account, account, {"roles": "Give the user at least one Job Type Role, "
                                                            "select Update User, then reinstate them."}, [], 400)
    ctx.db.execute("UPDATE sys_user SET active=1, locked_out=0, failed_attempts=0, locked_until=0, sys_updated_on=? "
                   "WHERE sys_id=?", (glide_time(), account["sys_id"]))
    log(ctx, account["sys_id"], "reinstated")
    if not account["last_login_time"]:  # never logged in (e.g. migrated): no usable password yet
        password = issue_password(ctx, account["sys_id"])
        return show_secret(ctx, load_account(ctx, account["sys_id"]), "User reinstated", "reinstated", password)
    ctx.flash("success", f"User {account['user_name']} reinstated: they can log in again.")
    return ctx.redirect(ctx.portal_url(USER_PAGE, sys_id=account["sys_id"]))


ACTIONS = {
    "update": update_user,
    "unlock": unlock_user,
    "reset_password": reset_password,
    "reset_mfa": reset_mfa,
    "deactivate": deactivate_user,
    "reinstate": reinstate_user,
}
