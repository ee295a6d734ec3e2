"""The reference SSI's REST Table API at the HTTP level: envelopes, queries, paging, auth, scoping,
rules and bad input (400 with the error envelope, never 500)."""

from __future__ import annotations

import base64
import json
import random
import re
import string
import uuid

import httpx
import pytest

from tests.helpers import Portal
from uept.runtime.reference import RunningSSI

USERS = {
    "SM user": "sm.nps",
    "LA user": "la.nps",
    "CC user": "cc.nps",
    "other organisation user": "sm.sen",
    "AA user": "aa.nps",
    "other organisation admin": "oa.sen",
}
VALID = {
    "category": "service_management",
    "impact": "2",
    "urgency": "3",
    "u_contact_first_name": "Pat",
    "u_contact_last_name": "Api",
    "u_contact_phone": "01632 960002",
}


def api(ssi: RunningSSI, persona: str) -> httpx.Client:
    return httpx.Client(
        base_url=ssi.url,
        auth=(USERS[persona], ssi.secrets[persona]["password"]),
        timeout=20,
        headers={"Accept": "application/json"},
    )


def admin(ssi: RunningSSI) -> httpx.Client:
    return httpx.Client(
        base_url=ssi.url,
        timeout=20,
        headers={"Authorization": f"Bearer {ssi.operator_token}", "Accept": "application/json"},
    )


def create(client: httpx.Client, summary: str, **values: str) -> dict:
    r = client.post("/api/now/table/incident", json={**VALID, "short_description": summary, **values})
    assert r.status_code == 201, r.text
    return r.json()["result"]


def assert_error(r: httpx.Response, status: int, message: str | None = None) -> dict:
    assert r.status_code == status, f"{r.status_code} {r.text[:400]}"
    body = r.json()
    assert body["status"] == "failure" and set(body["error"]) == {"message", "detail"}, body
    if message:
        assert message in body["error"]["message"] + " " + body["error"]["detail"], body
    return body


@pytest.fixture(scope="module")
def sm(reference_ssi: RunningSSI) -> httpx.Client:
    return api(reference_ssi, "SM user")


# ---------------------------------------------------------------- envelopes and shapes
def test_post_is_201_with_location_and_string_values(reference_ssi, sm):
    r = sm.post("/api/now/table/incident", json={**VALID, "short_description": "shape check", "impact": 1})
    assert r.status_code == 201
    rec = r.json()["result"]
    assert r.headers["location"] == f"{reference_ssi.url}/api/now/table/incident/{rec['sys_id']}"
    assert re.fullmatch(r"[0-9a-f]{32}", rec["sys_id"])
    assert re.fullmatch(r"INC\d{7}", rec["number"])
    assert all(isinstance(v, str | dict) for v in rec.values())
    assert rec["state"] == "1" and rec["active"] == "true" and rec["priority"] == "3"  # impact 1 x urgency 3
    assert rec["caller_id"] == {
        "link": f"{reference_ssi.url}/api/now/table/sys_user/{rec['caller_id']['value']}",
        "value": rec["caller_id"]["value"],
    }
    assert rec["u_sec_category"] == "3" and rec["u_target_resolution"] > rec["opened_at"]
    assert sm.get(r.headers["location"]).json()["result"] == rec


def test_numbers_are_sequential(sm):
    a, b = create(sm, "seq a")["number"], create(sm, "seq b")["number"]
    assert int(b[3:]) == int(a[3:]) + 1


def test_display_value_modes_and_reference_links(sm):
    rec = create(sm, "display modes")
    base = f"/api/now/table/incident/{rec['sys_id']}"
    link = f"{sm.base_url}/api/now/table/sys_user/{rec['caller_id']['value']}"
    true = sm.get(base, params={"sysparm_display_value": "true"}).json()["result"]
    assert true["state"] == "New" and true["impact"] == "2 - Medium"
    # a reference with display values is {display_value, link}, as ServiceNow answers (a plain string only
    # without its link); an empty reference is an empty string
    assert true["caller_id"] == {"display_value": "Sofia Marsh", "link": link}
    assert true["company"]["display_value"] == "Northern Power Supply Ltd" and set(true["company"]) == {
        "display_value", "link"}
    assert true["resolved_by"] == ""
    no_link = sm.get(base, params={"sysparm_display_value": "true", "sysparm_exclude_reference_link": "true"})
    assert no_link.json()["result"]["caller_id"] == "Sofia Marsh"
    both = sm.get(base, params={"sysparm_display_value": "all"}).json()["result"]
    assert both["state"] == {"display_value": "New", "value": "1"}
    assert both["caller_id"] == {"display_value": "Sofia Marsh", "value": rec["caller_id"]["value"], "link": link}
    bare = sm.get(
        base, params={"sysparm_display_value": "all", "sysparm_exclude_reference_link": "true"}
    ).json()
    assert set(bare["result"]["caller_id"]) == {"display_value", "value"}
    plain = sm.get(base, params={"sysparm_exclude_reference_link": "true"}).json()["result"]
    assert plain["caller_id"] == rec["caller_id"]["value"]


def test_fields_limit_offset_total_and_links(sm):
    token = uuid.uuid4().hex[:8]
    made = [create(sm, f"paging {token} {i}")["number"] for i in range(5)]
    params = {
        "sysparm_query": f"short_descriptionLIKE{token}^ORDERBYnumber",
        "sysparm_limit": "2",
        "sysparm_offset": "2",
        "sysparm_fields": "number,short_description,nonsense",
    }
    r = sm.get("/api/now/table/incident", params=params)
    assert r.status_code == 200
    assert r.headers["x-total-count"] == "5"
    assert [x["number"] for x in r.json()["result"]] == made[2:4]
    assert all(set(x) == {"number", "short_description"} for x in r.json()["result"])
    links = dict((rel, url) for url, rel in re.findall(r'<([^>]+)>;rel="(\w+)"', r.headers["link"]))
    assert set(links) == {"first", "prev", "next", "last"}
    assert "sysparm_offset=4" in links["next"] and "sysparm_offset=0" in links["prev"]
    assert "sysparm_offset=4" in links["last"]
    last = sm.get(links["last"]).json()["result"]
    assert [x["number"] for x in last] == made[4:]
    quiet = sm.get("/api/now/table/incident", params={**params, "sysparm_suppress_pagination_header": "true"})
    assert "link" not in quiet.headers and quiet.headers["x-total-count"] == "5"
    no_count = sm.get("/api/now/table/incident", params={**params, "sysparm_no_count": "true"})
    assert "x-total-count" not in no_count.headers


def test_query_operators(sm):
    token = uuid.uuid4().hex[:8]
    a = create(sm, f"ops {token} alpha", impact="1")
    b = create(sm, f"ops {token} beta", impact="2")
    c = create(sm, f"ops {token} gamma", impact="3", u_contact_email="pat@example.com")

    def numbers(q: str) -> list[str]:
        r = sm.get("/api/now/table/incident", params={"sysparm_query": q, "sysparm_fields": "number"})
        assert r.status_code == 200, r.text
        return sorted(x["number"] for x in r.json()["result"])

    scope = f"short_descriptionLIKE{token}"
    n = {x: y["number"] for x, y in (("a", a), ("b", b), ("c", c))}
    assert numbers(f"{scope}^impact=1") == [n["a"]]
    assert numbers(f"{scope}^impact!=1") == sorted([n["b"], n["c"]])
    assert numbers(f"{scope}^impact=1^ORimpact=3") == sorted([n["a"], n["c"]])
    assert numbers(f"{scope}^impactIN2,3") == sorted([n["b"], n["c"]])
    assert numbers(f"{scope}^impactNOT IN2,3") == [n["a"]]
    assert numbers(f"short_descriptionSTARTSWITHops {token} b") == [n["b"]]
    assert numbers(f"{scope}^short_descriptionENDSWITHgamma") == [n["c"]]
    assert numbers(f"{scope}^short_descriptionNOT LIKEalpha") == sorted([n["b"], n["c"]])
    assert numbers(f"{scope}^u_contact_emailISEMPTY") == sorted([n["a"], n["b"]])
    assert numbers(f"{scope}^u_contact_emailISNOTEMPTY") == [n["c"]]
    assert numbers(f"{scope}^impact=1^NQ{scope}^impact=3") == sorted([n["a"], n["c"]])
    assert numbers(f"{scope}^caller_id=javascript:gs.getUserID()") == sorted(n.values())
    assert numbers(f"{scope}^state=New") == sorted(n.values())  # a choice label works like its value
    assert numbers(f"{scope}^active=true") == sorted(n.values())
    ordered = sm.get(
        "/api/now/table/incident",
        params={"sysparm_query": f"{scope}^ORDERBYDESCimpact", "sysparm_fields": "impact"},
    ).json()["result"]
    assert [x["impact"] for x in ordered] == ["3", "2", "1"]
    shortcut = sm.get(
        "/api/now/table/incident",
        params={"impact": "2", "sysparm_fields": "number", "sysparm_limit": "10000"},
    ).json()["result"]
    assert n["b"] in {x["number"] for x in shortcut}
    like_wildcards = numbers(f"{scope}^short_descriptionLIKE%")  # % is a character, not a wildcard
    assert like_wildcards == []


@pytest.mark.parametrize(
    "query",
    [
        "nosuchfield=1",
        "impact=high",
        "impact>=x",
        "state=4",
        "active=maybe",
        "short_description",
        "=1",
        "^ORimpact=1",
        "ORDERBYnosuch",
        "caller_id.user_name=sm.nps",
        "opened_at>yesterday",
        "caller_id=javascript:gs.getUser().getCompanyID()",
        "work_notesLIKEsecret",
        "commentsLIKEx",
        "impactIN1,two",
        "impactISEMPTYjunk^^impact<=",
        "sys_created_on>=2025-13",
    ],
)
def test_malformed_queries_are_400_with_a_reason(sm, query):
    r = sm.get("/api/now/table/incident", params={"sysparm_query": query})
    body = assert_error(r, 400, "Invalid query")
    assert body["error"]["detail"], "a 400 must say what is wrong"


@pytest.mark.parametrize(
    ("params", "what"),
    [
        ({"sysparm_limit": "ten"}, "sysparm_limit"),
        ({"sysparm_limit": "0"}, "sysparm_limit"),
        ({"sysparm_offset": "-1"}, "sysparm_offset"),
        ({"sysparm_display_value": "yes"}, "sysparm_display_value"),
        ({"sysparm_exclude_reference_link": "maybe"}, "sysparm_exclude_reference_link"),
        ({"nonsense": "1"}, "nonsense"),
        ({"impact": "1", "sysparm_query": "impact=2"}, "not both"),
        ({"sysparm_offset": "9" * 30}, "sysparm_offset"),
        ({"sysparm_limit": "9" * 30}, "sysparm_limit"),
        ({"sysparm_query": "reopen_count=" + "9" * 30}, "too large"),
        ({"sysparm_query": "sys_mod_countIN1," + "9" * 30}, "too large"),
    ],
)
def test_bad_parameters_are_400(sm, params, what):
    assert_error(sm.get("/api/now/table/incident", params=params), 400, what)


def test_garbage_never_gives_500(sm):
    rng = random.Random(1234)
    alphabet = string.printable + "^^^===!!<>%_\\'\"\u00e9\u2603\x00"
    for _ in range(150):
        q = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 40)))
        params = {
            "sysparm_query": q,
            rng.choice(["sysparm_fields", "sysparm_limit", "sysparm_offset"]): q[:8],
        }
        r = sm.get("/api/now/table/incident", params=params)
        assert r.status_code in (200, 400), (q, r.status_code, r.text[:200])
        if r.status_code == 400:
            assert r.json()["status"] == "failure"
    for body in (
        b"{",
        b"[1,2]",
        b'"x"',
        b"\xff\xfe",
        json.dumps({"impact": [1]}).encode(),
        json.dumps({"short_description": {"value": None}}).encode(),
        b'{"impact": NaN}',
        b'{"impact": 1e308}',
        json.dumps({"impact": 10**40}).encode(),
        b'{"urgency": -Infinity}',
    ):
        r = sm.post("/api/now/table/incident", content=body, headers={"Content-Type": "application/json"})
        assert r.status_code == 400, (body, r.status_code, r.text[:200])


# ---------------------------------------------------------------- writes and bad values
@pytest.mark.parametrize(
    ("values", "field"),
    [
        ({"impact": "7"}, "impact"),
        ({"urgency": "high"}, "urgency"),
        ({"category": "nope"}, "category"),
        ({"subcategory": "comms_hub"}, "subcategory"),
        ({"u_contact_phone": "12"}, "u_contact_phone"),
        ({"u_contact_email": "not-an-email"}, "u_contact_email"),
        ({"short_description": ""}, "short_description"),
        ({"short_description": "x" * 161}, "at most 160 characters"),
        ({"category": "premises", "u_mpxn": "12ab"}, "u_mpxn"),
        ({"u_device_id": "zz"}, "u_device_id"),
        ({"short_description": "nul \x00 byte"}, "control characters"),
    ],
)
def test_invalid_values_are_400_and_nothing_is_stored(sm, values, field):
    token = uuid.uuid4().hex[:8]
    body = {**VALID, "short_description": f"invalid {token}", **values}
    assert_error(sm.post("/api/now/table/incident", json=body), 400, field)
    found = sm.get("/api/now/table/incident", params={"sysparm_query": f"short_descriptionLIKE{token}"})
    assert found.json()["result"] == []


def test_read_only_and_unknown_fields_are_ignored_on_write(sm):
    rec = create(sm, "ignored fields", number="INC9999999", priority="1", state="7", bogus="x")
    assert rec["number"] != "INC9999999" and rec["priority"] == "4" and rec["state"] == "1"


def test_request_format_errors(reference_ssi, sm):
    assert_error(sm.get("/api/now/table/no_such_table"), 400, "Invalid table")
    assert_error(
        sm.post(
            "/api/now/table/incident",
            content=b"short_description=x",
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        ),
        415,
    )
    assert_error(sm.get("/api/now/table/incident", headers={"Accept": "application/xml"}), 406)
    assert_error(sm.delete("/api/now/table/incident"), 405)
    assert_error(sm.get(f"/api/now/table/incident/{uuid.uuid4().hex}"), 404, "No Record found")
    assert_error(sm.get("/api/now/table/incident/'; DROP TABLE incident; --"), 404)


# ---------------------------------------------------------------- authentication
def test_authentication_is_required(reference_ssi):
    anonymous = httpx.Client(base_url=reference_ssi.url, timeout=10)
    r = anonymous.get("/api/now/table/incident")
    assert_error(r, 401, "User Not Authenticated")
    assert r.headers["www-authenticate"].startswith("Basic")
    assert_error(anonymous.get("/api/now/table/incident", auth=("nobody.here", "wrong")), 401)
    assert_error(anonymous.get("/api/now/table/incident", headers={"Authorization": "Basic !!!"}), 401)
    assert_error(anonymous.get("/api/now/table/incident", headers={"Authorization": "Bearer nope"}), 401)
    bad = base64.b64encode(b"no-colon").decode()
    assert_error(anonymous.get("/api/now/table/incident", headers={"Authorization": f"Basic {bad}"}), 401)


def test_portal_session_needs_its_user_token(reference_ssi):
    portal = Portal(reference_ssi.url)
    sec = reference_ssi.secrets["SM user"]
    portal.login("sm.nps", sec["password"], sec["totp_seed"])
    assert_error(portal.http.get("/api/now/table/incident", params={"sysparm_limit": 1}), 401)
    token = portal.csrf("/sp?id=index")
    r = portal.http.get(
        "/api/now/table/incident", params={"sysparm_limit": 1}, headers={"X-UserToken": token}
    )
    assert r.status_code == 200, r.text


# ---------------------------------------------------------------- scoping, roles and rules
def test_organisation_scoping(reference_ssi, sm):
    rec = create(sm, "scoped")
    other = api(reference_ssi, "other organisation user")
    assert_error(other.get(f"/api/now/table/incident/{rec['sys_id']}"), 404)
    assert_error(other.patch(f"/api/now/table/incident/{rec['sys_id']}", json={"comments": "hi"}), 404)
    listed = other.get("/api/now/table/incident", params={"sysparm_query": f"number={rec['number']}"})
    assert listed.json()["result"] == [] and listed.headers["x-total-count"] == "0"
    theirs = other.get(
        "/api/now/table/incident", params={"sysparm_fields": "company", "sysparm_limit": "10000"}
    )
    assert {x["company"]["value"] for x in theirs.json()["result"]} <= {other_company(other)}


def other_company(client: httpx.Client) -> str:
    users = client.get("/api/now/table/sys_user", params={"sysparm_fields": "company"}).json()["result"]
    return users[0]["company"]["value"]


def test_role_matrix_is_enforced(reference_ssi, sm):
    rec = create(sm, "roles")
    la, cc = api(reference_ssi, "LA user"), api(reference_ssi, "CC user")
    assert la.get(f"/api/now/table/incident/{rec['sys_id']}").status_code == 200
    assert_error(la.post("/api/now/table/incident", json={**VALID, "short_description": "la"}), 403)
    assert_error(la.patch(f"/api/now/table/incident/{rec['sys_id']}", json={"comments": "la"}), 403)
    assert_error(cc.get("/api/now/table/incident"), 403, "User Not Authorized")
    assert_error(cc.get(f"/api/now/table/incident/{rec['sys_id']}"), 403)
    assert_error(sm.delete(f"/api/now/table/incident/{rec['sys_id']}"), 403)


def test_state_rules(sm):
    rec = create(sm, "state rules")
    url = f"/api/now/table/incident/{rec['sys_id']}"
    assert_error(sm.patch(url, json={"state": "6"}), 403, "Resolution code is required")
    assert_error(sm.patch(url, json={"state": "3", "hold_reason": "1"}), 403, "service desk")
    assert_error(sm.patch(url, json={"state": "5"}), 400, "State must be one of")
    assert_error(
        sm.patch(url, json={"state": "6", "close_code": "Fixed it", "close_notes": "x"}), 400, "close_code"
    )
    r = sm.patch(url, json={"state": "6", "close_code": "Solution provided", "close_notes": "done"})
    assert r.status_code == 200 and r.json()["result"]["state"] == "6" and r.json()["result"]["resolved_at"]
    r = sm.patch(url, json={"state": "2", "comments": "came back"})
    assert r.json()["result"]["state"] == "2" and r.json()["result"]["reopen_count"] == "1"
    assert r.json()["result"]["close_code"] == ""
    r = sm.patch(url, json={"state": "6", "close_code": "Workaround provided", "close_notes": "again"})
    r = sm.patch(url, json={"state": "7"})
    assert r.json()["result"]["state"] == "7" and r.json()["result"]["active"] == "false"
    assert_error(sm.patch(url, json={"state": "2"}), 403, "cannot be reopened")
    assert_error(sm.patch(url, json={"comments": "too late"}), 403, "can no longer be updated")


def test_desk_rules_and_awaiting_caller(reference_ssi, sm):
    desk = admin(reference_ssi)
    rec = create(sm, "desk rules")
    url = f"/api/now/table/incident/{rec['sys_id']}"
    assert_error(desk.patch(url, json={"state": "3"}), 403, "on hold reason")
    assert_error(desk.patch(url, json={"state": "3", "hold_reason": "1"}), 403, "additional comment")
    assert_error(
        desk.patch(url, json={"state": "3", "hold_reason": "2"}), 400, "On hold reason must be one of"
    )
    r = desk.patch(url, json={"state": "3", "hold_reason": "1", "comments": "Which meter?"})
    assert r.status_code == 200 and r.json()["result"]["hold_reason"] == "1"
    r = sm.patch(url, json={"comments": "Meter 1234567890123"})
    assert r.json()["result"]["state"] == "2" and r.json()["result"]["hold_reason"] == ""
    r = desk.patch(url, json={"impact": "1", "urgency": "1"})
    assert r.json()["result"]["priority"] == "1" and r.json()["result"]["u_sec_category"] == "1"


def test_work_notes_never_reach_portal_users(reference_ssi, sm):
    desk = admin(reference_ssi)
    rec = create(sm, "work notes")
    secret = f"internal-{uuid.uuid4().hex}"
    desk.patch(f"/api/now/table/incident/{rec['sys_id']}", json={"work_notes": secret, "comments": "public"})
    mine = sm.get(f"/api/now/table/incident/{rec['sys_id']}", params={"sysparm_display_value": "true"}).json()
    assert "work_notes" not in mine["result"] and secret not in json.dumps(mine)
    assert "public" in mine["result"]["comments"]
    journal = sm.get(
        "/api/now/table/sys_journal_field", params={"sysparm_query": f"element_id={rec['sys_id']}"}
    )
    assert [j["element"] for j in journal.json()["result"]] == ["comments"]
    assert_error(sm.get("/api/now/table/incident", params={"sysparm_query": "work_notesLIKEx"}), 400)
    sm.patch(f"/api/now/table/incident/{rec['sys_id']}", json={"work_notes": "from a caller"})  # ignored
    seen = desk.get(
        f"/api/now/table/incident/{rec['sys_id']}", params={"sysparm_display_value": "true"}
    ).json()
    assert secret in seen["result"]["work_notes"] and "from a caller" not in seen["result"]["work_notes"]


def test_delete_by_the_administrator(reference_ssi, sm):
    rec = create(sm, "delete me")
    r = admin(reference_ssi).delete(f"/api/now/table/incident/{rec['sys_id']}")
    assert r.status_code == 204 and r.content == b""
    assert_error(sm.get(f"/api/now/table/incident/{rec['sys_id']}"), 404)


# ---------------------------------------------------------------- sys_user and attachments
def test_sys_user_is_scoped_and_holds_no_secrets(reference_ssi, sm):
    r = sm.get("/api/now/table/sys_user", params={"sysparm_limit": "10000", "sysparm_display_value": "all"})
    users = r.json()["result"]
    names = {u["user_name"]["value"] for u in users}
    assert "sm.nps" in names and "sm.sen" not in names and "oa.sen" not in names
    text = r.text
    for sec in reference_ssi.secrets.values():
        assert sec["password"] not in text
        assert sec.get("totp_seed", "never-there") not in text
    assert "argon2" not in text and "user_password" not in text and "totp_seed" not in text
    assert_error(sm.get("/api/now/table/sys_user", params={"sysparm_query": "user_passwordSTARTSWITH$"}), 400)
    me = next(u for u in users if u["user_name"]["value"] == "sm.nps")
    assert me["name"]["value"] == "Sofia Marsh" and me["roles"]["value"] == "SM"
    assert_error(sm.patch(f"/api/now/table/sys_user/{me['sys_id']['value']}", json={"first_name": "X"}), 403)


def test_attachment_api_round_trip_and_limits(reference_ssi, sm):
    rec = create(sm, "attachments")
    data = bytes(range(256)) * 40
    r = sm.post(
        "/api/now/attachment/file",
        params={"table_name": "incident", "table_sys_id": rec["sys_id"], "file_name": "dump.log"},
        content=data,
        headers={"Content-Type": "application/octet-stream"},
    )
    assert r.status_code == 201, r.text
    att = r.json()["result"]
    assert att["size_bytes"] == str(len(data)) and att["file_name"] == "dump.log"
    back = sm.get(f"/api/now/attachment/{att['sys_id']}/file")
    assert back.content == data and back.headers["content-disposition"].startswith("attachment")
    assert_error(
        sm.post(
            "/api/now/attachment/file",
            params={"table_name": "incident", "table_sys_id": rec["sys_id"], "file_name": "run.exe"},
            content=b"MZ",
        ),
        400,
        ".exe",
    )
    big = b"x" * (5 * 1024 * 1024 + 1)
    assert_error(
        sm.post(
            "/api/now/attachment/file",
            params={"table_name": "incident", "table_sys_id": rec["sys_id"], "file_name": "big.txt"},
            content=big,
        ),
        400,
        "5 MB",
    )
    listed = sm.get("/api/now/attachment", params={"sysparm_query": f"table_sys_id={rec['sys_id']}"})
    assert [a["file_name"] for a in listed.json()["result"]] == ["dump.log"]
    other = api(reference_ssi, "other organisation user")
    assert_error(other.get(f"/api/now/attachment/{att['sys_id']}/file"), 404)


# ---------------------------------------------------------------- other modules' tables (OMS, read-only)
def test_oms_tables_are_served_read_only_and_scoped(reference_ssi, sm):
    from refssi.oms.store import OMS_TABLES

    aa = api(reference_ssi, "AA user")  # All Access holds the OMS component; the SM user does not
    for table in OMS_TABLES:
        r = aa.get(f"/api/now/table/{table}", params={"sysparm_limit": 5, "sysparm_display_value": "all"})
        assert r.status_code == 200, (table, r.text[:300])
        assert "x-total-count" in r.headers
        assert_error(sm.get(f"/api/now/table/{table}"), 403)
        assert_error(aa.post(f"/api/now/table/{table}", json={"sys_id": "x"}), 403)
    assert_error(aa.get("/api/now/table/x_dcc_oms_order", params={"sysparm_query": "nosuch=1"}), 400)


def test_oms_rows_stay_in_their_organisation(reference_ssi):
    made = admin(reference_ssi).post("/_operator/oms/devices", json={"organisation": "NPS", "count": 2})
    assert made.status_code == 200, made.text
    query = {"sysparm_query": "^OR".join(f"serial={s}" for s in made.json()["serials"])}
    mine = api(reference_ssi, "AA user").get("/api/now/table/x_dcc_oms_device", params=query)
    assert len(mine.json()["result"]) == 2
    assert mine.json()["result"][0]["company"]["value"] == other_company(api(reference_ssi, "SM user"))
    theirs = api(reference_ssi, "other organisation admin").get("/api/now/table/x_dcc_oms_device", params=query)
    assert theirs.status_code == 200 and theirs.json()["result"] == []  # SEN holds the OMS role, not NPS's hubs
