"""User administration's account page on the sp generation: the Job Type Roles and User IDs are typeahead
pickers (no checkboxes to tick), saves and actions are XHR posts that load no page, a deactivation is
confirmed in a modal dialog (no confirmation page), a one-time password is shown once in the widget; and
the page objects drive all of it unchanged from the classic page."""

from __future__ import annotations

import re
import secrets
from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright

from pages.useradmin import UserFormPage
from ssi.profile import load_profile
from tests.helpers import Portal, browser_context_for, signed_in_portal
from uept.runtime import browser
from uept.runtime.reference import EmbeddedSSI, RunningSSI

PROFILE = load_profile("reference")
L = PROFILE.label
NPS_ID = "90-B3-D5-1F-30-01-00-01"


@pytest.fixture(scope="module")
def sp_ssi() -> Iterator[RunningSSI]:
    with EmbeddedSSI(overrides={"portal_ui": "sp", "latency_ms": "20-150"}) as ssi:
        yield ssi


@pytest.fixture(scope="module")
def admin(sp_ssi: RunningSSI) -> Portal:
    return signed_in_portal(sp_ssi.url, "oa.nps", sp_ssi.secrets["OA user"])


@pytest.fixture(scope="module")
def chromium() -> Iterator[Browser]:
    with sync_playwright() as pw:
        b = pw.chromium.launch(**browser.resolve().launch_args())
        yield b
        b.close()


@pytest.fixture
def page(sp_ssi: RunningSSI, admin: Portal, chromium: Browser) -> Iterator[Page]:
    context = browser_context_for(chromium, admin, base_url=sp_ssi.url)
    context.set_default_timeout(10_000)
    yield context.new_page()
    context.close()


def new_account(form: UserFormPage, roles: list[str]) -> str:
    user = f"t.{secrets.token_hex(4)}"
    form.open_new()
    form.fill({"user name": user, "first name": "Tess", "last name": "Ting", "email": f"{user}@example.com"},
              roles=roles, user_ids=[NPS_ID])
    form.submit_create()
    expect(form.one_time_password).to_be_visible()
    form.back_to_account(user)
    return user


def test_roles_are_a_typeahead_picker_and_saves_load_no_page(page: Page) -> None:
    form = UserFormPage(page, PROFILE)
    form.open_new()
    roles = form.field("job type roles")
    assert roles.get_by_role("checkbox").count() == 0  # the classic way (tick a box) finds nothing to tick
    picker = roles.get_by_role("combobox")
    picker.fill("Lead")
    expect(roles.get_by_role("option", name="Lead Agent", exact=True)).to_be_visible()
    expect(roles.get_by_role("option", name="Service Management User", exact=True)).to_have_count(0)  # filtered
    user = new_account(form, ["Service Management User", "Lead Agent"])
    expect(form.held("job type roles")).to_have_count(2)
    page.evaluate("window.__same_document = true")
    form.change_role("Lead Agent", False, user)
    form.change_role("Security User", True, user)
    assert page.evaluate("window.__same_document") is True  # XHR saves: no document was loaded
    assert sorted(form.attr_name(c) for c in form.held("job type roles").all()) == [
        "Security User", "Service Management User"]


def test_deactivation_is_confirmed_in_a_dialog_not_on_a_page(page: Page) -> None:
    form = UserFormPage(page, PROFILE)
    user = new_account(form, ["Service Management User"])
    assert page.get_by_role("link", name=L("user_admin.deactivate"), exact=True).count() == 0
    page.get_by_role("button", name=L("user_admin.deactivate"), exact=True).click()
    dialog = page.get_by_role("dialog")
    expect(dialog).to_be_visible()
    dialog.get_by_role("button", name=L("user_admin.cancel"), exact=True).click()
    expect(dialog).to_have_count(0)
    form.deactivate()
    expect(form.status.filter(has_text=f"User {user} deactivated")).to_be_visible()
    expect(form.field("account status")).to_have_value(L("user_admin.inactive"))


def test_a_post_without_the_dialogs_confirmation_changes_nothing(sp_ssi: RunningSSI, admin: Portal,
                                                                 page: Page) -> None:
    form = UserFormPage(page, PROFILE)
    new_account(form, ["Service Management User"])
    sys_id = re.search(r"sys_id=(\w+)", page.url).group(1)
    g_ck = page.evaluate("window.g_ck")
    r = admin.http.post(f"/sp?id=user_admin_user&sys_id={sys_id}", data={"action": "deactivate"},
                        headers={"X-UserToken": g_ck, "Accept": "application/json"})
    assert r.status_code == 409
    page.reload()
    expect(form.field("account status")).to_have_value(L("user_admin.active"))


def test_a_refused_save_marks_the_fields_and_keeps_what_was_typed(page: Page) -> None:
    form = UserFormPage(page, PROFILE)
    user = new_account(form, ["Service Management User"])
    form.fill({"email": "not-an-email"}, roles=[])
    form.submit_update()
    expect(form.error_summary).to_be_visible()
    expect(form.field("email")).to_have_value("not-an-email")
    expect(form.field("email")).to_have_attribute("aria-invalid", "true")
    expect(form.field("job type roles")).to_have_attribute("aria-invalid", "true")
    page.reload()
    expect(form.field("email")).to_have_value(f"{user}@example.com")
    expect(form.holds_role("Service Management User")).to_be_visible()


def test_the_user_list_is_a_widget_whose_status_filter_hears_only_select2(admin: Portal, page: Page) -> None:
    from urllib.parse import parse_qs, urlparse

    from pages.useradmin import UserListPage

    api = admin.http.get("/api/now/sp/page?id=user_admin", headers={"Accept": "application/json"})
    assert api.status_code == 200 and [w["type"] for w in api.json()["result"]["widgets"]] == ["record"]
    users = UserListPage(page, PROFILE)
    users.open()
    locked = L("user_admin.locked")
    page.locator("select#status").select_option(label=locked, force=True)  # the DOM changes, the form model does not
    users.search_box.fill("")
    page.get_by_role("button", name=L("user_admin.search_button"), exact=True).click()
    page.wait_for_url(lambda url: "q=" in url)
    users.drawn()  # the list of the new route, not the one the click left (its select2 would be redrawn)
    assert parse_qs(urlparse(page.url).query, keep_blank_values=True).get("status") == [""]
    users.search("", status=locked)  # through select2, as a person picks it
    assert parse_qs(urlparse(page.url).query).get("status") == ["locked"]
    expect(users.table).to_be_visible()
