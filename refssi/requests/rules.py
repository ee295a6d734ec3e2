"""Service requests as ServiceNow's base system keeps them, and who may see them.

A submitted catalogue item becomes a request (sc_request, REQ...: request_state 'requested', then DCC's
'in_process' and a closed state) holding one requested item (sc_req_item, RITM...: the item, its variables
(sc_item_option), its stage, the "delivery status" a user sees, and state 1 Open .. 3 Closed Complete) and a
catalogue task for DCC's service desk (sc_task, SCTASK...). The item's variables are checked against the
profile's item: mandatory ones given, choices from the list, lengths, e-mail and telephone shapes.

Visibility (SSI-FR-52a/57): a portal user sees the requests of their own organisation only and raises them
for themselves; another organisation's request answers ServiceNow's 'You are either not authorized or record
is not valid'. Everything needs the role-matrix component service_catalogue.
"""

from __future__ import annotations

from typing import Any

from ssi.profile import CatalogItemConfig
from ssi.signed_files import signer_of

from ..auth.rules import EMAIL_RX, PHONE_RX
from ..faults import fault
from ..incidents.rules import CONTROL_RX, IncidentError, clean
from ..incidents.store import Upload, human_size
from ..settings import Settings
from ..tableapi.model import Principal

COMPONENT = "service_catalogue"
OPEN, WORK_IN_PROGRESS, CLOSED_COMPLETE, CLOSED_INCOMPLETE, CLOSED_SKIPPED = 1, 2, 3, 4, 7
CLOSED_ITEM_STATES = (CLOSED_COMPLETE, CLOSED_INCOMPLETE, CLOSED_SKIPPED)
# the stage DCC's desk moves an item to when it sets its state (an item with a workflow stage keeps its own)
DESK_STAGES = {OPEN: "request_approved", WORK_IN_PROGRESS: "fulfillment", CLOSED_COMPLETE: "complete",
               CLOSED_INCOMPLETE: "Request Cancelled", CLOSED_SKIPPED: "Request Cancelled"}


class RequestError(IncidentError):
    """A refused request or update (field -> message; 400 or 403): the attachment paths that serve incidents and
    requested items alike handle it as theirs."""


def validate(settings: Settings, item: CatalogItemConfig, raw: dict[str, Any]) -> tuple[dict[str, str],
                                                                                         dict[str, str]]:
    """An item's submitted variables -> (clean values in the item's order, errors by variable)."""
    values = {v.name: clean(raw.get(v.name)) for v in item.variables if v.type != "attachment"}
    errors: dict[str, str] = {}
    for v in item.variables:
        if v.type == "attachment":
            continue
        value, limit = values[v.name], v.max_length
        if not value:
            if v.mandatory and not fault(settings, "sr_no_mandatory_check"):
                errors[v.name] = (f"{v.label} is required: choose one from the list." if v.type == "choice"
                                  else f"{v.label} is required.")
            if fault(settings, "sr_checks_stop_at_empty"):
                break
            continue
        if fault(settings, "sr_limit_exclusive"):
            limit -= 1
        if CONTROL_RX.search(value.replace("\n", "")):
            errors[v.name] = f"{v.label} contains control characters; remove them."
        elif len(value) > limit:
            errors[v.name] = f"{v.label} must be at most {v.max_length} characters (you entered {len(value)})."
        elif v.type == "choice" and value not in [c.value for c in v.choices]:
            errors[v.name] = f"{v.label}: '{value}' is not one of the choices."
        elif v.type == "email" and not EMAIL_RX.match(value):
            errors[v.name] = f"{v.label} must be a valid email address, like name@example.com."
        elif v.type == "tel" and not PHONE_RX.match(value):
            errors[v.name] = f"{v.label} must be a telephone number: digits, spaces and + ( ) - only."
    return values, errors


def file_errors(settings: Settings, conn, item: CatalogItemConfig, company: str,
                uploads: dict[str, Upload | None]) -> dict[str, str]:
    """The checks of an item's files (its attachment variables): one file each, of an allowed type, within the
    size limit, and signed by a key the submitting organisation registered (ssi/signed_files.py)."""
    errors: dict[str, str] = {}
    keys = [r[0] for r in conn.execute("SELECT public_key FROM x_dcc_party_key WHERE company = ? AND active = 1",
                                       (company,))]
    for v in (v for v in item.variables if v.type == "attachment"):
        upload = uploads.get(v.name)
        if upload is None or not upload.data:
            if v.mandatory:
                errors[v.name] = f"{v.label} is required: attach one file."
            continue
        name = upload.file_name
        ext = name.rsplit(".", 1)[-1].lower() if "." in name else ""
        allowed = ", ".join(f".{e}" for e in v.extensions)
        if v.extensions and ext not in v.extensions:
            errors[v.name] = f"{v.label}: {name} is not a {allowed} file, so it cannot be submitted."
        elif (len(upload.data) > (v.max_bytes - 1 if fault(settings, "sr_size_limit_exclusive") else v.max_bytes)
              and not fault(settings, "sr_no_size_check")):
            errors[v.name] = (f"{v.label}: {name} is {human_size(len(upload.data))}; files larger than "
                              f"{human_size(v.max_bytes)} cannot be submitted.")
        elif v.signed and not fault(settings, "sr_no_signature_check"):
            signer, why = signer_of(upload.data, keys)
            if signer is None:
                errors[v.name] = f"{v.label}: {name} is refused because {why}."
    return errors


def incident_errors(conn, item: CatalogItemConfig, company: str, values: dict[str, str]) -> dict[str, str]:
    """An item that answers an incident names one of the organisation's open incidents that asks for it."""
    name = item.answers_incident
    if not name or not values.get(name):
        return {}
    row = conn.execute("SELECT 1 FROM incident WHERE number = ? AND company = ? AND active = 1 AND u_action_item = ?",
                       (values[name].upper(), company, item.sys_id)).fetchone()
    if row:
        return {}
    label = item.variable(name).label
    return {name: f"{label}: {values[name]} is not an open incident of your organisation that asks for a "
                  f"{item.name}."}


def answered_incident(conn, item: CatalogItemConfig, request_item: str) -> dict[str, Any] | None:
    """The incident a requested item answers (its incident variable's value), if the item answers one."""
    if not item.answers_incident:
        return None
    value = conn.execute("SELECT value FROM sc_item_option WHERE request_item = ? AND name = ?",
                         (request_item, item.answers_incident)).fetchone()
    row = conn.execute("SELECT * FROM incident WHERE number = ?", ((value[0] if value else "").upper(),)).fetchone()
    return dict(row) if row else None


def state_label(settings: Settings, state: int) -> str:
    return settings.profile.service_requests.item_states.get(state, str(state))


def updates_in(settings: Settings, state: int, *, page: bool) -> list[str]:
    """What the requester may add to an item in this state (the profile's service_requests.requester_updates):
    what its ticket page offers (page=True) or what the SSI takes."""
    if page and fault(settings, "sr_update_offered_when_closed"):
        return ["comment", "attach"]
    if not page and fault(settings, "sr_update_accepted_when_closed"):
        return ["comment", "attach"]
    if not page and fault(settings, "sr_updates_refused_when_open"):
        return []
    return settings.profile.service_requests.updates_in(state)


def display(item: CatalogItemConfig, name: str, value: str) -> str:
    """A variable's value as the ticket page shows it (a choice by its label)."""
    v = item.variable(name)
    return next((c.label for c in v.choices if c.value == value), value) if v.type == "choice" else value


def scope(settings: Settings, principal: Principal, column: str) -> tuple[str, list[Any]]:
    """The requests a caller may see: their own organisation's (DCC's desk: all)."""
    if principal.admin or fault(settings, "sr_no_org_scoping"):
        return "", []
    return f"{column} = ?", [principal.company]


def visible_item(conn, settings: Settings, principal: Principal, sys_id: str) -> dict[str, Any] | None:
    """The requested item, with its request's number and state, when the caller may see it."""
    where, params = scope(settings, principal, "i.company")
    row = conn.execute(
        "SELECT i.*, r.number AS request_number, r.request_state FROM sc_req_item i JOIN sc_request r "
        "ON r.sys_id = i.request WHERE i.sys_id = ?" + (f" AND {where}" if where else ""), [sys_id, *params]
    ).fetchone()
    return dict(row) if row else None
