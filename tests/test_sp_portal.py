"""The sp generation of the reference SSI (REFSSI_PORTAL_UI=sp) bites as a real Service Portal does:
widgets after the shell, route changes instead of page loads, a user menu hiding Log out, select2 over a
hidden select the form model ignores, mandatory labels with ServiceNow's prefix, XHR actions that never
navigate, and a session token the server insists on."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError

from pages.functions import Functions
from pages.profile import UserProfilePage
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
    # a little latency, as a real instance has: the tests wait on state, never on timing
    with EmbeddedSSI(overrides={"portal_ui": "sp", "latency_ms": "20-150"}) as ssi:
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


def test_the_page_api_needs_a_session_and_the_shell_holds_no_widgets(sp_ssi: RunningSSI, sm: Portal) -> None:
    shell = sm.http.get("/sp?id=index").text
    assert 'name="sysparm_ck"' not in shell and "Welcome" not in shell  # the widgets are not in the document
    assert G_CK.search(shell)
    home = sm.http.get("/api/now/sp/page?id=index").json()["result"]
    assert home["widgets"][0]["type"] == "tiles" and home["widgets"][0]["heading"] == "Welcome, Sofia"
    placeholder = re.search(r'href="/sp\?id=([a-z_]+)">Problem management<', shell).group(1)
    assert sm.http.get(f"/api/now/sp/page?id={placeholder}").json()["result"]["document"] is True  # still classic
    assert httpx.get(f"{sp_ssi.url}/api/now/sp/page?id=index").status_code == 401  # no session: sign in first


def choose(page: Page, variable: str, text: str) -> None:
    """Pick a choice the way public automation drives select2: open the container, type, click the result."""
    page.locator(f"#s2id_sp_formfield_{variable} a.select2-choice").click()
    page.locator("#select2-drop input.select2-input").fill(text)
    page.locator("#select2-drop .select2-result-label", has_text=text).click()
    expect(page.locator(f"#s2id_sp_formfield_{variable} .select2-chosen")).to_have_text(text)


def field_value(page: Page, key: str):
    return page.locator(f"#f_{key}")


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


def test_a_page_not_yet_drawn_as_widgets_loads_as_a_classic_document(page: Page) -> None:
    page.goto("/sp?id=index")
    expect(page.get_by_role("heading", name="Welcome, Sofia")).to_be_visible()
    page.evaluate("window.__sameDocument = true")
    page.get_by_role("navigation", name="Main menu").get_by_role("link", name="Problem management").click()
    page.wait_for_url(re.compile(r"/sp\?id=[a-z_]+$"))
    expect(page.get_by_role("heading", name="Problem management")).to_be_visible()
    assert page.evaluate("typeof window.__sameDocument") == "undefined"  # a new document: the classic page
    expect(page.locator("#sp-page")).to_have_count(0)


def test_a_withheld_page_is_a_200_shell_whose_page_api_answers_403(sp_ssi: RunningSSI, chromium: Browser) -> None:
    """The naive check (the document's status) sees no refusal; the page objects read the page API's."""
    cc = signed_in_portal(sp_ssi.url, "cc.nps", sp_ssi.secrets["CC user"])  # Call Centre: raises no incident
    context = browser_context_for(chromium, cc, base_url=sp_ssi.url)
    context.set_default_timeout(10_000)
    page = context.new_page()
    document = page.goto(PRODUCER)
    assert document is not None and document.status == 200
    expect(page.get_by_role("heading", name=L("errors.forbidden_heading"))).to_be_visible()
    expect(page.get_by_text(L("errors.forbidden"))).to_be_visible()
    functions = Functions(page, PROFILE)
    assert functions.visit("incident_raise") == 403
    assert functions.visit("user_profile") == 200
    expect(UserProfilePage(page, PROFILE).user_id).to_have_text("cc.nps")  # read by its label, not an id
    context.close()


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


def test_a_native_select_change_is_ignored_and_select2_choices_are_submitted(page: Page) -> None:
    page.goto(PRODUCER)
    summary = L("incident.short_description")
    expect(page.get_by_label(f"{MANDATORY} {summary}", exact=True)).to_be_visible()
    expect(page.get_by_label(summary, exact=True)).to_have_count(0)
    with page.expect_response("**/api/now/sp/variable_choices?*") as choices:  # dependent choices by XHR
        choose(page, "category", "Premises related")
    assert choices.value.ok
    expect(page.locator("#sp_formfield_subcategory option", has_text="Smart meter")).to_have_count(1)
    choose(page, "subcategory", "Smart meter")
    page.select_option("#sp_formfield_impact", "1")  # the DOM changes, the form model does not
    expect(page.locator("#sp_formfield_impact")).to_have_value("1")
    choose(page, "urgency", "1 - High")
    page.get_by_label(f"{MANDATORY} {summary}").fill("sp: select2 decides")
    page.get_by_label(L("incident.mpxn")).fill("1234567890123")
    page.get_by_label(L("incident.your_reference")).fill("REF-SP-1")
    page.get_by_label(f"{MANDATORY} {L('incident.contact_first_name')}").fill("Pat")
    page.get_by_label(f"{MANDATORY} {L('incident.contact_last_name')}").fill("Portal")
    page.get_by_label(f"{MANDATORY} {L('incident.contact_phone')}").fill("01632 960003")
    with page.expect_response("**/submit_producer") as submitted:
        page.get_by_role("button", name=L("incident.submit")).click()
    result = submitted.value.json()["result"]
    assert result["table"] == "incident" and re.fullmatch(r"INC\d{7}", result["number"])
    page.wait_for_url(f"**/sp?id=ticket&table=incident&sys_id={result['sys_id']}")
    expect(page.get_by_role("heading", name=result["number"])).to_be_visible()
    expect(page.get_by_role("status").filter(has_text=result["number"])).to_be_visible()
    expect(field_value(page, "impact")).to_have_text("3 - Low")  # the old value: the native change was ignored
    expect(field_value(page, "urgency")).to_have_text("1 - High")
    expect(field_value(page, "subcategory")).to_have_text("Smart meter")
    expect(page.locator("dl, dd, th[scope=row]")).to_have_count(0)


def raise_by_xhr(portal: Portal, token: str, summary: str) -> dict:
    r = portal.http.post(f"/api/sn_sc/v1/servicecatalog/items/{PRODUCER_ID}/submit_producer",
                         headers={"X-UserToken": token}, json={"variables": {
                             "category": "service_management", "short_description": summary,
                             "u_contact_first_name": "Pat", "u_contact_last_name": "Portal",
                             "u_contact_phone": "01632 960003"}})
    assert r.status_code == 200, r.text
    return r.json()["result"]


def test_ticket_actions_stay_on_the_page(page: Page, sm: Portal, tmp_path: Path) -> None:
    token = G_CK.search(sm.http.get("/sp?id=index").text).group(1)
    inc = raise_by_xhr(sm, token, "sp: conversation")
    page.goto(f"/sp?id=ticket&table=incident&sys_id={inc['sys_id']}")
    page.get_by_label(L("incident.update_type")).select_option("Additional information")
    page.get_by_label(L("incident.comment")).fill("Sent with Enter")
    with page.expect_response("**/api/now/sp/ticket_action") as posted:
        with pytest.raises(PlaywrightTimeoutError):
            with page.expect_navigation(timeout=2000):
                page.get_by_label(L("incident.comment")).press("Enter")
    assert posted.value.ok
    expect(page.locator("#sp-conversation")).to_contain_text("Sent with Enter")

    upload = tmp_path / "meter-photo.txt"
    upload.write_text("a photo, as text")
    with page.expect_file_chooser() as chooser:
        page.get_by_role("button", name="Add attachments").click()
    with page.expect_response("**/api/now/attachment/file?*") as uploaded:
        chooser.value.set_files(upload)
    assert uploaded.value.status == 201
    expect(page.locator("#sp-attachments").get_by_role("link", name="meter-photo.txt")).to_be_visible()

    page.get_by_role("button", name=L("incident.resolve"), exact=True).click()
    dialog = page.get_by_role("dialog")
    expect(dialog).to_be_visible()
    dialog.get_by_label(L("incident.close_code")).fill("Fixed it")  # the classic rules: not a resolution code
    with page.expect_response("**/api/now/sp/ticket_action") as refused:
        dialog.get_by_role("button", name=L("incident.resolve_submit")).click()
    assert refused.value.status == 400
    expect(dialog.get_by_role("alert")).to_contain_text(f"{L('incident.close_code')} must be one of")
    dialog.get_by_label(L("incident.close_code")).fill("Solution provided")
    dialog.get_by_label(L("incident.close_notes")).fill("Fixed on site")
    with page.expect_response("**/api/now/sp/ticket_action"):
        dialog.get_by_role("button", name=L("incident.resolve_submit")).click()
    expect(page.locator("#m_state")).to_have_text(PROFILE.incidents.states[6])
    expect(dialog).to_have_count(0)


def test_xhr_posts_without_the_session_token_are_refused(sp_ssi: RunningSSI, sm: Portal) -> None:
    portal = sm
    token = G_CK.search(portal.http.get("/sp?id=index").text).group(1)
    inc = raise_by_xhr(portal, token, "sp: token")
    comment = {"table": "incident", "sys_id": inc["sys_id"], "action": "comment", "comments": "no token",
               "u_update_type": "Additional information"}
    for headers in ({}, {"X-UserToken": "not-the-token"}):
        refused = portal.http.post("/api/now/sp/ticket_action", headers=headers, json=comment)
        assert refused.status_code == 403, refused.text
        r = portal.http.post(f"/api/sn_sc/v1/servicecatalog/items/{PRODUCER_ID}/submit_producer", headers=headers,
                             json={"variables": {"short_description": "no token"}})
        assert r.status_code == 403, r.text
    page_json = portal.http.get(f"/api/now/sp/page?id=ticket&table=incident&sys_id={inc['sys_id']}").json()
    entries = page_json["result"]["widgets"][0]["conversation"]["entries"]
    assert [e["text"] for e in entries] == []
    accepted = portal.http.post("/api/now/sp/ticket_action", headers={"X-UserToken": token}, json=comment)
    assert accepted.status_code == 200, accepted.text


def test_the_sp_endpoints_keep_the_role_matrix_and_organisation_rules(sp_ssi: RunningSSI, sm: Portal) -> None:
    la = signed_in_portal(sp_ssi.url, "la.nps", sp_ssi.secrets["LA user"])  # may view incidents, not raise them
    la_token = G_CK.search(la.http.get("/sp?id=index").text).group(1)
    r = la.http.get(f"/api/now/sp/page?id=sc_cat_item&sys_id={PRODUCER_ID}")
    assert r.status_code == 403 and r.json()["result"]["widgets"][0]["type"] == "message"
    r = la.http.post(f"/api/sn_sc/v1/servicecatalog/items/{PRODUCER_ID}/submit_producer",
                     headers={"X-UserToken": la_token}, json={"variables": {"short_description": "not mine"}})
    assert r.status_code == 403, r.text
    inc = raise_by_xhr(sm, G_CK.search(sm.http.get("/sp?id=index").text).group(1), "sp: seen by LA")
    seen = la.http.get(f"/api/now/sp/page?id=ticket&table=incident&sys_id={inc['sys_id']}").json()["result"]
    assert seen["widgets"][0]["number"] == inc["number"] and seen["widgets"][0]["actions"] == []
    r = la.http.post("/api/now/sp/ticket_action", headers={"X-UserToken": la_token},
                     json={"table": "incident", "sys_id": inc["sys_id"], "action": "comment", "comments": "no",
                           "u_update_type": "Escalation"})
    assert r.status_code == 403, r.text
    other = signed_in_portal(sp_ssi.url, "sm.sen", sp_ssi.secrets["other organisation user"])
    r = other.http.get(f"/api/now/sp/page?id=ticket&table=incident&sys_id={inc['sys_id']}")
    assert r.status_code == 404 and inc["number"] not in r.text


def test_my_requests_filters_and_searches_by_route_changes(page: Page, sm: Portal) -> None:
    token = G_CK.search(sm.http.get("/sp?id=index").text).group(1)
    inc = raise_by_xhr(sm, token, "sp: listed in My Requests")
    page.goto("/sp?id=my_requests")
    page.evaluate("window.__sameDocument = true")
    requests = page.locator("#sp-requests")
    expect(requests.get_by_role("link", name=inc["number"])).to_be_visible()
    page.get_by_label(L("incident.search"), exact=True).fill(inc["number"])
    page.get_by_role("button", name=L("incident.search_submit")).click()
    page.wait_for_url(f"**/sp?id=my_requests&view=open&q={inc['number']}")
    expect(requests.get_by_role("link")).to_have_count(1)
    page.get_by_label(L("incident.show"), exact=True).select_option("closed")
    page.wait_for_url("**/sp?id=my_requests&view=closed*")
    expect(page.locator("#list_summary")).to_contain_text(L("incident.no_results"))
    page.go_back()
    expect(requests.get_by_role("link", name=inc["number"])).to_be_visible()
    requests.get_by_role("link", name=inc["number"]).click()
    expect(page.get_by_role("heading", name=inc["number"])).to_be_visible()
    assert page.evaluate("window.__sameDocument") is True
    expect(page.locator("table")).to_have_count(0)


def test_the_login_widget_names_its_boxes_by_hint_text_only(sp_ssi: RunningSSI, chromium: Browser) -> None:
    """Hint-text mode (profile portal.login_hint_text): the boxes have placeholders and no label, so finding
    them by label alone finds nothing; the page object's placeholder fallback finds each once."""
    from pages.login import LoginPage

    context = chromium.new_context(base_url=sp_ssi.url)
    try:
        page = context.new_page()
        login = LoginPage(page, PROFILE)
        login.open()
        assert page.get_by_label(L("login.username"), exact=True).count() == 0
        assert page.get_by_label(L("login.password"), exact=True).count() == 0
        assert login.user_name.count() == 1 and login.password.count() == 1
        expect(login.password).to_have_attribute("placeholder", L("login.password"))
    finally:
        context.close()
