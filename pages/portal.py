from __future__ import annotations

from playwright.sync_api import APIResponse, Locator

from .base import BasePage


class PortalHome(BasePage):
    """The portal home (/sp?id=index) and the header every portal page shares."""

    def open(self) -> None:
        self.open_portal(self.profile.portal.home_page)

    @property
    def login_confirmation(self) -> Locator:
        """SSI-FR-1a: the confirmation shown after signing in."""
        return self.status.filter(has_text=self.label("home.confirmation"))

    @property
    def sign_out_button(self) -> Locator:
        return self.page.get_by_role("button", name=self.label("home.sign_out"), exact=True)

    @property
    def main_menu(self) -> Locator:
        return self.page.get_by_role("navigation", name="Main menu")

    def menu_item(self, label: str) -> Locator:
        return self.main_menu.get_by_role("link", name=label, exact=True)

    def tile(self, label: str) -> Locator:
        """A link on the home page itself (not in the menu)."""
        return self.page.get_by_role("main").get_by_role("link", name=label, exact=True)

    def follow_tile(self, label: str) -> None:
        self.tile(label).click()
        self.page.wait_for_load_state()

    def links_named(self, label: str) -> Locator:
        """Links anywhere on the page whose name holds `label` (menu, tiles, text)."""
        return self.page.get_by_role("link", name=label)

    def fetch_home(self) -> APIResponse:
        """The home page as the server answers it to this session, without following a redirect."""
        return self.get_without_redirect(self.portal_path(self.profile.portal.home_page))

    def sign_out(self) -> None:
        self.submit_and_wait(self.sign_out_button)


class MessagePage(BasePage):
    """'You are either not authorized or record is not valid' and the 403 page."""

    @property
    def message(self) -> Locator:
        return self.alert
