"""The OMS on the sp generation: order, consignment and return pages are record widgets drawn from the page API,
their choices are select2 fields over hidden selects, their mandatory fields carry ServiceNow's prefix, and their
saves are XHR posts that load no document. Each naive approach fails here (select_option, an exact label, a
navigation wait) and the page objects pass unchanged."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import date, timedelta

import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright

from pages.oms import OrderForm, OrderPage, ReturnForm
from ssi.profile import load_profile
from tests.helpers import Portal, browser_context_for, signed_in_portal
from uept.runtime import browser
from uept.runtime.reference import EmbeddedSSI, RunningSSI

PROFILE = load_profile("reference")
L = PROFILE.label
OMS = PROFILE.oms


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


def delivery_date() -> str:
    return (date.today() + timedelta(days=OMS.lead_time_days + 7)).isoformat()


def stays(page: Page) -> None:
    """Mark the document: the mark survives route changes and XHR posts, not a document load."""
    page.evaluate("() => { window.__same_document = true; }")


def same_document(page: Page) -> bool:
    return page.evaluate("() => window.__same_document === true")


def test_the_order_form_is_a_widget_of_the_page_api(sp_ssi: RunningSSI, admin: Portal) -> None:
    shell = admin.http.get("/sp?id=oms_order_form&sys_id=-1")
    assert shell.status_code == 200 and 'id="region"' not in shell.text  # the shell holds no form
    api = admin.http.get("/api/now/sp/page?id=oms_order_form&sys_id=-1", headers={"Accept": "application/json"})
    widget = api.json()["result"]["widgets"][0]
    assert widget["type"] == "record"
    kinds = {f.get("name"): f.get("kind") for b in widget["blocks"] if b["kind"] == "form" for f in b["fields"]}
    assert kinds["region"] == "choice" and kinds["delivery_date"] == "date"
    # an order that is not the organisation's (or none) is the portal's refusal, in the page API too
    missing = admin.http.get("/api/now/sp/page?id=oms_order&sys_id=0", headers={"Accept": "application/json"})
    assert missing.status_code == 404
    assert missing.json()["result"]["widgets"][0]["type"] == "message"


OMS_PAGES = [("oms", {}), ("oms_catalogue", {}), ("oms_forecasts", {}), ("oms_forecast", {"region": OMS.regions[0]}),
             ("oms_forecast_history", {"region": OMS.regions[0]}), ("oms_orders", {}), ("oms_consignments", {}),
             ("oms_returns", {}), ("oms_return_form", {}), ("oms_order_form", {"sys_id": "-1"})]


@pytest.mark.parametrize(("page_id", "params"), OMS_PAGES, ids=[p for p, _ in OMS_PAGES])
def test_every_oms_page_is_drawn_by_the_page_api(admin: Portal, page_id: str, params: dict[str, str]) -> None:
    r = admin.http.get("/api/now/sp/page", params={"id": page_id, **params}, headers={"Accept": "application/json"})
    assert r.status_code == 200
    result = r.json()["result"]
    assert "document" not in result, f"{page_id} still loads as a classic document"
    assert [w["type"] for w in result["widgets"]] == ["record"]


def test_a_native_select_of_the_region_is_not_submitted_and_the_page_object_choice_is(page: Page) -> None:
    form = OrderForm(page, PROFILE)
    form.open_new()
    region = OMS.regions[0]
    page.locator("select#region").select_option(label=region, force=True)  # the DOM changes, the model does not
    form.fill(location="Depot 1", delivery_date=delivery_date(), quantities={OMS.ch_variants[0].code: "10"})
    stays(page)
    form.save_draft()
    expect(form.alert).to_contain_text("Nothing has been saved")
    form.expect_field_error(form.region.and_(page.locator("select")), "Choose the Region")
    assert same_document(page), "a refused save is answered in the widget, with no document load"
    form.fill(region=region)  # through select2, as a person picks it
    form.save_draft()
    order = OrderPage(page, PROFILE)
    expect(order.state).to_have_text(OMS.status("order", "draft"))
    expect(order.fact(L("oms.region"))).to_have_text(region)
    assert same_document(page), "the saved draft is shown by a route change"
    assert "id=oms_order&" in page.url


def test_mandatory_fields_are_named_with_the_prefix_so_an_exact_label_finds_nothing(page: Page) -> None:
    form = OrderForm(page, PROFILE)
    form.open_new()
    expect(form.delivery_location).to_have_count(1)
    expect(form.delivery_location).to_have_accessible_name(
        re.compile(rf"^{re.escape(PROFILE.portal.mandatory_prefix)}\s*{L('oms.delivery_location')}$"))
    expect(page.get_by_label(L("oms.delivery_location"), exact=True)).to_have_count(0)


def test_submitting_an_order_loads_no_page_and_a_navigation_wait_times_out(page: Page) -> None:
    form = OrderForm(page, PROFILE)
    form.open_new()
    form.fill(region=OMS.regions[0], location="Depot 2", delivery_date=delivery_date(),
              quantities={OMS.ch_variants[0].code: "10"})
    form.save_draft()
    order = OrderPage(page, PROFILE)
    expect(order.state).to_have_text(OMS.status("order", "draft"))
    stays(page)
    with pytest.raises(Exception, match="Timeout"):
        with page.expect_navigation(timeout=3_000):
            order.button("oms.submit_order").click()
    expect(order.state).to_have_text(OMS.status("order", "submitted"))
    assert same_document(page)


def test_a_return_reason_chosen_natively_is_refused_and_through_select2_is_raised(page: Page) -> None:
    form = ReturnForm(page, PROFILE)
    form.open()
    reason = OMS.return_reasons[0].label
    form.serials.fill("00-00-00-00-00-00-00-00")
    page.locator("select#reason").select_option(label=reason, force=True)
    form.act(form.button("oms.raise_return"))
    expect(form.alert).to_contain_text("Nothing has been saved")
    form.expect_field_error(form.reason.and_(page.locator("select")), "Choose a return reason from the list")
    form.choose(form.reason, reason)
    form.act(form.button("oms.raise_return"))
    expect(form.alert).to_contain_text("Nothing has been saved")
    expect(form.reason.and_(page.locator("select"))).not_to_have_attribute("aria-invalid", "true")
