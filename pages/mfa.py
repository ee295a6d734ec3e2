from __future__ import annotations

from playwright.sync_api import Locator

from uept.runtime.secrets import Secret
from uept.runtime.tracing import private

from .base import BasePage


class MfaPage(BasePage):
    """validate_multifactor_auth_code.do: enter a code, or set up MFA at first login."""

    @property
    def code(self) -> Locator:
        # ServiceNow's code input is named txtResponse; its visible label comes from the profile.
        return self.page.get_by_label(self.label("mfa.code"), exact=True)

    @property
    def verify(self) -> Locator:
        return self.page.get_by_role("button", name=self.label("mfa.verify"), exact=True)

    @property
    def resend(self) -> Locator:
        return self.page.get_by_role("button", name=self.label("mfa.resend"), exact=True)

    @property
    def prompt_heading(self) -> Locator:
        return self.heading(self.label("mfa.heading"))

    @property
    def setup_heading(self) -> Locator:
        return self.heading(self.label("mfa.setup_heading"))

    @property
    def setup_key(self) -> Locator:
        return self.page.get_by_label(self.label("mfa.manual_key"), exact=True)

    @property
    def remember_browser(self) -> Locator:
        return self.page.get_by_role("checkbox", name=self.label("mfa.remember_browser"), exact=True)

    def submit_code(self, code: Secret, *, remember_browser: bool = False) -> None:
        """Enter the code and verify; tick "Remember this browser" only when asked to (a mandated run's
        sign-ins each prove the second factor)."""
        with private(self.page):
            self.code.fill(code.reveal())
            if remember_browser:
                self.remember_browser.check()
            self.submit_and_wait(self.verify)

    def resend_code(self) -> None:
        self.submit_and_wait(self.resend)

    # ---- first-login set-up -------------------------------------------------
    def choose_method(self, method_label_key: str) -> None:
        """Pick 'mfa.method_authenticator' or 'mfa.method_email'. The next page may show a setup key."""
        with private(self.page):
            self.page.get_by_label(self.label(method_label_key), exact=True).check()
            self.submit_and_wait(self.page.get_by_role("button", name=self.label("mfa.continue"), exact=True))

    def read_setup_key(self, owner: str) -> Secret:
        """The manual key shown under the QR code ('Can't scan?')."""
        with private(self.page):
            return Secret(self.setup_key.inner_text().replace(" ", ""), f"authenticator seed of {owner}")
