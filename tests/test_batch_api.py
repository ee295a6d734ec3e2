"""ServiceNow's Batch API (POST /api/now/v1/batch) on the reference SSI, over plain HTTP: the envelope,
each inner request authorised exactly as if it were sent alone, and what a batch may not contain."""

from __future__ import annotations

import base64
import json
import uuid

import httpx
import pytest

from tests.helpers import Portal
from tests.test_table_api import VALID, admin, api, assert_error, create
from uept.runtime.reference import RunningSSI

BATCH = "/api/now/v1/batch"


def item(id_: str, method: str, url: str, body: dict | bytes | None = None, **extra) -> dict:
    out = {"id": id_, "method": method, "url": url,
           "headers": [{"name": "Content-Type", "value": "application/json"},
                       {"name": "Accept", "value": "application/json"}], **extra}
    if body is not None:
        raw = body if isinstance(body, bytes) else json.dumps(body).encode()
        out["body"] = base64.b64encode(raw).decode()
    return out


def batch(client: httpx.Client, *items: dict, batch_id: object = "b1") -> dict:
    r = client.post(BATCH, json={"batch_request_id": batch_id, "rest_requests": list(items)})
    assert r.status_code == 200, r.text[:500]
    data = r.json()
    assert data["batch_request_id"] == str(batch_id) and data["unserviced_requests"] == []
    return {s["id"]: s for s in data["serviced_requests"]}


def body_of(served: dict) -> dict:
    return json.loads(base64.b64decode(served["body"])) if served["body"] else {}


def headers_of(served: dict) -> dict[str, str]:
    return {h["name"].lower(): h["value"] for h in served["headers"]}


@pytest.fixture(scope="module")
def sm(reference_ssi: RunningSSI) -> httpx.Client:
    return api(reference_ssi, "SM user")


def test_a_batch_answers_each_request_in_servicenows_envelope(reference_ssi, sm):
    token = uuid.uuid4().hex[:8]
    mine = create(sm, f"batch {token}")
    out = batch(
        sm,
        item("get", "GET", f"/api/now/table/incident/{mine['sys_id']}?sysparm_fields=number,caller_id"),
        item("list", "GET", f"/api/now/table/incident?sysparm_query=short_descriptionLIKE{token}&sysparm_limit=5",
             exclude_response_headers=True),
        item("post", "POST", "/api/now/table/incident", {**VALID, "short_description": f"batch {token} new"}),
        item("patch", "PATCH", f"/api/now/table/incident/{mine['sys_id']}?sysparm_display_value=true",
             {"comments": f"added in batch {token}"}),
        batch_id=7,
    )
    assert list(out) == ["get", "list", "post", "patch"]  # in the order sent
    got = out["get"]
    assert set(got) >= {"id", "status_code", "status_text", "headers", "body", "execution_time"}
    assert (got["status_code"], got["status_text"]) == (200, "OK") and isinstance(got["execution_time"], int)
    assert body_of(got)["result"]["number"] == mine["number"]
    assert headers_of(got)["content-type"].startswith("application/json")
    assert out["list"]["headers"] == [] and len(body_of(out["list"])["result"]) == 1
    assert (out["post"]["status_code"], out["post"]["status_text"]) == (201, "Created")
    new = body_of(out["post"])["result"]
    assert headers_of(out["post"])["location"].endswith(f"/api/now/table/incident/{new['sys_id']}")
    assert f"added in batch {token}" in body_of(out["patch"])["result"]["comments"]
    again = sm.get(f"/api/now/table/incident/{mine['sys_id']}", params={"sysparm_display_value": "true"})
    assert f"added in batch {token}" in again.json()["result"]["comments"]


def test_an_inner_request_is_authorised_exactly_as_if_sent_alone(reference_ssi, sm):
    theirs = create(api(reference_ssi, "other organisation user"), "another organisation's incident")
    mine = create(sm, "mine, for the delete")
    calls = {
        "read theirs": ("GET", f"/api/now/table/incident/{theirs['sys_id']}", None),
        "change theirs": ("PATCH", f"/api/now/table/incident/{theirs['sys_id']}", {"short_description": "taken"}),
        "list theirs": ("GET", f"/api/now/table/incident?sysparm_query=number={theirs['number']}", None),
        "their users": ("GET", "/api/now/table/sys_user?sysparm_query=user_name=sm.sen", None),
        "delete mine (administrator only)": ("DELETE", f"/api/now/table/incident/{mine['sys_id']}", None),
        "no such table": ("GET", "/api/now/table/sys_user_password", None),
    }
    out = batch(sm, *(item(name, m, url, b) for name, (m, url, b) in calls.items()))
    for name, (method, url, body) in calls.items():
        alone = sm.request(method, url, json=body)
        assert out[name]["status_code"] == alone.status_code, name
        assert body_of(out[name]) == (alone.json() if alone.content else {}), name
    assert out["read theirs"]["status_code"] == 404 and out["delete mine (administrator only)"]["status_code"] == 403
    assert body_of(out["list theirs"])["result"] == [] and body_of(out["their users"])["result"] == []
    theirs_now = api(reference_ssi, "other organisation user").get(f"/api/now/table/incident/{theirs['sys_id']}")
    assert theirs_now.json()["result"]["short_description"] == "another organisation's incident"


def test_inner_credentials_do_not_change_who_is_calling(reference_ssi, sm):
    theirs = create(api(reference_ssi, "other organisation user"), "still theirs")
    other = reference_ssi.secrets["other organisation user"]["password"]
    header = "Basic " + base64.b64encode(f"sm.sen:{other}".encode()).decode()
    inner = item("as them?", "GET", f"/api/now/table/incident/{theirs['sys_id']}")
    inner["headers"].append({"name": "Authorization", "value": header})
    assert batch(sm, inner)["as them?"]["status_code"] == 404  # still the SM user of the other organisation


def test_the_batch_itself_needs_authentication_and_the_administrator_may_delete(reference_ssi):
    anonymous = httpx.Client(base_url=reference_ssi.url, timeout=20)
    assert_error(anonymous.post(BATCH, json={"rest_requests": []}), 401)
    wrong = httpx.Client(base_url=reference_ssi.url, auth=("la.nps", "Not-the-password-1"), timeout=20)
    r = wrong.post(BATCH, json={"rest_requests": [item("x", "GET", "/api/now/table/incident")]})
    assert_error(r, 401)
    sm = api(reference_ssi, "SM user")
    doomed = create(sm, "deleted in a batch")
    out = batch(admin(reference_ssi), item("del", "DELETE", f"/api/now/table/incident/{doomed['sys_id']}"))
    assert out["del"]["status_code"] == 204 and out["del"]["body"] == ""
    assert sm.get(f"/api/now/table/incident/{doomed['sys_id']}").status_code == 404


def test_a_portal_session_with_its_user_token_may_send_a_batch(reference_ssi):
    portal = Portal(reference_ssi.url)
    s = reference_ssi.secrets["returning user"]  # no other HTTP-level test signs it in (one code, once)
    portal.login("kai.moss", s["password"], s["totp_seed"])
    token = portal.csrf("/sp?id=index")
    r = portal.http.post(BATCH, json={"rest_requests": [item("me", "GET", "/api/now/table/sys_user?sysparm_limit=1")]},
                         headers={"X-UserToken": token, "Accept": "application/json"})
    assert r.status_code == 200, r.text[:300]
    assert r.json()["serviced_requests"][0]["status_code"] == 200
    without = portal.http.post(BATCH, json={"rest_requests": []}, headers={"Accept": "application/json"})
    assert_error(without, 401)


@pytest.mark.parametrize("url", [
    "/api/now/v1/batch",
    "/api/now/batch",
    "/api/now/v2/batch/",
    "/api/now/%76%31/batch",
    "/_operator/health",
    "/sp?id=index",
    "/api/now/../../_operator/health",
    "/api/now/table/../../../_operator/health",
    "/api/now/%2e%2e/%2e%2e/_operator/health",
    "/api/now//table/incident",
    "/api/now\\table\\incident",
    "https://evil.example/api/now/table/incident",
    "//evil.example/api/now/table/incident",
    "api/now/table/incident",
])
def test_urls_outside_the_rest_api_and_nested_batches_are_refused(sm, url):
    out = batch(sm, item("bad", "POST" if "batch" in url else "GET", url, {"rest_requests": []}))["bad"]
    assert out["status_code"] == 400, out
    err = body_of(out)
    assert err["status"] == "failure" and "/api/now/" in err["error"]["detail"], err


@pytest.mark.parametrize(("payload", "what"), [
    ({}, "rest_requests"),
    ({"rest_requests": "all of them"}, "rest_requests"),
    ({"rest_requests": [{"method": "GET", "url": "/api/now/table/incident"}]}, "id"),
    ({"rest_requests": [{"id": "1", "url": "/api/now/table/incident"}]}, "method"),
    ({"rest_requests": [{"id": "1", "method": "GET"}]}, "url"),
    ({"rest_requests": [{"id": "1", "method": "GET", "url": "/api/now/table/incident", "headers": "x"}]}, "headers"),
    ({"rest_requests": [{"id": "1", "method": "GET", "url": "/api/now/table/incident", "body": 5}]}, "body"),
    ({"rest_requests": [item("1", "GET", "/api/now/table/incident"), item("1", "GET", "/api/now/table/incident")]},
     "id"),
    ([1, 2], "rest_requests"),
])
def test_a_malformed_batch_is_400_with_the_envelope(sm, payload, what):
    assert_error(sm.post(BATCH, json=payload), 400, what)


def test_bad_inner_requests_are_answered_one_by_one(sm):
    out = batch(
        sm,
        item("verb", "TRACE", "/api/now/table/incident"),
        item("b64", "POST", "/api/now/table/incident") | {"body": "%%% not base64 %%%"},
        item("json", "POST", "/api/now/table/incident", b'{"short_description": ' + b"[" * 3000),
        item("fine", "GET", "/api/now/table/incident?sysparm_limit=1"),
    )
    assert out["verb"]["status_code"] == 405 and out["b64"]["status_code"] == 400
    assert out["json"]["status_code"] == 400 and out["fine"]["status_code"] == 200
