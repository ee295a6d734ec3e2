from __future__ import annotations

import re
from urllib.parse import parse_qs, urlencode, urljoin, urlparse

from playwright.sync_api import APIResponse, Locator, Page, Response, expect
from playwright.sync_api import Error as PlaywrightError

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
        """Open a portal page by its address. A Service Portal may send the browser on by itself while the
        page loads (to the login page when the session has ended): that interrupts the load, and is an
        answer too; the next step judges where the browser is."""
        try:
            self.page.goto(self.portal_path(page_id, **params))
        except PlaywrightError as exc:
            if "ERR_ABORTED" not in str(exc) and "interrupted by another navigation" not in str(exc):
                raise
            self.page.wait_for_load_state()
        self.drawn()

    def visit_page(self, path: str, drawn: Locator) -> int:
        """Go to a page by its address, as a bookmark or a typed URL would, and return the HTTP status of the
        server's answer for that page once `drawn` (what shows the page, or a refusal, is there) is visible.
        On classic pages the answer is the document. A Service Portal's document is the same shell for every
        page, which then fetches the page from the profile's portal.page_api: there the answer is that
        request's status."""
        api = self.profile.portal.page_api
        wanted = parse_qs(urlparse(path).query).get("id")
        answers: list[Response] = []

        def seen(response: Response) -> None:
            # this page's answer, not a late one for the page the browser was on (a slow portal's answers can
            # arrive out of order)
            url = urlparse(response.url)
            if api and url.path == api and parse_qs(url.query).get("id") == wanted:
                answers.append(response)

        self.page.on("response", seen)
        try:
            document = self.page.goto(path)
            assert document is not None, f"no response for {path}"
            expect(drawn.first).to_be_visible()
        finally:
            self.page.remove_listener("response", seen)
        return answers[-1].status if answers else document.status

    @property
    def alert(self) -> Locator:
        """Error and warning messages (role=alert)."""
        return self.page.get_by_role("alert")

    @property
    def status(self) -> Locator:
        return self.page.get_by_role("status")

    def notice(self, text: str) -> Locator:
        """The confirmation that holds this text (case as written): a classic page's message, or the newest of the
        portal's toasts that holds it (toasts stack up when actions follow each other within their few seconds)."""
        return self.status.filter(has_text=re.compile(re.escape(text))).last

    def heading(self, text: str) -> Locator:
        return self.page.get_by_role("heading", name=text)

    @property
    def main(self) -> Locator:
        """The page's main content (not the header, menu or footer)."""
        return self.page.locator("main")

    def value_labelled(self, label: str) -> Locator:
        """The value a page shows under a label: the definition of the group the label names (dl/dd), or (a
        portal's label/value pairs without dl/dd) the element right after the element whose whole text is it."""
        in_group = self.page.get_by_role("group", name=label, exact=True).get_by_role("definition")
        # a label of its own (dt, or a portal pair's label), never a table's header or cell of the same words
        own = self.main.get_by_text(label, exact=True).and_(self.main.locator(":not(th):not(td)"))
        return in_group.or_(own.locator("xpath=following-sibling::*[1]"))

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

    @property
    def typed_markup(self) -> Locator:
        """Elements the markup that fixtures/data.py's builders type would have become, on any page, had the SSI
        rendered typed text as markup."""
        return self.page.locator('main u, main img[src="x"], main [onerror], main svg[onload], main iframe, '
                                 'main [onmouseover]')

    def script_ran(self, marker: str) -> bool:
        """Whether a script set window[marker] (typed text that ran as script sets it)."""
        return self.page.evaluate("(name) => window[name] !== undefined", marker)

    def csrf_token(self) -> str:
        """The session's security token: the hidden sysparm_ck of a classic page's forms, or the JS global
        g_ck a Service Portal page keeps (and sends as X-UserToken)."""
        token = self.page.evaluate(
            "() => document.querySelector('input[name=sysparm_ck]')?.value || window.g_ck || ''")
        assert token, "no security token on the page to send with the request"
        return token

    def post_form(self, url: str, **form: str) -> APIResponse:
        """POST a form to `url` as this page's forms would, with the session's security token (as the form
        field and as the X-UserToken header), without following a redirect: asks the server directly,
        without the page's help."""
        token = self.csrf_token()
        return self.page.request.post(url, form={"sysparm_ck": token, **form}, headers={"X-UserToken": token},
                                      max_redirects=0)

    # ---- form controls as ServiceNow names them ------------------------------------
    def labelled(self, text: str, *, variable: str | None = None, within: Locator | None = None) -> Locator:
        """A form control by its visible label: the label alone, or the label after the mandatory prefix
        ServiceNow puts in a mandatory field's accessible name (profile portal.mandatory_prefix); a field in
        hint-text mode by its placeholder; a record-producer variable also by its id sp_formfield_<variable>."""
        scope = within or self.page
        prefix = re.escape(self.profile.portal.mandatory_prefix)
        found = scope.get_by_label(re.compile(rf"^\s*(?:{prefix}\s*)?{re.escape(text)}\s*$"))
        found = found.or_(scope.get_by_placeholder(text, exact=True))
        if variable:
            found = found.or_(scope.locator(f"#sp_formfield_{variable}"))
        return found.describe(f'the field "{text}"')  # how a failed step names it in the report

    def choose(self, control: Locator, label: str) -> None:
        """Pick a choice by its visible label: on a native <select>, or through the select2 widget the
        Service Portal draws over a hidden <select> (whose own change event its form model ignores, so a
        select_option there would submit the old value). profile portal.choice_widget says which."""
        widget = self.profile.portal.choice_widget
        expect(control.first).to_be_attached()
        select = control.and_(self.page.locator("select"))  # not select2's own combobox, which has the label too
        if not select.count():  # a choice the page asks for as text (e.g. a portal ticket action's input)
            control.fill(label)
            return
        select2 = self.page.locator(f"#s2id_{select.get_attribute('id') or '-'}")
        if widget == "native" or (widget == "auto" and not select2.count()):
            select.select_option(label=label)
            return
        exactly = re.compile(rf"^\s*{re.escape(label)}\s*$")
        # a dependent choice list (e.g. subcategory) is fetched by XHR after its parent changed, and select2
        # builds its dropdown from the hidden <select> when it opens: open it once the choice is there
        expect(select.locator("option").filter(has_text=exactly)).to_have_count(1)
        select2.locator(".select2-choice").click()
        self.page.locator(".select2-drop-active .select2-result-label").filter(has_text=exactly).click()
        expect(select2.locator(".select2-chosen")).to_have_text(label)

    # ---- actions -------------------------------------------------------------------
    def act(self, control: Locator, done: Locator | None = None) -> Response:
        """Click a control that asks the server to change something and wait for the server's answer to that
        request: a classic page's form post or a portal widget's XHR, whichever the page makes; then, when
        given, for the element that proves the outcome. Never a page-load wait: a portal action loads none."""
        with self.page.expect_response(lambda r: r.request.method in ("POST", "PUT", "PATCH", "DELETE")) as info:
            control.click()
        if done is not None:
            expect(done).to_be_visible()
        return info.value

    def get_without_redirect(self, url: str) -> APIResponse:
        return self.page.request.get(url, max_redirects=0)

    def follow(self, link: Locator) -> None:
        """Follow a link to another page: done when the address is the link's (a document load on classic
        pages, a History-API route change on the Service Portal)."""
        target = urljoin(self.page.url, link.get_attribute("href") or "")
        link.click()
        self.page.wait_for_url(target)
        self.drawn()

    def drawn(self) -> None:
        """After a route change: the portal's loading indicator (profile portal.loading_indicator) is gone, so the
        widgets on the page are the new page's, not the last one's. Classic pages have none: done at once."""
        indicator = self.profile.portal.loading_indicator
        if indicator:
            expect(self.page.locator(indicator)).to_be_hidden()

    def search_with(self, button: Locator, **params: str) -> None:
        """Submit a search (a GET form): done when the address carries these query parameters."""
        button.click()
        self.page.wait_for_url(lambda url: all(parse_qs(urlparse(url).query, keep_blank_values=True).get(k) == [v]
                                               for k, v in params.items()))
        self.drawn()

    def submit_and_wait(self, button: Locator) -> None:
        """Click a button whose form loads a new document (classic pages) and wait until it has loaded."""
        with self.page.expect_navigation(wait_until="load"):
            button.click()
