from __future__ import annotations

from playwright.sync_api import Locator

from .base import BasePage


class CompleteProfilePage(BasePage):
    """First login: name, email and telephone (SSI-FR-1)."""

    FIELDS = ("first_name", "last_name", "email", "phone")

    @property
    def heading_(self) -> Locator:
        return self.heading(self.label("first_login.heading"))

    def field(self, name: str) -> Locator:
        return self.page.get_by_label(self.label(f"first_login.{name}"), exact=True)

    def complete(self, **values: str) -> None:
        for name in self.FIELDS:
            if name in values:
                self.field(name).fill(values[name])
        self.act(self.page.get_by_role("button", name=self.label("first_login.save"), exact=True))


class UserProfilePage(BasePage):
    """My profile (/sp?id=user_profile): user ID, organisations, roles, functions Yes/No (SSI-FR-62/63)."""

    def open(self) -> None:
        self.open_portal("user_profile")

    @property
    def user_id(self) -> Locator:
        return self.page.locator("#profile_user_name")

    @property
    def roles(self) -> Locator:
        return self.page.locator("#profile_roles")

    @property
    def user_ids(self) -> Locator:
        return self.page.locator("#profile_user_ids")

    @property
    def manage_users_link(self) -> Locator:
        return self.page.get_by_role("link", name=self.label("user_admin.manage_my_users"), exact=True)

    @property
    def functions(self) -> Locator:
        return self.page.get_by_role("table", name="Functions available to me")

    def function_availability(self) -> dict[str, str]:
        """{function: 'Yes'/'No'}: each body row's row header and its last cell (read in one round trip)."""
        self.functions.wait_for()
        return self.functions.evaluate(
            """t => Object.fromEntries([...t.tBodies[0].rows].map(r => [
                   r.querySelector('th[scope=row]').innerText.trim(),
                   r.cells[r.cells.length - 1].innerText.trim()]))""")
