from __future__ import annotations

import re

from playwright.sync_api import Locator, expect

from uept.runtime.secrets import Secret
from uept.runtime.tracing import private

from .base import BasePage
from .functions import Functions

# How scenarios name the fields of an account, and the profile label of each.
FIELDS = {
    "user name": "user_name",
    "first name": "first_name",
    "last name": "last_name",
    "email": "email",
    "email address": "email",
    "telephone": "phone",
    "account status": "status",
    "organisations": "organisations",
    "job type roles": "roles",
}
GROUPS = {"organisations", "roles"}


def field_key(name: str) -> str:
    try:
        return FIELDS[name.strip().lower()]
    except KeyError:
        raise AssertionError(f'unknown account field "{name}" (known: {", ".join(FIELDS)})') from None


class UserListPage(BasePage):
    """Manage users: the organisation's accounts, sortable and pageable (SSI-FR-59)."""

    COLUMNS = {"user name": "user_name", "name": "display_name", "account status": "status",
               "last login": "last_login"}

    def open(self, **params: str) -> None:
        where = self.profile.component_page("user_admin")
        self.open_portal(where.page, **{**where.params, **params})
        self.table.wait_for()

    @property
    def heading_(self) -> Locator:
        return self.heading(self.label("user_admin.heading"))

    @property
    def table(self) -> Locator:
        return self.page.get_by_role("table", name=self.label("user_admin.table"), exact=True)

    @property
    def create_button(self) -> Locator:
        return self.page.get_by_role("link", name=self.label("user_admin.create"), exact=True)

    def start_new_user(self) -> None:
        """Follow "Create user" to the new account form."""
        self.follow(self.create_button)

    @property
    def search_box(self) -> Locator:
        return self.page.get_by_role("searchbox", name=self.label("user_admin.search"), exact=True)

    @property
    def status_filter(self) -> Locator:
        """The status filter: a native select (classic) or the select2 drawn over a hidden one (the portal)."""
        return self.labelled(self.label("user_admin.status_filter"))

    @property
    def pagination(self) -> Locator:
        return self.page.get_by_role("navigation", name=self.label("user_admin.pagination"), exact=True)

    @property
    def next_page_link(self) -> Locator:
        return self.pagination.get_by_role("link", name=self.label("user_admin.next"), exact=True)

    def column_label(self, column: str) -> str:
        try:
            return self.label(f"user_admin.{self.COLUMNS[column.strip().lower()]}")
        except KeyError:
            raise AssertionError(f'unknown column "{column}" (known: {", ".join(self.COLUMNS)})') from None

    def column_header(self, column: str) -> Locator:
        return self.table.get_by_role("columnheader", name=re.compile(rf"^{re.escape(self.column_label(column))}\b"))

    def search(self, text: str, status: str | None = None) -> None:
        self.search_box.fill(text)
        params = {"q": text}
        if status is not None:
            self.choose(self.status_filter, status)
            params["status"] = self.status_filter.and_(self.page.locator("select")).input_value()
        self.search_with(self.page.get_by_role("button", name=self.label("user_admin.search_button"), exact=True),
                         **params)

    def sort_by(self, column: str, direction: str = "ascending") -> None:
        """Select the column's header until the list is sorted by it in that direction (aria-sort)."""
        for _ in range(2):  # the first selection may sort the other way (the list was sorted by it already)
            self.follow(self.column_header(column).get_by_role("link"))
            if self.column_header(column).get_attribute("aria-sort") == direction:
                return

    def next_page(self) -> None:
        self.follow(self.next_page_link)

    def user_rows(self) -> Locator:
        """Rows of accounts (each starts with its user name as row header)."""
        return self.table.get_by_role("row").filter(has=self.page.get_by_role("rowheader"))

    def rows(self) -> list[dict[str, str]]:
        """The accounts shown, as {column label: text}."""
        headers = [h.inner_text().strip(" ▲▼") for h in self.table.get_by_role("columnheader").all()]
        out = []
        for row in self.user_rows().all():
            values = [row.get_by_role("rowheader").inner_text().strip()]
            values += [c.inner_text().strip() for c in row.get_by_role("cell").all()]
            out.append(dict(zip(headers, values, strict=True)))
        return out

    def column_values(self, column: str) -> list[str]:
        label = self.column_label(column)
        return [r[label] for r in self.rows()]

    def row(self, user_name: str) -> Locator:
        return self.user_rows().filter(has=self.page.get_by_role("rowheader", name=user_name, exact=True))

    def cell(self, user_name: str, column: str) -> Locator:
        """One account's value in a column (the first column is the row header)."""
        headers = [h.inner_text().strip(" ▲▼") for h in self.table.get_by_role("columnheader").all()]
        index = headers.index(self.column_label(column))
        row = self.row(user_name)
        return row.get_by_role("rowheader") if index == 0 else row.get_by_role("cell").nth(index - 1)

    def find(self, text: str) -> None:
        """Show the accounts matching text (user name, name or email), any status."""
        self.open(q=text)

    def open_user(self, user_name: str) -> None:
        """Open an account from the list: done once its form is drawn (on the Service Portal the route changes
        before the account widget's reply arrives, and the form's choices are read at once after this)."""
        self.find(user_name)
        self.follow(self.row(user_name).get_by_role("link", name=user_name, exact=True))
        UserFormPage(self.page, self.profile).field("user name").wait_for()


class UserFormPage(BasePage):
    """Create a user, or manage one: details, Job Type Roles, User IDs and account actions (SSI-FR-58/60/61)."""

    PAGE = "user_admin_user"  # the reference SSI's account page: sys_id=-1 is a new account (ServiceNow's form)

    def open_new(self) -> None:
        self.open_portal(self.PAGE, sys_id="-1")
        self.field("user name").wait_for()

    def visit_account(self, url: str) -> int:
        """Open an account page by its address; the HTTP status of the server's answer for it (BasePage.visit_page)
        once the form or a refusal is drawn."""
        refusal = Functions(self.page, self.profile)
        return self.visit_page(url, self.field("user name").or_(refusal.not_valid_message).or_(refusal.access_denied))

    def back_to_account(self, user_name: str) -> None:
        """From the page showing a one-time password, back to the account."""
        self.follow(self.page.get_by_role("link", name=f"Back to {user_name}", exact=True))

    def field(self, name: str) -> Locator:
        """A text field, or the fieldset of a group of checkboxes (organisations, Job Type Roles)."""
        key = field_key(name)
        label = self.label(f"user_admin.{key}")
        if key in GROUPS:
            return self.page.get_by_role("group", name=label, exact=True)
        return self.page.get_by_label(label, exact=True)

    # ---- the User IDs and Job Type Roles: a group of checkboxes (classic) or a typeahead picker whose
    # choices are chips (the Service Portal); the same intents on both, judged by what the page shows
    def _chosen(self, group: str) -> Locator:
        """The choices made in a picker: its chips (the list named "<label>: chosen")."""
        label = self.label(f"user_admin.{field_key(group)}")
        return self.field(group).get_by_role("list", name=f"{label}: chosen", exact=True).get_by_role("listitem")

    def held(self, group: str) -> Locator:
        """The choices a group holds: its checked boxes, or its picker's chips."""
        return self.field(group).get_by_role("checkbox", checked=True).or_(self._chosen(group))

    def holds(self, group: str, choice: str) -> Locator:
        """The one checked box, or chip, of this choice (visible when the group holds it)."""
        return self.field(group).get_by_role("checkbox", name=choice, exact=True, checked=True).or_(
            self._chosen(group).and_(self.page.get_by_role("listitem", name=choice, exact=True)))

    @property
    def checked_roles(self) -> Locator:
        return self.held("job type roles")

    def holds_role(self, role_name: str) -> Locator:
        return self.holds("job type roles", role_name)

    def _choice_names(self, group: str) -> list[str]:
        """Every choice the group offers (a picker's list shows them when its box is empty and focused)."""
        box = self.field(group)
        boxes = box.get_by_role("checkbox")
        if boxes.count():
            return [self.page.locator(f'label[for="{b.get_attribute("id")}"]').inner_text().strip()
                    for b in boxes.all()]
        picker = box.get_by_role("combobox")
        picker.fill("")
        picker.press("ArrowDown")  # an empty picker lists every choice not yet made
        options = box.get_by_role("listbox").get_by_role("option")
        expect(box.get_by_role("listbox")).to_be_visible()
        names = [self.attr_name(li) for li in self._chosen(group).all()]
        names += [o.inner_text().strip() for o in options.all()]
        picker.press("Escape")
        return names

    @staticmethod
    def attr_name(item: Locator) -> str:
        return item.get_attribute("aria-label") or item.inner_text().strip()

    def set_choices(self, group: str, wanted: list[str]) -> None:
        """Make the group hold exactly these choices (by their visible names)."""
        box = self.field(group)
        boxes = box.get_by_role("checkbox")
        if boxes.count():
            for b in boxes.all():
                name = self.page.locator(f'label[for="{b.get_attribute("id")}"]').inner_text().strip()
                b.set_checked(name in wanted)
            return
        for name in [self.attr_name(li) for li in self._chosen(group).all()]:
            if name not in wanted:
                box.get_by_role("button", name=f"Remove {name}", exact=True).click()
                expect(self.holds(group, name)).to_have_count(0)
        for name in wanted:
            if not self.holds(group, name).count():
                self.pick(group, name)

    def pick(self, group: str, choice: str) -> None:
        """Type a choice into a picker and select it from the list that follows the typing."""
        box = self.field(group)
        box.get_by_role("combobox").fill(choice)
        box.get_by_role("listbox").get_by_role("option", name=choice, exact=True).click()
        expect(self.holds(group, choice)).to_be_visible()

    def available_user_ids(self) -> list[str]:
        return self._choice_names("organisations")

    def fill(self, values: dict[str, str], roles: list[str] | None = None, user_ids: list[str] | None = None) -> None:
        """Type the given text fields; set the Job Type Roles and User IDs to exactly the lists given."""
        for name, value in values.items():
            self.field(name).fill(value)
        if roles is not None:
            self.set_choices("job type roles", roles)
        if user_ids is not None:
            self.set_choices("organisations", user_ids)

    def set_role(self, role_name: str, held: bool) -> None:
        box = self.field("job type roles").get_by_role("checkbox", name=role_name, exact=True)
        if box.count():
            box.set_checked(held)
        elif held and not self.holds_role(role_name).count():
            self.pick("job type roles", role_name)
        elif not held and self.holds_role(role_name).count():
            self.field("job type roles").get_by_role("button", name=f"Remove {role_name}", exact=True).click()
            expect(self.holds_role(role_name)).to_have_count(0)

    def change_role(self, role_name: str, held: bool, user_name: str) -> None:
        """Give or take away one Job Type Role and save: done when the page confirms the save of this user
        and the role's box shows the change."""
        self.set_role(role_name, held)
        self.submit_update()
        expect(self.status.filter(has_text=user_name)).to_be_visible()
        expect(self.holds_role(role_name)).to_have_count(1 if held else 0)

    @property
    def create_button(self) -> Locator:
        return self.page.get_by_role("button", name=self.label("user_admin.submit_create"), exact=True)

    @property
    def update_button(self) -> Locator:
        return self.page.get_by_role("button", name=self.label("user_admin.submit_update"), exact=True)

    @property
    def new_account_path(self) -> str:
        return self.portal_path(self.PAGE, sys_id="-1")

    def submit_create(self) -> None:
        """Create the account. The next page may show its one-time password: kept out of the trace."""
        with private(self.page):
            self.act(self.create_button, done=self.secret_or_refusal)

    def submit_update(self) -> None:
        self.act(self.update_button)

    @property
    def secret_or_refusal(self) -> Locator:
        """What a post that may answer with a one-time password shows: the password, the confirmation (when
        none was needed) or why it was refused. Waited for inside private(), so that the trace resumes only
        once the page holding the password is there."""
        return self.one_time_password.or_(self.alert).or_(self.status).filter(visible=True).first

    @property
    def error_summary(self) -> Locator:
        return self.alert.filter(has_text=self.label("user_admin.form_errors"))

    # ---- the one-time password (create, reset password, reinstate) -----------
    @property
    def one_time_password(self) -> Locator:
        return self.page.get_by_label(self.label("user_admin.one_time_password"), exact=True)

    def read_one_time_password(self, owner: str) -> Secret:
        with private(self.page):
            return Secret(self.one_time_password.inner_text().strip(), f"one-time password of {owner}")

    # ---- account actions ----------------------------------------------------------
    def _action(self, label_key: str, *, secret_next: bool = False) -> None:
        button = self.page.get_by_role("button", name=self.label(f"user_admin.{label_key}"), exact=True)
        if secret_next:
            with private(self.page):
                self.act(button, done=self.secret_or_refusal)
        else:
            self.act(button)

    def unlock(self) -> None:
        self._action("unlock")

    def reset_password(self) -> None:
        self._action("reset_password", secret_next=True)

    def reset_mfa(self) -> None:
        self._action("reset_mfa")

    def reinstate(self) -> None:
        self._action("reinstate", secret_next=True)

    def deactivate(self) -> None:
        """Deactivate, accepting the confirmation the SSI asks for: a page the link opens (classic) or a
        dialog the button opens (the Service Portal)."""
        name = self.label("user_admin.deactivate")
        link = self.page.get_by_role("link", name=name, exact=True)
        if link.count():
            self.follow(link)
        else:
            self.page.get_by_role("button", name=name, exact=True).click()
            expect(self.page.get_by_role("dialog")).to_be_visible()
        self._action("confirm_deactivate")
