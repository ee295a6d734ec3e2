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
    monkeypatch.setitem(INCIDENT_USERS, "OA user", "oa.nps")


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


# ---------------------------------------------------------------- ADT files
ADT = load_profile("reference").service_requests.item("adt")
ADT_ORDER = f"/sp?id=sc_cat_item&sys_id={ADT.sys_id}"
LIMIT = ADT.variable("adt_file").max_bytes


def submit_adt(p, name: str, content: bytes) -> httpx.Response:
    token = p.csrf(ADT_ORDER)
    return p.http.post(ADT_ORDER, data={"sysparm_ck": token, "summary": f"Thresholds {name}"},
                       files={"adt_file": (name, content, "text/csv")})


def sized(key: str, size: int) -> bytes:
    """A signed ADT file of exactly `size` bytes."""
    from ssi.signed_files import sign

    body = b"ADT,1.0\nservice_request_variant,threshold_type,threshold\n1.1,rate,10\n"
    overhead = len(sign(body + b"#\n", key)) - len(body) - 2
    return sign(body + b"#" + b"x" * (size - len(body) - overhead - 2) + b"\n", key)


def file_error(r: httpx.Response) -> str:
    found = re.search(r'id="sp_formfield_adt_file_error">([^<]+)', r.text)
    return found.group(1) if found else ""


def test_an_adt_file_at_the_size_limit_is_accepted_and_one_byte_more_is_refused(reference_ssi):
    la = signed_in(reference_ssi, "LA user")
    key = reference_ssi.party_keys["NPS"]
    at, over = sized(key, LIMIT), sized(key, LIMIT + 1)
    assert (len(at), len(over)) == (LIMIT, LIMIT + 1)
    r = submit_adt(la, "over.csv", over)
    assert r.status_code == 400 and "files larger than 1 MB cannot be submitted" in file_error(r), file_error(r)
    r = submit_adt(la, "at.csv", at)
    assert r.status_code == 303, file_error(r)


def test_an_adt_file_changed_after_signing_or_signed_by_another_organisation_is_refused(reference_ssi):
    from ssi.signed_files import sign

    la = signed_in(reference_ssi, "LA user")
    signed = sign(b"ADT,1.0\n1.1,rate,10\n", reference_ssi.party_keys["NPS"])
    r = submit_adt(la, "changed.csv", signed.replace(b"rate,10", b"rate,99"))
    assert r.status_code == 400 and "its signature does not match its content" in file_error(r)
    r = submit_adt(la, "theirs.csv", sign(b"ADT,1.0\n1.1,rate,10\n", reference_ssi.party_keys["SEN"]))
    assert r.status_code == 400 and "not registered for your organisation" in file_error(r)
    r = submit_adt(la, "plain.csv", b"ADT,1.0\n1.1,rate,10\n")
    assert r.status_code == 400 and "it is not signed" in file_error(r)
    r = submit_adt(la, "thresholds.txt", signed)
    assert r.status_code == 400 and "is not a .csv file" in file_error(r)


def test_dcc_validates_then_processes_and_the_submitter_is_emailed_at_each_step(reference_ssi):
    import time

    from ssi.signed_files import sign

    la = signed_in(reference_ssi, "LA user")
    t0 = time.time() - 1
    r = submit_adt(la, "ok.csv", sign(b"ADT,1.0\n1.1,rate,10\n", reference_ssi.party_keys["NPS"]))
    assert r.status_code == 303
    page = la.http.get(r.headers["location"]).text
    number = re.search(r'<h1 id="ticket_number">(RITM\d{7})</h1>', page).group(1)
    assert "Awaiting DCC validation" in page and "ok.csv" in page
    op = httpx.Client(base_url=f"{reference_ssi.url}/_operator",
                      headers={"Authorization": f"Bearer {reference_ssi.operator_token}"}, timeout=20)
    assert op.post(f"/requests/{number}", json={"action": "process"}).status_code == 409  # not validated yet
    assert op.post(f"/requests/{number}", json={"action": "reject"}).status_code == 400  # a reason is needed
    assert op.post(f"/requests/{number}", json={"action": "accept"}).json()["stage"] == "processing"
    assert op.post(f"/requests/{number}", json={"action": "accept"}).status_code == 409  # once
    done = op.post(f"/requests/{number}", json={"action": "process"}).json()
    assert (done["stage"], done["state"]) == ("complete", 3)
    sink = httpx.Client(base_url=f"{reference_ssi.url}/_mailsink/api/v1",
                        headers={"Authorization": f"Bearer {reference_ssi.operator_token}"}, timeout=20)
    subjects = [m["Subject"] for m in sink.get("/messages", params={"to": "la.nps@nps.example.com",
                                                                       "since": t0}).json()["messages"]]
    assert sorted(s for s in subjects if number in s) == sorted(
        f"{number} ADT file submission: {w}" for w in ("received", "accepted by DCC", "processed by DCC"))


# ---------------------------------------------------------------- quarantine command actions
QUARANTINE = load_profile("reference").service_requests.item("quarantine")


def test_a_quarantine_incident_is_answered_with_an_action_file_and_resolved_naming_the_request(reference_ssi):
    from ssi.signed_files import sign

    op = httpx.Client(base_url=f"{reference_ssi.url}/_operator",
                      headers={"Authorization": f"Bearer {reference_ssi.operator_token}"}, timeout=20)
    inc = op.post("/requests/quarantine-incident", json={"user_name": "la.nps", "commands": 2}).json()
    la = signed_in(reference_ssi, "LA user")
    page = la.http.get(f"/sp?id=ticket&table=incident&sys_id={inc['sys_id']}").text
    link = re.search(r'<a href="([^"]+)">Respond with: Quarantine command action</a>', page)
    assert link, page[-3000:]
    form_url = link.group(1).replace("&amp;", "&")
    assert f"incident={inc['number']}" in form_url
    form = la.http.get(form_url).text
    assert f'value="{inc["number"]}"' in form  # the incident is filled in from the link
    signed = sign(b"command_id,action\nQ-1,release\nQ-2,delete\n", reference_ssi.party_keys["NPS"])

    def submit(number: str) -> httpx.Response:
        token = la.csrf(form_url)
        return la.http.post(f"/sp?id=sc_cat_item&sys_id={QUARANTINE.sys_id}",
                            data={"sysparm_ck": token, "incident": number, "summary": "Our actions"},
                            files={"action_file": ("actions.csv", signed, "text/csv")})

    r = submit("INC9999999")
    assert r.status_code == 400 and "is not an open incident of your organisation" in r.text
    r = submit(inc["number"])
    assert r.status_code == 303, re.findall(r'field-error[^>]*>([^<]+)', r.text)
    ticket = la.http.get(r.headers["location"]).text
    ritm = re.search(r'<h1 id="ticket_number">(RITM\d{7})</h1>', ticket).group(1)
    req = re.search(r"Request submitted: (REQ\d{7})", ticket).group(1)
    assert op.post(f"/requests/{ritm}", json={"action": "process"}).json()["stage"] == "complete"
    with api(reference_ssi, "LA user") as c:
        stored = c.get(f"/api/now/table/incident/{inc['sys_id']}").json()["result"]
    assert stored["state"] == "6" and req in stored["close_notes"] and ritm in stored["close_notes"]
    other = signed_in(reference_ssi, "other organisation admin")
    r = other.post(f"/sp?id=sc_cat_item&sys_id={QUARANTINE.sys_id}", {"incident": inc["number"], "summary": "x"})
    assert r.status_code == 400 and "is not an open incident of your organisation" in r.text


def test_my_requests_lists_requested_items_beside_incidents(reference_ssi):
    from tests.test_incident_rules import raise_incident

    la = signed_in(reference_ssi, "OA user")  # raises incidents and requests alike
    _, incident = raise_incident(la, "An incident beside a request")
    sys_id, page = order(la, summary="A request beside an incident")
    ritm = re.search(r'<h1 id="ticket_number">(RITM\d{7})</h1>', page).group(1)
    req = re.search(r"Request submitted: (REQ\d{7})", page).group(1)
    listed = la.http.get("/sp?id=my_requests").text
    assert incident in listed and ritm in listed and re.search(r"of \d+\s+open requests", listed), listed[-2000:]
    assert f"table=sc_req_item&amp;sys_id={sys_id}" in listed
    found = la.http.get(f"/sp?id=my_requests&q={req}").text
    assert ritm in found and incident not in found and "Request approved" in found
    sm = signed_in(reference_ssi, "SM user")  # no service catalogue: incidents only, worded as before
    assert re.search(r"open incidents?\b", sm.http.get("/sp?id=my_requests").text)


def test_markup_typed_into_a_request_is_shown_as_text(reference_ssi):
    la = signed_in(reference_ssi, "LA user")
    typed = '<script>window.__ueptXss=1</script><img src=x onerror=alert(1)>'
    sys_id, page = order(la, summary=f"Markup {typed}", details=typed)
    listed = la.http.get("/sp?id=sc_home").text
    for html in (page, listed):
        assert "<script>window.__ueptXss" not in html and "<img src=x" not in html
        assert "&lt;script&gt;window.__ueptXss=1&lt;/script&gt;" in html


def test_an_adt_file_whose_signature_line_is_cut_short_is_refused(reference_ssi):
    from ssi.signed_files import sign

    la = signed_in(reference_ssi, "LA user")
    signed = sign(b"ADT,1.0\n1.1,rate,10\n", reference_ssi.party_keys["NPS"])
    for damaged in (signed[:-10], signed[:-1].rstrip(b"=") + b"\n", signed.replace(b"ed25519", b"ed25518")):
        r = submit_adt(la, "damaged.csv", damaged)
        assert r.status_code == 400 and "ADT file: damaged.csv is refused because" in file_error(r), damaged[-60:]


# ---------------------------------------------------------------- what a requester may do in each item state
def desk(ssi: RunningSSI) -> httpx.Client:
    return httpx.Client(base_url=ssi.url, headers={"Authorization": f"Bearer {ssi.operator_token}"}, timeout=20)


def test_each_item_state_takes_exactly_the_updates_and_state_changes_the_profile_gives(reference_ssi):
    """service_requests.requester_updates and requester_transitions, both ways: an Open item takes a comment and a
    file from its requester on the page and the APIs; DCC's desk closes it; then the page offers neither and
    both APIs refuse them (nothing stored); the requester may set no state; a field that is DCC's is refused."""
    la = signed_in(reference_ssi, "LA user")
    sys_id, page = order(la, summary="States of an item")
    ticket, table = f"/sp?id=ticket&table=sc_req_item&sys_id={sys_id}", f"/api/now/table/sc_req_item/{sys_id}"
    assert 'name="comments"' in page and 'name="attachment"' in page
    with api(reference_ssi, "LA user") as c, desk(reference_ssi) as d:
        assert c.patch(table, json={"comments": "Through the Table API"}).status_code == 200
        assert c.patch(table, json={"comments": "x" * 4001}).status_code == 400  # over incidents.limits.comment
        for state in ("2", "3", "7"):
            r = c.patch(table, json={"state": state})
            assert r.status_code == 403 and "Only DCC" in r.text, r.text
        assert c.patch(table, json={"cat_item": ADT.sys_id}).status_code == 403
        assert c.get(table).json()["result"]["state"] == "1"
        r = d.patch(table, json={"state": "3"})
        assert r.status_code == 200 and r.json()["result"]["state"] == "3", r.text
        after = c.get(table, params={"sysparm_display_value": "all"}).json()["result"]
        assert after["stage"]["display_value"] == "Completed" and after["active"]["value"] == "false"
        page = la.http.get(ticket).text
        assert 'name="comments"' not in page and 'name="attachment"' not in page and "Through the Table API" in page
        assert c.patch(table, json={"comments": "After closing"}).status_code == 403
        assert la.post(ticket, {"action": "comment", "comments": "After closing"}).status_code == 403
        up = c.post("/api/now/attachment/file", params={"table_name": "sc_req_item", "table_sys_id": sys_id,
                                                          "file_name": "late.txt"}, content=b"late")
        assert up.status_code == 403, up.text
        page = la.http.get(ticket).text
        assert "After closing" not in page and "late.txt" not in page
        for bad in ("9", "", "abc", "1; DROP TABLE sc_req_item"):  # not a state: refused, the item as it was
            assert d.patch(table, json={"state": bad}).status_code == 400, bad
        assert c.get(table).json()["result"]["state"] == "3"
