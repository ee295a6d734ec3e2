"""The account page of user administration (create a user, or manage one) as a Service Portal widget.

Same rules and store as the classic page; only the portal differs. The widget draws the text fields, the
User IDs and Job Type Roles as typeahead pickers (a combobox whose list filters as you type; the choices
made are removable chips), the account's actions and its history. Saves and actions are XHR posts, with
X-UserToken, to the page's own address (/sp?id=user_admin_user&sys_id=...), form-encoded as the classic
form posts them and asking for JSON (portal.py answers: {"result": {...}} or 400 {"errors", "general"});
a deactivation is confirmed in a modal dialog first; a one-time password is shown once, in the widget.
"""

from __future__ import annotations

from typing import Any

from ..sp.widgets import Widgets, from_handler, not_valid, sp_page, sp_view
from ..web import Ctx
from .portal import LIST_PAGE, USER_PAGE, user_list
from .rules import NEW, status_label
from .store import load_account, org_user_ids

MFA = {"totp": "Authenticator app", "email": "Email one-time code"}


def picker(ctx: Ctx, key: str, label_key: str, options: list[tuple[str, str]], selected: list[str]) -> dict:
    return {"name": key, "label": ctx.profile.label(f"user_admin.{label_key}"),
            "options": [{"value": v, "label": lab} for v, lab in options], "selected": list(selected)}


@sp_page(USER_PAGE)
def account_widgets(ctx: Ctx) -> Widgets:
    sys_id = ctx.request.query_params.get("sys_id", "")
    account = None if sys_id == NEW else load_account(ctx, sys_id)
    if sys_id != NEW and account is None:
        raise not_valid(ctx)
    L = ctx.profile.labels["user_admin"]
    values: dict[str, Any] = account or {"user_ids": [], "roles": []}
    grantable = set(ctx.profile.assignable_roles())
    roles = [(r.abbr, r.name) for r in ctx.profile.role_matrix.roles
             if r.abbr in grantable or r.abbr in values["roles"]]
    widget: dict[str, Any] = {
        "type": "account", "sys_id": sys_id, "post_url": ctx.portal_url(USER_PAGE, sys_id=sys_id),
        "list_url": ctx.portal_url(LIST_PAGE), "list_label": L["heading"],
        "heading": (f"{account['first_name']} {account['last_name']}".strip() or account["user_name"]) if account
        else L["create_heading"],
        "form_errors": L["form_errors"],
        "fields": [{"name": k, "label": L[k], "value": values.get(k) or "", "type": t,
                    "readonly": bool(account) and k == "user_name"}
                   for k, t in (("user_name", "text"), ("first_name", "text"), ("last_name", "text"),
                                ("email", "email"), ("phone", "tel"))],
        "pickers": [picker(ctx, "user_ids", "organisations", [(u, u) for u in org_user_ids(ctx)], values["user_ids"]),
                    picker(ctx, "roles", "roles", roles, values["roles"])],
        "submit": {"action": "update" if account else "create",
                   "label": L["submit_update"] if account else L["submit_create"]},
        "one_time_password_label": L["one_time_password"], "back_label": "Back to {user_name}",
    }
    if account:
        widget["fields"].insert(1, {"name": "account_status", "label": L["status"], "type": "text",
                                    "value": status_label(ctx, account["status"]), "readonly": True, "sent": False})
        actions = []
        if account["status"] == "locked":
            actions.append({"action": "unlock", "label": L["unlock"]})
        if account["active"]:
            actions += [{"action": "reset_password", "label": L["reset_password"]},
                        {"action": "reset_mfa", "label": L["reset_mfa"]}]
            if account["sys_id"] != ctx.user["sys_id"]:
                actions.append({"action": "deactivate", "label": L["deactivate"], "confirm": {
                    "title": f"{L['deactivate']}?", "submit": L["confirm_deactivate"], "cancel": L["cancel"],
                    "intro": f"Deactivate {account['first_name']} {account['last_name']} ({account['user_name']})? "
                             "They will no longer be able to log in, and any session they have open ends now. "
                             "You can reinstate them later."}})
        else:
            actions.append({"action": "reinstate", "label": L["reinstate"]})
        widget["account"] = {
            "facts": [{"label": L["last_login"], "value": account["last_login_time"] or L["never"]},
                      {"label": "Multi-factor authentication", "value": MFA.get(account["mfa_method"], "Not set up")}],
            "actions": actions,
            "history": [dict(r) for r in ctx.db.execute(
                "SELECT action, detail, actor, sys_created_on FROM sys_user_admin_log WHERE user=? "
                "ORDER BY sys_created_on DESC, rowid DESC LIMIT 10", (account["sys_id"],))],
        }
    return {"title": widget["heading"], "widgets": [widget]}


@sp_view("user_admin.html")
def user_list_widget(ctx: Ctx, *, users, columns, search, status_filter, statuses, order, desc, page, pages, total,
                     first, last, prev_url, next_url, new_url, **_: Any) -> dict[str, Any]:
    """Manage users as a record widget (sp_record.js): search and status filter (a select2) by route change, the
    sortable columns (aria-sort), the accounts and the pager, as the classic list shows them."""
    L = ctx.profile.labels["user_admin"]
    hidden = {**({"o": order} if order != "user_name" else {}), **({"d": "desc"} if desc else {})}
    fields = [{"name": "q", "label": L["search"], "value": search, "maxlength": 100},
              {"name": "status", "label": L["status_filter"], "kind": "choice", "value": status_filter,
               "placeholder": L["any_status"], "choices": [{"value": k, "label": v} for k, v in statuses]}]
    rows = [{"header": {"text": u["user_name"], "url": u["url"]}, "cells": [u["name"], u["status"], u["last_login"]]}
            for u in users]
    pager = {"kind": "pager", "label": L["pagination"],
             "text": f"Page {page} of {pages}: users {first} to {last} of {total}",
             "prev": {"url": prev_url, "label": L["previous"]} if prev_url else None,
             "next": {"url": next_url, "label": L["next"]} if next_url else None}
    return {"type": "record", "blocks": [
        {"kind": "heading", "text": L["heading"]},
        {"kind": "links", "links": [{"label": L["create"], "url": new_url, "class": "btn-primary"}]},
        {"kind": "search", "label": L["search"], "button": L["search_button"], "url": ctx.portal_url(LIST_PAGE),
         "fields": fields, "hidden": hidden},
        {"kind": "table", "label": L["table"], "rows": rows, "empty": "No users match.",
         "columns": [{"text": c["label"], "url": c["url"], "sort": c["sort"]} for c in columns]},
        pager]}


sp_page(LIST_PAGE)(from_handler(user_list))
