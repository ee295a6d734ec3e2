"""The rules of an account: user name, names and contact details, roles and User IDs of the organisation."""

from __future__ import annotations

import re
from typing import Any

from ..auth.rules import EMAIL_RX, PHONE_RX
from ..faults import fault
from ..web import Ctx
from .store import org_user_ids, role_names

NEW = "-1"  # ServiceNow's sys_id for a record not yet created

USER_NAME_RX = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@-]*$")
CONTROL_RX = re.compile(r"[\x00-\x1f\x7f]")

TEXT_FIELDS = ("first_name", "last_name", "email", "phone")
LIST_FIELDS = ("user_ids", "roles")


def status_label(ctx: Ctx, status: str) -> str:
    return ctx.profile.label(f"user_admin.{status}")


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
        elif len(value) > limits.get(key, 100) - (1 if fault(ctx.settings, "useradmin_limit_exclusive") else 0):
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
