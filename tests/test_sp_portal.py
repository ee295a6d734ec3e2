"""The sp generation of the reference SSI (REFSSI_PORTAL_UI=sp) bites as a real Service Portal does:
widgets after the shell, route changes instead of page loads, a user menu hiding Log out, select2 over a
hidden select the form model ignores, mandatory labels with ServiceNow's prefix, XHR actions that never
navigate, and a session token the server insists on."""

from __future__ import annotations

import re
from collections.abc import Iterator

import httpx
import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright

from ssi.profile import load_profile
from tests.helpers import Portal, browser_context_for, signed_in_portal
from uept.runtime import browser
from uept.runtime.reference import EmbeddedSSI, RunningSSI

PROFILE = load_profile("reference")
PRODUCER_ID = PROFILE.incidents.record_producer_sys_id
PRODUCER = f"/sp?id=sc_cat_item&sys_id={PRODUCER_ID}"
MANDATORY = "Mandatory - must be populated before Submit"
L = PROFILE.label
G_CK = re.compile(r'window\.g_ck = "([^"]+)"')


@pytest.fixture(scope="module")
def sp_ssi() -> Iterator[RunningSSI]:
    with EmbeddedSSI(overrides={"portal_ui": "sp"}) as ssi:
        yield ssi


@pytest.fixture(scope="module")
def sm(sp_ssi: RunningSSI) -> Portal:
    """One sign-in for the module (a TOTP code is never accepted twice, so each sign-in waits for a new one)."""
    return signed_in_portal(sp_ssi.url, "sm.nps", sp_ssi.secrets["SM user"])


@pytest.fixture(scope="module")
def chromium() -> Iterator[Browser]:
    with sync_playwright() as pw:
        b = pw.chromium.launch(**browser.resolve().launch_args())
        yield b
        b.close()


@pytest.fixture
def page(sp_ssi: RunningSSI, sm: Portal, chromium: Browser) -> Iterator[Page]:
    context = browser_context_for(chromium, sm, base_url=sp_ssi.url)
    context.set_default_timeout(10_000)
    yield context.new_page()
    context.close()


def test_the_widgets_come_after_the_shell_and_links_change_the_route(page: Page) -> None:
    page.add_init_script("window.addEventListener('load', () => {"
                         " window.__atLoad = document.getElementById('sp-page').childElementCount; });")
    page.goto("/sp?id=index")
    assert page.evaluate("window.__atLoad") == 0  # nothing rendered when the document had loaded
    expect(page.get_by_role("heading", name="Welcome, Sofia")).to_be_visible()
    assert page.evaluate("typeof window.g_ck") == "string"
    expect(page.locator("input[name=sysparm_ck]")).to_have_count(0)
    page.evaluate("window.__sameDocument = true")
    page.locator("#sp-page").get_by_role("link", name="My profile").click()
    expect(page.get_by_role("heading", name="My profile")).to_be_visible()
    expect(page.locator("#profile_user_name")).to_have_text("sm.nps")
    assert page.url.endswith("/sp?id=user_profile") and page.evaluate("window.__sameDocument") is True  # a route
    page.go_back()
    expect(page.get_by_role("heading", name="Welcome, Sofia")).to_be_visible()
    assert page.evaluate("window.__sameDocument") is True


def test_log_out_is_hidden_in_the_user_menu_until_it_opens(page: Page) -> None:
    page.goto("/sp?id=index")
    menu = page.get_by_role("button", name="Sofia Marsh")
    log_out = page.get_by_role("link", name=L("home.sign_out"))
    expect(menu).to_have_attribute("aria-expanded", "false")
    expect(log_out).to_be_hidden()
    expect(page.get_by_role("link", name="Profile", exact=True)).to_be_hidden()
    menu.click()
    expect(menu).to_have_attribute("aria-expanded", "true")
    expect(log_out).to_be_visible()
    log_out.click()
    page.wait_for_url("**/logout.do")
    assert page.evaluate("typeof window.SP") == "undefined"  # a document load: the portal script is gone


def test_the_page_api_needs_a_session_and_the_shell_holds_no_widgets(sp_ssi: RunningSSI, sm: Portal) -> None:
    shell = sm.http.get("/sp?id=index").text
    assert 'name="sysparm_ck"' not in shell and "Welcome" not in shell  # the widgets are not in the document
    assert G_CK.search(shell)
    home = sm.http.get("/api/now/sp/page?id=index").json()["result"]
    assert home["widgets"][0]["type"] == "tiles" and home["widgets"][0]["heading"] == "Welcome, Sofia"
    assert sm.http.get("/api/now/sp/page?id=my_requests").json()["result"]["document"] is True  # still classic
    assert httpx.get(f"{sp_ssi.url}/api/now/sp/page?id=index").status_code == 401  # no session: sign in first
