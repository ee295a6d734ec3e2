"""Steps shared by every feature: who I am, signing in and out, the login page."""

from __future__ import annotations

from playwright.sync_api import BrowserContext, expect
from pytest_bdd import given, parsers, then, when

from fixtures.actors import Actor, SignedInSessions
from pages import SSI, journeys
from uept.runtime.target import TargetSession


@given(parsers.parse('I am the "{persona}"'), target_fixture="actor")
def i_am(persona: str, uept_target: TargetSession) -> Actor:
    return Actor(persona, uept_target)


@given("I am signed in")
def i_am_signed_in(ssi: SSI, actor: Actor) -> None:
    """A real login in this scenario's own browser: password and verification code."""
    journeys.sign_in(ssi, actor.user_name, actor.password, actor.otp, actor.persona.identity)


@given(parsers.parse('I am signed in as the "{persona}"'), target_fixture="actor")
def signed_in_as(persona: str, uept_target: TargetSession, signed_in_sessions: SignedInSessions,
                 context: BrowserContext, ssi: SSI) -> Actor:
    """Reuse this worker's signed-in session of the persona (one MFA login per persona per worker).

    A browser shared by several scenarios of one persona (the access-control cells) that still
    holds its session and shows a portal page signed in, as the previous scenario left it, is
    not sent to the home page again: the menu and the sign-out button are on every portal page."""
    if not signed_in_sessions.apply(context, persona) and ssi.home.signed_in.is_visible():
        return Actor(persona, uept_target)
    ssi.home.open()
    if not ssi.home.signed_in.is_visible():  # the reused session ended (idle timeout): log in again
        signed_in_sessions.apply(context, persona, fresh=True)
        ssi.home.open()
    expect(ssi.home.signed_in).to_be_visible()
    return Actor(persona, uept_target)


@when("I open the SSI login page")
def open_login(ssi: SSI) -> None:
    ssi.login.open()


@when("I open the portal home page")
def open_home(ssi: SSI) -> None:
    ssi.home.open()


@when("I log in with my user name and password")
def log_in(ssi: SSI, actor: Actor) -> None:
    if actor.persona.otp == "email":
        actor.otp.mark()  # only codes sent after this moment count
    ssi.login.sign_in(actor.user_name, actor.password)


@when("I enter the code from my authenticator app")
def enter_authenticator_code(ssi: SSI, actor: Actor) -> None:
    assert actor.persona.otp in ("totp", "prompt"), f'persona "{actor.key}" does not use from my authenticator app'
    ssi.mfa.submit_code(actor.otp.code())


@when("I enter the code emailed to me")
def enter_emailed_code(ssi: SSI, actor: Actor) -> None:
    assert actor.persona.otp in ("email", "prompt"), f'persona "{actor.key}" does not use emailed to me'
    ssi.mfa.submit_code(actor.otp.code())


@then("I see the login confirmation")
def see_login_confirmation(ssi: SSI) -> None:
    expect(ssi.home.login_confirmation).to_be_visible()


@when("I sign out")
def sign_out(ssi: SSI) -> None:
    ssi.home.sign_out()


@then("I am asked to log in")
def asked_to_log_in(ssi: SSI) -> None:
    expect(ssi.login.user_name).to_be_visible()
    expect(ssi.login.password).to_be_visible()
    expect(ssi.home.signed_in).to_have_count(0)


@then("I am not signed in")
def not_signed_in(ssi: SSI) -> None:
    expect(ssi.home.signed_in).to_have_count(0)
    # and the server agrees: the home page answers with a redirect, not the page
    home = ssi.home.fetch_home()
    assert home.status in (302, 303), f"the portal home answered {home.status} instead of asking to log in"
