"""UEPT theme 3: managing user credentials (features/credentials.feature)."""

from __future__ import annotations

import re

from playwright.sync_api import expect
from pytest_bdd import given, parsers, then, when

from fixtures import checks, data
from fixtures.actors import Actor
from fixtures.state import Account, People
from pages import SSI, journeys
from steps import TYPES
from uept.runtime.secrets import Secret
from uept.runtime.target import TargetSession


# ---------------------------------------------------------------- creating accounts
@when(parsers.parse("I create a user with the Job Type Role {roles:Quotes}", extra_types=TYPES))
@when(parsers.parse("I create a user with the Job Type Roles {roles:Quotes}", extra_types=TYPES))
def create_user(ssi: SSI, people: People, actor: Actor, roles: list[str]) -> None:
    people.create_account(ssi, actor, roles)


@when(parsers.parse('I create a user with the Job Type Role "{role}" whose names contain HTML and script'))
def create_user_with_markup(ssi: SSI, people: People, actor: Actor, role: str) -> None:
    people.create_account(ssi, actor, [role], data.account_with_markup(ssi.profile))


@then("the user list and the new user's account show their names exactly as I typed them")
def names_shown_as_typed(ssi: SSI, people: People) -> None:
    acc = people.account
    people.as_admin()
    ssi.user_list.open()
    ssi.user_list.find(acc.user_name)
    expect(ssi.user_list.cell(acc.user_name, "name")).to_have_text(f"{acc.first_name} {acc.last_name}")
    people.open_account(ssi)
    expect(ssi.user_form.field("first name")).to_have_value(acc.first_name)
    expect(ssi.user_form.field("last name")).to_have_value(acc.last_name)


@when(parsers.parse('I create a user with the Job Type Role "{role}" whose every field is as long as allowed'))
def create_user_at_limits(ssi: SSI, people: People, actor: Actor, role: str) -> None:
    people.create_account(ssi, actor, [role], data.account_at_limits(ssi.profile))


@then("the user list and the new user's account show their details whole")
def details_shown_whole(ssi: SSI, people: People) -> None:
    names_shown_as_typed(ssi, people)  # the user list and the account's names, ending on the account's page
    for name, value in (("user name", people.account.user_name), ("email", people.account.email)):
        expect(ssi.user_form.field(name)).to_have_value(value)


@then("the new user's profile shows their name exactly as I typed it")
def profile_name_as_typed(ssi: SSI, people: People) -> None:
    acc = people.as_account()
    ssi.user_profile.open()
    expect(ssi.user_profile.name).to_have_text(f"{acc.first_name} {acc.last_name}")


@given(parsers.parse('I have created a user with the Job Type Role "{role}"'))
def created_user(ssi: SSI, people: People, actor: Actor, role: str) -> None:
    people.create_account(ssi, actor, [role])


@given(parsers.parse('I have created a user with the Job Type Role "{role}" who has completed their first login'))
def created_user_logged_in(ssi: SSI, people: People, actor: Actor, role: str) -> None:
    people.create_account(ssi, actor, [role])
    people.first_login(ssi)


@then(parsers.parse("I am shown the {who:Who} user's one-time password, once", extra_types=TYPES))
def shown_password_once(ssi: SSI, people: People) -> None:
    acc = people.account
    expect(ssi.user_form.one_time_password).to_be_visible()
    assert acc.password is not None, "the one-time password was not read from the page when it was shown"
    ssi.user_form.back_to_account(acc.user_name)  # the password is not shown again
    expect(ssi.user_form.field("user name")).to_have_value(acc.user_name)
    expect(ssi.user_form.one_time_password).to_have_count(0)


# a regex: the optional ", never logged in" binds `never`, which decides whether the last login is checked
@then(parsers.re(r'the user list shows the (?:new|migrated) user as "(?P<status>[^"]+)"(?P<never>, never logged in)?'))
def list_shows_status(ssi: SSI, people: People, status: str, never: str | None) -> None:
    people.as_admin()
    ssi.user_list.find(people.account.user_name)
    expect(ssi.user_list.cell(people.account.user_name, "account status")).to_have_text(status)
    if never:
        expect(ssi.user_list.cell(people.account.user_name, "last login")).to_have_text(
            ssi.profile.label("user_admin.never"))


@then(parsers.parse("the user list shows when the {who:Who} user last logged in", extra_types=TYPES))
def list_shows_last_login(ssi: SSI, people: People) -> None:
    people.as_admin()
    ssi.user_list.find(people.account.user_name)
    expect(ssi.user_list.cell(people.account.user_name, "last login")).to_have_text(
        re.compile(r"\d{4}-\d{2}-\d{2}"))


# ---------------------------------------------------------------- the account's own logins
@when(parsers.parse("the {who:Who} user logs in with the one-time password", extra_types=TYPES))
def logs_in_with_otp(ssi: SSI, people: People) -> None:
    acc = people.as_account()
    journeys.log_in_with_password(ssi, acc.user_name, acc.password)


@when(parsers.parse("the {who:Who} user logs in with their password", extra_types=TYPES))
def logs_in_with_password(ssi: SSI, people: People) -> None:
    logs_in_with_otp(ssi, people)


@when(parsers.parse("the {who:Who} user logs in with their old password", extra_types=TYPES))
def logs_in_with_old_password(ssi: SSI, people: People) -> None:
    acc = people.as_account()
    assert acc.old_password is not None, "the account has no old password"
    journeys.log_in_with_password(ssi, acc.user_name, acc.old_password)


@when(parsers.parse("the {who:Who} user logs in with their password and an authenticator code", extra_types=TYPES))
@when(parsers.parse("the {who:Who} user logs in with the one-time password and an authenticator code",
                    extra_types=TYPES))
def logs_in_with_code(ssi: SSI, people: People) -> None:
    acc = people.as_account()
    journeys.log_in_with_code(ssi, acc.user_name, acc.password, acc.otp)


@when(parsers.parse("the {who:Who} user logs in again", extra_types=TYPES))
def logs_in_again(ssi: SSI, people: People) -> None:
    acc = people.as_account()
    journeys.sign_in_again(ssi, acc.user_name, acc.password, acc.otp)
    people.keep_session()


@then(parsers.parse("the {who:Who} user is asked to set up multi-factor authentication", extra_types=TYPES))
def asked_to_set_up(ssi: SSI) -> None:
    expect(ssi.mfa.setup_heading).to_be_visible()


@when(parsers.parse("the {who:Who} user sets up an authenticator app with the setup key shown", extra_types=TYPES))
def sets_up_authenticator(ssi: SSI, people: People) -> None:
    journeys.set_up_authenticator(ssi, people.account.user_name, people.enrol)


@then(parsers.parse("the {who:Who} user is asked to change their password", extra_types=TYPES))
def asked_to_change_password(ssi: SSI) -> None:
    expect(ssi.password_change.heading_).to_be_visible()


@when(parsers.parse("the {who:Who} user changes their password", extra_types=TYPES))
def changes_password(ssi: SSI, people: People) -> None:
    new = data.new_password()
    journeys.change_password(ssi, new)
    people.account.new_password_set(new)


@when(parsers.parse('the {who:Who} user tries to change their password to "{password:Quoted}"', extra_types=TYPES))
def tries_password(ssi: SSI, password: str) -> None:
    ssi.password_change.change(Secret(password, "a password the scenario types"))


@when(parsers.parse("the {who:Who} user tries to keep their one-time password as their password", extra_types=TYPES))
def tries_one_time_password(ssi: SSI, people: People) -> None:
    assert people.account and people.account.password, \
        "this step needs an account created or reinstated earlier in the scenario, with its one-time password"
    ssi.password_change.change(people.account.password)


@when(parsers.parse("the {who:Who} user confirms a new password with a different one", extra_types=TYPES))
def tries_mismatch(ssi: SSI) -> None:
    ssi.password_change.change(data.new_password(), confirm=data.new_password())


@then(parsers.parse('the password change is refused with "{message}"'))
def password_refused(ssi: SSI, message: str) -> None:
    expect(ssi.password_change.heading_).to_be_visible()
    expect(ssi.password_change.alert.filter(has_text=message)).to_be_visible()


@then(parsers.parse("the {who:Who} user is asked to complete their profile", extra_types=TYPES))
def asked_to_complete_profile(ssi: SSI) -> None:
    expect(ssi.complete_profile.heading_).to_be_visible()


@when(parsers.parse("the {who:Who} user completes their profile with a telephone number", extra_types=TYPES))
def completes_profile(ssi: SSI, people: People) -> None:
    phone = people.account.phone = data.drama_phone()
    ssi.complete_profile.complete(phone=phone)


@then(parsers.parse("the {who:Who} user sees the login confirmation", extra_types=TYPES))
def sees_confirmation(ssi: SSI, people: People) -> None:
    expect(ssi.home.login_confirmation).to_be_visible()
    people.keep_session()


@then(parsers.parse('the {who:Who} user sees the login error "{message}"', extra_types=TYPES))
def sees_login_error(ssi: SSI, message: str) -> None:
    expect(ssi.login.alert).to_contain_text(message)
    expect(ssi.login.user_name).to_be_visible()
    expect(ssi.home.signed_in).to_have_count(0)


@when(parsers.parse("the {who:Who} user mistypes their password until their account is locked", extra_types=TYPES))
def mistypes_until_locked(ssi: SSI, people: People, uept_target: TargetSession) -> None:
    acc = people.as_account()
    ssi.login.open()
    threshold = uept_target.profile.session.lockout_threshold
    for attempt in range(1, threshold + 1):
        ssi.login.sign_in(acc.user_name, data.mistyped_password())
        if attempt < threshold:  # not locked before the threshold
            expect(ssi.login.alert).to_have_text(ssi.profile.label("login.invalid"))


@then(parsers.parse("the {who:Who} user's session has ended", extra_types=TYPES))
def session_ended(ssi: SSI, people: People) -> None:
    assert people.account.cookies, "the account never had a session to end"
    people.as_account()
    ssi.home.open()
    expect(ssi.login.user_name).to_be_visible()
    expect(ssi.home.signed_in).to_have_count(0)


# ---------------------------------------------------------------- the account's profile and functions
@then(parsers.parse("the {who:Who} user's profile lists the Job Type Role {roles:Quotes}", extra_types=TYPES))
@then(parsers.parse("the {who:Who} user's profile lists the Job Type Roles {roles:Quotes}", extra_types=TYPES))
def profile_lists_roles(ssi: SSI, people: People, roles: list[str]) -> None:
    people.as_account()
    ssi.user_profile.open()
    expect(ssi.user_profile.user_id).to_have_text(people.account.user_name)
    for role in roles:
        expect(ssi.user_profile.roles).to_contain_text(ssi.profile.role_matrix.role(role).name)


@then(parsers.parse("the {who:Who} user's profile says Yes exactly for the functions of those roles together",
                     extra_types=TYPES))
def profile_is_union(ssi: SSI, people: People) -> None:
    people.as_account()
    ssi.user_profile.open()
    matrix = ssi.profile.role_matrix
    expected = checks.expected_availability(matrix, [matrix.role(r).abbr for r in people.account.roles])
    shown = ssi.user_profile.function_availability()
    assert shown == expected, "Yes/No lines differ from the union of the roles' rows: " + "; ".join(
        f"{n}: shown {shown.get(n, 'missing')}, expected {v}" for n, v in expected.items() if shown.get(n) != v)


@then(parsers.parse('the {who:Who} user is not offered "{function}" and is refused it', extra_types=TYPES))
def account_refused(ssi: SSI, people: People, function: str) -> None:
    people.as_account()
    ssi.home.open()
    ssi.functions.expect_withheld(ssi.profile.role_matrix.component_named(function).key)


@then(parsers.parse('the {who:Who} user is offered "{function}" and can open it', extra_types=TYPES))
def account_offered(ssi: SSI, people: People, function: str) -> None:
    people.as_account()
    ssi.home.open()
    ssi.functions.expect_offered(ssi.profile.role_matrix.component_named(function).key)


# ---------------------------------------------------------------- the administrator's actions
@when("I open the new user's account")
def open_new_users_account(ssi: SSI, people: People) -> None:
    people.open_account(ssi)


@then("its user name and account status cannot be edited")
def read_only_fields(ssi: SSI, people: People) -> None:
    form = ssi.user_form
    expect(form.field("user name")).to_have_value(people.account.user_name)
    expect(form.field("user name")).not_to_be_editable()
    expect(form.field("account status")).to_have_value(ssi.profile.label("user_admin.active"))
    expect(form.field("account status")).not_to_be_editable()
    expect(form.field("first name")).to_be_editable()


@when(parsers.parse('I add the Job Type Role "{role}" to the {who:Who} user', extra_types=TYPES))
@when(parsers.parse('I give the {who:Who} user the Job Type Role "{role}"', extra_types=TYPES))
def add_role(ssi: SSI, people: People, role: str) -> None:
    people.open_account(ssi).change_role(role, True, people.account.user_name)
    people.account.role_set(role, held=True)


@when(parsers.parse('I remove the Job Type Role "{role}" from the {who:Who} user', extra_types=TYPES))
def remove_role(ssi: SSI, people: People, role: str) -> None:
    people.open_account(ssi).change_role(role, False, people.account.user_name)
    people.account.role_set(role, held=False)


@when(parsers.parse("I unlock the {who:Who} user's account", extra_types=TYPES))
def unlock(ssi: SSI, people: People) -> None:
    people.open_account(ssi).unlock()
    expect(ssi.user_form.notice(people.account.user_name)).to_be_visible()


@when(parsers.parse("I reset the {who:Who} user's multi-factor authentication", extra_types=TYPES))
def reset_mfa(ssi: SSI, people: People) -> None:
    people.open_account(ssi).reset_mfa()
    expect(ssi.user_form.notice(people.account.user_name)).to_be_visible()


@when(parsers.parse("I reset the {who:Who} user's password", extra_types=TYPES))
def reset_password(ssi: SSI, people: People) -> None:
    form = people.open_account(ssi)
    form.reset_password()
    expect(form.one_time_password).to_be_visible()
    people.account.new_password_set(form.read_one_time_password(people.account.user_name))


@when(parsers.parse("I deactivate the {who:Who} user, confirming when asked", extra_types=TYPES))
def deactivate(ssi: SSI, people: People) -> None:
    people.open_account(ssi).deactivate()
    expect(ssi.user_form.notice(people.account.user_name)).to_be_visible()


@when(parsers.parse("I reinstate the {who:Who} user", extra_types=TYPES))
@when(parsers.parse("I reinstate the {who:Who} user before giving them a Job Type Role", extra_types=TYPES))
def reinstate(ssi: SSI, people: People) -> None:
    form = people.open_account(ssi)
    form.reinstate()
    acc = people.account
    if not acc.logged_in:  # an account that never logged in gets a one-time password
        expect(form.one_time_password).to_be_visible()
        acc.password = form.read_one_time_password(acc.user_name)
    else:
        expect(form.notice(acc.user_name)).to_be_visible()


@when(parsers.parse("I try to reinstate the {who:Who} user", extra_types=TYPES))
@when(parsers.parse("I try to reinstate the {who:Who} user before giving them a Job Type Role", extra_types=TYPES))
def try_reinstate(ssi: SSI, people: People) -> None:
    people.open_account(ssi).reinstate()
    expect(ssi.user_form.error_summary).to_be_visible()


@when("I look for an inactive account of my organisation that has never logged in")
def find_migrated(ssi: SSI, people: People, actor: Actor) -> None:
    people.as_admin(actor)
    ssi.user_list.open()
    ssi.user_list.search("", status=ssi.profile.label("user_admin.inactive"))
    never = ssi.profile.label("user_admin.never")
    found = [r for r in ssi.user_list.rows() if r[ssi.user_list.column_label("last login")] == never]
    assert found, ("no inactive account that never logged in is left in the organisation "
                   "(the reference SSI seeds eight, migrated from the legacy DSMS; restart it for more)")
    row = found[0]
    first, _, last = row[ssi.user_list.column_label("name")].partition(" ")
    people.account = Account(user_name=row[ssi.user_list.column_label("user name")], first_name=first,
                             last_name=last)


# ---------------------------------------------------------------- refused input
@when(parsers.parse('I try to create a user with the user name of the "{holder}" written {how}'))
def try_duplicate(ssi: SSI, people: People, actor: Actor, uept_target: TargetSession, holder: str,
                  how: str) -> None:
    attempt = people.unique_details(["Service Management User"])
    taken = uept_target.persona(holder).username
    attempt.user_name = taken.upper() if how == "in upper case" else taken
    people.try_create_account(ssi, actor, attempt)
    expect(ssi.user_form.error_summary).to_be_visible()
    expect(ssi.user_form.one_time_password).to_have_count(0)


# a regex: the negative lookahead keeps "... with the user name of ..." for try_duplicate (parse has none)
@when(parsers.re(r"I try to create a user with (?P<problem>(?!the user name of).+)"))
def try_invalid(ssi: SSI, people: People, actor: Actor, problem: str) -> None:
    attempt = people.unique_details(["Service Management User"])
    for name, value in data.problem_changes(attempt, ssi.profile, problem).items():
        setattr(attempt, name, value)
    people.try_create_account(ssi, actor, attempt)
    expect(ssi.user_form.error_summary).to_be_visible()
    expect(ssi.user_form.one_time_password).to_have_count(0)


@then(parsers.parse('the "{field}" field says "{message}"'))
def field_says(ssi: SSI, field: str, message: str) -> None:
    target = ssi.user_form.field(field)
    expect(ssi.user_form.error_summary).to_be_visible()
    expect(target).to_have_attribute("aria-invalid", "true")
    expect(target).to_have_accessible_description(re.compile(re.escape(message), re.I))


@then("nothing was saved from that attempt")
def nothing_saved(ssi: SSI, people: People) -> None:
    people.as_admin()
    ssi.user_list.find(people.attempt.token)  # the random part of its user name and email
    expect(ssi.user_list.table).to_be_visible()
    expect(ssi.user_list.user_rows()).to_have_count(0)


@when(parsers.parse('''I try to change the new user's email address to "{value:MaybeEmpty}" '''
                      "and take away all their Job Type Roles", extra_types=TYPES))
def try_invalid_change(ssi: SSI, people: People, value: str) -> None:
    form = people.open_account(ssi)
    form.fill({"email": value}, roles=[])
    form.submit_update()
    expect(form.error_summary).to_be_visible()


@then(parsers.parse('''it still has the new user's email address and only the Job Type Role "{role}"'''))
def account_unchanged(ssi: SSI, people: People, role: str) -> None:
    form = ssi.user_form
    expect(form.field("email")).to_have_value(people.account.email)
    expect(form.holds_role(role)).to_be_visible()
    expect(form.checked_roles).to_have_count(1)


# ---------------------------------------------------------------- the user list
@when("I open the user list")
def open_list(ssi: SSI, people: People, actor: Actor) -> None:
    people.as_admin(actor)
    ssi.user_list.open()


@then("it shows the columns user name, name, account status and last login")
def list_columns(ssi: SSI) -> None:
    for column in ("user name", "name", "account status", "last login"):
        expect(ssi.user_list.column_header(column)).to_be_visible()


@then("it shows one page of users, with a link to the next page")
def list_one_page(ssi: SSI) -> None:
    expect(ssi.user_list.user_rows()).to_have_count(ssi.profile.user_admin.page_size)
    expect(ssi.user_list.next_page_link).to_be_visible()


@when(parsers.parse('I sort the user list by "{column}", {direction:Direction}', extra_types=TYPES))
def sort_list(ssi: SSI, column: str, direction: str) -> None:
    ssi.user_list.sort_by(column, direction)


@then(parsers.parse('the user list is in {direction:Direction} order of "{column}"', extra_types=TYPES))
def list_sorted(ssi: SSI, people: People, direction: str, column: str) -> None:
    expect(ssi.user_list.column_header(column)).to_have_attribute("aria-sort", direction)
    never = ssi.profile.label("user_admin.never")
    keys = [checks.user_list_sort_key(never, column, v) for v in ssi.user_list.column_values(column)]
    assert len(keys) > 1, "fewer than two users shown: the order cannot be checked"
    assert keys == sorted(keys, reverse=direction == "descending"), f"not in {direction} order: {keys}"
    people.sorted_keys = keys


@when("I go to the next page of the user list")
def next_page(ssi: SSI) -> None:
    ssi.user_list.next_page()


@then(parsers.parse('that page carries on in descending order of "{column}"'))
def next_page_sorted(ssi: SSI, people: People, column: str) -> None:
    before = people.sorted_keys
    list_sorted(ssi, people, "descending", column)
    after = people.sorted_keys
    assert after[0] <= before[-1], f"page 2 starts with {after[0]!r}, after page 1 ended with {before[-1]!r}"


# ---------------------------------------------------------------- who may administer
@then("the menu does not offer user administration")
def no_user_admin_in_menu(ssi: SSI) -> None:
    ssi.functions.expect_not_in_menu("user_admin")


@then("my profile offers no way to manage users")
def profile_no_manage_link(ssi: SSI) -> None:
    ssi.user_profile.open()
    expect(ssi.user_profile.functions).to_be_visible()
    expect(ssi.user_profile.manage_users_link).to_have_count(0)


@when("I open the user administration page by its address")
def open_user_admin(ssi: SSI, people: People) -> None:
    people.response_status = ssi.functions.visit("user_admin")


@then("I am refused with a readable 403 page")
def refused_403(ssi: SSI, people: People) -> None:
    ssi.functions.expect_refused_page(people.response_status, ssi.functions.path("user_admin"))


@then("a direct request to create a user is refused with 403")
def direct_create_refused(ssi: SSI, people: People) -> None:
    attempt = people.unique_details(["Organisational Administrator"])
    r = ssi.user_form.post_form(ssi.user_form.new_account_path, action="create", user_name=attempt.user_name,
                                first_name=attempt.first_name, last_name=attempt.last_name, email=attempt.email,
                                roles="OA")
    assert r.status == 403, f"a direct request to create a user answered HTTP {r.status}, not 403"
    assert ssi.profile.label("errors.forbidden") in r.text(), "the 403 was not the access-control refusal"


@given(parsers.parse('I note the address of the account of the "{persona}"'))
def note_address(ssi: SSI, people: People, actor: Actor, uept_target: TargetSession,
                 persona: str) -> None:
    people.as_admin(actor)
    user = uept_target.persona(persona).username
    ssi.user_list.open_user(user)
    expect(ssi.user_form.field("user name")).to_have_value(user)
    people.noted_url = ssi.user_form.url
    people.noted_user = user


@when(parsers.parse('I search the user list for the "{persona}"'))
def search_for_persona(ssi: SSI, people: People, actor: Actor, uept_target: TargetSession, persona: str) -> None:
    people.as_admin(actor)
    ssi.user_list.find(uept_target.persona(persona).username)


@then("no account is listed")
def none_listed(ssi: SSI) -> None:
    expect(ssi.user_list.table).to_be_visible()
    expect(ssi.user_list.user_rows()).to_have_count(0)


@when("I open the noted account address directly")
def open_noted(ssi: SSI, people: People) -> None:
    people.response_status = ssi.user_form.visit_account(people.noted_url)


@then("I am told the record is not valid or I am not authorised")
def told_not_valid(ssi: SSI, people: People) -> None:
    status = people.response_status
    assert status in (403, 404), f"the other organisation's account answered HTTP {status}"
    expect(ssi.functions.not_valid_message.or_(ssi.functions.access_denied)).to_be_visible()
    expect(ssi.functions.mentions(people.noted_user)).to_have_count(0)


@then("a direct request to change that account is refused")
def direct_change_refused(ssi: SSI, people: People) -> None:
    r = ssi.user_form.post_form(people.noted_url, action="update", first_name="Changed", last_name="Byother",
                                email="changed@example.com", user_ids="x", roles="SM")
    assert r.status in (403, 404), f"a direct change of another organisation's account answered HTTP {r.status}"
    assert ssi.profile.label("errors.not_authorized") in r.text() or \
        ssi.profile.label("errors.forbidden") in r.text(), "the refusal was not about access to the record"
