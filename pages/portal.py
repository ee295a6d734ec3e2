from __future__ import annotations

from playwright.sync_api import APIResponse, Locator, expect

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
        """Log out: a button in the classic header, a link in the Service Portal's user menu."""
        name = self.label("home.sign_out")
        return self.page.get_by_role("button", name=name, exact=True).or_(
            self.page.get_by_role("link", name=name, exact=True)).or_(
            self.page.get_by_role("menuitem", name=name, exact=True))

    @property
    def user_menu(self) -> Locator:
        """The Service Portal header's user (avatar) menu button, which opens Profile and Log out."""
        return self.page.get_by_role("banner").locator("[aria-haspopup]")

    @property
    def signed_in(self) -> Locator:
        """What shows that someone is signed in on this page: a visible Log out, or the user menu that holds it."""
        return self.sign_out_button.or_(self.user_menu).filter(visible=True).first

    def open_user_menu(self) -> None:
        """Open the user menu when Log out and Profile sit in it, closed (a no-op on classic pages)."""
        if self.user_menu.count() and not self.sign_out_button.is_visible():
            self.user_menu.click()
            expect(self.sign_out_button).to_be_visible()

    @property
    def main_menu(self) -> Locator:
        return self.page.get_by_role("navigation", name="Main menu")

    def menu_item(self, label: str) -> Locator:
        return self.main_menu.get_by_role("link", name=label, exact=True)

    def tile(self, label: str) -> Locator:
        """A link on the home page itself (not in the menu)."""
        return self.page.get_by_role("main").get_by_role("link", name=label, exact=True)

    def follow_tile(self, label: str) -> None:
        """Follow a home-page link: done when the address is the link's (a document load on classic pages,
        a History-API route change on the Service Portal)."""
        self.follow(self.tile(label))

    def links_named(self, label: str) -> Locator:
        """Links anywhere on the page whose name holds `label` (menu, tiles, text)."""
        return self.page.get_by_role("link", name=label)

    def fetch_home(self) -> APIResponse:
        """The home page as the server answers it to this session, without following a redirect."""
        return self.get_without_redirect(self.portal_path(self.profile.portal.home_page))

    def sign_out(self) -> None:
        self.open_user_menu()
        self.submit_and_wait(self.sign_out_button)  # logout.do: a real document load on both generations
        confirm = self.main.get_by_role("button", name=self.label("home.sign_out"), exact=True)
        if confirm.count():  # the menu's link opened logout.do, which asks to confirm with a post
            self.submit_and_wait(confirm)


class MessagePage(BasePage):
    """'You are either not authorized or record is not valid' and the 403 page."""

    @property
    def message(self) -> Locator:
        """The message the page gives: an alert (classic pages), or a portal message widget's text under its
        heading."""
        under_heading = self.main.get_by_role("heading", level=1).locator("xpath=following-sibling::p[1]")
        return self.alert.or_(under_heading).first
