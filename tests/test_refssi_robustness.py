"""The reference SSI under hostile or heavy input, at the HTTP level: request bodies that would crash
or exhaust the server, open redirects after login, and password hashing kept off the event loop."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from refssi.launcher import EmbeddedSSI, RunningSSI
from tests.test_table_api import VALID, api, assert_error

MB = 1024 * 1024


@pytest.fixture
def own_ssi() -> Iterator[RunningSSI]:
    """A server of this test's own, so that its peak memory is this test's doing."""
    with EmbeddedSSI() as ssi:
        yield ssi


def still_answers(ssi: RunningSSI) -> None:
    r = api(ssi, "SM user").get("/api/now/table/incident", params={"sysparm_limit": "1"})
    assert r.status_code == 200 and "result" in r.json(), r.text[:300]


def peak_rss_kib(ssi: RunningSSI) -> int:
    status = Path(f"/proc/{ssi.process.pid}/status")
    if not status.exists():
        pytest.skip("needs /proc to read the server's memory")
    line = next(ln for ln in status.read_text().splitlines() if ln.startswith("VmHWM:"))
    return int(line.split()[1])


# ---------------------------------------------------------------- item 16: bodies that used to give 500
HOSTILE_BODIES = {
    "an integer of 5,000 digits (over Python's int-string limit)": b'{"short_description": ' + b"7" * 5000 + b"}",
    "an integer of 400 digits (too large for a float)": b'{"impact": ' + b"9" * 400 + b"}",
    "arrays nested 2,000 deep": b'{"short_description": ' + b"[" * 2000 + b"]" * 2000 + b"}",
    "objects nested 2,000 deep": b'{"a":' * 2000 + b"1" + b"}" * 2000,
}


@pytest.mark.parametrize("body", HOSTILE_BODIES.values(), ids=HOSTILE_BODIES.keys())
def test_hostile_json_is_400_with_the_envelope_not_500(reference_ssi, body):
    sm = api(reference_ssi, "SM user")
    r = sm.post("/api/now/table/incident", content=body, headers={"Content-Type": "application/json"})
    assert_error(r, 400)
    still_answers(reference_ssi)


def test_a_50_mb_json_body_is_refused_before_it_is_read(own_ssi):
    sm = api(own_ssi, "SM user")
    still_answers(own_ssi)
    before = peak_rss_kib(own_ssi)
    big = b'{"short_description": "' + b"x" * (50 * MB) + b'"}'
    r = sm.post("/api/now/table/incident", content=big, headers={"Content-Type": "application/json"})
    body = assert_error(r, 413, "1 MB")
    assert "Request Entity Too Large" in body["error"]["message"]

    def chunks():  # no Content-Length: the server must count what it reads
        for _ in range(50):
            yield b" " * MB

    r = sm.post(f"/api/now/table/incident/{uuid.uuid4().hex}", content=chunks(),
                headers={"Content-Type": "application/json"})
    assert_error(r, 413)
    grew = (peak_rss_kib(own_ssi) - before) // 1024
    assert grew < 20, f"the server's peak memory grew by {grew} MB: it read the refused bodies"
    still_answers(own_ssi)
    ok = sm.post("/api/now/table/incident", json={**VALID, "short_description": "just under the limit",
                                                  "description": "y" * 3000})
    assert ok.status_code == 201, ok.text[:300]


def test_a_huge_attachment_is_refused_at_the_profile_limit_without_being_read(own_ssi):
    sm = api(own_ssi, "SM user")
    rec = sm.post("/api/now/table/incident", json={**VALID, "short_description": "huge upload"}).json()["result"]
    params = {"table_name": "incident", "table_sys_id": rec["sys_id"], "file_name": "huge.log"}
    before = peak_rss_kib(own_ssi)
    r = sm.post("/api/now/attachment/file", params=params, content=b"z" * (60 * MB),
                headers={"Content-Type": "application/octet-stream"})
    assert_error(r, 400, "files larger than 5 MB cannot be attached")

    def chunks():
        for _ in range(60):
            yield b"z" * MB

    r = sm.post("/api/now/attachment/file", params=params, content=chunks(),
                headers={"Content-Type": "application/octet-stream"})
    assert_error(r, 400, "files larger than 5 MB cannot be attached")
    grew = (peak_rss_kib(own_ssi) - before) // 1024
    assert grew < 25, f"the server's peak memory grew by {grew} MB: it read the refused uploads"
    small = sm.post("/api/now/attachment/file", params={**params, "file_name": "fine.log"}, content=b"ok" * 1000,
                    headers={"Content-Type": "application/octet-stream"})
    assert small.status_code == 201, small.text[:300]
    assert json.loads(sm.get(f"/api/now/attachment/{small.json()['result']['sys_id']}").text)["result"]
    still_answers(own_ssi)


def test_the_operator_api_survives_hostile_json_too(reference_ssi):
    op = httpx.Client(base_url=reference_ssi.url, timeout=20,
                      headers={"Authorization": f"Bearer {reference_ssi.operator_token}"})
    for body in HOSTILE_BODIES.values():
        r = op.post("/_operator/age", content=body, headers={"Content-Type": "application/json"})
        assert 400 <= r.status_code < 500, (r.status_code, r.text[:200])
    still_answers(reference_ssi)
