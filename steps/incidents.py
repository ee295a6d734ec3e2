"""UEPT theme 2: raise, view, update, resolve and reopen incidents (features/incidents.feature).

Test data comes from faker plus a per-scenario token, so scenarios never see each
other's incidents, in any order and with parallel workers. Where the target offers
the Table API, steps cross-check the stored record and keep it as evidence.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import BrowserContext, Page, expect
from pytest_bdd import given, parsers, then, when

from fixtures import checks, data
from fixtures.actors import Actor, SignedInSessions
from fixtures.checks import keep, no_api, page_values_of, stored_mismatches
from fixtures.state import IncidentCase, Raised, needed
from fixtures.target import needs_control
from pages import SSI
from steps import TYPES
from uept.runtime.control import TargetControl
from uept.runtime.run import Evidence
from uept.runtime.target import TargetSession


# ---------------------------------------------------------------- raising
@when("I raise a service-management incident")
def raise_service_management(ssi: SSI, case: IncidentCase) -> None:
    case.data = data.service_management(ssi.profile, case.token)
    ssi.create_incident.raise_incident(case.data)


@given("I have raised a service-management incident")
def have_raised_sm(ssi: SSI, case: IncidentCase, actor: Actor) -> None:
    case.mine = case.raise_incident(ssi, data.service_management(ssi.profile, case.token), actor.key)


@given("I have raised a premises-related incident")
def have_raised_premises(ssi: SSI, case: IncidentCase, actor: Actor) -> None:
    case.mine = case.raise_incident(ssi, data.premises(ssi.profile, case.token), actor.key)


@given("I have raised and resolved a service-management incident")
def have_raised_and_resolved(ssi: SSI, case: IncidentCase, actor: Actor) -> None:
    case.mine = case.raise_incident(ssi, data.service_management(ssi.profile, case.token), actor.key)
    case.resolution = ("Solution provided", data.resolution_notes(case.token))
    ssi.ticket.resolve(*case.resolution)
    expect(ssi.ticket.state).to_have_text(ssi.profile.incidents.states[6])


@given(parsers.parse('the "{persona}" has raised a service-management incident'))
def persona_has_raised(
    persona: str,
    ssi: SSI,
    case: IncidentCase,
    context: BrowserContext,
    signed_in_sessions: SignedInSessions,
) -> None:
    signed_in_sessions.apply(context, persona)
    ssi.home.open()
    expect(ssi.home.signed_in).to_be_visible()
    case.given = case.raise_incident(ssi, data.service_management(ssi.profile, case.token), persona)
    case.data = None


@when(parsers.parse("I raise a service-management incident without the contact {detail}"))
def raise_without_contact(ssi: SSI, case: IncidentCase, detail: str) -> None:
    case.data = data.without_contact(ssi.profile, case.token, detail)
    ssi.create_incident.raise_incident(case.data)


@when("I raise a premises-related incident for an MPxN with my own reference")
def raise_premises(ssi: SSI, case: IncidentCase) -> None:
    case.data = data.premises(ssi.profile, case.token)
    ssi.create_incident.raise_incident(case.data)


@when(parsers.parse('I raise a service-management incident with impact "{impact}" and urgency "{urgency}"'))
def raise_with_matrix(ssi: SSI, case: IncidentCase, actor: Actor, impact: str, urgency: str) -> None:
    incident = data.service_management(ssi.profile, case.token, impact=impact, urgency=urgency)
    case.mine = case.raise_incident(ssi, incident, actor.key)


@when(
    parsers.parse("I raise a service-management incident whose {what} is one character longer than allowed")
)
def raise_overlong(ssi: SSI, case: IncidentCase, what: str) -> None:
    case.data = data.overlong(ssi.profile, case.token, what)
    ssi.create_incident.raise_incident(case.data)


# a regex: one alternation binds either the MPxN, the Device ID or neither (and a quoted value may be empty)
@when(
    parsers.re(
        r"I raise a premises-related incident with (?P<what>neither a Device ID nor an MPxN"
        r'|the MPxN "(?P<mpxn>[^"]*)"|the Device ID "(?P<device>[^"]*)")'
    )
)
def raise_premises_invalid(ssi: SSI, case: IncidentCase, mpxn: str | None, device: str | None) -> None:
    case.data = data.premises(ssi.profile, case.token, u_mpxn=mpxn or "", u_device_id=device or "")
    ssi.create_incident.raise_incident(case.data)


@when("I raise a premises-related incident with every text field exactly as long as allowed")
def raise_at_limits(ssi: SSI, case: IncidentCase) -> None:
    case.data = data.at_limits(ssi.profile, case.token)
    ssi.create_incident.raise_incident(case.data)


@when("I raise a service-management incident whose summary and notes contain HTML and script")
def raise_with_markup(ssi: SSI, case: IncidentCase, actor: Actor) -> None:
    case.mine = case.raise_incident(ssi, data.with_markup(ssi.profile, case.token), actor.key)


@when("I raise a premises-related incident whose every text field contains HTML and script")
def raise_premises_with_markup(ssi: SSI, case: IncidentCase, actor: Actor) -> None:
    case.mine = case.raise_incident(ssi, data.premises_with_markup(ssi.profile, case.token), actor.key)


# ---------------------------------------------------------------- outcome of raising
@then("I see the number of the new incident")
def see_number(ssi: SSI, case: IncidentCase, actor: Actor) -> None:
    case.mine = Raised(*ssi.ticket.expect_new_ticket(), case.typed, actor.key)


@then(parsers.parse('the incident is "{state:Quoted}"', extra_types=TYPES))  # not the on-hold line below
def incident_state(ssi: SSI, state: str) -> None:
    expect(ssi.ticket.state).to_have_text(state)


@then(parsers.parse('the incident is "{state}" with the on hold reason "{reason}"'))
def incident_on_hold(ssi: SSI, state: str, reason: str) -> None:
    expect(ssi.ticket.state).to_have_text(state)
    expect(ssi.ticket.value("hold_reason")).to_have_text(reason)


@then("the stored incident matches what I entered")
def stored_matches_entered(
    case: IncidentCase, uept_target: TargetSession, actor: Actor, uept_evidence: Evidence | None
) -> None:
    record = checks.stored_record(uept_target.table_api(actor.key), uept_evidence, case.the, actor.key)
    if record is None:
        return
    mismatches = stored_mismatches(record, case.the.data)
    assert not mismatches, "the stored incident differs from what was entered: " + "; ".join(mismatches)
    assert record["state"]["value"] == "1", f"a new incident is stored in state {record['state']['value']}"
    caller = uept_target.table_api(actor.key).get("sys_user", record["caller_id"]["value"])
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
    ssi: SSI, case: IncidentCase, uept_target: TargetSession, actor: Actor, uept_evidence: Evidence | None
) -> None:
    ssi.my_requests.open()
    ssi.my_requests.search(case.token)
    expect(ssi.my_requests.summary).to_contain_text(ssi.profile.label("incident.no_results"))
    api = uept_target.table_api(actor.key)
    if api is None:
        no_api(uept_evidence, "that nothing was stored")
        return
    found = api.query("incident", f"short_descriptionLIKE{case.token}", fields="number,short_description")
    keep(uept_evidence, "stored-incidents-with-my-summary.json", found)
    assert found == [], f"incidents were stored although the form was refused: {found}"


@then("the incident shows the MPxN and my reference")
def shows_mpxn(ssi: SSI, case: IncidentCase) -> None:
    typed = case.the.data
    expect(ssi.ticket.shown("u_mpxn")).to_have_text(typed["u_mpxn"])
    expect(ssi.ticket.shown("u_your_reference")).to_have_text(typed["u_your_reference"])


# ---------------------------------------------------------------- finding and viewing
@when("I search My Requests for its number")
def search_my_number(ssi: SSI, case: IncidentCase) -> None:
    ssi.my_requests.open()
    ssi.my_requests.search(case.the.number)


@when("I search My Requests for that incident's number")
def search_that_number(ssi: SSI, case: IncidentCase) -> None:
    theirs = case.theirs
    ssi.my_requests.open()
    ssi.my_requests.search(theirs.number)


@then("exactly that incident is listed")
def exactly_listed(ssi: SSI, case: IncidentCase) -> None:
    expect(ssi.my_requests.rows).to_have_count(1)
    expect(ssi.my_requests.link(case.the.number)).to_be_visible()


@then("no incident is listed")
def none_listed(ssi: SSI) -> None:
    expect(ssi.my_requests.summary).to_contain_text(ssi.profile.label("incident.no_results"))
    expect(ssi.my_requests.rows).to_have_count(0)


@when("I open it from the list")
def open_from_list(ssi: SSI, case: IncidentCase) -> None:
    ssi.my_requests.open_request(case.the.number)
    expect(ssi.ticket.number).to_have_text(case.the.number)


@then("every field I entered is shown")
def every_field_shown(ssi: SSI, case: IncidentCase) -> None:
    for name, typed in case.the.data.values.items():
        if typed:
            expect(ssi.ticket.shown(name)).to_have_text(typed)


@then("the incident shows my organisation, its priority and its target resolution time")
def shows_priority_and_target(ssi: SSI, case: IncidentCase) -> None:
    cfg = ssi.profile.incidents
    typed = case.the.data
    priority = checks.priority_of(cfg, typed["impact"], typed["urgency"])
    expect(ssi.ticket.value("priority")).to_have_text(checks.priority_label(cfg, priority))
    sec = cfg.sec_category(priority)
    expect(ssi.ticket.value("sec_category")).to_have_text(sec.label)
    opened = ssi.ticket.created.get_attribute("datetime") or ""
    target = checks.target_resolution(opened, sec.target_resolution_hours)
    expect(ssi.ticket.value("target_resolution")).to_contain_text(target)
    expect(ssi.ticket.value("organisation")).not_to_be_empty()
    expect(ssi.ticket.value("caller")).not_to_be_empty()


@then("the stored incident matches what the page shows")
def stored_matches_page(
    ssi: SSI, case: IncidentCase, uept_target: TargetSession, actor: Actor, uept_evidence: Evidence | None
) -> None:
    record = checks.stored_record(uept_target.table_api(actor.key), uept_evidence, case.the, actor.key)
    if record is None:
        return
    shown = {
        key: ssi.ticket.value(key).inner_text().strip()
        for key in ("state", "priority", "sec_category", "organisation", "caller", "target_resolution")
    }
    keep(uept_evidence, f"{case.the.number}-page-values.json", shown)
    expected = page_values_of(record)
    assert shown == expected, f"the page and the stored record differ: page {shown}, stored {expected}"


@then(parsers.parse('''the incident's priority is "{priority}"'''))
def priority_shown(ssi: SSI, priority: str) -> None:
    expect(ssi.ticket.value("priority")).to_have_text(priority)


@then(parsers.parse("the stored incident has priority {value:d}"))
def stored_priority(
    case: IncidentCase, uept_target: TargetSession, actor: Actor, uept_evidence: Evidence | None, value: int
) -> None:
    record = checks.stored_record(uept_target.table_api(actor.key), uept_evidence, case.the, actor.key)
    if record is not None:
        assert record["priority"]["value"] == str(value), f"stored priority {record['priority']['value']}"


@when("I open the incident")
def open_incident(ssi: SSI, case: IncidentCase) -> None:
    ssi.ticket.open(case.the.sys_id)
    expect(ssi.ticket.number).to_have_text(case.the.number)


@when("I open that incident by its direct URL")
def open_that_incident(ssi: SSI, case: IncidentCase) -> None:
    ssi.ticket.open(case.theirs.sys_id)


@given(parsers.parse('the "{persona}" has an incident that is "{state}"'))
def persona_has_incident_in_state(uept_target: TargetSession, target_control: TargetControl, case: IncidentCase,
                                  persona: str, state: str) -> None:
    case.state = uept_target.profile.incidents.state_value(state)
    case.given = case.prepare(uept_target, target_control, persona, case.state)


@then(parsers.parse("the incident offers exactly these actions: {actions:QuotesOrNone}", extra_types=TYPES))
def offers_exactly(ssi: SSI, actions: list[str]) -> None:
    offered = ssi.ticket.offered_actions()
    assert offered == sorted(actions), f"the incident offers {offered or 'no actions'}, not {sorted(actions) or 'none'}"


@then(parsers.parse("the Table API lets me set its state to exactly: {states:QuotesOrNone}", extra_types=TYPES))
def api_sets_exactly(case: IncidentCase, uept_target: TargetSession, target_control: TargetControl, actor: Actor,
                     uept_evidence: Evidence | None, states: list[str]) -> None:
    api = uept_target.table_api(actor.key)
    if api is None:
        no_api(uept_evidence, "the state changes the Table API accepts")
        return
    cfg, raiser, profile = uept_target.profile.incidents, case.the.by, uept_target.profile
    problems = checks.state_change_problems(
        api, uept_evidence, lambda: case.prepare(uept_target, target_control, raiser, case.state).sys_id, case.state,
        cfg.states, [cfg.state_value(s) for s in states], lambda s: data.state_change(profile, case.token, s))
    assert not problems, "; ".join(problems)


@then("I see that incident")
def see_that_incident(ssi: SSI, case: IncidentCase) -> None:
    theirs = case.theirs
    expect(ssi.ticket.number).to_have_text(theirs.number)
    expect(ssi.ticket.value("short_description")).to_have_text(theirs.data["short_description"])


@then(parsers.parse('I see the message "{message}"'))
def see_message(ssi: SSI, case: IncidentCase, message: str) -> None:
    expect(ssi.message.message).to_contain_text(message)
    if case.given:  # nothing of the incident leaks onto the refusal page
        expect(ssi.message.main).not_to_contain_text(case.given.number)
        expect(ssi.message.main).not_to_contain_text(case.token)


# ---------------------------------------------------------------- updates
@when(parsers.parse('I add an update of type "{update_type}"'))
def add_update(ssi: SSI, case: IncidentCase, update_type: str) -> None:
    text = data.update_text(case.token, len(case.updates) + 1)
    case.updates.append((update_type, text))
    ssi.ticket.add_update(update_type, text)


@when(parsers.parse("I add an update {how:TextLength} allowed", extra_types=TYPES))
def add_update_of_length(ssi: SSI, case: IncidentCase, how: int) -> None:
    """An update of exactly the profile's limit (how = 0), or `how` characters longer; only one the SSI may take
    is remembered as posted."""
    text = data.text_of_length(f"[{case.token}]", ssi.profile.incidents.limits.comment + how)
    if how <= 0:
        case.updates.append(("Additional information", text))
    ssi.ticket.add_update("Additional information", text)


@then(parsers.parse("I am told how long the {what:LimitedTicketText} may be", extra_types=TYPES))
def told_too_long(ssi: SSI, what: str) -> None:
    label = ssi.profile.label(f"incident.{what}")
    limit = getattr(ssi.profile.incidents.limits, what)
    expect(ssi.ticket.alert.filter(has_text=f"{label} must be at most {limit} characters")).to_have_count(1)


@when("I add an update whose text contains HTML and script")
def add_markup_update(ssi: SSI, case: IncidentCase) -> None:
    text = data.markup_update(case.token)
    case.updates.append(("Additional information", text))
    ssi.ticket.add_update("Additional information", text)


@then(parsers.parse('I see the confirmation "{message}"'))
def confirmation(ssi: SSI, message: str) -> None:
    expect(ssi.ticket.status.filter(has_text=message)).to_be_visible()


@then("the Activity stream shows my updates, newest first")
def stream_newest_first(ssi: SSI, case: IncidentCase) -> None:
    entries = ssi.ticket.entries
    expect(entries).to_have_count(len(case.updates))
    for i, (update_type, text) in enumerate(reversed(case.updates)):
        expect(entries.nth(i)).to_contain_text(text)
        expect(entries.nth(i)).to_contain_text(update_type)


@then("the stored incident holds my updates as additional comments")
def stored_comments(
    case: IncidentCase, uept_target: TargetSession, actor: Actor, uept_evidence: Evidence | None
) -> None:
    record = checks.stored_record(uept_target.table_api(actor.key), uept_evidence, case.the, actor.key)
    if record is None:
        return
    journal = record["comments"]["display_value"]
    problem = checks.newest_first_problem(journal, [text for _, text in case.updates])
    assert problem is None, problem
    assert "(Additional comments)" in journal, \
        "expected the stored journal to name each update's type, e.g. (Additional comments); it names none"


# ---------------------------------------------------------------- DCC's service desk (reference SSI only)
@given("DCC's service desk has put it on hold awaiting my answer")
def desk_puts_on_hold(target_control: TargetControl, case: IncidentCase) -> None:
    control = needs_control(target_control, "DCC's service desk putting an incident on hold")
    case.desk_comment = f"Please confirm the serial number of the device [{case.token}]"
    control.desk_update("incident", case.the.sys_id, state="3", hold_reason="1", comments=case.desk_comment)


@given("DCC's service desk has added a work note and a comment to it")
def desk_adds_notes(target_control: TargetControl, case: IncidentCase) -> None:
    control = needs_control(target_control, "DCC's service desk adding work notes")
    case.work_note = data.work_note()
    case.desk_comment = f"We are looking into this [{case.token}]"
    control.desk_update("incident", case.the.sys_id, work_notes=case.work_note, comments=case.desk_comment)


@then("I see the service desk's comment in the Activity stream")
def see_desk_comment(ssi: SSI, case: IncidentCase) -> None:
    expect(ssi.ticket.entries.filter(has_text=case.desk_comment)).to_have_count(1)


@then("I do not see the work note anywhere on the page")
def no_work_note(ssi: SSI, case: IncidentCase) -> None:
    expect(ssi.ticket.body).not_to_contain_text(case.work_note)
    assert case.work_note not in ssi.ticket.html(), "the work note is in the page's HTML"


@then("the Table API does not give me the work note")
def api_no_work_note(
    case: IncidentCase, uept_target: TargetSession, actor: Actor, uept_evidence: Evidence | None
) -> None:
    api = uept_target.table_api(actor.key)
    if api is None:
        no_api(uept_evidence, "work-note visibility")
        return
    record = api.get("incident", case.the.sys_id)
    journal = api.query("sys_journal_field", f"element_id={case.the.sys_id}", fields="element,value")
    keep(uept_evidence, f"{case.the.number}-journal-as-seen-by-me.json", journal)
    problems = checks.journal_leaks(record, journal, case.work_note, case.desk_comment)
    assert not problems, problems[0]


# ---------------------------------------------------------------- attachments
@when("I attach a CSV file to it")
def attach_csv(ssi: SSI, case: IncidentCase, tmp_path: Path) -> None:
    case.file = tmp_path / f"meter-reads-{case.token}.csv"
    case.file.write_text(data.meter_reads_csv(case.token), encoding="utf-8")
    ssi.ticket.attach(case.file)


@when(parsers.parse("I attach a program file named {name}"))
def attach_program(ssi: SSI, case: IncidentCase, tmp_path: Path, name: str) -> None:
    case.file = tmp_path / name
    case.file.write_bytes(data.program_bytes())
    ssi.ticket.attach(case.file)


@when("I attach a log file one byte larger than the limit")
def attach_too_big(ssi: SSI, case: IncidentCase, tmp_path: Path) -> None:
    case.file = tmp_path / f"device-{case.token}.log"
    case.file.write_bytes(data.random_bytes(ssi.profile.incidents.attachments.max_bytes + 1))
    ssi.ticket.attach(case.file)


@when("I attach a file whose name contains HTML")
def attach_markup_name(ssi: SSI, case: IncidentCase, tmp_path: Path) -> None:
    case.file = tmp_path / data.file_name_with_markup(case.token)
    case.file.write_text(data.meter_reads_csv(case.token), encoding="utf-8")
    ssi.ticket.attach(case.file)


@when("I attach a log file exactly as large as the limit")
def attach_at_limit(ssi: SSI, case: IncidentCase, tmp_path: Path) -> None:
    case.file = tmp_path / f"device-{case.token}.log"
    case.file.write_bytes(data.random_bytes(ssi.profile.incidents.attachments.max_bytes))
    ssi.ticket.attach(case.file)


@then("the file is listed under Attachments")
def file_listed(ssi: SSI, case: IncidentCase) -> None:
    expect(ssi.ticket.attachment_link(case.attached.name)).to_be_visible()


@when("I download the file")
def download_file(ssi: SSI, case: IncidentCase, tmp_path: Path) -> None:
    download = ssi.ticket.download(case.attached.name)
    assert download.suggested_filename == case.attached.name, \
        f'expected the browser to save the file as "{case.attached.name}"; it saved it as ' \
        f'"{download.suggested_filename}"'
    target = tmp_path / "downloaded" / download.suggested_filename
    download.save_as(target)
    case.downloaded = target.read_bytes()


@then("the browser saves it with the same bytes as the file I attached")
def same_bytes(case: IncidentCase, uept_evidence: Evidence | None) -> None:
    back = needed(case.downloaded, "the file downloaded ('When I download the file')")
    sent = case.attached.read_bytes()
    keep(uept_evidence, "attachment-round-trip.json", checks.round_trip(case.attached.name, sent, back))
    assert back == sent, (
        f"the download differs from the file attached ({len(back)} bytes "
        f"back for {len(sent)} sent)"
    )


@then("the stored attachment has the same size and checksum")
def stored_attachment(
    case: IncidentCase, uept_target: TargetSession, actor: Actor, uept_evidence: Evidence | None
) -> None:
    api = uept_target.table_api(actor.key)
    if api is None:
        no_api(uept_evidence, "the stored attachment")
        return
    rows = api.query("sys_attachment", f"table_sys_id={case.the.sys_id}")
    keep(uept_evidence, f"{case.the.number}-stored-attachments.json", rows)
    problems = checks.attachment_problems(rows, case.attached.name, case.attached.read_bytes())
    assert not problems, "; ".join(problems)


@then(parsers.parse('the file is refused with a message saying "{message}"'))
def file_refused(ssi: SSI, message: str) -> None:
    ssi.ticket.expect_file_refused(message)


@then("no file is attached to the incident")
def no_file(
    ssi: SSI, case: IncidentCase, uept_target: TargetSession, actor: Actor, uept_evidence: Evidence | None
) -> None:
    ssi.ticket.open(case.the.sys_id)
    expect(ssi.ticket.attachments).to_contain_text(ssi.profile.label("incident.no_attachments"))
    expect(ssi.ticket.attachment_links).to_have_count(0)
    api = uept_target.table_api(actor.key)
    if api is None:
        no_api(uept_evidence, "that no attachment was stored")
        return
    rows = api.query("sys_attachment", f"table_sys_id={case.the.sys_id}")
    assert rows == [], f"attachments were stored although refused: {rows}"


# ---------------------------------------------------------------- resolve, close, reopen
@when(parsers.parse('I resolve it with the resolution code "{code}" and notes'))
def resolve(ssi: SSI, case: IncidentCase, code: str) -> None:
    case.resolution = (code, data.resolution_notes(case.token))
    ssi.ticket.resolve(*case.resolution)


@when(parsers.parse('I resolve it with the resolution code "{code}" and the notes "{notes}"'))
def resolve_with_notes(ssi: SSI, case: IncidentCase, code: str, notes: str) -> None:
    case.resolution = (code, notes)
    ssi.ticket.resolve(code, notes)


@when(parsers.parse('I resolve it with the resolution code "{code:Quoted}" and notes {how:TextLength} allowed',
                    extra_types=TYPES))
def resolve_with_notes_of_length(ssi: SSI, case: IncidentCase, code: str, how: int) -> None:
    notes = data.text_of_length(f"[{case.token}]", ssi.profile.incidents.limits.close_notes + how)
    if how <= 0:
        case.resolution = (code, notes)
    ssi.ticket.resolve(code, notes)


@when(parsers.parse('I resolve it with the resolution code "{code}" and notes that contain HTML and script'))
def resolve_with_markup(ssi: SSI, case: IncidentCase, code: str) -> None:
    case.resolution = (code, data.resolution_notes_with_markup(case.token))
    ssi.ticket.resolve(*case.resolution)


@when("I try to resolve it without a resolution code or notes")
def resolve_without(ssi: SSI) -> None:
    ssi.ticket.resolve("", "")


@then(parsers.parse('I am told "{message}"'))
def told(ssi: SSI, message: str) -> None:
    expect(ssi.ticket.alert.filter(has_text=message)).to_have_count(1)


@then("the incident shows the resolution code and notes")
def shows_resolution(ssi: SSI, case: IncidentCase) -> None:
    code, notes = case.resolved_as
    expect(ssi.ticket.value("close_code")).to_have_text(code)
    expect(ssi.ticket.value("close_notes")).to_have_text(notes)


@then("the stored incident is resolved with that code and those notes")
def stored_resolved(
    case: IncidentCase, uept_target: TargetSession, actor: Actor, uept_evidence: Evidence | None
) -> None:
    record = checks.stored_record(uept_target.table_api(actor.key), uept_evidence, case.the, actor.key)
    if record is None:
        return
    code, notes = case.resolved_as
    assert record["state"]["value"] == "6", f"expected the stored state 6 (Resolved); it is {record['state']['value']}"
    assert record["close_code"]["value"] == code, \
        f'expected the stored resolution code "{code}"; it is "{record["close_code"]["value"]}"'
    assert record["close_notes"]["value"] == notes, \
        f'expected the stored resolution notes "{notes}"; they are "{record["close_notes"]["value"]}"'
    assert record["resolved_at"]["value"], "no resolved_at timestamp stored"
    assert record["active"]["value"] == "true", \
        f'expected the resolved incident to stay active until it is closed; active is "{record["active"]["value"]}"'


@when("I reopen it giving a reason")
def reopen(ssi: SSI, case: IncidentCase) -> None:
    case.reason = data.reopen_reason(case.token)
    ssi.ticket.reopen(case.reason)


@when("I reopen it giving a reason that contains HTML and script")
def reopen_with_markup(ssi: SSI, case: IncidentCase) -> None:
    case.reason = data.reopen_reason_with_markup(case.token)
    ssi.ticket.reopen(case.reason)


@then(parsers.parse("the incident shows it was reopened {count:d} time"))
def reopened_times(ssi: SSI, count: int) -> None:
    expect(ssi.ticket.value("reopen_count")).to_have_text(str(count))


@then("the Activity stream shows my reason")
def stream_reason(ssi: SSI, case: IncidentCase) -> None:
    expect(ssi.ticket.entries.first).to_contain_text(case.reason)


@then("the stored incident is In Progress with reopen count 1")
def stored_reopened(
    case: IncidentCase, uept_target: TargetSession, actor: Actor, uept_evidence: Evidence | None
) -> None:
    record = checks.stored_record(uept_target.table_api(actor.key), uept_evidence, case.the, actor.key)
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
    expect(ssi.ticket.button(action)).to_have_count(0)  # ...without it


@then("the SSI refuses to reopen it even when asked directly")
def refuses_reopen(
    ssi: SSI, case: IncidentCase, uept_target: TargetSession, actor: Actor, uept_evidence: Evidence | None
) -> None:
    incident = case.the
    checked = []
    if uept_target.resolved.is_reference:  # the reference SSI's own form, posted without the page's help
        r = ssi.ticket.post_directly(incident.sys_id, action="reopen", reason=f"Forced reopen [{case.token}]")
        assert r.status == 403, f"a forced reopen of a closed incident answered {r.status}, not 403"
        checked.append("portal form")
    api = uept_target.table_api(actor.key)
    if api is not None:
        status = checks.patch_incident(api, uept_evidence, incident.sys_id, {"state": "2"},
                                       "reopen-through-table-api.json")
        assert status == 403, f"the Table API let me reopen a closed incident ({status})"
        checked.append("Table API")
    if not checked:
        pytest.skip("this target offers no way to ask its server directly; check by hand")
    ssi.ticket.open(incident.sys_id)
    expect(ssi.ticket.state).to_have_text(ssi.profile.incidents.states[7])


@then(parsers.parse('My Requests lists it under "{listed}" and not under "{absent}"'))
def listed_under(ssi: SSI, case: IncidentCase, listed: str, absent: str) -> None:
    views = {
        ssi.profile.label("incident.show_open"): "open",
        ssi.profile.label("incident.show_closed"): "closed",
    }
    ssi.my_requests.open()
    ssi.my_requests.search(case.the.number, show=views[absent])
    expect(ssi.my_requests.rows).to_have_count(0)
    ssi.my_requests.search(case.the.number, show=views[listed])
    expect(ssi.my_requests.link(case.the.number)).to_be_visible()


# ---------------------------------------------------------------- visibility and rights
@then("the Table API does not give me that incident")
def api_hides_incident(
    case: IncidentCase, uept_target: TargetSession, actor: Actor, uept_evidence: Evidence | None
) -> None:
    theirs = case.theirs
    api = uept_target.table_api(actor.key)
    if api is None:
        no_api(uept_evidence, "organisation scoping")
        return
    r = api.request("GET", "incident", theirs.sys_id)
    listed = api.query("incident", f"number={theirs.number}", fields="number")
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
    ssi: SSI, case: IncidentCase, uept_target: TargetSession, actor: Actor, uept_evidence: Evidence | None
) -> None:
    api = uept_target.table_api(actor.key)
    if api is None:
        no_api(uept_evidence, "the raise right")
        return
    r = api.request("POST", "incident", json=data.table_api_create_body(ssi.profile, case.token))
    keep(uept_evidence, "create-through-table-api.json", {"status": r.status_code, "body": r.json()})
    assert r.status_code == 403, f"the Table API answered {r.status_code} to a create by {actor.key}"


@then("it offers me no actions, no update box and no file upload")
def no_actions(ssi: SSI) -> None:
    expect(ssi.ticket.activity).to_be_visible()
    expect(ssi.ticket.attachments).to_be_visible()
    expect(ssi.ticket.actions).to_have_count(0)
    expect(ssi.ticket.update_text).to_have_count(0)
    expect(ssi.ticket.upload_control).to_have_count(0)


@then("the SSI refuses an update from me even when asked directly")
def refuses_update(
    ssi: SSI, case: IncidentCase, uept_target: TargetSession, actor: Actor, uept_evidence: Evidence | None
) -> None:
    theirs = case.theirs
    checked = []
    if uept_target.resolved.is_reference:
        r = ssi.ticket.post_directly(theirs.sys_id, action="comment", u_update_type="Additional information",
                                     comments=f"Forced update [{case.token}]")
        assert r.status == 403, f"a forced update answered {r.status}, not 403"
        checked.append("portal form")
    api = uept_target.table_api(actor.key)
    if api is not None:
        status = checks.patch_incident(api, uept_evidence, theirs.sys_id, {"comments": f"Forced [{case.token}]"},
                                       "update-through-table-api.json")
        assert status == 403, f"the Table API answered {status} to an update by {actor.key}"
        checked.append("Table API")
    if not checked:
        pytest.skip("this target offers no way to ask its server directly; check by hand")
    ssi.ticket.open(theirs.sys_id)
    expect(ssi.ticket.entries.filter(has_text=case.token)).to_have_count(0)


# ---------------------------------------------------------------- markup is text
@then("the incident shows exactly the text I typed")
def shows_typed_text(ssi: SSI, case: IncidentCase) -> None:
    typed = case.the.data
    expect(ssi.ticket.value("short_description")).to_have_text(typed["short_description"])
    expect(ssi.ticket.value("description")).to_have_text(typed["description"])
    expect(ssi.ticket.entries.first).to_contain_text(case.updates[-1][1])


@then("nothing I typed became part of the page or ran")
def nothing_ran(ssi: SSI) -> None:
    assert not ssi.home.script_ran(data.SCRIPT_MARKER), "a script typed into the SSI ran"
    expect(ssi.home.typed_markup).to_have_count(0)


@then("the list shows the summary exactly as I typed it")
def list_shows_text(ssi: SSI, case: IncidentCase) -> None:
    ssi.my_requests.expect_summary(case.the.number, case.the.data["short_description"])
    expect(ssi.my_requests.injected_markup).to_have_count(0)
