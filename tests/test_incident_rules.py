"""Incident rules of the reference SSI's portal, checked over HTTP without a browser: rights from the
role matrix, organisation scoping, CSRF, escaping, attachments, bad form input and My Requests."""

from __future__ import annotations

import re
import uuid

import httpx
import pytest

from tests.helpers import Portal
from uept.runtime.reference import RunningSSI

PRODUCER = "/sp?id=sc_cat_item&sys_id=3f1dd0320a0a0b99000a53f7604a2ef9"
USERS = {"SM user": "sm.nps", "LA user": "la.nps", "CC user": "cc.nps", "other organisation user": "sm.sen"}
FORM = {
    "category": "service_management",
    "impact": "2",
    "urgency": "2",
    "u_contact_first_name": "Pat",
    "u_contact_last_name": "Portal",
    "u_contact_phone": "01632 960003",
}
NOT_VALID = "You are either not authorized or record is not valid"


_PORTALS: dict[tuple[str, str], Portal] = {}


def signed_in(ssi: RunningSSI, persona: str) -> Portal:
    if (ssi.url, persona) in _PORTALS:
        return _PORTALS[(ssi.url, persona)]
    p = Portal(ssi.url)
    sec = ssi.secrets[persona]
    r = p.login(USERS[persona], sec["password"], sec["totp_seed"])
    assert r.status_code == 303, r.text[:300]
    _PORTALS[(ssi.url, persona)] = p
    return p


@pytest.fixture(scope="module")
def sm(reference_ssi: RunningSSI) -> Portal:
    return signed_in(reference_ssi, "SM user")


def raise_incident(p: Portal, summary: str, **values: str) -> tuple[str, str]:
    r = p.post(PRODUCER, {**FORM, "short_description": summary, **values})
    assert r.status_code == 303, re.findall(r"field-error[^>]*>([^<]+)", r.text)
    sys_id = re.search(r"sys_id=([0-9a-f]{32})", r.headers["location"]).group(1)
    page = p.http.get(r.headers["location"]).text
    number = re.search(r'<h1 id="ticket_number">(INC\d{7})</h1>', page).group(1)
    return sys_id, number


def ticket(sys_id: str) -> str:
    return f"/sp?id=ticket&table=incident&sys_id={sys_id}"


def test_menu_and_rights_follow_the_role_matrix(reference_ssi):
    la, cc, sm_ = (signed_in(reference_ssi, k) for k in ("LA user", "CC user", "SM user"))
    home = {k: p.http.get("/sp?id=index").text for k, p in (("la", la), ("cc", cc), ("sm", sm_))}
    assert "Create Incident" in home["sm"] and "My Requests" in home["sm"]
    assert "Create Incident" not in home["la"] and "My Requests" in home["la"]
    assert "Create Incident" not in home["cc"] and "My Requests" not in home["cc"]
    assert la.http.get(PRODUCER).status_code == 403
    token = uuid.uuid4().hex
    r = la.post(PRODUCER, {**FORM, "short_description": token}, csrf_from="/sp?id=index")
    assert r.status_code == 403
    assert cc.http.get("/sp?id=my_requests").status_code == 403
    sys_id, _ = raise_incident(sm_, f"seen by LA {token}")
    assert token in la.http.get(ticket(sys_id)).text
    assert cc.http.get(ticket(sys_id)).status_code == 403
    r = la.post(
        ticket(sys_id),
        {"action": "comment", "u_update_type": "Escalation", "comments": "no"},
        csrf_from=ticket(sys_id),
    )
    assert r.status_code == 403
    assert token not in sm_.http.get("/sp?id=my_requests&q=" + token).text.split("seen by LA")[0][-5:]


def test_other_organisation_gets_not_valid(reference_ssi, sm):
    sys_id, number = raise_incident(sm, "private to NPS")
    other = signed_in(reference_ssi, "other organisation user")
    r = other.http.get(ticket(sys_id))
    assert r.status_code == 404 and NOT_VALID in r.text and number not in r.text
    listing = other.http.get(f"/sp?id=my_requests&q={number}").text
    assert f'No incidents found matching "{number}"' in listing and f">{number}</a>" not in listing
    assert other.http.get(f"/sys_attachment.do?sys_id={uuid.uuid4().hex}").status_code == 404


@pytest.mark.parametrize(
    "path",
    [
        "/sp?id=ticket",
        "/sp?id=ticket&table=incident",
        "/sp?id=ticket&table=nope&sys_id=1",
        f"/sp?id=ticket&table=incident&sys_id={'0' * 32}",
        "/sp?id=sc_cat_item",
        "/sp?id=sc_cat_item&sys_id=nope",
    ],
)
def test_invalid_portal_urls_get_not_valid(sm, path):
    r = sm.http.get(path)
    assert r.status_code == 404 and NOT_VALID in r.text


def test_posts_need_the_csrf_token(sm):
    sys_id, _ = raise_incident(sm, "csrf")
    r = sm.http.post(
        ticket(sys_id), data={"action": "comment", "u_update_type": "Escalation", "comments": "x"}
    )
    assert r.status_code == 403 and "Invalid security token" in r.text
    r = sm.http.post(PRODUCER, data={**FORM, "short_description": "no token"})
    assert r.status_code == 403


def test_text_is_escaped(sm):
    summary = "<script>alert(1)</script><img src=x onerror=alert(2)>"
    sys_id, number = raise_incident(sm, summary, description="<b>notes</b>")
    html = sm.http.get(ticket(sys_id)).text
    assert "<script>alert(1)" not in html and "<img src=x" not in html and "<b>notes" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    listing = sm.http.get(f"/sp?id=my_requests&q={number}").text
    assert "<script>alert(1)" not in listing and "&lt;script&gt;" in listing


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"category": "evil"}, "Incident category must be one of"),
        ({"impact": "0"}, "Impact must be one of"),
        ({"u_contact_first_name": ""}, "First name is required."),
        ({"u_contact_phone": "call me"}, "enter 10 to 15 digits"),
        ({"u_contact_email": "x@"}, "enter an address like"),
        ({"short_description": "y" * 161}, "at most 160 characters (you entered 161)"),
        ({"category": "premises"}, "needs a Device ID or an MPxN"),
        ({"category": "premises", "u_mpxn": "1234567890123"}, "Your reference is required"),
    ],
)
def test_bad_form_input_is_refused_with_one_clear_message_and_nothing_saved(sm, values, message):
    token = uuid.uuid4().hex
    r = sm.post(PRODUCER, {**FORM, "short_description": f"bad {token}", **values})
    assert r.status_code == 400
    assert message in r.text and 'role="alert"' in r.text and 'aria-invalid="true"' in r.text
    assert "No incidents found" in sm.http.get(f"/sp?id=my_requests&q={token}").text


def test_resolve_close_reopen_through_the_portal(sm):
    sys_id, number = raise_incident(sm, "lifecycle")
    url = ticket(sys_id)
    r = sm.post(url, {"action": "resolve", "close_code": "", "close_notes": ""})
    assert r.status_code == 400 and "Resolution code is required" in r.text
    r = sm.post(url, {"action": "resolve", "close_code": "Solution provided", "close_notes": "done"})
    assert r.status_code == 303
    page = sm.http.get(url).text
    assert ">Resolved<" in page and ">Reopen<" in page and ">Close<" in page
    r = sm.post(url, {"action": "reopen", "reason": ""})
    assert r.status_code == 400 and "Reason for reopening is required" in r.text
    assert sm.post(url, {"action": "reopen", "reason": "back again"}).status_code == 303
    page = sm.http.get(url).text
    assert ">In Progress<" in page and "back again" in page
    sm.post(url, {"action": "resolve", "close_code": "User error", "close_notes": "again"})
    assert sm.post(url, {"action": "close"}).status_code == 303
    page = sm.http.get(url).text
    assert ">Closed<" in page and ">Reopen<" not in page and 'name="comments"' not in page
    r = sm.post(url, {"action": "reopen", "reason": "please"}, csrf_from="/sp?id=index")
    assert r.status_code == 403 and "cannot be reopened" in r.text
    assert number in sm.http.get(f"/sp?id=my_requests&view=closed&q={number}").text
    assert "No incidents found" in sm.http.get(f"/sp?id=my_requests&view=open&q={number}").text


def test_attachments_limits_and_download(reference_ssi, sm):
    sys_id, _ = raise_incident(sm, "files")
    url = ticket(sys_id)
    token = sm.csrf(url)
    data = b"mpan,kwh\n1234567890123,12.5\n"
    r = sm.http.post(
        url,
        data={"sysparm_ck": token, "action": "attach"},
        files={"attachment": ("reads.csv", data, "text/csv")},
    )
    assert r.status_code == 303
    page = sm.http.get(url).text
    att = re.search(r"/sys_attachment\.do\?sys_id=([0-9a-f]{32})", page).group(1)
    d = sm.http.get(f"/sys_attachment.do?sys_id={att}")
    assert d.content == data and d.headers["content-disposition"].startswith(
        'attachment; filename="reads.csv"'
    )
    for name, content, message in (
        ("x.exe", b"MZ", "Files of type .exe cannot be attached"),
        ("noext", b"x", "Files without an extension cannot be attached"),
        ("empty.txt", b"", "is empty"),
        ("big.zip", b"z" * (5 * 1024 * 1024 + 1), "larger than 5 MB"),
    ):
        r = sm.http.post(
            url,
            data={"sysparm_ck": token, "action": "attach"},
            files={"attachment": (name, content, "application/octet-stream")},
        )
        assert r.status_code == 400 and message in r.text, (name, r.status_code)
    assert len(re.findall(r"/sys_attachment\.do\?sys_id=", sm.http.get(url).text)) == 1
    other = signed_in(reference_ssi, "other organisation user")
    assert other.http.get(f"/sys_attachment.do?sys_id={att}").status_code == 404
    anonymous = httpx.Client(base_url=reference_ssi.url)
    assert anonymous.get(f"/sys_attachment.do?sys_id={att}").status_code in (302, 303)


def test_my_requests_filters_searches_and_pages(sm):
    token = uuid.uuid4().hex[:8]
    numbers = [raise_incident(sm, f"list {token} {i}")[1] for i in range(23)]
    first = sm.http.get(f"/sp?id=my_requests&q=list {token}").text
    assert re.search(r"Showing 1 to 20 of 23\s+open incidents", first) and "Page 1 of 2" in first, first
    second = sm.http.get(f"/sp?id=my_requests&q=list {token}&page=2").text
    assert "Showing 21 to 23 of 23" in second
    shown = set(re.findall(r">(INC\d{7})</a>", first)) | set(re.findall(r">(INC\d{7})</a>", second))
    assert shown == set(numbers)
    one = sm.http.get(f"/sp?id=my_requests&q={numbers[5].lower()}").text
    assert re.findall(r">(INC\d{7})</a>", one) == [numbers[5]]
    for junk in ("page=abc", "page=-4", "view=everything", "q=%25%25%25", "q=" + "z" * 5000):
        assert sm.http.get(f"/sp?id=my_requests&{junk}").status_code == 200
