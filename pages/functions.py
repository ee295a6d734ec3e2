from __future__ import annotations

from playwright.sync_api import Locator, Response

from ssi.profile import ComponentPage

from .base import BasePage


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

    @property
    def access_denied(self) -> Locator:
        return self.heading(self.label("errors.forbidden_heading"))

    @property
    def not_valid_message(self) -> Locator:
        return self.alert.filter(has_text=self.label("errors.not_authorized"))
