"""UEPT theme 2: raise, view, update, resolve and reopen incidents (features/incidents.feature).

Test data comes from faker plus a per-scenario token, so scenarios never see each
other's incidents, in any order and with parallel workers. Where the target offers
the Table API, steps cross-check the stored record and keep it as evidence.
"""

from __future__ import annotations

import hashlib
import json
import random
import re
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from faker import Faker
from playwright.sync_api import BrowserContext, Page, expect
from pytest_bdd import given, parsers, then, when

from fixtures.actors import Actor, SignedInSessions
from pages import SSI
from pages.incident import IncidentData
from steps.session import needs_control
from uept.runtime.control import TargetControl
from uept.runtime.run import Evidence
from uept.runtime.tableapi import TableApiClient
from uept.runtime.target import TargetSession

fake = Faker("en_GB")


# ---------------------------------------------------------------- scenario state
@dataclass
class Raised:
    number: str
    sys_id: str
    data: IncidentData
    by: str  # persona


@dataclass
class Case:
    """What one scenario has typed, raised and seen."""

    token: str = field(default_factory=lambda: uuid.uuid4().hex[:10])
    data: IncidentData | None = None
    mine: Raised | None = None  # the incident this scenario raised as the current persona
    given: Raised | None = None  # an incident another persona raised ('that incident')
    updates: list[tuple[str, str]] = field(default_factory=list)
    file: Path | None = None
    downloaded: bytes | None = None
    resolution: tuple[str, str] | None = None
    reason: str = ""
    desk_comment: str = ""
    work_note: str = ""


@pytest.fixture
def case() -> Case:
    return Case()


# ---------------------------------------------------------------- test data
def _label(choices, value: str) -> str:
    return next(c.label for c in choices if c.value == value)


def contact() -> dict[str, str]:
    first, last = fake.first_name(), fake.last_name()
    local = re.sub(r"[^a-z]", "", f"{first}.{last}".lower().replace(".", "x")) or "contact"
    return {
        "u_contact_first_name": first,
        "u_contact_last_name": last,
        "u_contact_phone": f"01632 960 {random.randint(0, 999):03d}",  # Ofcom drama range; no 6-digit run
        "u_contact_email": f"{local}@example.com",
    }


def service_management(profile, case: Case, **over: str) -> IncidentData:
    cfg = profile.incidents
    cat = next(c for c in cfg.categories if not c.premises)
    values = {
        "category": cat.label,
        "subcategory": cat.subcategories[0].label if cat.subcategories else "",
        "impact": _label(cfg.impact, "2"),
        "urgency": _label(cfg.urgency, "2"),
        "short_description": f"{fake.sentence(nb_words=6).rstrip('.')} [{case.token}]",
        "description": fake.paragraph(nb_sentences=3),
        **contact(),
    }
    values.update(over)
    return IncidentData(values)


def premises(profile, case: Case, **over: str) -> IncidentData:
    cfg = profile.incidents
    cat = next(c for c in cfg.categories if c.premises)
    values = {
        "category": cat.label,
        "subcategory": cat.subcategories[0].label if cat.subcategories else "",
        "impact": _label(cfg.impact, "1"),
        "urgency": _label(cfg.urgency, "2"),
        "short_description": f"Meter not communicating since {fake.day_of_week()} [{case.token}]",
        "description": fake.paragraph(nb_sentences=2),
        "u_mpxn": "".join(str(random.randint(0, 9)) for _ in range(13)),  # an MPAN core
        "u_your_reference": f"REF-{case.token.upper()}",
        **contact(),
    }
    values.update(over)
    return IncidentData(values)


# ---------------------------------------------------------------- helpers
def api_for(uept_target: TargetSession, actor: Actor) -> TableApiClient | None:
    return uept_target.table_api(actor.key)


def no_api(evidence: Evidence | None, what: str) -> None:
    if evidence:
        evidence.attach(
            "table-api-not-offered.txt",
            f"The target offers no Table API: {what} was not cross-checked.",
            "text/plain",
        )


def keep(evidence: Evidence | None, name: str, data: object) -> None:
    if evidence:
        evidence.attach(name, json.dumps(data, indent=2, ensure_ascii=False))


def landed_on_new_ticket(ssi: SSI, page: Page, data: IncidentData, persona: str) -> Raised:
    cfg = ssi.profile.incidents
    expect(page).to_have_url(re.compile(r"[?&]id=ticket\b"))
    expect(ssi.ticket.number).to_have_text(re.compile(rf"^{cfg.number_prefix}\d{{{cfg.number_digits},}}$"))
    number = ssi.ticket.number.inner_text().strip()
    expect(ssi.ticket.status).to_contain_text(f"{ssi.profile.label('incident.raised')}: {number}")
    return Raised(number, ssi.ticket.sys_id, data, persona)


def raise_as(ssi: SSI, page: Page, case: Case, data: IncidentData, persona: str) -> Raised:
    case.data = data
    ssi.create_incident.raise_incident(data)
    return landed_on_new_ticket(ssi, page, data, persona)


def the(case: Case) -> Raised:
    incident = case.mine or case.given
    assert incident is not None, "no incident was raised earlier in this scenario"
    return incident


def stored(
    case: Case,
    uept_target: TargetSession,
    actor: Actor,
    evidence: Evidence | None,
    incident: Raised | None = None,
) -> dict | None:
    """The stored record (display values and values) through the Table API, kept as evidence."""
    api = api_for(uept_target, actor)
    incident = incident or the(case)
    if api is None:
        no_api(evidence, f"incident {incident.number}")
        return None
    record = api.get("incident", incident.sys_id)
    assert record is not None, f"the Table API does not return {incident.number} to {actor.key}"
    keep(evidence, f"{incident.number}-stored-record.json", record)
    assert record["number"]["value"] == incident.number
    return record


# ---------------------------------------------------------------- raising
@when("I raise a service-management incident")
def raise_service_management(ssi: SSI, case: Case) -> None:
    case.data = service_management(ssi.profile, case)
    ssi.create_incident.raise_incident(case.data)


@given("I have raised a service-management incident")
def have_raised_sm(ssi: SSI, page: Page, case: Case, actor: Actor) -> None:
    case.mine = raise_as(ssi, page, case, service_management(ssi.profile, case), actor.key)


@given("I have raised a premises-related incident")
def have_raised_premises(ssi: SSI, page: Page, case: Case, actor: Actor) -> None:
    case.mine = raise_as(ssi, page, case, premises(ssi.profile, case), actor.key)


@given("I have raised and resolved a service-management incident")
def have_raised_and_resolved(ssi: SSI, page: Page, case: Case, actor: Actor) -> None:
    case.mine = raise_as(ssi, page, case, service_management(ssi.profile, case), actor.key)
    resolve_with(ssi, case, "Solution provided")
    expect(ssi.ticket.state).to_have_text(ssi.profile.incidents.states[6])


@given(parsers.parse('the "{persona}" has raised a service-management incident'))
def persona_has_raised(
    persona: str,
    ssi: SSI,
    page: Page,
    case: Case,
    context: BrowserContext,
    signed_in_sessions: SignedInSessions,
) -> None:
    signed_in_sessions.apply(context, persona)
    ssi.home.open()
    expect(ssi.home.sign_out_button).to_be_visible()
    case.given = raise_as(ssi, page, case, service_management(ssi.profile, case), persona)
    case.data = None


@when(parsers.parse("I raise a service-management incident without the contact {detail}"))
def raise_without_contact(ssi: SSI, case: Case, detail: str) -> None:
    name = {
        "first name": "u_contact_first_name",
        "last name": "u_contact_last_name",
        "telephone number": "u_contact_phone",
        "email address": "u_contact_email",
    }[detail]
    case.data = service_management(ssi.profile, case, **{name: ""})
    ssi.create_incident.raise_incident(case.data)


@when("I raise a premises-related incident for an MPxN with my own reference")
def raise_premises(ssi: SSI, case: Case) -> None:
    case.data = premises(ssi.profile, case)
    ssi.create_incident.raise_incident(case.data)


@when(parsers.parse('I raise a service-management incident with impact "{impact}" and urgency "{urgency}"'))
def raise_with_matrix(ssi: SSI, page: Page, case: Case, actor: Actor, impact: str, urgency: str) -> None:
    data = service_management(ssi.profile, case, impact=impact, urgency=urgency)
    case.mine = raise_as(ssi, page, case, data, actor.key)


@when(
    parsers.parse("I raise a service-management incident whose {what} is one character longer than allowed")
)
def raise_overlong(ssi: SSI, case: Case, what: str) -> None:
    limits = ssi.profile.incidents.limits
    name, limit = {
        "incident summary": ("short_description", limits.short_description),
        "incident notes": ("description", limits.description),
    }[what]
    data = service_management(ssi.profile, case)
    base = data[name] if name == "short_description" else f"[{case.token}] " + data[name]
    text = (base + " " + fake.text(max_nb_chars=limit + 200)).replace("\n", " ")[:limit].strip()
    data.values[name] = text + "x" * (limit + 1 - len(text))  # no edge whitespace: the SSI may trim it
    assert len(data.values[name]) == limit + 1 and case.token in data.values[name]
    case.data = data
    ssi.create_incident.raise_incident(data)


@when(
    parsers.re(
        r"I raise a premises-related incident with (?P<what>neither a Device ID nor an MPxN"
        r'|the MPxN "(?P<mpxn>[^"]*)"|the Device ID "(?P<device>[^"]*)")'
    )
)
def raise_premises_invalid(ssi: SSI, case: Case, what: str, mpxn: str | None, device: str | None) -> None:
    case.data = premises(ssi.profile, case, u_mpxn=mpxn or "", u_device_id=device or "")
    ssi.create_incident.raise_incident(case.data)


@when("I raise a service-management incident whose summary and notes contain HTML and script")
def raise_with_markup(ssi: SSI, page: Page, case: Case, actor: Actor) -> None:
    summary = (
        f'<script>window.__ueptXss="summary"</script><img src="x" onerror="window.__ueptXss=\'img\'">'
        f" & <b>bold</b> [{case.token}]"
    )
    notes = (
        f'<svg onload="window.__ueptXss=\'svg\'"></svg><iframe src="/sp?id=index"></iframe>\n'
        f"Line two with <i>markup</i> & an ampersand [{case.token}]"
    )
    data = service_management(ssi.profile, case, short_description=summary, description=notes)
    case.mine = raise_as(ssi, page, case, data, actor.key)


# ---------------------------------------------------------------- outcome of raising
@then("I see the number of the new incident")
def see_number(ssi: SSI, page: Page, case: Case, actor: Actor) -> None:
    assert case.data is not None
    case.mine = landed_on_new_ticket(ssi, page, case.data, actor.key)


@then(parsers.parse('the incident is "{state}"'))
def incident_state(ssi: SSI, state: str) -> None:
    expect(ssi.ticket.state).to_have_text(state)


@then(parsers.parse('the incident is "{state}" with the on hold reason "{reason}"'))
def incident_on_hold(ssi: SSI, state: str, reason: str) -> None:
    expect(ssi.ticket.state).to_have_text(state)
    expect(ssi.ticket.value("hold_reason")).to_have_text(reason)


@then("the stored incident matches what I entered")
def stored_matches_entered(
    ssi: SSI, case: Case, uept_target: TargetSession, actor: Actor, uept_evidence: Evidence | None
) -> None:
    record = stored(case, uept_target, actor, uept_evidence)
    if record is None:
        return
    data = the(case).data
    mismatches = []
    for name, typed in data.values.items():
        got = record[name][
            "display_value" if name in ("category", "subcategory", "impact", "urgency") else "value"
        ]
        if got != typed.strip():
            mismatches.append(f"{name}: typed {typed!r}, stored {got!r}")
    assert not mismatches, "the stored incident differs from what was entered: " + "; ".join(mismatches)
    assert record["state"]["value"] == "1", f"a new incident is stored in state {record['state']['value']}"
    caller = api_for(uept_target, actor).get("sys_user", record["caller_id"]["value"])
    assert caller and caller["user_name"]["value"] == actor.user_name, (
        "the incident is not stored as raised by me"
    )


@then(parsers.parse('the incident is not raised and I am told "{message}"'))
def not_raised(ssi: SSI, page: Page, message: str) -> None:
    expect(page).not_to_have_url(re.compile(r"[?&]id=ticket\b"))
    expect(ssi.create_incident.heading_).to_be_visible()
    expect(ssi.create_incident.alert).to_contain_text(message)
    field = ssi.create_incident.invalid_field_saying(message)
    assert field, f'no form field is marked invalid with the message "{message}"'


@then("no incident with my summary was stored")
def nothing_stored(
    ssi: SSI, case: Case, uept_target: TargetSession, actor: Actor, uept_evidence: Evidence | None
) -> None:
    ssi.my_requests.open()
    ssi.my_requests.search(case.token)
    expect(ssi.my_requests.summary).to_contain_text(ssi.profile.label("incident.no_results"))
    api = api_for(uept_target, actor)
    if api is None:
        no_api(uept_evidence, "that nothing was stored")
        return
    found = api.query("incident", f"short_descriptionLIKE{case.token}", fields="number,short_description")
    keep(uept_evidence, "stored-incidents-with-my-summary.json", found)
    assert found == [], f"incidents were stored although the form was refused: {found}"


@then("the incident shows the MPxN and my reference")
def shows_mpxn(ssi: SSI, case: Case) -> None:
    data = the(case).data
    expect(ssi.ticket.value("mpxn")).to_have_text(data["u_mpxn"])
    expect(ssi.ticket.value("your_reference")).to_have_text(data["u_your_reference"])


# ---------------------------------------------------------------- finding and viewing
@when("I search My Requests for its number")
def search_my_number(ssi: SSI, case: Case) -> None:
    ssi.my_requests.open()
    ssi.my_requests.search(the(case).number)


@when("I search My Requests for that incident's number")
def search_that_number(ssi: SSI, case: Case) -> None:
    assert case.given
    ssi.my_requests.open()
    ssi.my_requests.search(case.given.number)


@then("exactly that incident is listed")
def exactly_listed(ssi: SSI, case: Case) -> None:
    expect(ssi.my_requests.rows).to_have_count(1)
    expect(ssi.my_requests.link(the(case).number)).to_be_visible()


@then("no incident is listed")
def none_listed(ssi: SSI) -> None:
    expect(ssi.my_requests.summary).to_contain_text(ssi.profile.label("incident.no_results"))
    expect(ssi.my_requests.rows).to_have_count(0)


@when("I open it from the list")
def open_from_list(ssi: SSI, case: Case) -> None:
    ssi.my_requests.submit_and_wait(ssi.my_requests.link(the(case).number))
    expect(ssi.ticket.number).to_have_text(the(case).number)


@then("every field I entered is shown")
def every_field_shown(ssi: SSI, case: Case) -> None:
    keys = {
        "u_contact_first_name": "contact_first_name",
        "u_contact_last_name": "contact_last_name",
        "u_contact_phone": "contact_phone",
        "u_contact_email": "contact_email",
        "u_mpxn": "mpxn",
        "u_device_id": "device_id",
        "u_your_reference": "your_reference",
    }
    for name, typed in the(case).data.values.items():
        if typed:
            expect(ssi.ticket.value(keys.get(name, name))).to_have_text(typed)


@then("the incident shows my organisation, its priority and its target resolution time")
def shows_priority_and_target(ssi: SSI, case: Case, uept_target: TargetSession, actor: Actor) -> None:
    cfg = ssi.profile.incidents
    data = the(case).data
    impact = next(c.value for c in cfg.impact if c.label == data["impact"])
    urgency = next(c.value for c in cfg.urgency if c.label == data["urgency"])
    priority = cfg.priority_of(int(impact), int(urgency))
    expect(ssi.ticket.value("priority")).to_have_text(_label(cfg.priority, str(priority)))
    sec = cfg.sec_category(priority)
    expect(ssi.ticket.value("sec_category")).to_have_text(sec.label)
    created = ssi.ticket.created.get_attribute("datetime") or ""
    from datetime import datetime, timedelta

    opened = datetime.strptime(created.rstrip("Z"), "%Y-%m-%d %H:%M:%S")
    target = (opened + timedelta(hours=sec.target_resolution_hours)).strftime("%Y-%m-%d %H:%M:%S")
    expect(ssi.ticket.value("target_resolution")).to_contain_text(target)
    expect(ssi.ticket.value("organisation")).not_to_be_empty()
    expect(ssi.ticket.value("caller")).not_to_be_empty()


@then("the stored incident matches what the page shows")
def stored_matches_page(
    ssi: SSI, case: Case, uept_target: TargetSession, actor: Actor, uept_evidence: Evidence | None
) -> None:
    record = stored(case, uept_target, actor, uept_evidence)
    if record is None:
        return
    shown = {
        key: ssi.ticket.value(key).inner_text().strip()
        for key in ("state", "priority", "sec_category", "organisation", "caller", "target_resolution")
    }
    keep(uept_evidence, f"{the(case).number}-page-values.json", shown)
    expected = {
        "state": record["state"]["display_value"],
        "priority": record["priority"]["display_value"],
        "sec_category": record["u_sec_category"]["display_value"],
        "organisation": record["company"]["display_value"],
        "caller": record["caller_id"]["display_value"],
        "target_resolution": record["u_target_resolution"]["value"] + " UTC",
    }
    assert shown == expected, f"the page and the stored record differ: page {shown}, stored {expected}"


@then(parsers.parse('the incident\'s priority is "{priority}"'))
def priority_shown(ssi: SSI, priority: str) -> None:
    expect(ssi.ticket.value("priority")).to_have_text(priority)


@then(parsers.parse("the stored incident has priority {value:d}"))
def stored_priority(
    case: Case, uept_target: TargetSession, actor: Actor, uept_evidence: Evidence | None, value: int
) -> None:
    record = stored(case, uept_target, actor, uept_evidence)
    if record is not None:
        assert record["priority"]["value"] == str(value), f"stored priority {record['priority']['value']}"


@when("I open the incident")
def open_incident(ssi: SSI, case: Case) -> None:
    ssi.ticket.open(the(case).sys_id)
    expect(ssi.ticket.number).to_have_text(the(case).number)


@when("I open that incident by its direct URL")
def open_that_incident(ssi: SSI, case: Case) -> None:
    assert case.given
    ssi.ticket.open(case.given.sys_id)


@then("I see that incident")
def see_that_incident(ssi: SSI, case: Case) -> None:
    assert case.given
    expect(ssi.ticket.number).to_have_text(case.given.number)
    expect(ssi.ticket.value("short_description")).to_have_text(case.given.data["short_description"])


@then(parsers.parse('I see the message "{message}"'))
def see_message(ssi: SSI, page: Page, case: Case, message: str) -> None:
    expect(ssi.message.message).to_contain_text(message)
    if case.given:  # nothing of the incident leaks onto the refusal page
        expect(page.locator("main")).not_to_contain_text(case.given.number)
        expect(page.locator("main")).not_to_contain_text(case.token)


# ---------------------------------------------------------------- updates
@when(parsers.parse('I add an update of type "{update_type}"'))
def add_update(ssi: SSI, case: Case, update_type: str) -> None:
    text = f"{fake.sentence(nb_words=10)} [{case.token}-{len(case.updates) + 1}]"
    case.updates.append((update_type, text))
    ssi.ticket.add_update(update_type, text)


@when("I add an update whose text contains HTML and script")
def add_markup_update(ssi: SSI, case: Case) -> None:
    text = f'<a href="#" onmouseover="window.__ueptXss=\'update\'">hover</a> <u>underlined</u> [{case.token}]'
    case.updates.append(("Additional information", text))
    ssi.ticket.add_update("Additional information", text)


@then(parsers.parse('I see the confirmation "{message}"'))
def confirmation(ssi: SSI, message: str) -> None:
    expect(ssi.ticket.status.filter(has_text=message)).to_be_visible()


@then("the Activity stream shows my updates, newest first")
def stream_newest_first(ssi: SSI, case: Case, actor: Actor) -> None:
    entries = ssi.ticket.entries
    expect(entries).to_have_count(len(case.updates))
    for i, (update_type, text) in enumerate(reversed(case.updates)):
        expect(entries.nth(i)).to_contain_text(text)
        expect(entries.nth(i)).to_contain_text(update_type)


@then("the stored incident holds my updates as additional comments")
def stored_comments(
    case: Case, uept_target: TargetSession, actor: Actor, uept_evidence: Evidence | None
) -> None:
    record = stored(case, uept_target, actor, uept_evidence)
    if record is None:
        return
    journal = record["comments"]["display_value"]
    positions = [journal.find(text) for _, text in reversed(case.updates)]
    assert all(p >= 0 for p in positions), f"not every update is in the stored comments: {journal!r}"
    assert positions == sorted(positions), "the stored comments are not newest first"
    assert "(Additional comments)" in journal


# ---------------------------------------------------------------- DCC's service desk (reference SSI only)
@given("DCC's service desk has put it on hold awaiting my answer")
def desk_puts_on_hold(target_control: TargetControl, case: Case) -> None:
    control = needs_control(target_control, "DCC's service desk putting an incident on hold")
    case.desk_comment = f"Please confirm the serial number of the device [{case.token}]"
    control.desk_update("incident", the(case).sys_id, state="3", hold_reason="1", comments=case.desk_comment)


@given("DCC's service desk has added a work note and a comment to it")
def desk_adds_notes(target_control: TargetControl, case: Case) -> None:
    control = needs_control(target_control, "DCC's service desk adding work notes")
    case.work_note = f"INTERNAL work note, not for the caller {uuid.uuid4().hex}"
    case.desk_comment = f"We are looking into this [{case.token}]"
    control.desk_update("incident", the(case).sys_id, work_notes=case.work_note, comments=case.desk_comment)


@then("I see the service desk's comment in the Activity stream")
def see_desk_comment(ssi: SSI, case: Case) -> None:
    expect(ssi.ticket.entries.filter(has_text=case.desk_comment)).to_have_count(1)


@then("I do not see the work note anywhere on the page")
def no_work_note(ssi: SSI, page: Page, case: Case) -> None:
    expect(page.locator("body")).not_to_contain_text(case.work_note)
    assert case.work_note not in page.content(), "the work note is in the page's HTML"


@then("the Table API does not give me the work note")
def api_no_work_note(
    case: Case, uept_target: TargetSession, actor: Actor, uept_evidence: Evidence | None
) -> None:
    api = api_for(uept_target, actor)
    if api is None:
        no_api(uept_evidence, "work-note visibility")
        return
    record = api.get("incident", the(case).sys_id)
    journal = api.query("sys_journal_field", f"element_id={the(case).sys_id}", fields="element,value")
    keep(uept_evidence, f"{the(case).number}-journal-as-seen-by-me.json", journal)
    assert record is not None and "work_notes" not in record, (
        "the Table API returns the work_notes field to me"
    )
    assert not any(case.work_note in j["value"] or j["element"] == "work_notes" for j in journal), (
        "the Table API returns the work note to me"
    )
    assert any(case.desk_comment in j["value"] for j in journal), (
        "the desk's comment is missing from the journal"
    )


# ---------------------------------------------------------------- attachments
@when("I attach a CSV file to it")
def attach_csv(ssi: SSI, case: Case, tmp_path: Path) -> None:
    rows = ["mpan,read_at,kwh"] + [
        f"{fake.numerify('#' * 13)},{fake.date_time_this_year():%Y-%m-%d %H:%M},"
        f"{random.randint(0, 99999) / 10}"
        for _ in range(50)
    ]
    case.file = tmp_path / f"meter-reads-{case.token}.csv"
    case.file.write_text("\n".join(rows) + f"\n# {case.token} £ ✓\n", encoding="utf-8")
    ssi.ticket.attach(case.file)


@when(parsers.parse("I attach a program file named {name}"))
def attach_program(ssi: SSI, case: Case, tmp_path: Path, name: str) -> None:
    case.file = tmp_path / name
    case.file.write_bytes(b"MZ" + random.randbytes(2048))
    ssi.ticket.attach(case.file)


@when("I attach a log file one byte larger than the limit")
def attach_too_big(ssi: SSI, case: Case, tmp_path: Path) -> None:
    case.file = tmp_path / f"device-{case.token}.log"
    case.file.write_bytes(random.randbytes(ssi.profile.incidents.attachments.max_bytes + 1))
    ssi.ticket.attach(case.file)


@then("the file is listed under Attachments")
def file_listed(ssi: SSI, case: Case) -> None:
    assert case.file
    expect(ssi.ticket.attachment_link(case.file.name)).to_be_visible()


@when("I download the file")
def download_file(ssi: SSI, case: Case, tmp_path: Path) -> None:
    assert case.file
    download = ssi.ticket.download(case.file.name)
    assert download.suggested_filename == case.file.name, f"saved as {download.suggested_filename}"
    target = tmp_path / "downloaded" / download.suggested_filename
    download.save_as(target)
    case.downloaded = target.read_bytes()


@then("the browser saves it with the same bytes as the file I attached")
def same_bytes(case: Case, uept_evidence: Evidence | None) -> None:
    assert case.file and case.downloaded is not None
    sent = case.file.read_bytes()
    keep(
        uept_evidence,
        "attachment-round-trip.json",
        {
            "file": case.file.name,
            "attached_bytes": len(sent),
            "attached_sha256": hashlib.sha256(sent).hexdigest(),
            "downloaded_bytes": len(case.downloaded),
            "downloaded_sha256": hashlib.sha256(case.downloaded).hexdigest(),
        },
    )
    assert case.downloaded == sent, (
        f"the download differs from the file attached ({len(case.downloaded)} bytes "
        f"back for {len(sent)} sent)"
    )


@then("the stored attachment has the same size and checksum")
def stored_attachment(
    case: Case, uept_target: TargetSession, actor: Actor, uept_evidence: Evidence | None
) -> None:
    api = api_for(uept_target, actor)
    if api is None:
        no_api(uept_evidence, "the stored attachment")
        return
    assert case.file
    rows = api.query("sys_attachment", f"table_sys_id={the(case).sys_id}")
    keep(uept_evidence, f"{the(case).number}-stored-attachments.json", rows)
    sent = case.file.read_bytes()
    assert len(rows) == 1, f"{len(rows)} attachments stored, expected 1"
    assert rows[0]["file_name"] == case.file.name
    assert rows[0]["size_bytes"] == str(len(sent))
    assert rows[0]["hash"] == hashlib.sha256(sent).hexdigest()


@then(parsers.parse('the file is refused with a message saying "{message}"'))
def file_refused(ssi: SSI, case: Case, message: str) -> None:
    expect(ssi.ticket.alert).to_contain_text(message)
    expect(ssi.ticket.file_input).to_have_accessible_description(re.compile(re.escape(message)))


@then("no file is attached to the incident")
def no_file(
    ssi: SSI, case: Case, uept_target: TargetSession, actor: Actor, uept_evidence: Evidence | None
) -> None:
    ssi.ticket.open(the(case).sys_id)
    expect(ssi.ticket.attachments).to_contain_text(ssi.profile.label("incident.no_attachments"))
    expect(ssi.ticket.attachments.get_by_role("link")).to_have_count(0)
    api = api_for(uept_target, actor)
    if api is None:
        no_api(uept_evidence, "that no attachment was stored")
        return
    rows = api.query("sys_attachment", f"table_sys_id={the(case).sys_id}")
    assert rows == [], f"attachments were stored although refused: {rows}"


# ---------------------------------------------------------------- resolve, close, reopen
def resolve_with(ssi: SSI, case: Case, code: str) -> None:
    notes = f"{fake.sentence(nb_words=12)} [{case.token}]"
    case.resolution = (code, notes)
    ssi.ticket.resolve(code, notes)


@when(parsers.parse('I resolve it with the resolution code "{code}" and notes'))
def resolve(ssi: SSI, case: Case, code: str) -> None:
    resolve_with(ssi, case, code)


@when("I try to resolve it without a resolution code or notes")
def resolve_without(ssi: SSI) -> None:
    ssi.ticket.resolve("", "")


@then(parsers.parse('I am told "{message}"'))
def told(ssi: SSI, message: str) -> None:
    expect(ssi.ticket.alert.filter(has_text=message)).to_have_count(1)


@then("the incident shows the resolution code and notes")
def shows_resolution(ssi: SSI, case: Case) -> None:
    assert case.resolution
    expect(ssi.ticket.value("close_code")).to_have_text(case.resolution[0])
    expect(ssi.ticket.value("close_notes")).to_have_text(case.resolution[1])


@then("the stored incident is resolved with that code and those notes")
def stored_resolved(
    case: Case, uept_target: TargetSession, actor: Actor, uept_evidence: Evidence | None
) -> None:
    record = stored(case, uept_target, actor, uept_evidence)
    if record is None:
        return
    assert case.resolution
    assert record["state"]["value"] == "6", f"stored state {record['state']['value']}"
    assert record["close_code"]["value"] == case.resolution[0]
    assert record["close_notes"]["value"] == case.resolution[1]
    assert record["resolved_at"]["value"], "no resolved_at timestamp stored"
    assert record["active"]["value"] == "true"


@when("I reopen it giving a reason")
def reopen(ssi: SSI, case: Case) -> None:
    case.reason = f"The fault has come back: {fake.sentence(nb_words=8)} [{case.token}]"
    ssi.ticket.reopen(case.reason)


@then(parsers.parse("the incident shows it was reopened {count:d} time"))
def reopened_times(ssi: SSI, count: int) -> None:
    expect(ssi.ticket.value("reopen_count")).to_have_text(str(count))


@then("the Activity stream shows my reason")
def stream_reason(ssi: SSI, case: Case) -> None:
    expect(ssi.ticket.entries.first).to_contain_text(case.reason)


@then("the stored incident is In Progress with reopen count 1")
def stored_reopened(
    case: Case, uept_target: TargetSession, actor: Actor, uept_evidence: Evidence | None
) -> None:
    record = stored(case, uept_target, actor, uept_evidence)
    if record is None:
        return
    assert record["state"]["value"] == "2", f"stored state {record['state']['value']}"
    assert record["reopen_count"]["value"] == "1", f"stored reopen count {record['reopen_count']['value']}"
    assert record["reopened_time"]["value"], "no reopened time stored"


@when("I close it")
def close(ssi: SSI) -> None:
    ssi.ticket.close()


@then(parsers.parse('the incident offers no "{action}" action'))
def no_action(ssi: SSI, action: str) -> None:
    expect(ssi.ticket.activity).to_be_visible()  # the page is there...
    expect(ssi.ticket.page.get_by_role("button", name=action, exact=True)).to_have_count(0)  # ...without it


@then("the SSI refuses to reopen it even when asked directly")
def refuses_reopen(
    ssi: SSI, case: Case, uept_target: TargetSession, actor: Actor, uept_evidence: Evidence | None
) -> None:
    incident = the(case)
    checked = []
    if uept_target.resolved.is_reference:  # the reference SSI's own form, posted without the page's help
        r = ssi.ticket.post_directly(incident.sys_id, action="reopen", reason=f"Forced reopen [{case.token}]")
        assert r.status == 403, f"a forced reopen of a closed incident answered {r.status}, not 403"
        checked.append("portal form")
    api = api_for(uept_target, actor)
    if api is not None:
        r = api.request("PATCH", "incident", incident.sys_id, json={"state": "2"})
        keep(uept_evidence, "reopen-through-table-api.json", {"status": r.status_code, "body": r.json()})
        assert r.status_code == 403, f"the Table API let me reopen a closed incident ({r.status_code})"
        checked.append("Table API")
    if not checked:
        pytest.skip("this target offers no way to ask its server directly; check by hand")
    ssi.ticket.open(incident.sys_id)
    expect(ssi.ticket.state).to_have_text(ssi.profile.incidents.states[7])


@then(parsers.parse('My Requests lists it under "{listed}" and not under "{absent}"'))
def listed_under(ssi: SSI, case: Case, listed: str, absent: str) -> None:
    views = {
        ssi.profile.label("incident.show_open"): "open",
        ssi.profile.label("incident.show_closed"): "closed",
    }
    ssi.my_requests.open()
    ssi.my_requests.search(the(case).number, show=views[absent])
    expect(ssi.my_requests.rows).to_have_count(0)
    ssi.my_requests.search(the(case).number, show=views[listed])
    expect(ssi.my_requests.link(the(case).number)).to_be_visible()


# ---------------------------------------------------------------- visibility and rights
@then("the Table API does not give me that incident")
def api_hides_incident(
    case: Case, uept_target: TargetSession, actor: Actor, uept_evidence: Evidence | None
) -> None:
    assert case.given
    api = api_for(uept_target, actor)
    if api is None:
        no_api(uept_evidence, "organisation scoping")
        return
    r = api.request("GET", "incident", case.given.sys_id)
    listed = api.query("incident", f"number={case.given.number}", fields="number")
    keep(
        uept_evidence,
        "other-organisation-incident-via-table-api.json",
        {"get_status": r.status_code, "get_body": r.json(), "query_result": listed},
    )
    assert r.status_code == 404, f"the Table API answered {r.status_code} for another organisation's incident"
    assert listed == [], "another organisation's incident is listed by the Table API"


@then(parsers.parse('the menu has no "{entry}" entry'))
def menu_without(ssi: SSI, entry: str) -> None:
    expect(ssi.home.main_menu).to_be_visible()
    expect(ssi.home.menu_item(entry)).to_have_count(0)


@when("I open the Create Incident page by its direct URL")
def open_create_directly(ssi: SSI) -> None:
    ssi.create_incident.open()


@when("I open My Requests by its direct URL")
def open_my_requests_directly(ssi: SSI) -> None:
    ssi.my_requests.open()


@then("the Table API refuses to create an incident for me")
def api_refuses_create(
    ssi: SSI, case: Case, uept_target: TargetSession, actor: Actor, uept_evidence: Evidence | None
) -> None:
    api = api_for(uept_target, actor)
    if api is None:
        no_api(uept_evidence, "the raise right")
        return
    data = service_management(ssi.profile, case)
    body = {
        "short_description": data["short_description"],
        "category": next(c.value for c in ssi.profile.incidents.categories if not c.premises),
        "u_contact_first_name": "A",
        "u_contact_last_name": "B",
        "u_contact_phone": "01632 960 000",
    }
    r = api.request("POST", "incident", json=body)
    keep(uept_evidence, "create-through-table-api.json", {"status": r.status_code, "body": r.json()})
    assert r.status_code == 403, f"the Table API answered {r.status_code} to a create by {actor.key}"


@then("it offers me no actions, no update box and no file upload")
def no_actions(ssi: SSI) -> None:
    expect(ssi.ticket.activity).to_be_visible()
    expect(ssi.ticket.attachments).to_be_visible()
    expect(ssi.ticket.actions).to_have_count(0)
    expect(ssi.ticket.update_text).to_have_count(0)
    expect(ssi.ticket.file_input).to_have_count(0)


@then("the SSI refuses an update from me even when asked directly")
def refuses_update(
    ssi: SSI, case: Case, uept_target: TargetSession, actor: Actor, uept_evidence: Evidence | None
) -> None:
    assert case.given
    checked = []
    if uept_target.resolved.is_reference:
        r = ssi.ticket.post_directly(
            case.given.sys_id,
            action="comment",
            u_update_type="Additional information",
            comments=f"Forced update [{case.token}]",
        )
        assert r.status == 403, f"a forced update answered {r.status}, not 403"
        checked.append("portal form")
    api = api_for(uept_target, actor)
    if api is not None:
        r = api.request("PATCH", "incident", case.given.sys_id, json={"comments": f"Forced [{case.token}]"})
        keep(uept_evidence, "update-through-table-api.json", {"status": r.status_code, "body": r.json()})
        assert r.status_code == 403, f"the Table API answered {r.status_code} to an update by {actor.key}"
        checked.append("Table API")
    if not checked:
        pytest.skip("this target offers no way to ask its server directly; check by hand")
    ssi.ticket.open(case.given.sys_id)
    expect(ssi.ticket.entries.filter(has_text=case.token)).to_have_count(0)


# ---------------------------------------------------------------- markup is text
@then("the incident shows exactly the text I typed")
def shows_typed_text(ssi: SSI, case: Case) -> None:
    data = the(case).data
    expect(ssi.ticket.value("short_description")).to_have_text(data["short_description"])
    expect(ssi.ticket.value("description")).to_have_text(data["description"])
    expect(ssi.ticket.entries.first).to_contain_text(case.updates[-1][1])


@then("nothing I typed became part of the page or ran")
def nothing_ran(ssi: SSI, page: Page) -> None:
    assert page.evaluate("() => window.__ueptXss === undefined"), "a script typed into the incident ran"
    injected = page.locator(
        'main script, main img[src="x"], main svg[onload], main iframe, main [onmouseover], '
        "main u, main i, main b"
    )
    expect(injected).to_have_count(0)


@then("the list shows the summary exactly as I typed it")
def list_shows_text(ssi: SSI, case: Case) -> None:
    expect(ssi.my_requests.summary_of(the(case).number)).to_have_text(the(case).data["short_description"])
    expect(ssi.my_requests.page.locator('main img[src="x"], main script, main b')).to_have_count(0)
