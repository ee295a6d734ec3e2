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
        return self.value_labelled(self.label("user_profile.user_id"))

    @property
    def name(self) -> Locator:
        return self.value_labelled(self.label("user_profile.name"))

    @property
    def roles(self) -> Locator:
        return self.value_labelled(self.label("user_profile.roles"))

    @property
    def user_ids(self) -> Locator:
        return self.value_labelled(self.label("user_profile.user_ids"))

    @property
    def manage_users_link(self) -> Locator:
        return self.page.get_by_role("link", name=self.label("user_admin.manage_my_users"), exact=True)

    @property
    def functions(self) -> Locator:
        return self.page.get_by_role("table", name=self.label("user_profile.functions"))

    def function_availability(self) -> dict[str, str]:
        """{function: 'Yes'/'No'}: each body row's cells under the Function and Available column headers (read
        in one round trip; the function's cell may be the row header or a plain cell)."""
        self.functions.wait_for()
        return self.functions.evaluate(
            """(t, [fn, av]) => {
                   const head = [...t.tHead.rows[0].cells].map(c => c.innerText.trim());
                   const [f, a] = [head.indexOf(fn), head.indexOf(av)];
                   if (f < 0 || a < 0) return {"(column missing)": `columns are ${head.join(", ")}`};
                   return Object.fromEntries([...t.tBodies[0].rows].map(r => [
                       r.cells[f].innerText.trim(), r.cells[a].innerText.trim()]));
               }""", [self.label("user_profile.function"), self.label("user_profile.available")])
