"""UEPT theme 1: log in with multi-factor authentication (features/mfa_login.feature)."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect
from pytest_bdd import parsers, then, when

from fixtures import data
from fixtures.actors import Actor
from fixtures.target import needs_control
from pages import SSI
from uept.runtime.control import TargetControl
from uept.runtime.target import TargetSession


@then("I am asked for a verification code")
def asked_for_code(ssi: SSI) -> None:
    expect(ssi.mfa.prompt_heading).to_be_visible()
    expect(ssi.mfa.code).to_be_visible()


@then("the SSI shows I am signed in as myself")
def signed_in_as_myself(ssi: SSI, actor: Actor) -> None:
    ssi.user_profile.open()
    expect(ssi.user_profile.user_id).to_have_text(actor.user_name)


# ---------------------------------------------------------------- first login
@then("I am asked to set up multi-factor authentication")
def asked_to_set_up(ssi: SSI) -> None:
    expect(ssi.mfa.setup_heading).to_be_visible()


@when("I choose to receive codes from an authenticator app")
def choose_authenticator(ssi: SSI) -> None:
    ssi.mfa.choose_method("mfa.method_authenticator")


@when("I choose to receive codes by email")
def choose_email(ssi: SSI) -> None:
    ssi.mfa.choose_method("mfa.method_email")


@when("I add the setup key shown to my authenticator app")
def add_setup_key(ssi: SSI, actor: Actor, uept_target: TargetSession) -> None:
    uept_target.enrol_totp(actor.key, ssi.mfa.read_setup_key(actor.user_name))


@then("I am asked to complete my profile")
def asked_to_complete_profile(ssi: SSI) -> None:
    expect(ssi.complete_profile.heading_).to_be_visible()


@when("I complete my profile with my name, email address and telephone number")
def complete_profile(ssi: SSI, actor: Actor) -> None:
    ssi.complete_profile.complete(**data.my_profile_details(actor.persona.email))


# ---------------------------------------------------------------- refusals
@when(parsers.parse("I log in as {who} with a wrong password"))
def log_in_wrong_password(ssi: SSI, actor: Actor, who: str) -> None:
    user = actor.user_name if who == "myself" else data.unknown_user_name()
    ssi.login.sign_in(user, data.wrong_password())


@then(parsers.parse('I see the login error "{message}"'))
def login_error(ssi: SSI, message: str) -> None:
    expect(ssi.login.alert).to_contain_text(message)
    expect(ssi.login.user_name).to_be_visible()


@then("the page reveals nothing about the account")
def reveals_nothing(ssi: SSI, actor: Actor) -> None:
    # exactly the generic message, the same for a wrong password and an unknown user, and nothing else
    expect(ssi.login.alert).to_have_count(1)
    expect(ssi.login.alert).to_have_text(ssi.profile.label("login.invalid"))
    body = ssi.login.main
    for detail in filter(None, [actor.persona.email, "locked", "does not exist", "unknown", "attempt"]):
        expect(body).not_to_contain_text(detail, ignore_case=True)


@when("I enter a wrong verification code")
def enter_wrong_code(ssi: SSI, actor: Actor) -> None:
    ssi.mfa.submit_code(actor.wrong_code())


@then(parsers.parse('I see the verification error "{message}"'))
def verification_error(ssi: SSI, message: str) -> None:
    expect(ssi.mfa.alert).to_contain_text(message)
    expect(ssi.mfa.code).to_be_visible()


@when("I enter a code my authenticator app showed two minutes ago")
def enter_expired_code(ssi: SSI, actor: Actor) -> None:
    ssi.mfa.submit_code(actor.otp.expired_code(steps_ago=4))


@when(parsers.parse("I enter the code my authenticator app showed {steps:d} time steps ago"))
def enter_code_steps_ago(ssi: SSI, actor: Actor, steps: int) -> None:
    """A code from that many time steps (the profile's mfa.totp.interval, 30 s) before now: within the
    profile's valid_window it is still accepted, beyond it refused."""
    ssi.mfa.submit_code(actor.otp.expired_code(steps_ago=steps))


@when("I enter the oldest code the SSI's time-step tolerance accepts")
def enter_oldest_accepted_code(ssi: SSI, actor: Actor) -> None:
    """The code of `valid_window` steps ago (mfa.totp in the profile), typed as a careful person would: never a code
    already used for the account, and with 20 s of the current step left, so that it is still inside the window
    when a later step types it again (UEPT-LOGIN-21)."""
    ssi.mfa.submit_code(actor.otp.past_code(steps_ago=ssi.profile.mfa.totp.valid_window, keep=20))


@when("I enter a code one time step older than the SSI's tolerance accepts")
def enter_code_beyond_tolerance(ssi: SSI, actor: Actor) -> None:
    ssi.mfa.submit_code(actor.otp.expired_code(steps_ago=ssi.profile.mfa.totp.valid_window + 1))


@when("the emailed code is older than its validity period")
def email_code_expires(target_control: TargetControl, actor: Actor, uept_target: TargetSession) -> None:
    control = needs_control(target_control, "letting an emailed code expire")
    control.age("email_code", actor.user_name, uept_target.profile.mfa.email_code.validity_seconds + 1)


@when("the emailed code is a little younger than its validity period")
def email_code_nearly_expires(target_control: TargetControl, actor: Actor, uept_target: TargetSession) -> None:
    control = needs_control(target_control, "letting an emailed code age")
    control.age("email_code", actor.user_name, data.just_inside(uept_target.profile.mfa.email_code.validity_seconds))


@when("the emailed code's validity runs out on the SSI's own clock")
def email_code_expires_real_clock(uept_target: TargetSession) -> None:
    uept_target.clock.wait_past(uept_target.profile.mfa.email_code.validity_seconds, "the emailed code's validity")


@when("I enter the same code again")
def replay_code(ssi: SSI, actor: Actor) -> None:
    ssi.mfa.submit_code(actor.otp.last_code())


@when("I log in with a wrong password until the lockout threshold is reached")
def fail_until_locked(ssi: SSI, actor: Actor, uept_target: TargetSession) -> None:
    threshold = uept_target.profile.session.lockout_threshold
    for attempt in range(1, threshold + 1):
        ssi.login.sign_in(actor.user_name, data.wrong_password())
        if attempt < threshold:  # the account is not locked before the threshold
            expect(ssi.login.alert).to_have_text(ssi.profile.label("login.invalid"))


@when("I log in with a wrong password one time fewer than the lockout threshold")
def fail_short_of_lockout(ssi: SSI, actor: Actor, uept_target: TargetSession) -> None:
    for _ in range(uept_target.profile.session.lockout_threshold - 1):
        ssi.login.sign_in(actor.user_name, data.wrong_password())


# ---------------------------------------------------------------- session
@when("my session stays idle for longer than the inactivity timeout")
def session_idles(ssi: SSI, target_control: TargetControl, actor: Actor, uept_target: TargetSession) -> None:
    control = needs_control(target_control, "an idle session")
    ssi.home.drawn()  # idle: the page is drawn, no request of it still on its way to be answered after the time
    control.age("session", actor.user_name, uept_target.profile.session.idle_timeout_seconds + 1)


@when("my session stays idle for a little less than the inactivity timeout")
def session_nearly_idles(target_control: TargetControl, actor: Actor, uept_target: TargetSession) -> None:
    control = needs_control(target_control, "an idle session")
    control.age("session", actor.user_name, data.just_inside(uept_target.profile.session.idle_timeout_seconds))


@when("my session stays idle, on the SSI's own clock, for longer than the inactivity timeout")
def session_idles_real_clock(uept_target: TargetSession) -> None:
    uept_target.clock.wait_past(uept_target.profile.session.idle_timeout_seconds, "the inactivity timeout")


@then("I am asked to log in again because my session expired")
def session_expired(ssi: SSI) -> None:
    expect(ssi.login.alert).to_contain_text(ssi.profile.label("login.expired"))
    expect(ssi.login.user_name).to_be_visible()


@then("I see that I have been logged out")
def logged_out(ssi: SSI) -> None:
    expect(ssi.login.notice(ssi.profile.label("home.signed_out"))).to_be_visible()
    expect(ssi.home.signed_in).to_have_count(0)


@when("I open my profile page without being signed in")
def open_profile_anonymously(ssi: SSI) -> None:
    ssi.user_profile.open()


@then("my profile page is shown")
def profile_shown(ssi: SSI, actor: Actor, page: Page) -> None:
    expect(page).to_have_url(re.compile(r"[?&]id=user_profile"))
    expect(ssi.user_profile.user_id).to_have_text(actor.user_name)


# ---------------------------------------------------------------- Microsoft Entra ID
@when("I choose to sign in with Microsoft Entra ID")
def choose_entra(ssi: SSI, actor: Actor) -> None:
    assert actor.persona.identity == "entra", f'persona "{actor.key}" does not sign in through Microsoft Entra ID'
    ssi.login.use_external_login(actor.user_name)


@when("I sign in to Microsoft Entra ID with my email address and password")
def entra_email_and_password(ssi: SSI, actor: Actor) -> None:
    ssi.entra.enter_email(actor.user_name)
    ssi.entra.enter_password(actor.password)


@then("Microsoft Entra ID asks for the code from my authenticator app")
def entra_asks_for_code(ssi: SSI) -> None:
    expect(ssi.entra.code_heading).to_be_visible()
    expect(ssi.entra.code).to_be_visible()


@when("I enter the code from my authenticator app at Microsoft Entra ID")
def entra_code(ssi: SSI, actor: Actor) -> None:
    ssi.entra.enter_code(actor.otp.code())


@when("I enter a wrong verification code at Microsoft Entra ID")
def entra_wrong_code(ssi: SSI, actor: Actor) -> None:
    ssi.entra.enter_code(actor.wrong_code())


@when("I choose not to stay signed in")
def entra_not_staying(ssi: SSI) -> None:
    expect(ssi.entra.stay_signed_in_heading).to_be_visible()
    ssi.entra.answer_stay_signed_in(False)


@then(parsers.parse('Microsoft Entra ID refuses the code with "{message}"'))
def entra_refuses_code(ssi: SSI, message: str) -> None:
    expect(ssi.entra.alert).to_contain_text(message)
    expect(ssi.entra.code).to_be_visible()
