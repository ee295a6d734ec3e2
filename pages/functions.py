from __future__ import annotations

import re

from playwright.sync_api import Locator, Response, expect

from ssi.profile import ComponentPage

from .base import BasePage
from .portal import MessagePage, PortalHome


class Functions(BasePage):
    """The portal's functions (the role matrix's components): their menu entries and pages.

    Where each one lives and how its menu entry reads come from the target profile
    (profile.component_pages), so the same checks run against any SSI.
    """

    def where(self, key: str) -> ComponentPage:
        return self.profile.component_page(key)

    def path(self, key: str) -> str:
        w = self.where(key)
        return self.portal_path(w.page, **w.params)

    @property
    def main_menu(self) -> Locator:
        return self.page.get_by_role("navigation", name="Main menu")

    @property
    def menu_links(self) -> Locator:
        return self.main_menu.get_by_role("link")

    def menu_entry(self, key: str) -> Locator | None:
        """The menu link labelled as the profile says (None: the function has no menu entry)."""
        label = self.where(key).menu
        return None if label is None else self.main_menu.get_by_role("link", name=label, exact=True)

    def menu_links_to(self, key: str) -> Locator:
        """Menu links that lead to the function's page, whatever their label."""
        return self.main_menu.locator(f'a[href="{self.path(key)}"]')

    def heading_of(self, key: str) -> Locator | None:
        text = self.where(key).heading
        return None if text is None else self.heading(text)

    def open(self, key: str) -> Response:
        """Go to the function's page by its address, as a bookmark or a typed URL would."""
        response = self.page.goto(self.path(key))
        assert response is not None, f"no response for {self.path(key)}"
        return response

    def visit(self, key: str) -> int:
        """Go to the function's page by its address; the HTTP status of the server's answer for it, once
        the page is drawn (its heading, or a refusal)."""
        heading = self.heading_of(key) or self.main.get_by_role("heading")
        return self.visit_page(self.path(key), self.access_denied.or_(self.not_valid_message).or_(heading))

    @property
    def access_denied(self) -> Locator:
        return self.heading(self.label("errors.forbidden_heading"))

    @property
    def not_valid_message(self) -> Locator:
        """ServiceNow's "not authorized or record is not valid": an alert (classic pages) or the text of the
        portal's message widget."""
        text = self.label("errors.not_authorized")
        return self.alert.filter(has_text=text).or_(self.main.get_by_text(text)).first

    # ---- what a person holding (or not holding) a function sees ------------------------------
    def expect_offered(self, key: str) -> None:
        """The function (role-matrix component) is in the menu and its page opens (HTTP 200)."""
        expect(self.main_menu).to_be_visible()
        entry = self.menu_entry(key)
        if entry is not None:  # the profile may say a function has no menu entry (reached from another page)
            expect(entry).to_have_count(1)
            expect(entry).to_have_attribute("href", self.path(key))
        status = self.visit(key)
        assert status == 200, f"{self.path(key)} answered HTTP {status}, not 200"
        expect(self.page).to_have_url(re.compile(re.escape(self.path(key)) + "$"))
        expect(self.access_denied).to_have_count(0)
        heading = self.heading_of(key)
        if heading is not None:
            expect(heading).to_be_visible()
        expect(PortalHome(self.page, self.profile).signed_in).to_be_visible()

    def expect_not_in_menu(self, key: str) -> None:
        # the menu is there and lists functions, so an absent entry means something
        expect(self.menu_links.first).to_be_visible()
        entry = self.menu_entry(key)
        if entry is not None:
            expect(entry).to_have_count(0)
        expect(self.menu_links_to(key)).to_have_count(0)

    def expect_refused_page(self, response_status: int, what: str) -> None:
        """The readable 403 page (SSI-NFR-22)."""
        assert response_status == 403, f"{what} answered HTTP {response_status}, not 403"
        expect(self.access_denied).to_be_visible()
        expect(MessagePage(self.page, self.profile).message).to_contain_text(self.label("errors.forbidden"))

    def expect_withheld(self, key: str) -> None:
        """The function is absent from the menu, and its address answers 403 with a readable page."""
        self.expect_not_in_menu(key)
        self.expect_refused_page(self.visit(key), self.path(key))
        heading = self.heading_of(key)
        if heading is not None:
            expect(heading).to_have_count(0)
