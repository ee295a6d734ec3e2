from __future__ import annotations

from playwright.sync_api import Locator

from uept.runtime.secrets import Secret
from uept.runtime.tracing import private

from .base import BasePage


class LoginPage(BasePage):
    """The portal login widget (/sp?id=login) or the classic /login.do page: same labels, shown as labels or
    (the portal widget's hint text) as placeholders."""

    @property
    def user_name(self) -> Locator:
        return self.labelled(self.label("login.username"))

    @property
    def password(self) -> Locator:
        return self.labelled(self.label("login.password"))

    @property
    def log_in(self) -> Locator:
        return self.page.get_by_role("button", name=self.label("login.submit"), exact=True)

    @property
    def external_login(self) -> Locator:
        """The link to single sign-on with Microsoft Entra ID."""
        return self.page.get_by_role("link", name=self.label("login.external"), exact=True)

    @property
    def locate_heading(self) -> Locator:
        """The page "Use external login" opens first when the profile says so (sso.locate_page)."""
        return self.heading(self.label("login.locate_heading"))

    def use_external_login(self, user_name: str) -> None:
        """Follow "Use external login"; on the page asking for the user name (login_locate_sso.do), give it.
        Returns on the identity provider's sign-in page. Both are document loads."""
        self.submit_and_wait(self.external_login)
        if self.profile.sso.locate_page:
            self.locate_heading.wait_for()
            self.labelled(self.label("login.username")).fill(user_name)
            self.submit_and_wait(self.page.get_by_role("button", name=self.label("login.locate_submit"), exact=True))

    def open(self, classic: bool = False) -> None:
        if classic:
            self.page.goto("/login.do")
        else:
            self.open_portal(self.profile.portal.login_page)
        self.user_name.wait_for()

    def sign_in(self, user_name: str, password: Secret) -> None:
        """Type the user name and password and log in; returns on the next page (MFA, or login with an error)."""
        with private(self.page):
            self.user_name.fill(user_name)
            self.password.fill(password.reveal())
            self.submit_and_wait(self.log_in)

    @property
    def is_shown(self) -> Locator:
        return self.heading(self.label("login.heading"))
