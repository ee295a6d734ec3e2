from __future__ import annotations

from urllib.parse import urlencode

from playwright.sync_api import Locator, Page

from ssi.profile import Profile


class BasePage:
    def __init__(self, page: Page, profile: Profile) -> None:
        self.page = page
        self.profile = profile

    def label(self, key: str) -> str:
        return self.profile.label(key)

    def portal_path(self, page_id: str, **params: str) -> str:
        return f"{self.profile.portal.suffix}?{urlencode({'id': page_id, **params})}"

    def open_portal(self, page_id: str, **params: str) -> None:
        self.page.goto(self.portal_path(page_id, **params))

    @property
    def alert(self) -> Locator:
        """Error and warning messages (role=alert)."""
        return self.page.get_by_role("alert")

    @property
    def status(self) -> Locator:
        return self.page.get_by_role("status")

    def heading(self, text: str) -> Locator:
        return self.page.get_by_role("heading", name=text)

    def submit_and_wait(self, button: Locator) -> None:
        """Click a button that submits a form and wait until the next page has loaded."""
        with self.page.expect_navigation(wait_until="load"):
            button.click()
