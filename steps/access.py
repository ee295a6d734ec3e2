"""Access control, cell by cell (features/access_control.feature, Examples generated from the role matrix)."""

from __future__ import annotations

from playwright.sync_api import expect
from pytest_bdd import parsers, then, when

from fixtures import checks
from fixtures.actors import Actor
from pages import SSI


# ---------------------------------------------------------------- the cells
@then(parsers.parse('the menu offers "{function}" and its page opens for me'))
def offered_and_opens(ssi: SSI, function: str) -> None:
    ssi.functions.expect_offered(ssi.profile.role_matrix.component_named(function).key)


@then(parsers.parse('the menu does not offer "{function}" and its address is refused with a readable 403 page'))
def withheld_and_refused(ssi: SSI, function: str) -> None:
    ssi.functions.expect_withheld(ssi.profile.role_matrix.component_named(function).key)


# ---------------------------------------------------------------- my profile
@when("I open my profile")
def open_my_profile(ssi: SSI) -> None:
    ssi.user_profile.open()


@then(parsers.parse('my profile lists the Job Type Role "{role}"'))
def profile_lists_role(ssi: SSI, role: str) -> None:
    expect(ssi.user_profile.roles).to_contain_text(ssi.profile.role_matrix.role(role).name)


@then("my profile says Yes exactly for the functions the role matrix grants my roles")
def profile_matches_matrix(ssi: SSI, actor: Actor) -> None:
    expected = checks.expected_availability(ssi.profile.role_matrix, actor.persona.roles)
    expect(ssi.user_profile.functions).to_be_visible()
    shown = ssi.user_profile.function_availability()
    assert shown == expected, "my profile's Yes/No lines differ from the role matrix: " + "; ".join(
        f"{name}: shown {shown.get(name, 'missing')}, matrix {want}"
        for name, want in expected.items() if shown.get(name) != want
    ) + "".join(f"; {name}: shown but not in the matrix" for name in shown if name not in expected)


# ---------------------------------------------------------------- no Log In
@then("I am refused because my Job Type Roles do not give me access to the SSI")
def refused_no_log_in(ssi: SSI) -> None:
    expect(ssi.login.alert).to_be_visible()
    expect(ssi.login.user_name).to_be_visible()
    expect(ssi.home.signed_in).to_have_count(0)
