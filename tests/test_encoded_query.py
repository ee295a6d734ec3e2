"""Encoded queries of the reference SSI's Table API beyond the basic operators: the ON / NOTON date
operators with ServiceNow's relative forms, date scripts in comparisons, and the reasons a refused term
is given (an unknown operator is named as such, dot-walking is refused and said so)."""

from __future__ import annotations

import time
import uuid

import pytest

from tests.test_table_api import api, assert_error, create


@pytest.fixture(scope="module")
def sm(reference_ssi):
    return api(reference_ssi, "SM user")


@pytest.fixture(scope="module")
def made(sm) -> dict:
    token = uuid.uuid4().hex[:8]
    return {"token": token, "number": create(sm, f"dates {token}")["number"]}


def numbers(sm, query: str) -> list[str]:
    r = sm.get("/api/now/table/incident", params={"sysparm_query": query, "sysparm_fields": "number"})
    assert r.status_code == 200, r.text[:400]
    return [x["number"] for x in r.json()["result"]]


def today(offset_days: int = 0) -> str:
    return time.strftime("%Y-%m-%d", time.gmtime(time.time() + offset_days * 86400))


JS = "javascript:gs."
ON_TODAY = f"sys_created_onONToday@{JS}beginningOfToday()@{JS}endOfToday()"
ON_YESTERDAY = f"sys_created_onONYesterday@{JS}beginningOfYesterday()@{JS}endOfYesterday()"


def on_date(field: str, day: str, op: str = "ON") -> str:
    return f"{field}{op}{day}@{JS}dateGenerate('{day}','start')@{JS}dateGenerate('{day}','end')"


@pytest.mark.parametrize(("query", "found"), [
    (ON_TODAY, True),
    (ON_YESTERDAY, False),
    (f"sys_created_onONThis week@{JS}beginningOfThisWeek()@{JS}endOfThisWeek()", True),
    (f"sys_created_onONThis month@{JS}beginningOfThisMonth()@{JS}endOfThisMonth()", True),
    (f"sys_created_onONThis year@{JS}beginningOfThisYear()@{JS}endOfThisYear()", True),
    (f"sys_created_onONLast week@{JS}beginningOfLastWeek()@{JS}endOfLastWeek()", False),
    (f"sys_created_onONTomorrow@{JS}beginningOfTomorrow()@{JS}endOfTomorrow()", False),
    (f"opened_atONLast 7 days@{JS}daysAgoStart(7)@{JS}daysAgoEnd(0)", True),
    (f"sys_created_onONLast 7 days@{JS}beginningOfLast7Days()@{JS}endOfLast7Days()", True),
    (f"sys_created_onONLast 30 days@{JS}beginningOfLast30Days()@{JS}endOfToday()", True),
    (f"sys_created_onON3 days ago@{JS}daysAgoStart(3)@{JS}daysAgoEnd(3)", False),
    (on_date("sys_created_on", today()), True),
    (on_date("sys_created_on", "2024-05-01"), False),
    (on_date("sys_updated_on", today(-1)), False),
    (on_date("sys_created_on", today(), "NOTON"), False),
    (on_date("sys_created_on", "2024-05-01", "NOTON"), True),
    (f"sys_created_onNOTONToday@{JS}beginningOfToday()@{JS}endOfToday()", False),
    (f"sys_created_on>={JS}beginningOfToday()", True),
    (f"sys_created_on<{JS}beginningOfToday()", False),
    (f"sys_created_on>{JS}dateGenerate('2024-05-01','23:59:59')", True),
    (f"sys_created_on<={JS}endOfYesterday()", False),
])
def test_date_operators_and_relative_dates(sm, made, query, found):
    assert (made["number"] in numbers(sm, f"short_descriptionLIKE{made['token']}^{query}")) is found


def test_on_today_is_the_query_servicenows_list_filter_makes(sm, made):
    """The exact term the issue reported as 'dot-walking not supported', alone and joined with ^OR."""
    assert numbers(sm, f"{ON_TODAY}^short_descriptionLIKE{made['token']}") == [made["number"]]
    assert made["number"] in numbers(sm, f"short_descriptionLIKE{made['token']}^{ON_YESTERDAY}^OR{ON_TODAY}")


@pytest.mark.parametrize(("query", "reason"), [
    (f"sys_created_onBETWEEN{JS}beginningOfToday()@{JS}endOfToday()", "operator BETWEEN is not supported"),
    ("sys_created_onRELATIVEGT@day@ago@3", "operator RELATIVEGT is not supported"),
    ("sys_created_onDATEPARTMonday@javascript:gs.datePart('dayofweek','monday','EQ')",
     "operator DATEPART is not supported"),
    ("short_descriptionSAMEASdescription", "operator SAMEAS is not supported"),
    ("short_descriptionONToday@x@y", "ON compares date-times"),
    ("sys_created_onONToday", "ON needs a date range"),
    (f"sys_created_onONToday@{JS}beginningOfToday()@{JS}eval('x')", "is not a date script"),
    (f"sys_created_onONToday@{JS}beginningOfToday()", "ON needs a date range"),
    (f"sys_created_onON2024-05-01@{JS}dateGenerate('2024-13-01','start')@{JS}endOfToday()", "not a date"),
    ("sys_created_on~=x", "starts with no known operator"),
    ("impactFOO1", "starts with no known operator"),
    ("sys_created_on>javascript:gs.getUserID()", "is not a date script"),
    ("caller_id=javascript:gs.beginningOfToday()", "only javascript:gs.getUserID()"),
])
def test_unsupported_operators_are_named_and_never_blamed_on_dot_walking(sm, query, reason):
    body = assert_error(sm.get("/api/now/table/incident", params={"sysparm_query": query}), 400, "Invalid query")
    assert reason in body["error"]["detail"], body
    assert "dot-walking" not in body["error"]["detail"], body


@pytest.mark.parametrize("query", ["caller_id.name=Sofia Marsh", "caller_id.user_name=sm.nps",
                                   "company.nameSTARTSWITHNorthern", "caller_id.company.name=x"])
def test_dot_walking_is_refused_and_said_so(sm, query):
    body = assert_error(sm.get("/api/now/table/incident", params={"sysparm_query": query}), 400, "Invalid query")
    assert "dot-walking" in body["error"]["detail"] and "not supported" in body["error"]["detail"], body
