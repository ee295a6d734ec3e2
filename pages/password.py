from __future__ import annotations

from playwright.sync_api import Locator

from uept.runtime.secrets import Secret
from uept.runtime.tracing import private

from .base import BasePage


class PasswordChangePage(BasePage):
    """The forced password change after a one-time password (first login or an administrator's reset)."""

    @property
    def heading_(self) -> Locator:
        return self.heading(self.label("password_change.heading"))

    @property
    def new_password(self) -> Locator:
        return self.page.get_by_label(self.label("password_change.new"), exact=True)

    @property
    def confirm_password(self) -> Locator:
        return self.page.get_by_label(self.label("password_change.confirm"), exact=True)

    def change(self, new: Secret, confirm: Secret | None = None) -> None:
        """Type the new password, and again to confirm it (or `confirm`, to try a mismatch), and save."""
        with private(self.page):
            self.new_password.fill(new.reveal())
            self.confirm_password.fill((confirm or new).reveal())
            self.submit_and_wait(
                self.page.get_by_role("button", name=self.label("password_change.save"), exact=True))
