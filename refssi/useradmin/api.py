"""The user and company tables (sys_user, core_company) on the Table API."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..tableapi.model import ANY, Call, Field, TableDef, register


# ---------------------------------------------------------------- core tables
def _own_company(column: str) -> Callable[[Call], tuple[str, list[Any]]]:
    def scope(call: Call) -> tuple[str, list[Any]]:
        if call.principal.admin:
            return "", []
        return f"{column} = ?", [call.principal.company]

    return scope


register(
    TableDef(
        name="sys_user",
        label="User",
        display_field="name",
        scope=_own_company("sys_user.company"),  # people see the accounts of their own organisation only
        read=ANY,
        fields=(
            # never the password hash, the authenticator seed or lockout internals
            Field("sys_id", "guid", "Sys ID", column="sys_user.sys_id", read_only=True),
            Field("user_name", "string", "User ID", read_only=True),
            Field("first_name", "string", "First name"),
            Field("last_name", "string", "Last name"),
            Field("name", "string", "Name", column="trim(first_name || ' ' || last_name)", read_only=True),
            Field("email", "string", "Email"),
            Field("phone", "string", "Business phone"),
            Field(
                "company",
                "reference",
                "Company",
                reference="core_company",
                column="sys_user.company",
                read_only=True,
            ),
            Field("active", "boolean", "Active", read_only=True),
            Field("locked_out", "boolean", "Locked out", read_only=True),
            Field("last_login_time", "glide_date_time", "Last login time", read_only=True),
            Field(
                "enable_multifactor_authn",
                "boolean",
                "Enable Multifactor Authentication",
                column="(mfa_method IS NOT NULL)",
                read_only=True,
            ),
            Field(
                "roles",
                "string",
                "Roles",
                read_only=True,
                column="(SELECT group_concat(role, ',') FROM sys_user_has_role r "
                "WHERE r.user = sys_user.sys_id)",
            ),
            Field("sys_created_on", "glide_date_time", "Created", read_only=True),
            Field("sys_updated_on", "glide_date_time", "Updated", read_only=True),
        ),
    )
)

register(
    TableDef(
        name="core_company",
        label="Company",
        display_field="name",
        scope=_own_company("core_company.sys_id"),
        read=ANY,
        fields=(
            Field("sys_id", "guid", "Sys ID", column="core_company.sys_id", read_only=True),
            Field("name", "string", "Name", read_only=True),
            Field("u_key", "string", "Key", column='"key"', read_only=True),
            Field("u_sec_party_id", "string", "SEC Party ID", column="sec_party_id", read_only=True),
            Field("u_user_role", "string", "SEC User Role", column="user_role", read_only=True),
        ),
    )
)
