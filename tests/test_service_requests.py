"""The service catalogue of the reference SSI, checked over HTTP without a browser: an item ordered becomes a
request (REQ), a requested item (RITM) with its variables and a catalogue task (SCTASK); mandatory variables,
the role matrix's service_catalogue component, organisation scoping, comments and attachments, and the
Table API's sc_request, sc_req_item and sc_task."""

from __future__ import annotations

import re

import httpx
import pytest

from ssi.profile import load_profile
from tests.test_incident_rules import NOT_VALID, signed_in
from tests.test_incident_rules import USERS as INCIDENT_USERS
from uept.runtime.reference import RunningSSI

ITEM = load_profile("reference").service_requests.item("general")
ORDER = f"/sp?id=sc_cat_item&sys_id={ITEM.sys_id}"
USERS = {"LA user": "la.nps", "other organisation admin": "oa.sen"}
FORM = {"request_type": "report", "summary": "Monthly report of our SMETS2 installs", "details": "For March",
        "contact_first_name": "Lena", "contact_last_name": "Abbott", "contact_phone": "01632 960010"}


@pytest.fixture(autouse=True)
def _users(monkeypatch):
    monkeypatch.setitem(INCIDENT_USERS, "LA user", "la.nps")
    monkeypatch.setitem(INCIDENT_USERS, "other organisation admin", "oa.sen")


def order(p, **values: str) -> tuple[str, str]:
    """Submit the general item; (the requested item's sys_id, its ticket page)."""
    r = p.post(ORDER, {**FORM, **values})
    assert r.status_code == 303, re.findall(r"field-error[^>]*>([^<]+)", r.text)
    sys_id = re.search(r"table=sc_req_item&sys_id=([0-9a-f]{32})", r.headers["location"]).group(1)
    return sys_id, p.http.get(r.headers["location"]).text


def api(ssi: RunningSSI, persona: str) -> httpx.Client:
    return httpx.Client(base_url=ssi.url, auth=httpx.BasicAuth(USERS[persona], ssi.secrets[persona]["password"]),
                        timeout=20)


def test_an_ordered_item_becomes_a_request_an_item_and_a_task(reference_ssi):
    la = signed_in(reference_ssi, "LA user")
    sys_id, page = order(la, summary="Report of installs, April")
    ritm = re.search(r'<h1 id="ticket_number">(RITM\d{7})</h1>', page).group(1)
    req = re.search(r"Request submitted: (REQ\d{7}) \((RITM\d{7})\)", page)
    assert req and req.group(2) == ritm, page[:2000]
    assert "Report of installs, April" in page and "Report request" in page  # a choice shown by its label
    with api(reference_ssi, "LA user") as c:
        item = c.get(f"/api/now/table/sc_req_item/{sys_id}",
                     params={"sysparm_display_value": "all"}).json()["result"]
        assert item["number"]["value"] == ritm and item["stage"]["display_value"] == "Request approved"
        assert "summary=Report of installs, April" in item["variables"]["display_value"]
        request = c.get(f"/api/now/table/sc_request/{item['request']['value']}").json()["result"]
        assert request["number"] == req.group(1) and request["request_state"] == "requested"
        tasks = c.get("/api/now/table/sc_task", params={"sysparm_query": f"request_item={sys_id}"}).json()["result"]
        assert len(tasks) == 1 and tasks[0]["number"].startswith("SCTASK")


def test_mandatory_variables_and_their_shapes_are_checked(reference_ssi):
    la = signed_in(reference_ssi, "LA user")
    r = la.post(ORDER, {**FORM, "summary": "", "request_type": "nonsense", "contact_email": "not-an-email"})
    assert r.status_code == 400
    errors = re.findall(r'class="field-error" id="sp_formfield_(\w+)_error">([^<]+)', r.text)
    assert {name for name, _ in errors} == {"summary", "request_type", "contact_email"}, errors
    assert "Request summary is required." in r.text


def test_a_role_without_the_service_catalogue_has_no_menu_entry_and_is_refused(reference_ssi):
    sm = signed_in(reference_ssi, "SM user")
    assert "Service requests" not in sm.http.get("/sp?id=index").text
    assert sm.http.get(ORDER).status_code == 403
    assert sm.http.get("/sp?id=sc_home").status_code == 403
    assert sm.post(ORDER, FORM).status_code == 403
    la = signed_in(reference_ssi, "LA user")
    assert "Service requests" in la.http.get("/sp?id=index").text


def test_another_organisation_cannot_see_our_requests(reference_ssi):
    la = signed_in(reference_ssi, "LA user")
    sys_id, _ = order(la, summary="Ours alone")
    other = signed_in(reference_ssi, "other organisation admin")
    r = other.http.get(f"/sp?id=ticket&table=sc_req_item&sys_id={sys_id}")
    assert r.status_code == 404 and NOT_VALID in r.text
    assert "Ours alone" not in other.http.get("/sp?id=sc_home").text
    assert "Ours alone" in la.http.get("/sp?id=sc_home").text
    with api(reference_ssi, "other organisation admin") as c:
        assert c.get(f"/api/now/table/sc_req_item/{sys_id}").status_code == 404
        found = c.get("/api/now/table/sc_req_item", params={"sysparm_query": "short_description=Ours alone"})
        assert found.json()["result"] == []


def test_a_comment_and_an_attachment_are_added_to_a_request(reference_ssi):
    la = signed_in(reference_ssi, "LA user")
    sys_id, _ = order(la, summary="With a comment")
    ticket = f"/sp?id=ticket&table=sc_req_item&sys_id={sys_id}"
    r = la.post(ticket, {"action": "comment", "comments": "Please send it as CSV"})
    assert r.status_code == 303
    r = la.post(ticket, {"action": "comment", "comments": ""})
    assert r.status_code == 400
    with api(reference_ssi, "LA user") as c:
        up = c.post("/api/now/attachment/file", params={"table_name": "sc_req_item", "table_sys_id": sys_id,
                                                          "file_name": "scope.txt"}, content=b"rows 1-10")
        assert up.status_code == 201, up.text
        item = c.get(f"/api/now/table/sc_req_item/{sys_id}",
                     params={"sysparm_fields": "comments", "sysparm_display_value": "true"}).json()
    page = la.http.get(ticket).text
    assert "Please send it as CSV" in page and "scope.txt" in page
    assert "Please send it as CSV" in item["result"]["comments"]
    att = re.search(r'href="/sys_attachment.do\?sys_id=([0-9a-f]{32})"', page).group(1)
    assert la.http.get(f"/sys_attachment.do?sys_id={att}").content == b"rows 1-10"
    other = signed_in(reference_ssi, "other organisation admin")
    assert other.http.get(f"/sys_attachment.do?sys_id={att}").status_code == 404
