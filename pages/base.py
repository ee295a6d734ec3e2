from __future__ import annotations

from urllib.parse import urlencode

from playwright.sync_api import APIResponse, Locator, Page, Response

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

    @property
    def main(self) -> Locator:
        """The page's main content (not the header, menu or footer)."""
        return self.page.locator("main")

    @property
    def body(self) -> Locator:
        return self.page.locator("body")

    def html(self) -> str:
        return self.page.content()

    @property
    def url(self) -> str:
        return self.page.url

    def mentions(self, text: str) -> Locator:
        """Elements anywhere on the page whose text holds `text`."""
        return self.page.get_by_text(text)

    def goto(self, url: str) -> Response:
        """Open an address as a bookmark or a typed URL would."""
        response = self.page.goto(url)
        assert response is not None, f"no response for {url}"
        return response

    def script_ran(self, marker: str) -> bool:
        """Whether a script set window[marker] (typed text that ran as script sets it)."""
        return self.page.evaluate("(name) => window[name] !== undefined", marker)

    def csrf_token(self) -> str:
        """The security token the page's forms send (sysparm_ck)."""
        token = self.page.locator("input[name=sysparm_ck]").first.get_attribute("value")
        assert token, "no security token on the page to send with the request"
        return token

    def post_form(self, url: str, **form: str) -> APIResponse:
        """POST a form to `url` as this page's forms would, with the session's security token,
        without following a redirect: asks the server directly, without the page's help."""
        return self.page.request.post(url, form={"sysparm_ck": self.csrf_token(), **form}, max_redirects=0)

    def get_without_redirect(self, url: str) -> APIResponse:
        return self.page.request.get(url, max_redirects=0)

    def submit_and_wait(self, button: Locator) -> None:
        """Click a button that submits a form and wait until the next page has loaded."""
        with self.page.expect_navigation(wait_until="load"):
            button.click()
