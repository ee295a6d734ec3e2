"""Incidents, as ServiceNow keeps them and as DCC's SSI shows them.

One set of rules serves the portal pages, the Table API and the operator (DCC's
service desk): numbering INC0010001.., states 1/2/3/6/7/8, hold reasons, priority
from the profile's impact x urgency matrix, the SEC H9 category and its target
resolution time, resolution code and notes, customer-visible comments versus
internal work notes, attachments within the profile's size and type limits, the
reopen count, and the SSI contact and premises fields (SSI-FR-22/26/34).

Visibility: a portal user sees the incidents of their own organisation only
(core_company); another organisation's incident answers ServiceNow's 'You are
either not authorized or record is not valid'. Raising, updating and viewing
need the role-matrix components incident_raise / incident_update / incident_view.
"""

from __future__ import annotations

import calendar
import re
import time
from typing import Any

from ssi.profile import incident_label_key

from ..auth.rules import EMAIL_RX, PHONE_RX
from ..db import glide_time
from ..faults import fault
from ..settings import Settings
from ..tableapi.model import ApiError, Principal

ACTIVE_STATES = (1, 2, 3, 6)
INACTIVE_STATES = (7, 8)
NEW, IN_PROGRESS, ON_HOLD, RESOLVED, CLOSED, CANCELED = 1, 2, 3, 6, 7, 8
AWAITING_CALLER = 1

# What DCC's service desk may do; what a portal user (the caller's organisation) may do is the profile's
# incidents.caller_transitions (caller_transitions() below).
DESK_TRANSITIONS = (
    {
        (NEW, IN_PROGRESS),
        (NEW, ON_HOLD),
        (IN_PROGRESS, ON_HOLD),
        (ON_HOLD, IN_PROGRESS),
        (RESOLVED, IN_PROGRESS),
    }
    | {(s, t) for s in (NEW, IN_PROGRESS, ON_HOLD) for t in (RESOLVED, CLOSED, CANCELED)}
    | {(RESOLVED, CLOSED)}
)
CALLER_FIELDS = {"comments", "u_update_type", "state", "close_code", "close_notes"}
DESK_FIELDS = CALLER_FIELDS | {
    "work_notes",
    "hold_reason",
    "impact",
    "urgency",
    "category",
    "subcategory",
    "short_description",
    "description",
}

# The variables of the Create Incident record producer (also the writable fields on insert).
FORM_FIELDS = (
    "category",
    "subcategory",
    "impact",
    "urgency",
    "short_description",
    "description",
    "u_contact_first_name",
    "u_contact_last_name",
    "u_contact_phone",
    "u_contact_email",
    "u_device_id",
    "u_mpxn",
    "u_your_reference",
)
LIMIT_KEYS = {
    "short_description": "short_description",
    "description": "description",
    "comments": "comment",
    "work_notes": "comment",
    "close_notes": "close_notes",
    "u_your_reference": "your_reference",
    "u_contact_first_name": "contact_name",
    "u_contact_last_name": "contact_name",
    "u_contact_email": "contact_email",
    "u_contact_phone": "contact_name",
    "u_device_id": "device_id",
    "u_mpxn": "mpxn",
}

MPAN_RX = re.compile(r"^\d{13}$")  # MPAN core
MPRN_RX = re.compile(r"^\d{6,10}$")  # gas meter point reference
DEVICE_ID_RX = re.compile(r"^[0-9A-F]{2}(-[0-9A-F]{2}){7}$")  # EUI-64, as the SSI writes it
CONTROL_RX = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


class IncidentError(Exception):
    """Refused input or a broken rule: field -> message; status 400 (bad value) or 403 (rule)."""

    def __init__(self, errors: dict[str, str], status: int = 400) -> None:
        super().__init__("; ".join(errors.values()))
        self.errors, self.status = errors, status

    def api(self) -> ApiError:
        if self.status == 403:
            return ApiError(403, "Operation Failed", " ".join(self.errors.values()))
        return ApiError(400, "Invalid value", "; ".join(f"{k}: {v}" for k, v in self.errors.items()))


def label(settings: Settings, key: str) -> str:
    return settings.profile.label(f"incident.{incident_label_key(key)}")


def state_label(settings: Settings, state: int | None) -> str:
    return settings.profile.incidents.states.get(state or 0, str(state or ""))


# ---------------------------------------------------------------- visibility
def scope(
    settings: Settings, principal: Principal, column: str = "incident.company"
) -> tuple[str, list[Any]]:
    """The incidents a caller may see: their own organisation's (DCC's desk: all)."""
    if principal.admin or fault(settings, "no_org_scoping"):
        return "", []
    return f"{column} = ?", [principal.company]


def visible(conn, settings: Settings, principal: Principal, sys_id: str) -> dict[str, Any] | None:
    where, params = scope(settings, principal)
    row = conn.execute(
        "SELECT * FROM incident WHERE sys_id = ?" + (f" AND {where}" if where else ""), [sys_id, *params]
    ).fetchone()
    return dict(row) if row else None


# ---------------------------------------------------------------- validation
def clean(value: Any) -> str:
    return "" if value is None else str(value).replace("\r\n", "\n").strip()


def _check_text(settings: Settings, values: dict[str, str], errors: dict[str, str]) -> None:
    limits = settings.profile.incidents.limits
    for name, value in values.items():
        if name in errors or not value:
            continue
        if CONTROL_RX.search(value):
            errors[name] = f"{label(settings, name)} contains control characters; remove them."
        elif name in LIMIT_KEYS and not fault(settings, "no_length_check"):
            limit = getattr(limits, LIMIT_KEYS[name])
            if len(value) > limit or (len(value) == limit and fault(settings, "length_limit_exclusive")):
                errors[name] = (
                    f"{label(settings, name)} must be at most {limit} characters (you entered {len(value)})."
                )


def _choice(
    settings: Settings,
    name: str,
    value: str,
    choices: list[str],
    errors: dict[str, str],
    shown: list[str] | None = None,
) -> None:
    if value and value not in choices:
        listed = ", ".join(shown or choices)
        errors[name] = f"{label(settings, name)} must be one of: {listed}."


def split_mpxns(value: str) -> list[str]:
    return [v.strip() for v in re.split(r"[,\s;]+", value) if v.strip()]


def validate_new(settings: Settings, raw: dict[str, Any]) -> tuple[dict[str, str], dict[str, str]]:
    """Record-producer variables -> (clean values, field errors). Nothing is stored here."""
    cfg = settings.profile.incidents
    v = {k: clean(raw.get(k)) for k in FORM_FIELDS}
    v["impact"] = v["impact"] or "3"
    v["urgency"] = v["urgency"] or "3"
    v["u_device_id"] = v["u_device_id"].upper()
    errors: dict[str, str] = {}
    category = cfg.category(v["category"])
    if not v["category"]:
        errors["category"] = f"{label(settings, 'category')} is required: choose one from the list."
    elif category is None:
        _choice(
            settings,
            "category",
            v["category"],
            [c.value for c in cfg.categories],
            errors,
            [f"{c.value} ({c.label})" for c in cfg.categories],
        )
    elif v["subcategory"]:
        _choice(
            settings,
            "subcategory",
            v["subcategory"],
            [s.value for s in category.subcategories],
            errors,
            [f"{s.value} ({s.label})" for s in category.subcategories] or ["(none for this category)"],
        )
    for name, choices in (("impact", cfg.impact), ("urgency", cfg.urgency)):
        _choice(
            settings,
            name,
            v[name],
            [c.value for c in choices],
            errors,
            [f"{c.value} ({c.label})" for c in choices],
        )
    if not v["short_description"]:
        errors["short_description"] = f"{label(settings, 'short_description')} is required."
    if not fault(settings, "no_contact_check"):
        for name in ("u_contact_first_name", "u_contact_last_name", "u_contact_phone"):
            if not v[name]:
                errors[name] = f"{label(settings, name)} is required."
        if v["u_contact_phone"] and not PHONE_RX.match(v["u_contact_phone"]):
            errors["u_contact_phone"] = (
                f"{label(settings, 'u_contact_phone')}: enter 10 to 15 digits, e.g. 01632 960123."
            )
        if v["u_contact_email"] and not EMAIL_RX.match(v["u_contact_email"]):
            errors["u_contact_email"] = (
                f"{label(settings, 'u_contact_email')}: enter an address like name@example.com."
            )
    if v["u_mpxn"]:
        bad = [m for m in split_mpxns(v["u_mpxn"]) if not (MPAN_RX.match(m) or MPRN_RX.match(m))]
        if bad:
            errors["u_mpxn"] = (
                f"{label(settings, 'u_mpxn')} '{bad[0]}' is not valid: give a 13-digit MPAN core "
                "or a 6 to 10-digit MPRN (several separated by commas)."
            )
        else:
            v["u_mpxn"] = ", ".join(split_mpxns(v["u_mpxn"]))  # SSI-FR-34: shown comma-separated
    if v["u_device_id"] and not DEVICE_ID_RX.match(v["u_device_id"]):
        errors["u_device_id"] = (
            f"{label(settings, 'u_device_id')} must be 8 pairs of hexadecimal digits "
            "separated by hyphens, e.g. 00-DB-12-34-56-78-9A-BC."
        )
    if category is not None and category.premises:
        if not v["u_device_id"] and not v["u_mpxn"] and "u_mpxn" not in errors:
            errors["u_mpxn"] = (
                f"A {category.label.lower()} incident needs a {label(settings, 'u_device_id')} "
                f"or an {label(settings, 'u_mpxn')}."
            )
        if not v["u_your_reference"]:
            errors["u_your_reference"] = (
                f"{label(settings, 'u_your_reference')} is required for {category.label.lower()} incidents."
            )
    _check_text(settings, v, errors)
    return v, errors


def priority_of(settings: Settings, impact: int, urgency: int) -> int:
    if fault(settings, "flat_priority"):
        return 3
    return settings.profile.incidents.priority_of(impact, urgency)


def target_resolution(settings: Settings, priority: int, opened: float) -> tuple[int, str]:
    sec = settings.profile.incidents.sec_category(priority)
    return sec.value, glide_time(opened + sec.target_resolution_hours * 3600)


def checked_values(settings: Settings, incident: dict, ch: dict[str, str]) -> tuple[int, int | None]:
    """The new state and on hold reason of the changes, every value checked (IncidentError 400)."""
    cfg = settings.profile.incidents
    errors: dict[str, str] = {}
    old_state = incident["state"]
    new_state = old_state
    if ch.get("state"):
        try:
            new_state = int(ch["state"])
        except ValueError:
            new_state = -1
        if new_state not in cfg.states:
            errors["state"] = (
                "State must be one of: " + ", ".join(f"{k} ({v})" for k, v in cfg.states.items()) + "."
            )
    hold = incident["hold_reason"]
    if "hold_reason" in ch:
        hold = (
            int(ch["hold_reason"]) if ch["hold_reason"].isdigit() else (None if not ch["hold_reason"] else -1)
        )
        if hold is not None and hold not in cfg.hold_reasons:
            errors["hold_reason"] = (
                "On hold reason must be one of: "
                + ", ".join(f"{k} ({v})" for k, v in cfg.hold_reasons.items())
                + "."
            )
    _choice(settings, "close_code", ch.get("close_code", ""), cfg.close_codes, errors)
    _choice(settings, "u_update_type", ch.get("u_update_type", ""), cfg.update_types, errors)
    for name, choices in (("impact", cfg.impact), ("urgency", cfg.urgency)):
        if name in ch:
            _choice(
                settings,
                name,
                ch[name] or "-",
                [c.value for c in choices],
                errors,
                [f"{c.value} ({c.label})" for c in choices],
            )
    if "category" in ch and cfg.category(ch["category"]) is None:
        _choice(settings, "category", ch["category"] or "-", [c.value for c in cfg.categories], errors)
    _check_text(settings, ch, errors)
    if errors:
        raise IncidentError(errors, 400)
    return new_state, hold


def caller_transitions(settings: Settings) -> set[tuple[int, int]]:
    """The state changes a portal user may make: the profile's incidents.caller_transitions."""
    cfg = settings.profile.incidents
    out = {(old, new) for old in cfg.states for new in cfg.changes_from(old)}
    if fault(settings, "api_closes_unresolved"):
        out |= {(s, CLOSED) for s in (NEW, IN_PROGRESS, ON_HOLD)}
    if fault(settings, "reopen_closed"):
        out |= {(CLOSED, IN_PROGRESS)}
    return out


def refuse_inactive(settings: Settings, desk: bool, incident: dict, new_state: int) -> None:
    """A closed or cancelled incident can no longer be updated (IncidentError 403)."""
    number = incident["number"]
    old_state = incident["state"]
    if old_state in INACTIVE_STATES:
        reopen_closed = (
            not desk
            and fault(settings, "reopen_closed")
            and old_state == CLOSED
            and new_state == IN_PROGRESS
        )
        if not reopen_closed:
            if new_state == IN_PROGRESS and old_state == CLOSED:
                raise IncidentError(
                    {"state": f"{number} is closed and cannot be reopened. Raise a new incident instead."},
                    403,
                )
            raise IncidentError(
                {
                    "state": f"{number} is {state_label(settings, old_state).lower()} "
                    "and can no longer be updated."
                },
                403,
            )


def state_change(settings: Settings, principal: Principal, incident: dict, ch: dict[str, str], new_state: int,
                 hold: int | None, comment: str, stamp: str) -> dict[str, Any]:
    """The columns a change of state sets, every transition rule enforced (IncidentError 403)."""
    desk = principal.admin
    old_state = incident["state"]
    sets: dict[str, Any] = {}
    transitions = DESK_TRANSITIONS if desk else caller_transitions(settings)
    if (old_state, new_state) not in transitions:
        if not desk and (old_state, new_state) in DESK_TRANSITIONS:
            msg = f"Only DCC's service desk can set an incident to {state_label(settings, new_state)}."
        else:
            msg = (
                f"An incident cannot go from {state_label(settings, old_state)} to "
                f"{state_label(settings, new_state)}."
            )
        raise IncidentError({"state": msg}, 403)
    if new_state == ON_HOLD:
        if not hold:
            raise IncidentError({"hold_reason": "An On Hold incident needs an on hold reason."}, 403)
        if hold == AWAITING_CALLER and not comment:
            raise IncidentError(
                {
                    "comments": "Awaiting Caller needs an additional comment telling the caller "
                    "what is needed."
                },
                403,
            )
        sets["hold_reason"] = hold
    else:
        sets["hold_reason"] = None
    if new_state in (RESOLVED, CLOSED):
        code = ch.get("close_code") or incident["close_code"]
        notes = ch.get("close_notes") or incident["close_notes"]
        missing = {}
        if not (not desk and fault(settings, "no_resolution_check")):
            if not code:
                missing["close_code"] = (
                    f"{label(settings, 'close_code')} is required to resolve an incident."
                )
            if not notes:
                missing["close_notes"] = (
                    f"{label(settings, 'close_notes')} are required to resolve an incident."
                )
        if missing:
            raise IncidentError(missing, 403)
        sets.update(close_code=code, close_notes=notes)
        if not incident["resolved_at"]:
            sets.update(resolved_at=stamp, resolved_by=principal.sys_id)
    if new_state in (CLOSED, CANCELED):
        sets.update(active=0, closed_at=stamp, closed_by=principal.sys_id)
    if old_state in (RESOLVED, CLOSED) and new_state == IN_PROGRESS:  # reopen
        sets.update(
            reopen_count=incident["reopen_count"] + 1,
            reopened_by=principal.sys_id,
            reopened_time=stamp,
            resolved_at="",
            resolved_by=None,
            close_code="",
            close_notes="",
            active=1,
            closed_at="",
            closed_by=None,
        )
    sets["state"] = new_state
    return sets


def same_state_change(settings: Settings, desk: bool, incident: dict, ch: dict[str, str], hold: int | None,
                      comment: str) -> dict[str, Any]:
    """The columns an update that keeps the state sets (an on hold reason, resolution, the caller's answer)."""
    old_state = incident["state"]
    sets: dict[str, Any] = {}
    if "hold_reason" in ch and hold != incident["hold_reason"]:
        if old_state != ON_HOLD or not hold:
            raise IncidentError(
                {
                    "hold_reason": "An on hold reason belongs to an On Hold incident: set the "
                    "state to On Hold with it."
                },
                403,
            )
        sets["hold_reason"] = hold
    for name in ("close_code", "close_notes"):
        if ch.get(name) and old_state == RESOLVED:
            sets[name] = ch[name]
    if (
        comment
        and not desk
        and old_state == ON_HOLD
        and incident["hold_reason"] == AWAITING_CALLER
        and not fault(settings, "no_caller_resume")
    ):
        sets.update(state=IN_PROGRESS, hold_reason=None)  # the caller answered: back to the desk
    return sets


def desk_changes(settings: Settings, incident: dict, ch: dict[str, str]) -> dict[str, Any]:
    """The columns only DCC's desk changes: texts, category, and impact and urgency (so priority and target)."""
    sets: dict[str, Any] = {}
    for name in ("short_description", "description", "category", "subcategory"):
        if name in ch:
            sets[name] = ch[name]
    if "impact" in ch or "urgency" in ch:
        impact = int(ch.get("impact") or incident["impact"])
        urgency = int(ch.get("urgency") or incident["urgency"])
        priority = priority_of(settings, impact, urgency)
        sec, target = target_resolution(settings, priority, epoch(incident["opened_at"]))
        sets.update(
            impact=impact,
            urgency=urgency,
            priority=priority,
            u_sec_category=sec,
            u_target_resolution=target,
        )
    return sets


# ---------------------------------------------------------------- portal: shared bits
def epoch(stamp: str) -> float:
    return calendar.timegm(time.strptime(stamp, "%Y-%m-%d %H:%M:%S"))
