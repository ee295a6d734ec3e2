"""Whole user journeys built from the page objects: sign in, create an account, first login, change password.

Each journey is what a person does from start to end, with the waits that prove each page was
reached; the values typed are given by the caller (steps and fixtures), nothing is remembered here.
"""

from __future__ import annotations

from collections.abc import Callable

from playwright.sync_api import expect

from ssi.profile import OmsItem
from uept.runtime.otp import OtpSource
from uept.runtime.secrets import Secret

from .incident import IncidentData
from .ssi import SSI


def sign_in(ssi: SSI, user_name: str, password: Secret, otp: OtpSource, identity: str = "local") -> None:
    """The whole ceremony: login page, password, verification code, portal home. With identity
    'entra': "Use external login", then Microsoft Entra ID's sign-in, back to the portal home."""
    ssi.login.open()
    if identity == "entra":
        ssi.login.use_external_login(user_name)
        ssi.entra.enter_email(user_name)
        ssi.entra.enter_password(password)
        expect(ssi.entra.code).to_be_visible()
        ssi.entra.enter_code(otp.code())
        ssi.entra.answer_stay_signed_in(False)
    else:
        otp.mark()
        ssi.login.sign_in(user_name, password)
        expect(ssi.mfa.code).to_be_visible()
        ssi.mfa.submit_code(otp.code())
    expect(ssi.home.signed_in).to_be_visible()
    ssi.home.drawn()  # the portal home's widgets are there: nothing of the page is still on its way


def sign_in_again(ssi: SSI, user_name: str, password: Secret, otp: OtpSource) -> None:
    """Sign out if signed in, then sign in with password and code."""
    ssi.home.open()
    if ssi.home.signed_in.is_visible():
        ssi.home.sign_out()
    sign_in(ssi, user_name, password, otp)


def create_account(ssi: SSI, details: dict[str, str], roles: list[str]) -> Secret:
    """As an administrator: create an account with these details (by field name) and Job Type Roles, and
    the first User ID offered; returns the one-time password shown once."""
    ssi.user_list.open()
    ssi.user_list.start_new_user()
    form = ssi.user_form
    form.fill(details, roles=roles, user_ids=form.available_user_ids()[:1])
    form.submit_create()
    expect(form.one_time_password).to_be_visible()
    return form.read_one_time_password(details["user name"])


def try_create_account(ssi: SSI, details: dict[str, str], roles: list[str], user_ids: list[str] | None) -> None:
    """As an administrator: the new account form filled in and submitted (user_ids None: the first one offered);
    returns on the page the SSI answers with."""
    form = ssi.user_form
    form.open_new()
    form.fill(details, roles=roles, user_ids=form.available_user_ids()[:1] if user_ids is None else user_ids)
    form.submit_create()


def raise_incident(ssi: SSI, typed: IncidentData) -> tuple[str, str]:
    """Fill in and submit the Create Incident form; (number, sys_id) of the incident raised."""
    ssi.create_incident.raise_incident(typed)
    return ssi.ticket.expect_new_ticket()


def place_confirmed_order(ssi: SSI, item: OmsItem, quantity: int, region: str, location: str,
                          delivery_date: str) -> str:
    """Through the OMS: draft, submit, confirm (with a justification if the order is a tolerance
    exception); the confirmed order's address."""
    form, order = ssi.oms_order_form, ssi.oms_order
    form.open_new()
    form.fill(region=region, location=location, delivery_date=delivery_date, quantities={item.code: str(quantity)})
    form.save_draft()
    order.submit()
    expect(order.state).to_have_text(order.status_name("order", "submitted"))
    order.confirm("Order for a UEPT delivery scenario" if order.justification.count() else None)
    expect(order.state).to_have_text(order.status_name("order", "confirmed"))
    return order.url


def raise_return(ssi: SSI, serials: list[str], reason: str) -> None:
    """Raise a return of these CH device IDs for a reason the profile lists (a clear error if it does not)."""
    ssi.profile.oms.choice(ssi.profile.oms.return_reasons, reason)
    ssi.oms_return_form.open()
    ssi.oms_return_form.raise_return(serials, reason)


def log_in_with_password(ssi: SSI, user_name: str, password: Secret) -> None:
    """The login page, user name and password: returns on the next page (MFA set-up or prompt, or an error)."""
    ssi.login.open()
    ssi.login.sign_in(user_name, password)


def log_in_with_code(ssi: SSI, user_name: str, password: Secret, otp: OtpSource) -> None:
    log_in_with_password(ssi, user_name, password)
    expect(ssi.mfa.code).to_be_visible()
    ssi.mfa.submit_code(otp.code())


def set_up_authenticator(ssi: SSI, user_name: str, enrol: Callable[[Secret], OtpSource]) -> None:
    """At the MFA set-up page: choose an authenticator app, add the setup key shown to it (`enrol`) and
    enter its code."""
    expect(ssi.mfa.setup_heading).to_be_visible()
    ssi.mfa.choose_method("mfa.method_authenticator")
    otp = enrol(ssi.mfa.read_setup_key(user_name))
    ssi.mfa.submit_code(otp.code())


def change_password(ssi: SSI, new: Secret) -> None:
    """At the forced password change: type the new password twice and save."""
    expect(ssi.password_change.heading_).to_be_visible()
    ssi.password_change.change(new)


def first_login(ssi: SSI, user_name: str, one_time_password: Secret, enrol: Callable[[Secret], OtpSource],
                new_password: Secret) -> None:
    """A new account's first login: one-time password, authenticator enrolment, new password, home."""
    log_in_with_password(ssi, user_name, one_time_password)
    set_up_authenticator(ssi, user_name, enrol)
    change_password(ssi, new_password)
    expect(ssi.home.login_confirmation).to_be_visible()
