"""UEPT theme 5: service requests through the service catalogue (features/service_requests.feature).

Test data comes from faker plus a per-scenario token, so scenarios never see each other's requests. Where
the target offers the Table API, steps cross-check the stored request and keep it as evidence.
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

from parse import with_pattern
from playwright.sync_api import BrowserContext, expect
from pytest_bdd import given, parsers, then, when

from fixtures import checks, data
from fixtures.actors import Actor, SignedInSessions
from fixtures.checks import keep, no_api
from fixtures.state import RequestCase
from fixtures.target import needs_control
from pages import SSI
from steps import TYPES
from uept.runtime.control import TargetControl
from uept.runtime.mailbox import wait_for
from uept.runtime.run import Evidence
from uept.runtime.target import TargetSession


# ---------------------------------------------------------------- submitting
@when(parsers.parse('I submit a "{item:Quoted}"', extra_types=TYPES))
def submit_item(ssi: SSI, request_case: RequestCase, item: str) -> None:
    request_case.submit(ssi, item)


@given(parsers.parse('I have submitted a "{item:Quoted}"', extra_types=TYPES))
def have_submitted(ssi: SSI, request_case: RequestCase, actor: Actor, item: str) -> None:
    request_case.submit(ssi, item)
    request_case.submitted(ssi, actor.key)


@given(parsers.parse('the "{persona:Quoted}" has submitted a "{item:Quoted}"', extra_types=TYPES))
def persona_has_submitted(persona: str, item: str, ssi: SSI, request_case: RequestCase, context: BrowserContext,
                          signed_in_sessions: SignedInSessions) -> None:
    signed_in_sessions.apply(context, persona)
    ssi.home.open()
    expect(ssi.home.signed_in).to_be_visible()
    request_case.submit(ssi, item)
    request_case.submitted(ssi, persona)


@when(parsers.parse('I submit a "{item:Quoted}" without its "{variable:Quoted}"', extra_types=TYPES))
def submit_without(ssi: SSI, request_case: RequestCase, item: str, variable: str) -> None:
    name = ssi.profile.service_requests.item(item).variable(variable).name
    request_case.submit(ssi, item, **{name: ""})


@when(parsers.parse('I submit a "{item:Quoted}" whose "{variable:Quoted}" is "{value}"', extra_types=TYPES))
def submit_with(ssi: SSI, request_case: RequestCase, item: str, variable: str, value: str) -> None:
    name = ssi.profile.service_requests.item(item).variable(variable).name
    request_case.submit(ssi, item, **{name: value})


@when(parsers.parse('I submit a "{item:Quoted}" with its optional values left empty, whose "{variable:Quoted}" is '
                    '"{value}"', extra_types=TYPES))
def submit_only_mandatory_with(ssi: SSI, request_case: RequestCase, item: str, variable: str, value: str) -> None:
    cfg = ssi.profile.service_requests.item(item)
    name = cfg.variable(variable).name
    empty = {v.name: "" for v in cfg.variables if not v.mandatory and v.type != "attachment" and v.name != name}
    request_case.submit(ssi, item, **empty, **{name: value})


@when(parsers.parse('I submit a "{item:Quoted}" whose "{variable:Quoted}" is {how:TextLength} it allows',
                    extra_types=TYPES))
def submit_with_length(ssi: SSI, request_case: RequestCase, item: str, variable: str, how: int) -> None:
    cfg = ssi.profile.service_requests.item(item)
    name = cfg.variable(variable).name
    typical = data.service_request(ssi.profile, request_case.token, cfg.key)
    request_case.submit(ssi, item, **{name: data.variable_of_length(typical, name, how, request_case.token)})


# ---------------------------------------------------------------- outcome of submitting
@then("I see the numbers of the new request and its requested item")
def see_numbers(ssi: SSI, request_case: RequestCase, actor: Actor) -> None:
    request_case.submitted(ssi, actor.key)


@then(parsers.parse('''the request's delivery status is "{stage}"'''))
def delivery_status(ssi: SSI, stage: str) -> None:
    expect(ssi.request_ticket.fact("stage")).to_have_text(stage)


@then(parsers.parse('the request is not submitted and I am told "{message}"'))
def not_submitted(ssi: SSI, request_case: RequestCase, message: str) -> None:
    expect(ssi.catalog_item.heading_(request_case.typed.item)).to_be_visible()
    expect(ssi.catalog_item.alert).to_contain_text(message)
    field = ssi.create_incident.invalid_field_saying(message)
    assert field, f'no form field is marked invalid with the message "{message}"'


@then("no service request with my details was stored")
def nothing_stored(ssi: SSI, request_case: RequestCase, uept_target: TargetSession, actor: Actor,
                   uept_evidence: Evidence | None) -> None:
    ssi.catalogue.open()
    # the open requests are drawn: their table, or the words saying there are none (the Service Portal shows
    # both, the words in the empty table)
    expect(ssi.catalogue.open_requests.or_(ssi.catalogue.main.get_by_text(
        ssi.profile.label("service_request.no_requests"))).first).to_be_visible()
    expect(ssi.catalogue.main).not_to_contain_text(request_case.token)
    api = uept_target.table_api(actor.key)
    if api is None:
        no_api(uept_evidence, "that nothing was stored")
        return
    found = api.query("sc_item_option", f"valueLIKE{request_case.token}", fields="request_item,name,value")
    keep(uept_evidence, "stored-request-values-with-my-token.json", found)
    assert found == [], f"a request was stored although the form was refused: {found}"


# ---------------------------------------------------------------- finding it and seeing it
@when("I open it from the open service requests of the service catalogue")
def open_from_catalogue(ssi: SSI, request_case: RequestCase) -> None:
    ssi.catalogue.open()
    ssi.catalogue.open_request(request_case.the.item)


@then("every value I entered in the request is shown")
def every_value_shown(ssi: SSI, request_case: RequestCase) -> None:
    mine = request_case.the
    expect(ssi.request_ticket.number).to_have_text(mine.item)
    expect(ssi.request_ticket.fact("request_number")).to_have_text(mine.request)
    expect(ssi.request_ticket.fact("item")).to_have_text(mine.data.item.name)
    for label, value in mine.data.shown().items():
        expect(ssi.request_ticket.variable(label)).to_have_text(value)


@then("the request shows me as the requester and my organisation")
def shows_requester(ssi: SSI, actor: Actor, uept_target: TargetSession, uept_evidence: Evidence | None) -> None:
    shown = ssi.request_ticket.fact("requested_for")
    expect(shown).to_have_text(re.compile(r"\S"))
    expect(ssi.request_ticket.fact("organisation")).to_have_text(re.compile(r"\S"))
    api = uept_target.table_api(actor.key)
    if api is None:
        no_api(uept_evidence, "the requester's name")
        return
    [found] = api.query("sys_user", f"user_name={actor.user_name}", fields="sys_id")
    me = api.get("sys_user", found["sys_id"])
    assert me is not None, f"the Table API does not give {actor.user_name} their own user record"
    expect(shown).to_have_text(f"{me['first_name']['value']} {me['last_name']['value']}".strip())
    expect(ssi.request_ticket.fact("organisation")).to_have_text(me["company"]["display_value"])


@then("the stored request matches what I entered")
def stored_matches(request_case: RequestCase, uept_target: TargetSession, actor: Actor,
                   uept_evidence: Evidence | None) -> None:
    mine = request_case.the
    api = uept_target.table_api(actor.key)
    if api is None:
        no_api(uept_evidence, f"request {mine.request}")
        return
    item = api.get("sc_req_item", mine.sys_id)
    assert item is not None, f"the Table API does not return {mine.item} to {actor.key}"
    request = api.get("sc_request", item["request"]["value"])
    options = api.query("sc_item_option", f"request_item={mine.sys_id}", fields="name,value")
    keep(uept_evidence, f"{mine.item}-stored-record.json", {"sc_req_item": item, "sc_request": request,
                                                            "sc_item_option": options})
    assert item["number"]["value"] == mine.item and request and request["number"]["value"] == mine.request, \
        f"expected the stored item {mine.item} of request {mine.request}; the Table API gives " \
        f"{item['number']['value']} of {request and request['number']['value']}"
    assert item["cat_item"]["value"] == mine.data.item.sys_id, "the request is stored for another item"
    wrong = checks.request_mismatches(options, mine.data)
    assert not wrong, "the stored request differs from what was entered: " + "; ".join(wrong)
    who = api.get("sys_user", item["requested_for"]["value"])
    assert who and who["user_name"]["value"] == actor.user_name, "the request is not stored as requested for me"


# ---------------------------------------------------------------- updating it
@when("I add a comment to the request")
def add_comment(ssi: SSI, request_case: RequestCase) -> None:
    request_case.comment = data.request_comment(request_case.token)
    ssi.request_ticket.add_update(None, request_case.comment)


@when("I attach a CSV file to the request")
def attach_csv(ssi: SSI, request_case: RequestCase, tmp_path: Path) -> None:
    request_case.file = tmp_path / f"scope-{request_case.token}.csv"
    request_case.file.write_text(data.meter_reads_csv(request_case.token), encoding="utf-8")
    ssi.request_ticket.attach(request_case.file)


@then("the request's activity shows my comment")
def activity_shows_comment(ssi: SSI, request_case: RequestCase) -> None:
    expect(ssi.request_ticket.entries.first).to_contain_text(request_case.comment)


@then("the file is listed under the request's attachments")
def file_listed(ssi: SSI, request_case: RequestCase) -> None:
    expect(ssi.request_ticket.attachment_link(request_case.attached.name)).to_be_visible()


@then("the stored request holds my comment and the file")
def stored_comment_and_file(request_case: RequestCase, uept_target: TargetSession, actor: Actor,
                            uept_evidence: Evidence | None) -> None:
    mine = request_case.the
    api = uept_target.table_api(actor.key)
    if api is None:
        no_api(uept_evidence, f"the updates of {mine.item}")
        return
    item = api.get("sc_req_item", mine.sys_id, display="true")
    files = api.query("sys_attachment", f"table_sys_id={mine.sys_id}", fields="file_name,size_bytes,hash")
    keep(uept_evidence, f"{mine.item}-comments-and-files.json", {"comments": item and item["comments"],
                                                                 "attachments": files})
    assert item and request_case.comment in item["comments"], "the stored request does not hold my comment"
    sent = request_case.attached
    assert [f["file_name"] for f in files] == [sent.name], \
        f'expected the stored request to hold the file "{sent.name}"; it holds {[f["file_name"] for f in files]}'
    assert int(files[0]["size_bytes"]) == sent.stat().st_size, \
        f"expected the stored file to be {sent.stat().st_size} bytes; it is {files[0]['size_bytes']}"


# ---------------------------------------------------------------- who may see it
@when("I open the service catalogue")
def open_catalogue(ssi: SSI) -> None:
    ssi.catalogue.open()


@then("that request is not among the open service requests")
def not_listed(ssi: SSI, request_case: RequestCase) -> None:
    expect(ssi.catalogue.heading(ssi.profile.component_page("service_catalogue").heading or "")).to_be_visible()
    expect(ssi.catalogue.main).not_to_contain_text(request_case.the.item)
    expect(ssi.catalogue.main).not_to_contain_text(request_case.token)


@when("I open that request by its direct URL")
def open_directly(ssi: SSI, request_case: RequestCase) -> None:
    ssi.request_ticket.open(request_case.the.sys_id)


@then("nothing of that request is on the page")
def nothing_of_it(ssi: SSI, request_case: RequestCase) -> None:
    expect(ssi.message.main).not_to_contain_text(request_case.the.item)
    expect(ssi.message.main).not_to_contain_text(request_case.token)


@then("the Table API does not give me that request")
def api_hides_request(request_case: RequestCase, uept_target: TargetSession, actor: Actor,
                      uept_evidence: Evidence | None) -> None:
    mine = request_case.the
    api = uept_target.table_api(actor.key)
    if api is None:
        no_api(uept_evidence, "organisation scoping of requests")
        return
    r = api.request("GET", "sc_req_item", mine.sys_id)
    listed = api.query("sc_req_item", f"number={mine.item}", fields="number")
    keep(uept_evidence, "other-organisation-request-via-table-api.json",
         {"get_status": r.status_code, "query_result": listed})
    assert r.status_code == 404, f"the Table API answered {r.status_code} for another organisation's request"
    assert listed == [], "another organisation's request is listed by the Table API"


@then(parsers.parse('the address of the "{item}" is refused with a readable 403 page'))
def item_refused(ssi: SSI, item: str) -> None:
    cfg = ssi.profile.service_requests.item(item)
    path = ssi.catalog_item.path(cfg)
    status = ssi.functions.visit_page(path, ssi.functions.access_denied.or_(ssi.catalog_item.heading_(cfg)))
    ssi.functions.expect_refused_page(status, path)
    expect(ssi.catalog_item.submit_button).to_have_count(0)


@then("the Table API refuses me the service requests")
def api_refuses(uept_target: TargetSession, actor: Actor, uept_evidence: Evidence | None) -> None:
    api = uept_target.table_api(actor.key)
    if api is None:
        no_api(uept_evidence, "the service catalogue right")
        return
    answers = {t: api.request("GET", t, params={"sysparm_limit": 1}).status_code
               for t in ("sc_request", "sc_req_item", "sc_task")}
    keep(uept_evidence, "service-requests-via-table-api.json", answers)
    assert all(s == 403 for s in answers.values()), f"the Table API answered {answers}, not 403 each"


# ---------------------------------------------------------------- files: ADT (and later quarantine actions)
@when(parsers.parse('I submit an "{item:Quoted}" with an ADT file signed by my organisation\'s key',
                    extra_types=TYPES))
def submit_signed_adt(ssi: SSI, request_case: RequestCase, uept_target: TargetSession, actor: Actor,
                      tmp_path: Path, item: str) -> None:
    key = uept_target.signing_key(actor.persona.organisation or "")
    request_case.file = data.adt_file(tmp_path, request_case.token, key)
    request_case.submit(ssi, item, adt_file=str(request_case.file))


@when(parsers.parse('I submit an "{item:Quoted}" with an ADT file of exactly the size limit, signed by my '
                    "organisation's key", extra_types=TYPES))
def submit_adt_at_limit(ssi: SSI, request_case: RequestCase, uept_target: TargetSession, actor: Actor,
                        tmp_path: Path, item: str) -> None:
    variable = ssi.profile.service_requests.item(item).variable("adt_file")
    request_case.file = data.adt_file(tmp_path, request_case.token, uept_target.signing_key(
        actor.persona.organisation or ""), data.AT_THE_SIZE_LIMIT, max_bytes=variable.max_bytes)
    assert request_case.file.stat().st_size == variable.max_bytes, "the file is not exactly the size limit"
    request_case.submit(ssi, item, adt_file=str(request_case.file))


ADT_PROBLEM = {"AdtProblem": with_pattern("|".join(re.escape(p) for p in data.ADT_PROBLEMS))(lambda text: text)}


@when(parsers.parse('I submit an "{item:Quoted}" with an ADT file {problem:AdtProblem}',
                    extra_types={**TYPES, **ADT_PROBLEM}))
def submit_bad_adt(ssi: SSI, request_case: RequestCase, uept_target: TargetSession, actor: Actor,
                   tmp_path: Path, item: str, problem: str) -> None:
    mine = actor.persona.organisation or ""
    other = next(o for o in uept_target.resolved.target.signing_keys if o != mine)
    variable = ssi.profile.service_requests.item(item).variable("adt_file")
    request_case.file = data.adt_file(tmp_path, request_case.token, uept_target.signing_key(mine), problem,
                                      other_key=uept_target.signing_key(other), max_bytes=variable.max_bytes)
    request_case.submit(ssi, item, adt_file=str(request_case.file))


@then(parsers.parse('I receive an email saying my request was "{words:Quoted}"', extra_types=TYPES))
def email_received(request_case: RequestCase, uept_target: TargetSession, actor: Actor,
                   uept_evidence: Evidence | None, words: str) -> None:
    mine = request_case.the
    mail = wait_for(uept_target.inbox(actor.key), request_case.since, f"{mine.item} {mine.data.item.name}: {words}",
                    timeout=30, who=actor.user_name)
    keep(uept_evidence, f"email-{mine.item}-{words.replace(' ', '-')}.json", {"subject": mail.subject,
                                                                            "body": mail.body})
    assert mine.item in mail.body, f"the email does not name {mine.item}"
    if request_case.reason and "rejected" in words:
        assert request_case.reason in mail.body, "the rejection email does not give DCC's reason"


@when(parsers.parse("DCC {action:DccFileAction} the ADT file", extra_types=TYPES))
def dcc_acts_on_adt(ssi: SSI, request_case: RequestCase, target_control: TargetControl, action: str) -> None:
    request_case.dcc(ssi, target_control, action, "ADT")


@when("DCC processes the quarantine command action file")
def dcc_processes_actions(ssi: SSI, request_case: RequestCase, target_control: TargetControl) -> None:
    request_case.dcc(ssi, target_control, "process", "quarantine command action")


@then("the request shows DCC's reason for rejecting the file")
def shows_reason(ssi: SSI, request_case: RequestCase) -> None:
    expect(ssi.request_ticket.entries.first).to_contain_text(request_case.reason)


@when("I submit a corrected ADT file in a new request")
def submit_corrected(ssi: SSI, request_case: RequestCase, uept_target: TargetSession, actor: Actor,
                     tmp_path: Path) -> None:
    item = request_case.the.data.item
    key = uept_target.signing_key(actor.persona.organisation or "")
    request_case.file = data.adt_file(tmp_path, request_case.token + "b", key)
    request_case.submit(ssi, item.key, adt_file=str(request_case.file))


@then("the stored request holds the ADT file I signed")
def stored_file(request_case: RequestCase, uept_target: TargetSession, actor: Actor,
                uept_evidence: Evidence | None) -> None:
    mine = request_case.the
    api = uept_target.table_api(actor.key)
    if api is None:
        no_api(uept_evidence, f"the file of {mine.item}")
        return
    files = api.query("sys_attachment", f"table_sys_id={mine.sys_id}", fields="file_name,size_bytes,hash")
    keep(uept_evidence, f"{mine.item}-stored-file.json", files)
    sent = request_case.attached
    want = hashlib.sha256(sent.read_bytes()).hexdigest()
    assert [(f["file_name"], f["hash"]) for f in files] == [(sent.name, want)], \
        f'expected the stored request to hold exactly the file "{sent.name}" (SHA-256 {want}); it holds {files}'


# ---------------------------------------------------------------- quarantined commands: DCC's incident, my file
@given("DCC has raised an incident about quarantined commands from my organisation")
def dcc_raises_quarantine(request_case: RequestCase, target_control: TargetControl, actor: Actor) -> None:
    found = needs_control(target_control, "DCC raising an incident about quarantined commands").quarantine_incident(
        actor.user_name)
    request_case.incident = (found["number"], found["sys_id"])


@when("I open that incident and follow its link to answer it")
def follow_incident_link(ssi: SSI, request_case: RequestCase) -> None:
    number, sys_id = request_case.answering
    ssi.ticket.open(sys_id)
    expect(ssi.ticket.number).to_have_text(number)
    item = next(i for i in ssi.profile.service_requests.items if i.answers_incident)
    ssi.ticket.follow(ssi.ticket.link(f"{ssi.profile.label('service_request.respond')}: {item.name}"))


@when("I submit the quarantine command action file signed by my organisation's key")
def submit_action_file(ssi: SSI, request_case: RequestCase, uept_target: TargetSession, actor: Actor,
                       tmp_path: Path) -> None:
    number, _ = request_case.answering
    item = next(i for i in ssi.profile.service_requests.items if i.answers_incident)
    assert item.answers_incident, "the profile names no catalogue item that answers an incident"
    expect(ssi.catalog_item.field(item, item.answers_incident)).to_have_value(number)
    key = uept_target.signing_key(actor.persona.organisation or "")
    request_case.file = data.action_file(tmp_path, request_case.token, key)
    files = {v.name: str(request_case.file) for v in item.variables if v.type == "attachment"}
    request_case.submit_here(ssi, item.key, **{item.answers_incident: number}, **files)


@then("the incident is resolved with a note naming my request")
def incident_resolved(ssi: SSI, request_case: RequestCase) -> None:
    _, sys_id = request_case.answering
    mine = request_case.the
    ssi.ticket.open(sys_id)
    expect(ssi.ticket.state).to_have_text(ssi.profile.incidents.states[6])
    expect(ssi.ticket.value("close_notes")).to_contain_text(mine.request)
    expect(ssi.ticket.value("close_notes")).to_contain_text(mine.item)


# ---------------------------------------------------------------- My Requests
@when("I search My Requests for my request's number")
def search_my_requests(ssi: SSI, request_case: RequestCase) -> None:
    ssi.my_requests.open()
    ssi.my_requests.search(request_case.the.request)


@then("My Requests lists my request with its summary and delivery status")
def my_requests_lists_it(ssi: SSI, request_case: RequestCase) -> None:
    mine = request_case.the
    expect(ssi.my_requests.rows).to_have_count(1)
    ssi.my_requests.expect_summary(mine.item, mine.data["summary"])
    expect(ssi.my_requests.row(mine.item)).to_contain_text(
        ssi.profile.service_requests.stages[mine.data.item.first_stage])


@when("I open my request from My Requests")
def open_from_my_requests(ssi: SSI, request_case: RequestCase) -> None:
    ssi.my_requests.open_request(request_case.the.item)


# ---------------------------------------------------------------- what each item state lets a requester do
@given(parsers.parse('the "{persona}" has a service request whose item is "{state}"'))
def persona_has_request_in_state(uept_target: TargetSession, target_control: TargetControl,
                                 request_case: RequestCase, persona: str, state: str) -> None:
    request_case.state = uept_target.profile.service_requests.item_state_value(state)
    request_case.mine = request_case.prepare(uept_target, target_control, persona, request_case.state)


@then(parsers.parse("the request offers exactly these updates: {updates:QuotesOrNone}", extra_types=TYPES))
def request_offers_exactly(ssi: SSI, request_case: RequestCase, updates: list[str]) -> None:
    expect(ssi.request_ticket.number).to_have_text(request_case.the.item)
    offered = ssi.request_ticket.offered_updates()
    assert offered == sorted(updates), f"the request offers {offered or 'no updates'}, not {sorted(updates) or 'none'}"


@then(parsers.parse("the Table API takes exactly these updates from me: {updates:QuotesOrNone}", extra_types=TYPES))
def api_takes_exactly(request_case: RequestCase, uept_target: TargetSession, actor: Actor,
                      uept_evidence: Evidence | None, updates: list[str]) -> None:
    api = uept_target.table_api(actor.key)
    if api is None:
        no_api(uept_evidence, "the updates the Table API takes")
        return
    profile, state = uept_target.profile, request_case.state
    by_label = {profile.label("incident.comment"): "comment", profile.label("incident.attach_file"): "attach"}
    allowed = [by_label[u] for u in updates]
    problems = checks.update_problems(api, uept_evidence, request_case.the.sys_id,
                                      profile.service_requests.item_states[state], allowed, request_case.token)
    assert not problems, "; ".join(problems)


@then(parsers.parse("the Table API lets me set the item's state to exactly: {states:QuotesOrNone}", extra_types=TYPES))
def api_sets_item_state_exactly(request_case: RequestCase, uept_target: TargetSession,
                                target_control: TargetControl, actor: Actor, uept_evidence: Evidence | None,
                                states: list[str]) -> None:
    api = uept_target.table_api(actor.key)
    if api is None:
        no_api(uept_evidence, "the item state changes the Table API accepts")
        return
    cfg, raiser, state = uept_target.profile.service_requests, request_case.the.by, request_case.state
    problems = checks.state_change_problems(
        api, uept_evidence, lambda: request_case.prepare(uept_target, target_control, raiser, state).sys_id,
        state, cfg.item_states, [cfg.item_state_value(s) for s in states], lambda s: {"state": str(s)},
        table="sc_req_item")
    assert not problems, "; ".join(problems)
