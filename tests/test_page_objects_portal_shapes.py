"""The page objects' ways of finding and driving controls hold on both shapes a ServiceNow page takes: the
classic reference pages and the Service Portal's (mandatory-prefixed accessible names, hint-text fields,
sp_formfield_ ids, select2 choice lists whose hidden <select> the form model ignores, the user menu that
holds Log out, actions by XHR that load no page, the g_ck token). Each shape is served as a small page so
that the naive approach can be shown to fail on it, beside the page object's way that passes."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from playwright.sync_api import Error, Page, Route, TimeoutError, expect, sync_playwright

from pages.base import BasePage
from pages.portal import PortalHome
from ssi.profile import load_profile
from uept.runtime import browser

MANDATORY = "Mandatory - must be populated before Submit"

SELECT2 = f"""
<form id="f">
<label for="sp_formfield_category">Category</label>
<select id="sp_formfield_category" aria-label="{MANDATORY} Category"
        style="position:absolute;left:-10000px;width:1px;height:1px">
  <option value="">-- None --</option><option value="sm">Service management</option>
  <option value="pr">Premises related</option>
</select>
<div id="s2id_sp_formfield_category" class="select2-container">
  <a class="select2-choice" href="#" role="combobox" aria-label="Category">
    <span class="select2-chosen">-- None --</span></a></div>
</form>
<script>
  // ServiceNow's spChoiceList: the form model changes only when select2 reports a selection
  window.model = {{category: ""}};
  const select = document.getElementById("sp_formfield_category");
  select.addEventListener("change", (e) => e.stopImmediatePropagation());
  document.querySelector("#s2id_sp_formfield_category .select2-choice").addEventListener("click", (e) => {{
    e.preventDefault();
    const drop = document.createElement("div");
    drop.className = "select2-drop select2-drop-active";
    const list = document.createElement("ul");
    for (const option of select.options) {{
      const item = document.createElement("li");
      const label = document.createElement("div");
      label.className = "select2-result-label";
      label.textContent = option.text;
      label.addEventListener("click", () => {{
        window.model.category = option.value;
        select.value = option.value;
        document.querySelector("#s2id_sp_formfield_category .select2-chosen").textContent = option.text;
        drop.remove();
      }});
      item.append(label);
      list.append(item);
    }}
    drop.append(list);
    document.body.append(drop);
  }});
</script>"""

PAGES = {
    "/classic": """<header><form method="post" action="/logout"><button>Log out</button></form></header>
        <main><input type="hidden" name="sysparm_ck" value="classic-token">
        <label for="sd">Short description</label><input id="sd">
        <label for="cat">Category</label><select id="cat"><option>-- None --</option>
        <option>Service management</option></select>
        <form method="post" action="/save"><button>Save</button></form></main>""",
    "/sp": f"""<header><button aria-haspopup="menu" aria-expanded="false" id="um"
        onclick="document.getElementById('menu').hidden = false">Sofia Marsh</button>
        <ul id="menu" role="menu" hidden><li><a role="menuitem" href="/profile">Profile</a></li>
        <li><a role="menuitem" href="/logout.do">Log out</a></li></ul></header>
        <main><script>window.g_ck = "portal-token";</script>
        <label for="sp_formfield_short_description">
          <span style="position:absolute;left:-10000px">{MANDATORY}</span> Short description</label>
        <input id="sp_formfield_short_description">
        <input id="sp_formfield_u_mpxn" aria-label="Meter point">
        <input placeholder="User name">
        <label for="sp_formfield_other">Short description of the cause</label><input id="sp_formfield_other">
        <button id="send" onclick="fetch('/api/post', {{method: 'POST', headers: {{'X-UserToken': window.g_ck}}}})
          .then(() => document.getElementById('done').hidden = false)">Send</button>
        <p id="done" role="status" hidden>Sent</p></main>{SELECT2}""",
}


@pytest.fixture(scope="module")
def page() -> Iterator[Page]:
    with sync_playwright() as pw:
        b = pw.chromium.launch(**browser.resolve().launch_args())
        context = b.new_context()
        posts: list[dict] = []

        def serve(route: Route) -> None:
            path = route.request.url.removeprefix("http://ssi.test")
            if route.request.method == "POST":
                posts.append({"path": path, "token": route.request.headers.get("x-usertoken")})
                route.fulfill(status=200, content_type="application/json", body=json.dumps({"result": "ok"}))
            else:
                route.fulfill(status=200, content_type="text/html", body=PAGES.get(path, "<p>other page</p>"))

        context.route("http://ssi.test/**", serve)
        p = context.new_page()
        p.posts = posts  # type: ignore[attr-defined]
        yield p
        b.close()


@pytest.fixture
def po(page: Page) -> BasePage:
    return BasePage(page, load_profile())


def on(page: Page, path: str) -> None:
    page.goto(f"http://ssi.test{path}")


def test_a_mandatory_field_is_found_by_its_label_behind_the_prefix(page: Page, po: BasePage) -> None:
    on(page, "/sp")
    expect(page.get_by_label("Short description", exact=True)).to_have_count(0)  # the naive way misses it
    expect(po.labelled("Short description")).to_have_id("sp_formfield_short_description")
    on(page, "/classic")
    expect(po.labelled("Short description")).to_have_id("sd")


def test_a_label_is_matched_whole_never_as_the_start_of_another(page: Page, po: BasePage) -> None:
    on(page, "/sp")
    expect(po.labelled("Short description of the cause")).to_have_id("sp_formfield_other")
    expect(po.labelled("description")).to_have_count(0)
    expect(po.labelled(MANDATORY)).to_have_count(0)


def test_hint_text_fields_and_sp_formfield_ids_are_fallbacks(page: Page, po: BasePage) -> None:
    on(page, "/sp")
    expect(po.labelled("User name")).to_have_attribute("placeholder", "User name")
    expect(page.get_by_label("MPxN", exact=True)).to_have_count(0)
    expect(po.labelled("MPxN", variable="u_mpxn")).to_have_id("sp_formfield_u_mpxn")


def test_a_select2_choice_reaches_the_form_model_where_select_option_does_not(page: Page, po: BasePage) -> None:
    on(page, "/sp")
    field = po.labelled("Category", variable="category")
    expect(field).to_have_count(2)  # the hidden select and select2's own combobox both carry the label
    field = field.and_(page.locator("select"))
    field.select_option(label="Premises related")  # the naive way: the DOM changes, the model does not
    assert field.input_value() == "pr" and page.evaluate("window.model.category") == ""
    po.choose(po.labelled("Category", variable="category"), "Service management")
    assert page.evaluate("window.model.category") == "sm"
    expect(page.locator("#s2id_sp_formfield_category .select2-chosen")).to_have_text("Service management")


def test_a_native_choice_list_is_chosen_directly(page: Page, po: BasePage) -> None:
    on(page, "/classic")
    field = po.labelled("Category")
    po.choose(field, "Service management")
    expect(field).to_have_value("Service management")


def test_log_out_in_a_closed_user_menu(page: Page) -> None:
    home = PortalHome(page, load_profile())
    on(page, "/sp")
    expect(page.get_by_role("button", name="Log out", exact=True)).to_have_count(0)  # the naive way
    expect(home.sign_out_button).to_be_hidden()
    expect(home.signed_in).to_be_visible()  # the user menu shows someone is signed in
    home.open_user_menu()
    expect(home.sign_out_button).to_be_visible()
    on(page, "/classic")
    expect(home.signed_in).to_be_visible()
    home.open_user_menu()  # nothing to open on a classic page
    expect(home.sign_out_button).to_be_visible()


def test_an_action_by_xhr_is_awaited_by_its_response_not_a_page_load(page: Page, po: BasePage) -> None:
    on(page, "/sp")
    with pytest.raises((TimeoutError, Error)):  # the naive way: no page load ever comes
        with page.expect_navigation(timeout=1500):
            page.get_by_role("button", name="Send").click()
    response = po.act(page.get_by_role("button", name="Send"), done=page.get_by_role("status"))
    assert response.request.method == "POST" and response.url.endswith("/api/post")
    assert page.posts[-1] == {"path": "/api/post", "token": "portal-token"}  # type: ignore[attr-defined]


def test_the_security_token_is_read_from_the_form_or_from_g_ck(page: Page, po: BasePage) -> None:
    on(page, "/classic")
    assert po.csrf_token() == "classic-token"
    on(page, "/sp")
    assert po.csrf_token() == "portal-token"
    on(page, "/none")
    with pytest.raises(AssertionError, match="no security token"):
        po.csrf_token()
