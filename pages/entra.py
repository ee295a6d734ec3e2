from __future__ import annotations

from urllib.parse import urlparse

from playwright.sync_api import Locator

from uept.runtime.secrets import Secret
from uept.runtime.tracing import private

from .base import BasePage


class EntraSignIn(BasePage):
    """Microsoft Entra ID's sign-in pages (login.microsoftonline.com), reached by "Use external login".

    Locators are user-facing: the roles and accessible names Microsoft gives its controls (their
    texts in the profile's labels.entra), with the names and ids public automation relies on as
    fallbacks (loginfmt, passwd, otc), so the same page object works on the legacy sign-in UI and
    on the newer one that replaced the ids with data-testid hooks.
    """

    def _text(self, key: str) -> str:
        return self.label(f"entra.{key}")

    def _textbox(self, key: str, name: str) -> Locator:
        """The text box Microsoft labels so, or the input with the name automation relies on."""
        return self.page.get_by_role("textbox", name=self._text(key), exact=True).or_(
            self.page.locator(f"input[name={name}]"))

    @property
    def email(self) -> Locator:
        return self._textbox("email", "loginfmt")

    @property
    def next_button(self) -> Locator:
        return self.page.get_by_role("button", name=self._text("next"), exact=True)

    @property
    def password(self) -> Locator:
        # a password input has no role; Microsoft labels it "Password for <account>" and shows the placeholder
        return self.page.get_by_placeholder(self._text("password"), exact=True).or_(
            self.page.locator("input[name=passwd]"))

    @property
    def sign_in_button(self) -> Locator:
        return self.page.get_by_role("button", name=self._text("sign_in"), exact=True)

    @property
    def code_heading(self) -> Locator:
        return self.heading(self._text("code_heading"))

    @property
    def code(self) -> Locator:
        return self._textbox("code", "otc")

    @property
    def verify(self) -> Locator:
        return self.page.get_by_role("button", name=self._text("verify"), exact=True)

    @property
    def stay_signed_in_heading(self) -> Locator:
        return self.heading(self._text("kmsi_heading"))

    def enter_email(self, upn: str) -> None:
        self.email.fill(upn)
        self.submit_and_wait(self.next_button)

    def enter_password(self, password: Secret) -> None:
        with private(self.page):
            self.password.fill(password.reveal())
            self.submit_and_wait(self.sign_in_button)

    def enter_code(self, code: Secret) -> None:
        with private(self.page):
            self.code.fill(code.reveal())
            self.submit_and_wait(self.verify)

    def answer_stay_signed_in(self, stay: bool) -> None:
        """Yes or No; either way Microsoft's page posts the sign-in to the SSI: returns back on the SSI."""
        idp = urlparse(self.page.url).netloc
        self.page.get_by_role("button", name=self._text("yes" if stay else "no"), exact=True).click()
        self.page.wait_for_url(lambda url: urlparse(url).netloc != idp)
