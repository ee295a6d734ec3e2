"""ServiceNow's own Python client (pysnc, unchanged) against the reference SSI's Table API.

pysnc only talks HTTPS, so this server runs with a throw-away self-signed
certificate that the client is told to trust: nothing in the client is patched.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
import requests

from uept.runtime.reference import EmbeddedSSI, RunningSSI

pysnc = pytest.importorskip("pysnc")


@pytest.fixture(scope="module")
def tls_ssi() -> Iterator[RunningSSI]:
    with EmbeddedSSI(tls=True) as ssi:
        yield ssi


@pytest.fixture(autouse=True)
def trust_only_the_test_certificate(monkeypatch: pytest.MonkeyPatch) -> None:
    # requests lets these variables override a session's `verify` (pysnc passes verify per session)
    for name in ("REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE"):
        monkeypatch.delenv(name, raising=False)


def client(ssi: RunningSSI, persona: str):
    user = {"SM user": "sm.nps", "other organisation user": "sm.sen", "LA user": "la.nps",
            "other organisation admin": "oa.sen"}[persona]
    return pysnc.ServiceNowClient(ssi.url, (user, ssi.secrets[persona]["password"]), verify=str(ssi.ca_file))


def admin(ssi: RunningSSI):
    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {ssi.operator_token}"
    return pysnc.ServiceNowClient(ssi.url, session, verify=str(ssi.ca_file))


def new_incident(sn, summary: str, **values: str) -> str:
    gr = sn.GlideRecord("incident")
    gr.initialize()
    gr.short_description = summary
    gr.category = "service_management"
    gr.impact = values.get("impact", "2")
    gr.urgency = values.get("urgency", "2")
    gr.u_contact_first_name = "Pat"
    gr.u_contact_last_name = "Client"
    gr.u_contact_phone = "01632 960001"
    sys_id = gr.insert()
    assert sys_id, "insert returned no sys_id"
    return str(sys_id)


def test_insert_get_and_display_values(tls_ssi):
    sn = client(tls_ssi, "SM user")
    token = uuid.uuid4().hex[:8]
    sys_id = new_incident(sn, f"pysnc insert {token}", impact="1", urgency="1")
    gr = sn.GlideRecord("incident")
    assert gr.get(sys_id)
    assert gr.get_value("number").startswith("INC") and len(gr.get_value("number")) == 10
    assert gr.get_value("priority") == "1"
    assert gr.get_display_value("priority") == "1 - Critical"
    assert gr.get_display_value("state") == "New"
    assert gr.get_display_value("caller_id") == "Sofia Marsh"
    assert gr.get_display_value("company") == "Northern Power Supply Ltd"


def test_query_with_conditions_or_and_paging(tls_ssi):
    sn = client(tls_ssi, "SM user")
    token = uuid.uuid4().hex[:8]
    made = [new_incident(sn, f"pysnc page {token} {i}") for i in range(7)]
    gr = sn.GlideRecord("incident", batch_size=3)  # forces three round trips through X-Total-Count paging
    gr.add_query("short_description", "LIKE", f"pysnc page {token}")
    gr.add_query("state", "1").add_or_condition("state", "2")
    gr.order_by_desc("number")
    gr.query()
    seen = [g.get_value("sys_id") for g in gr]
    assert sorted(seen) == sorted(made)
    numbers = []
    gr2 = sn.GlideRecord("incident")
    gr2.add_encoded_query(f"short_descriptionSTARTSWITHpysnc page {token}^ORDERBYDESCnumber")
    gr2.query()
    numbers = [g.get_value("number") for g in gr2]
    assert numbers == sorted(numbers, reverse=True) and len(numbers) == 7
    assert len(gr2) == 7  # get_row_count from X-Total-Count


def test_update_follows_the_rules(tls_ssi):
    sn = client(tls_ssi, "SM user")
    sys_id = new_incident(sn, f"pysnc update {uuid.uuid4().hex[:8]}")
    gr = sn.GlideRecord("incident")
    assert gr.get(sys_id)
    gr.state = "6"  # resolving without code and notes is refused by the server (403, as a data policy)
    with pytest.raises(pysnc.exceptions.RoleException, match="Resolution code is required"):
        gr.update()
    gr = sn.GlideRecord("incident")
    assert gr.get(sys_id)
    gr.state = "6"
    gr.close_code = "Solution provided"
    gr.close_notes = "Fixed by the pysnc test"
    gr.update()
    again = sn.GlideRecord("incident")
    assert again.get(sys_id)
    assert again.get_value("state") == "6" and again.get_value("close_code") == "Solution provided"


def test_other_organisation_and_roles(tls_ssi):
    mine = new_incident(client(tls_ssi, "SM user"), f"pysnc scope {uuid.uuid4().hex[:8]}")
    other = client(tls_ssi, "other organisation user").GlideRecord("incident")
    assert other.get(mine) is False  # 404 for another organisation's record
    la = client(tls_ssi, "LA user")
    gr = la.GlideRecord("incident")
    assert gr.get(mine)  # Lead Agents may view...
    gr.initialize()
    gr.short_description = "not allowed"
    with pytest.raises(pysnc.exceptions.RoleException):  # ...but not raise (403)
        gr.insert()


def test_delete_needs_the_administrator(tls_ssi):
    sn = client(tls_ssi, "SM user")
    sys_id = new_incident(sn, f"pysnc delete {uuid.uuid4().hex[:8]}")
    gr = sn.GlideRecord("incident")
    assert gr.get(sys_id)
    with pytest.raises(pysnc.exceptions.RoleException):
        gr.delete()
    gr = admin(tls_ssi).GlideRecord("incident")
    assert gr.get(sys_id)
    assert gr.delete() is True
    assert sn.GlideRecord("incident").get(sys_id) is False


def test_sys_user_within_my_organisation(tls_ssi):
    gr = client(tls_ssi, "SM user").GlideRecord("sys_user")
    gr.query()
    names = {g.get_value("user_name") for g in gr}
    assert "sm.nps" in names and "sm.sen" not in names
    assert all(g.get_element("user_password") is None or not g.get_value("user_password") for g in gr)


def test_attachments(tls_ssi):
    sn = client(tls_ssi, "SM user")
    sys_id = new_incident(sn, f"pysnc attach {uuid.uuid4().hex[:8]}")
    gr = sn.GlideRecord("incident")
    assert gr.get(sys_id)
    data = uuid.uuid4().bytes * 100
    gr.add_attachment("evidence.txt", data, "text/plain")
    attachments = gr.get_attachments()
    files = list(attachments)
    assert len(files) == 1 and files[0].file_name == "evidence.txt"
    assert files[0].read() == data


# ---------------------------------------------------------------- through the Batch API
def incidents_about(sn, words: str, query: bool = True):
    """A GlideRecord over the incidents whose short description holds these words (queried unless told not)."""
    gr = sn.GlideRecord("incident")
    gr.add_query("short_description", "LIKE", words)
    if query:
        gr.query()
    return gr


def test_update_multiple_goes_through_the_batch_api(tls_ssi):
    sn = client(tls_ssi, "SM user")
    token = uuid.uuid4().hex[:8]
    made = {new_incident(sn, f"pysnc batch {token} {i}") for i in range(4)}
    gr = incidents_about(sn, f"pysnc batch {token}")
    for g in gr:
        g.comments = f"comment from update_multiple {token}"
    assert gr.update_multiple() is True
    seen = incidents_about(sn, f"pysnc batch {token}")
    assert {g.get_value("sys_id") for g in seen} == made
    journal = sn.GlideRecord("sys_journal_field")
    journal.add_query("value", f"comment from update_multiple {token}")
    journal.query()
    assert {j.get_value("element_id") for j in journal} == made


def test_update_multiple_reports_what_the_rules_refuse(tls_ssi):
    sn = client(tls_ssi, "SM user")
    token = uuid.uuid4().hex[:8]
    new_incident(sn, f"pysnc refused {token}")
    gr = incidents_about(sn, f"pysnc refused {token}")
    for g in gr:
        g.state = "6"  # resolving without a resolution code and notes: refused, as alone
    assert gr.update_multiple() is False


def test_delete_multiple_needs_the_administrator(tls_ssi):
    sn = client(tls_ssi, "SM user")
    token = uuid.uuid4().hex[:8]
    made = {new_incident(sn, f"pysnc delete many {token} {i}") for i in range(3)}
    assert incidents_about(sn, f"pysnc delete many {token}", query=False).delete_multiple() is False  # 403 each
    assert incidents_about(admin(tls_ssi), f"pysnc delete many {token}", query=False).delete_multiple() is True
    for sys_id in made:
        assert sn.GlideRecord("incident").get(sys_id) is False


def test_a_query_over_10000_characters_is_sent_as_a_batch(tls_ssi):
    sn = client(tls_ssi, "SM user")
    token = uuid.uuid4().hex[:8]
    made = [new_incident(sn, f"pysnc long {token} {i}") for i in range(3)]
    numbers = []
    for sys_id in made:
        g = sn.GlideRecord("incident")
        assert g.get(sys_id)
        numbers.append(g.get_value("number"))
    decoys = [f"INC{9000000 + i:07d}" for i in range(1000)]  # 1,000 numbers no incident has: 11,000 characters
    gr = sn.GlideRecord("incident")
    gr.add_encoded_query("numberIN" + ",".join(decoys + numbers))
    assert len(gr.get_encoded_query()) > 10_000
    gr.query()
    assert sorted(g.get_value("number") for g in gr) == sorted(numbers)
    assert len(gr) == 3  # X-Total-Count, carried in the batch's inner response headers


def test_the_service_catalogue_tables_are_queried_and_scoped(tls_ssi):
    """A request ordered on the portal is found with pysnc in sc_req_item, sc_request and sc_task, by its
    requester's organisation only; pysnc orders one too, through the same checks."""
    import re
    import ssl

    import httpx

    from ssi.profile import load_profile
    from tests.helpers import Portal

    item = load_profile("reference").service_requests.item("general")
    p = Portal(tls_ssi.url)
    p.http = httpx.Client(base_url=tls_ssi.url, follow_redirects=False, timeout=20,
                          verify=ssl.create_default_context(cafile=str(tls_ssi.ca_file)))
    sec = tls_ssi.secrets["LA user"]
    assert p.login("la.nps", sec["password"], sec["totp_seed"]).status_code == 303
    token = uuid.uuid4().hex[:8]
    r = p.post(f"/sp?id=sc_cat_item&sys_id={item.sys_id}", {
        "request_type": "report", "summary": f"pysnc request {token}", "contact_first_name": "Lena",
        "contact_last_name": "Abbott", "contact_phone": "01632 960010"})
    assert r.status_code == 303, r.text[:500]
    ritm_id = re.search(r"sys_id=([0-9a-f]{32})", r.headers["location"]).group(1)
    sn = client(tls_ssi, "LA user")
    gr = sn.GlideRecord("sc_req_item")
    gr.add_query("short_description", "LIKE", f"pysnc request {token}")
    gr.query()
    assert gr.next() and gr.get_value("sys_id") == ritm_id and gr.get_value("number").startswith("RITM")
    assert gr.get_display_value("stage") == "Request approved"
    request_id = gr.get_value("request")
    req = sn.GlideRecord("sc_request")
    assert req.get(request_id) and req.get_value("number").startswith("REQ")
    task = sn.GlideRecord("sc_task")
    task.add_query("request_item", ritm_id)
    task.query()
    assert task.next() and task.get_value("number").startswith("SCTASK")
    assert client(tls_ssi, "other organisation admin").GlideRecord("sc_req_item").get(ritm_id) is False  # 404
    ordered = sn.GlideRecord("sc_req_item")  # ordering through the Table API: the portal's checks
    ordered.initialize()
    ordered.cat_item = item.sys_id
    ordered.variables = "\n".join(f"{k}={v}" for k, v in {
        "request_type": "information", "summary": f"pysnc order {token}", "contact_first_name": "Lena",
        "contact_last_name": "Abbott", "contact_phone": "01632 960010"}.items())
    new_id = ordered.insert()
    assert new_id and sn.GlideRecord("sc_req_item").get(new_id)
    incomplete = sn.GlideRecord("sc_req_item")
    incomplete.initialize()
    incomplete.cat_item = item.sys_id
    incomplete.variables = "summary=no contact"
    with pytest.raises(pysnc.exceptions.RequestException, match="First name is required"):
        incomplete.insert()
    with pytest.raises(pysnc.exceptions.RoleException):  # no service catalogue among its roles: 403
        client(tls_ssi, "SM user").GlideRecord("sc_req_item").get(ritm_id)
