"""Faults: the test-only switches, each of which turns one server-side check off.

They exist so the harness's own tests can prove that every UEPT check fails against a broken SSI.
They are switched on from outside by REFSSI_UNSAFE (a comma-separated list, read by settings.py), and
a server started with any of them says so on every page. Every fault is declared here, once, and read
through fault(): `grep -rn "fault(" refssi` lists every place one changes behaviour.
"""

from __future__ import annotations

from typing import Any

FAULTS: dict[str, str] = {
    "skip_code_check": "any verification code is accepted",
    "allow_replay": "a TOTP code may be used twice",
    "no_lockout": "failed logins never lock the account",
    "no_idle_timeout": "sessions never expire",
    "skip_password_check": "any password is accepted",
    "no_org_scoping": "incidents of every organisation are visible (portal and Table API)",
    "no_raise_check": "raising an incident needs no role on the server (the menu still hides it)",
    "no_contact_check": "the incident contact block is not validated",
    "no_length_check": "over-long incident fields are accepted",
    "no_resolution_check": "resolving needs no resolution code or notes",
    "reopen_closed": "closed incidents can be reopened",
    "no_attachment_check": "attachments of any size and type are stored",
    "attachment_truncated": "downloads lose their last byte",
    "no_escaping": "what users typed is rendered as HTML on classic pages (templates' autoescaping off)",
    "show_work_notes": "work notes are shown to portal users",
    "flat_priority": "priority is always 3, whatever impact and urgency",
    "no_caller_resume": "a caller's comment leaves an Awaiting Caller incident on hold",
    "oms_no_quantity_check": "OMS: negative, zero and too-large quantities are accepted",
    "oms_no_date_check": "OMS: delivery dates in the past or inside the lead time are accepted",
    "oms_no_lock_window": "OMS: forecast months inside the lock window can be changed",
    "oms_no_tolerance_check": "OMS: orders never need a tolerance-exception justification",
    "oms_no_device_check": "OMS: returns accept unknown device IDs and devices already under return",
    "sr_no_org_scoping": "service requests of every organisation are visible (portal and Table API)",
    "sr_no_mandatory_check": "a catalogue item's mandatory variables may be left empty",
    "sr_no_signature_check": "a file of a catalogue item is accepted whether or not its signature verifies",
    "sr_no_size_check": "a file of a catalogue item is accepted whatever its size",
    "oms_consignment_split_exclusive": "OMS: a line of exactly oms.consignment_max_quantity is split in two",
    "oms_no_consignment_split": "OMS: a confirmed line is one consignment, however large",
    "oms_return_limit_exclusive": "a return of exactly oms.return_max_devices CHs is refused as too many",
    "oms_no_return_limit": "a return may hold any number of CHs",
    "useradmin_limit_exclusive": "a user-administration field exactly as long as user_admin.max_lengths allows is "
                                 "refused as too long",
    "sr_size_limit_exclusive": "a file of a catalogue item of exactly its size limit is refused as too large",
    "sr_skip_validation": "DCC's acceptance of a file skips processing and completes the request at once",
    "sr_limit_exclusive": "a catalogue item's text variable exactly as long as its max_length is refused as too long",
    "sr_checks_stop_at_empty": "a catalogue item's variables after the first one left empty are not checked",
    "sr_update_offered_when_closed": "a requested item's ticket page offers a comment and a file in every state",
    "sr_update_accepted_when_closed": "a requested item takes comments and files in every state (the page as before)",
    "sr_updates_refused_when_open": "a requested item takes no comment or file in any state (the page as before)",
    "sr_requester_sets_state": "the Table API lets a requester set their requested item to any state",
    "sr_no_raise_check": "submitting a catalogue item needs no role on the server (the menu still hides it)",
    "menu_shows_all": "the menu lists functions the user's roles do not grant",
    "no_component_check": "the portal's page guard lets pages of functions not granted open (no 403)",
    "no_org_scope": "administrators see and manage other organisations' accounts",
    "deactivate_keeps_access": "a deactivated account can still sign in and keep its sessions",
    "keep_mfa_on_reset": "'reset multi-factor authentication' changes nothing",
    "remembered_for_anyone": "a remembered browser skips the code for any user who signs in in it",
    "entra_skip_code_check": "Entra: any authenticator code is accepted",
    "entra_skip_password_check": "Entra: any password is accepted",
    "sso_skip_signature_check": "the SSI accepts a SAML response whatever signed it",
    "sso_allow_replay": "the SSI accepts the same SAML response more than once",
    "signout_fails_once": "the server's first sign-out answers 503 and leaves the session open (once per server: "
                          "the sign-outs after it work), so a scenario that signs out fails once, then passes",
    # boundaries, each off by one on one side (the scenarios pin both sides of every number the profile gives)
    "email_enrolment_forgotten": "a first login that sets up emailed codes does not keep the method, so the next "
                                 "login asks to set up multi-factor authentication again",
    "totp_window_3": "authenticator codes up to 3 time steps old are accepted",
    "totp_no_earlier_step": "authenticator codes of earlier time steps are refused (tolerance only for codes ahead)",
    "replay_after_step": "a code used in an earlier time step may be used again while the window accepts it",
    "lockout_one_early": "an account locks one failure before the profile's lockout threshold",
    "lockout_one_late": "an account locks one failure after the profile's lockout threshold",
    "email_code_30_minutes": "emailed codes stay valid for 30 minutes",
    "email_code_expires_early": "emailed codes expire a minute before the profile's validity",
    "idle_timeout_early": "sessions end a minute before the profile's idle timeout",
    "length_limit_exclusive": "incident text exactly as long as its limit is refused",
    "attachment_limit_exclusive": "a file exactly as large as the attachment limit is refused",
    "oms_max_exclusive": "OMS: a quantity exactly at the maximum is refused",
    "oms_tolerance_exclusive": "OMS: an order exactly at the edge of the forecast tolerance counts as outside it",
    "oms_tolerance_rounded": "OMS: an order's variance from the forecast is rounded to a whole percent",
    # the forced password change
    "weak_passwords": "a new password is accepted however short or simple",
    "keep_one_time_password": "the one-time password is accepted as the new password",
    "no_password_confirmation": "a new password need not match its confirmation",
    # the state x action matrix of incidents
    "close_offered_unresolved": "the ticket page offers Close on New, In Progress and On Hold incidents",
    "api_closes_unresolved": "the Table API lets a portal user close (state 7) a New, In Progress or On Hold incident",
}


def declared(name: str) -> str:
    """The name, if it is a declared fault; else ValueError."""
    if name not in FAULTS:
        raise ValueError(f"undeclared fault {name!r}: declare it in refssi/faults.py")
    return name


def fault(settings: Any, name: str) -> bool:
    """Whether this server was started with the declared fault `name` switched on (settings: refssi.settings
    Settings, or anything with its `unsafe` set)."""
    return declared(name) in settings.unsafe


def undeclared(names: frozenset[str]) -> list[str]:
    """The names among these that are no declared fault, sorted."""
    return sorted(names - FAULTS.keys())


def switched_on(settings: Any) -> list[str]:
    """The faults this server was started with, sorted (the warning banner on every page)."""
    return sorted(settings.unsafe)
