"""Target profiles: what DCC may configure on its ServiceNow instance, as data.

A profile holds the portal suffix, visible labels, session and lockout timings,
MFA methods, evidence masking and the Job Type Role x component matrix. The
reference SSI is built from a profile and the page objects read their labels from
the same one, so the two cannot drift apart.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import cache
from pathlib import Path
from typing import Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from .errors import UsageError, first_problem, read_yaml

PROFILES_DIR = Path(__file__).parent / "profiles"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Portal(_Strict):
    suffix: str = "/sp"
    title: str = "Self-Service Interface"
    home_page: str = "index"
    login_page: str = "login"
    # What a mandatory field's accessible name starts with on ServiceNow forms (before its label).
    mandatory_prefix: str = "Mandatory - must be populated before Submit"
    # How choice fields are drawn: 'native' <select>, 'select2' (the Service Portal's choice lists: a select2
    # widget over a hidden <select> whose own change event the form ignores), or 'auto': select2 where the
    # page has a select2 container for the field (s2id_<id>), native elsewhere.
    choice_widget: Literal["auto", "native", "select2"] = "auto"
    # Where a Service Portal page's widgets come from: the shell every portal page loads as its document asks
    # this address for the page (GET <page_api>?id=<page>...), so the server's answer for a page by its
    # address (200, or 403 for a page the visitor's roles withhold) is this request's status, not the
    # shell's. Classic pages make no such request and answer in their document. null: the target has none.
    page_api: str | None = "/api/now/sp/page"
    # The portal login widget's "hint text" option: its user name and password boxes are named by their
    # placeholders, with no label, unless the widget instance's advanced view shows labels (false).
    login_hint_text: bool = True
    # The element a Service Portal shows while a route change fetches and draws the next page's widgets (CSS):
    # a page followed by a link or a search is drawn once it is gone. null: the target shows none (each page
    # object then waits only on the element that proves its outcome).
    loading_indicator: str | None = "#sp-loading"

    @field_validator("suffix")
    @classmethod
    def _slash(cls, v: str) -> str:
        if not v.startswith("/") or v.endswith("/"):
            raise ValueError("must start with '/' and not end with one, e.g. /sp")
        return v


class Session(_Strict):
    idle_timeout_seconds: int = Field(900, gt=0)
    lockout_threshold: int = Field(5, gt=0)
    lockout_seconds: int = Field(900, gt=0)


class Totp(_Strict):
    digits: int = 6
    interval: int = 30
    algorithm: Literal["SHA1"] = "SHA1"
    valid_window: int = Field(1, ge=0, le=2)


class EmailCode(_Strict):
    digits: int = 6
    validity_seconds: int = Field(300, gt=0)


class Mfa(_Strict):
    methods: list[Literal["totp", "email"]] = ["totp", "email"]
    totp: Totp = Totp()
    email_code: EmailCode = EmailCode()
    # "Remember this browser" on the MFA page: a later sign-in of the same user in the same browser skips
    # the code for this many days (ServiceNow's MFA browser remembering; 0: the box is not offered).
    remember_browser_days: int = Field(30, ge=0, le=365)
    email_subject: str = "Your verification code"
    email_code_pattern: str = r"\b(\d{6})\b"


class Sso(_Strict):
    """Federated sign-in: ServiceNow's SAML 2 single sign-on with Microsoft Entra ID as the identity
    provider, where the Party's users sign in (password and MFA) instead of at ServiceNow's own
    login. Whether DCC federates SEC Party users this way, as members or as guests, is VERIFY."""

    enabled: bool = True
    glide_sso_id: str = Field("f2b2c6b0db1a3300e8a5f3a0ba9619c1", pattern=r"^[0-9a-f]{32}$")  # the IdP record
    tenant: str = "7c0d3f6e-5a24-4a8e-9f1b-2d6c8e4a9b10"  # the Entra tenant (directory) id
    idp_name: str = "Microsoft Entra ID"
    # "Use external login" first opens this page, which asks for the user name and sends the browser on to
    # the user's identity provider (ServiceNow's multi-provider SSO). null: the link goes to the IdP at once.
    locate_page: str | None = Field("/login_locate_sso.do", pattern=r"^/")
    lockout_threshold: int = Field(10, gt=0)  # Entra smart lockout: failed sign-ins before a lockout
    lockout_seconds: int = Field(60, gt=0)


class Evidence(_Strict):
    mask_selectors: list[str] = ["input[type=password]", "input[name=txtResponse]"]


class Role(_Strict):
    abbr: str
    name: str


class Component(_Strict):
    key: str
    bfd: str
    name: str
    use_cases: list[str] = []
    dcc_defined_access: str = ""
    allowed_roles: list[str]


_T = TypeVar("_T", Role, Component)


def _named(items: list[_T], wanted: str, other: str, what: str) -> _T:
    """The item whose name (or other attribute: key, abbreviation) is wanted; a UsageError listing the names."""
    for item in items:
        if wanted in (item.name, getattr(item, other)):
            return item
    known = ", ".join(f'"{item.name}"' for item in items)
    raise UsageError(f'the role matrix has no {what} "{wanted}"', f"use one of: {known}")


class RoleMatrix(_Strict):
    source: str = ""
    note: str = ""
    roles: list[Role]
    components: list[Component]

    def components_for(self, roles: list[str] | set[str]) -> set[str]:
        """Components a person holding these roles may use: the union of their rows (SSI-NFR-27)."""
        held = set(roles)
        return {c.key for c in self.components if held & set(c.allowed_roles)}

    def component(self, key: str) -> Component:
        for c in self.components:
            if c.key == key:
                return c
        raise KeyError(key)

    def component_named(self, name_or_key: str) -> Component:
        """A component by its name in the matrix (as scenarios write it) or by its key."""
        return _named(self.components, name_or_key, "key", "function")

    def role(self, name_or_abbr: str) -> Role:
        """A Job Type Role by its name ('Lead Agent') or abbreviation ('LA')."""
        return _named(self.roles, name_or_abbr, "abbr", "Job Type Role")

    @model_validator(mode="after")
    def _consistent(self) -> RoleMatrix:
        abbrs = [r.abbr for r in self.roles]
        if len(set(abbrs)) != len(abbrs):
            raise ValueError("roles: the same abbreviation appears twice")
        keys = [c.key for c in self.components]
        if len(set(keys)) != len(keys):
            raise ValueError("components: the same key appears twice")
        for c in self.components:
            unknown = sorted(set(c.allowed_roles) - set(abbrs))
            if unknown:
                raise ValueError(f"component {c.key}: allowed_roles names unknown role(s) {', '.join(unknown)}")
        return self

    @property
    def role_abbrs(self) -> list[str]:
        return [r.abbr for r in self.roles]


class Choice(_Strict):
    value: str
    label: str


class IncidentCategory(_Strict):
    """A ServiceNow `category` choice; `premises` ones need a Device ID or MPxN (SSI-FR-26)."""

    value: str
    label: str
    premises: bool = False
    subcategories: list[Choice] = []


class SecCategory(_Strict):
    """An SEC H9 Incident Category (1 most severe) and its target resolution time."""

    value: int = Field(ge=1)
    label: str
    target_resolution_hours: float = Field(gt=0)


class IncidentLimits(_Strict):
    """Maximum lengths (characters) the server enforces; ServiceNow's base short_description is 160."""

    short_description: int = Field(160, gt=0)
    description: int = Field(4000, gt=0)
    comment: int = Field(4000, gt=0)
    close_notes: int = Field(4000, gt=0)
    your_reference: int = Field(40, gt=0)
    contact_name: int = Field(50, gt=0)
    contact_email: int = Field(100, gt=0)
    device_id: int = Field(200, gt=0)
    mpxn: int = Field(200, gt=0)


class AttachmentRules(_Strict):
    max_bytes: int = Field(5 * 1024 * 1024, gt=0)
    allowed_extensions: list[str] = ["pdf", "txt", "csv", "png", "jpg", "jpeg", "docx", "xlsx", "zip", "log"]

    @field_validator("allowed_extensions")
    @classmethod
    def _lower(cls, v: list[str]) -> list[str]:
        return [e.lower().lstrip(".") for e in v]


TICKET_ACTIONS = ("resolve", "close", "reopen")  # the ticket page's state actions (labels.incident.<key>)
REQUEST_UPDATES = ("comment", "attach")  # what a requester adds to an item (service_requests.requester_updates)
OPEN_ITEM = 1  # sc_req_item.state Open: every item is ordered in it


def check_state_rules(states: dict[int, str], noun: str, known: tuple[str, ...], what: str,
                      acts: tuple[str, dict[int, list[str]]], changes: tuple[str, dict[int, list[int]]]) -> None:
    """What a user may do in each state (acts: its key and value; `what` one is, of the `known` ones) and the state
    changes they may make (changes: its key and value) name only known states and known actions: a ValueError
    naming the first that does not."""
    (key, by_state), (tkey, transitions) = acts, changes
    for state, done in by_state.items():
        if state not in states:
            raise ValueError(f"{key}: {state} is not {noun}")
        unknown = sorted(set(done) - set(known))
        if unknown:
            raise ValueError(f"{key}: unknown {what} {unknown[0]!r} (use {', '.join(known)})")
    for state, targets in transitions.items():
        bad = [s for s in (state, *targets) if s not in states]
        if bad:
            raise ValueError(f"{tkey}: {bad[0]} is not {noun}")


def state_by_label(states: dict[int, str], label: str, noun: str) -> int:
    """A state's value by its label; a ValueError listing the labels when none has it."""
    found = [k for k, v in states.items() if v == label]
    if not found:
        raise ValueError(f'"{label}" is not {noun} (states: {", ".join(states.values())})')
    return found[0]


def shortest_paths(start: int, changes_from: Callable[[int], list[int]]) -> dict[int, list[int]]:
    """Each state reachable from `start` by the allowed changes, with the shortest run of changes to it."""
    paths: dict[int, list[int]] = {start: []}
    todo = [start]
    while todo:
        here = todo.pop(0)
        for nxt in changes_from(here):
            if nxt not in paths:
                paths[nxt] = [*paths[here], nxt]
                todo.append(nxt)
    return paths


class Incidents(_Strict):
    """The incident table as DCC configures it: choice lists, matrices, limits (base-system defaults)."""

    record_producer_sys_id: str = "3f1dd0320a0a0b99000a53f7604a2ef9"
    number_prefix: str = "INC"
    number_digits: int = 7
    number_start: int = Field(10001, ge=0)
    categories: list[IncidentCategory] = [
        IncidentCategory(value="service_management", label="Service management"),
        IncidentCategory(value="premises", label="Premises related", premises=True),
    ]
    impact: list[Choice] = [Choice(value="1", label="1 - High"), Choice(value="2", label="2 - Medium"),
                            Choice(value="3", label="3 - Low")]
    urgency: list[Choice] = [Choice(value="1", label="1 - High"), Choice(value="2", label="2 - Medium"),
                             Choice(value="3", label="3 - Low")]
    priority: list[Choice] = [Choice(value=str(i), label=lbl) for i, lbl in
                              enumerate(["1 - Critical", "2 - High", "3 - Moderate", "4 - Low", "5 - Planning"], 1)]
    # priority_matrix[impact-1][urgency-1]: ServiceNow's Priority Lookup Rules
    priority_matrix: list[list[int]] = [[1, 2, 3], [2, 3, 4], [3, 4, 5]]
    states: dict[int, str] = {1: "New", 2: "In Progress", 3: "On Hold", 6: "Resolved", 7: "Closed", 8: "Canceled"}
    hold_reasons: dict[int, str] = {1: "Awaiting Caller", 3: "Awaiting Problem", 4: "Awaiting Vendor",
                                    5: "Awaiting Change"}
    close_codes: list[str] = ["Duplicate", "Known error", "No resolution provided", "Resolved by caller",
                              "Resolved by change", "Resolved by problem", "Resolved by request", "Solution provided",
                              "Workaround provided", "User error"]
    update_types: list[str] = ["Additional information", "Request for progress", "Escalation"]
    sec_categories: list[SecCategory] = [SecCategory(value=i, label=f"Category {i}", target_resolution_hours=h)
                                         for i, h in zip(range(1, 6), (4, 8, 24, 72, 120), strict=True)]
    sec_category_by_priority: dict[int, int] = {1: 1, 2: 2, 3: 3, 4: 4, 5: 5}
    limits: IncidentLimits = IncidentLimits()
    attachments: AttachmentRules = AttachmentRules()
    list_page_size: int = Field(20, gt=0, le=100)
    # What a portal user with the incident_update function may do in each state: the actions the ticket page
    # offers (resolve, close, reopen) and the states the Table API lets them set. A state left out: nothing.
    caller_actions: dict[int, list[str]] = {1: ["resolve"], 2: ["resolve"], 3: ["resolve"], 6: ["close", "reopen"]}
    caller_transitions: dict[int, list[int]] = {1: [6], 2: [6], 3: [6], 6: [7, 2]}

    @field_validator("priority_matrix")
    @classmethod
    def _matrix(cls, v: list[list[int]]) -> list[list[int]]:
        if len(v) != 3 or any(len(row) != 3 for row in v) or any(not 1 <= p <= 5 for row in v for p in row):
            raise ValueError("must be 3 rows (impact 1-3) of 3 priorities (urgency 1-3), each 1 to 5")
        return v

    @field_validator("states")
    @classmethod
    def _states(cls, v: dict[int, str]) -> dict[int, str]:
        if set(v) != {1, 2, 3, 6, 7, 8}:
            raise ValueError("must label exactly the ServiceNow incident states 1, 2, 3, 6, 7 and 8")
        return v

    @model_validator(mode="after")
    def _caller_rules(self) -> Incidents:
        check_state_rules(self.states, "an incident state", TICKET_ACTIONS, "action",
                          ("caller_actions", self.caller_actions), ("caller_transitions", self.caller_transitions))
        return self

    def state_value(self, label: str) -> int:
        """An incident state's value, by its label."""
        return state_by_label(self.states, label, "an incident state")

    def actions_in(self, state: int) -> list[str]:
        """The ticket actions (keys of labels.incident) a user who may update incidents is offered in this state."""
        return list(self.caller_actions.get(state, []))

    def changes_from(self, state: int) -> list[int]:
        """The states a user who may update incidents may set from this one through the Table API."""
        return list(self.caller_transitions.get(state, []))

    def caller_path(self, state: int) -> list[int] | None:
        """The shortest run of state changes a user who may update incidents makes to bring a New incident to
        `state` ([] for New itself), or None when only DCC's service desk sets it."""
        return shortest_paths(1, self.changes_from).get(state)

    def reachable_by_caller(self) -> list[int]:
        """The states a user who may raise and update incidents can bring one of theirs to (from New), in order."""
        return [s for s in self.states if self.caller_path(s) is not None]

    def category(self, value: str) -> IncidentCategory | None:
        return next((c for c in self.categories if c.value == value), None)

    def priority_of(self, impact: int, urgency: int) -> int:
        return self.priority_matrix[impact - 1][urgency - 1]

    def sec_category(self, priority: int) -> SecCategory:
        value = self.sec_category_by_priority.get(priority, priority)
        return next(c for c in self.sec_categories if c.value == value)

    @staticmethod
    def label_of(choices: list[Choice], value: object) -> str:
        return next((c.label for c in choices if c.value == str(value)), "" if value in (None, "") else str(value))


class CatalogVariable(_Strict):
    """A variable of a catalogue item (rendered as sp_formfield_<name>), labelled as DCC's item labels it."""

    name: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    label: str
    type: Literal["text", "textarea", "choice", "email", "tel", "attachment"] = "text"
    mandatory: bool = False
    max_length: int = Field(200, gt=0)
    choices: list[Choice] = []
    # an attachment variable: one file, of these types, at most this size, signed by the organisation's key
    extensions: list[str] = []
    max_bytes: int = Field(1024 * 1024, gt=0)
    signed: bool = False

    @model_validator(mode="after")
    def _choices(self) -> CatalogVariable:
        if (self.type == "choice") != bool(self.choices):
            raise ValueError(f"variable {self.name}: a choice variable needs choices, and only it may have them")
        return self


class CatalogItemConfig(_Strict):
    """A service catalogue item (sc_cat_item) and its variables; the variable named `summary` becomes the
    requested item's short description."""

    key: str = Field(pattern=r"^[a-z][a-z0-9_]*$")  # what steps call it: "general"
    sys_id: str = Field(pattern=r"^[0-9a-f]{32}$")
    name: str
    short_description: str = ""
    category: str = "Service management"
    first_stage: str = "request_approved"  # where DCC's workflow starts (a key of service_requests.stages)
    notify: bool = False  # email the requester when the request is received and at each of DCC's outcomes
    # the variable naming the incident this request answers (DCC raised it, asking for this item): the SSI checks
    # it is the organisation's open incident that asks for it, and resolves it when DCC has processed the request
    answers_incident: str | None = None
    variables: list[CatalogVariable]

    @model_validator(mode="after")
    def _summary(self) -> CatalogItemConfig:
        names = [v.name for v in self.variables]
        if "summary" not in names or len(set(names)) != len(names):
            raise ValueError(f"item {self.key}: variables must have distinct names, one of them 'summary'")
        if self.answers_incident and self.answers_incident not in names:
            raise ValueError(f"item {self.key}: answers_incident must name one of its variables")
        return self

    def variable(self, name_or_label: str) -> CatalogVariable:
        for v in self.variables:
            if name_or_label in (v.name, v.label):
                return v
        known = ", ".join(f'"{v.label}"' for v in self.variables)
        raise UsageError(f'catalogue item "{self.name}" has no variable "{name_or_label}"', f"use one of {known}")


def _general_item() -> CatalogItemConfig:
    contact = [CatalogVariable(name="contact_first_name", label="First name", mandatory=True, max_length=50),
               CatalogVariable(name="contact_last_name", label="Last name", mandatory=True, max_length=50),
               CatalogVariable(name="contact_phone", label="Contact telephone number", type="tel", mandatory=True,
                               max_length=40),
               CatalogVariable(name="contact_email", label="Email", type="email", max_length=100)]
    kinds = [("information", "Request for information"), ("access", "Access or permissions"),
             ("report", "Report request"), ("other", "Other service request")]
    return CatalogItemConfig(
        key="general", sys_id="6d4c0b5adb2a1010f0a1c2d3e4f50601", name="Service Management Service Request",
        short_description="Ask DCC's service desk for a service that the catalogue does not list separately",
        variables=[CatalogVariable(name="request_type", label="Request type", type="choice", mandatory=True,
                                   choices=[Choice(value=v, label=lbl) for v, lbl in kinds]),
                   CatalogVariable(name="summary", label="Request summary", mandatory=True, max_length=160),
                   CatalogVariable(name="details", label="Request details", type="textarea", max_length=4000),
                   CatalogVariable(name="your_reference", label="Your reference", max_length=40), *contact])


def _adt_item() -> CatalogItemConfig:
    return CatalogItemConfig(
        key="adt", sys_id="7e5d1c6beb3a2010a1b2c3d4e5f60702", name="ADT file submission",
        short_description="Submit a signed Anomaly Detection Threshold file for DCC to validate and load",
        category="Anomaly detection", first_stage="validation", notify=True,
        variables=[CatalogVariable(name="summary", label="Submission title", mandatory=True, max_length=160),
                   CatalogVariable(name="adt_file", label="ADT file", type="attachment", mandatory=True,
                                   extensions=["csv"], max_bytes=1024 * 1024, signed=True),
                   CatalogVariable(name="your_reference", label="Your reference", max_length=40)])


def _quarantine_item() -> CatalogItemConfig:
    return CatalogItemConfig(
        key="quarantine", sys_id="8f6e2d7cfc4b3020b2c3d4e5f6070803", name="Quarantine command action",
        short_description="Answer DCC's incident about quarantined commands with a signed action file",
        category="Anomaly detection", first_stage="processing", notify=True, answers_incident="incident",
        variables=[CatalogVariable(name="incident", label="Incident number", mandatory=True, max_length=40),
                   CatalogVariable(name="summary", label="Submission title", mandatory=True, max_length=160),
                   CatalogVariable(name="action_file", label="Action file", type="attachment", mandatory=True,
                                   extensions=["csv"], max_bytes=1024 * 1024, signed=True)])


class ServiceRequests(_Strict):
    """The service catalogue (BFD09) as ServiceNow's base system keeps it: a request (sc_request, REQ...) holds
    one requested item (sc_req_item, RITM...) of a catalogue item; DCC's work is catalogue tasks (sc_task)."""

    request_prefix: str = "REQ"
    item_prefix: str = "RITM"
    task_prefix: str = "SCTASK"
    # sc_request.request_state and sc_req_item.stage (the "delivery status" a user sees), base-system values
    request_states: dict[str, str] = {"requested": "Requested", "in_process": "In process",
                                      "closed_complete": "Closed complete", "closed_incomplete": "Closed incomplete",
                                      "closed_cancelled": "Closed cancelled"}
    stages: dict[str, str] = {"request_approved": "Request approved", "fulfillment": "Fulfillment",
                              "delivery": "Delivery", "complete": "Completed", "Request Cancelled": "Request cancelled",
                              "validation": "Awaiting DCC validation", "processing": "Processing",
                              "rejected": "Rejected"}
    items: list[CatalogItemConfig] = [_general_item(), _adt_item(), _quarantine_item()]
    # sc_req_item.state (base-system values and labels). What the requester may do in each state: the updates the
    # ticket page offers and the Table API takes (comment, attach), and the states the Table API lets them set.
    # A state left out: nothing. An item is ordered Open; DCC's desk and workflow set the others.
    item_states: dict[int, str] = {1: "Open", 2: "Work in Progress", 3: "Closed Complete", 4: "Closed Incomplete",
                                   7: "Closed Skipped"}
    requester_updates: dict[int, list[str]] = {1: ["comment", "attach"], 2: ["comment", "attach"]}
    requester_transitions: dict[int, list[int]] = {}

    @field_validator("item_states")
    @classmethod
    def _item_states(cls, v: dict[int, str]) -> dict[int, str]:
        if OPEN_ITEM not in v:
            raise ValueError(f"must label the state {OPEN_ITEM} (Open), in which every item is ordered")
        return v

    @model_validator(mode="after")
    def _requester_rules(self) -> ServiceRequests:
        check_state_rules(self.item_states, "an item state", REQUEST_UPDATES, "update",
                          ("requester_updates", self.requester_updates),
                          ("requester_transitions", self.requester_transitions))
        return self

    def item_state_value(self, label: str) -> int:
        """A requested item's state value, by its label."""
        return state_by_label(self.item_states, label, "an item state")

    def updates_in(self, state: int) -> list[str]:
        """The updates (comment, attach) the requester may make to an item in this state."""
        return [u for u in REQUEST_UPDATES if u in self.requester_updates.get(state, [])]

    def changes_from(self, state: int) -> list[int]:
        """The item states the requester may set from this one through the Table API."""
        return list(self.requester_transitions.get(state, []))

    def requester_path(self, state: int) -> list[int] | None:
        """The shortest run of state changes the requester makes to bring an Open item to `state` ([] for Open),
        or None when only DCC sets it."""
        return shortest_paths(OPEN_ITEM, self.changes_from).get(state)

    @field_validator("request_states")
    @classmethod
    def _request_states(cls, v: dict[str, str]) -> dict[str, str]:
        return _require_keys("request", ("requested", "in_process", "closed_complete"))(v)

    @field_validator("stages")
    @classmethod
    def _stages(cls, v: dict[str, str]) -> dict[str, str]:
        return _require_keys("stage", ("request_approved", "fulfillment", "complete"))(v)

    @model_validator(mode="after")
    def _first_stages(self) -> ServiceRequests:
        bad = [i.key for i in self.items if i.first_stage not in self.stages]
        if bad:
            raise ValueError(f"items {', '.join(bad)}: first_stage must be one of the stages")
        return self

    def item(self, key_or_name: str) -> CatalogItemConfig:
        for i in self.items:
            if key_or_name in (i.key, i.name, i.sys_id):
                return i
        known = ", ".join(f'"{i.name}"' for i in self.items)
        raise UsageError(f'the service catalogue has no item "{key_or_name}"', f"use one of {known}")


class TableApi(_Strict):
    """Whether the target offers ServiceNow's REST Table API to portal users (basic auth)."""

    enabled: bool = True
    path: str = "/api/now/table"

class OmsChoice(_Strict):
    """One entry of a choice list: the stored value and the label a user sees."""

    value: str
    label: str


class OmsItem(_Strict):
    """A catalogue item: a Communications Hub variant or a piece of auxiliary equipment."""

    code: str
    name: str


def _require_keys(kind: str, required: tuple[str, ...]):
    def check(v: dict[str, str]) -> dict[str, str]:
        missing = [k for k in required if k not in v]
        if missing:
            raise ValueError(f"{kind} status names must name {', '.join(required)} "
                             f"(missing: {', '.join(missing)})")
        return v

    return check


ORDER_STATES = ("draft", "submitted", "confirmed")
CONSIGNMENT_STATES = ("scheduled", "dispatched", "delivered", "accepted", "rejected")
RETURN_STATES = ("requested", "authorised", "collected", "received", "triage", "closed")


class OmsStatuses(_Strict):
    """Visible status names; the keys are the states the reference SSI's workflow knows."""

    order: dict[str, str] = {k: k.capitalize() for k in ORDER_STATES}
    consignment: dict[str, str] = {k: k.capitalize() for k in CONSIGNMENT_STATES}
    returns: dict[str, str] = {k: k.capitalize() for k in RETURN_STATES}

    _order = field_validator("order")(_require_keys("order", ORDER_STATES))
    _consignment = field_validator("consignment")(_require_keys("consignment", CONSIGNMENT_STATES))
    _returns = field_validator("returns")(_require_keys("return", RETURN_STATES))


class OmsNumbers(_Strict):
    """ServiceNow-style number prefixes (sys_number): prefix + 7 digits, e.g. CHO0010001."""

    forecast: str = "CHF"
    order: str = "CHO"
    consignment: str = "CON"
    returns: str = "CHR"
    rma: str = "RMA"


class Oms(_Strict):
    """The Order Management System module (BFD13). DCC has published no OMS screens or rules:
    every value here is an assumption to replace with DCC's UIT material."""

    regions: list[str] = ["North", "Central", "South"]
    ch_variants: list[OmsItem] = [OmsItem(code="CH4G-SB", name="4G CH single band"),
                                  OmsItem(code="CH4G-DB", name="4G CH dual band")]
    auxiliary_equipment: list[OmsItem] = [OmsItem(code="AUX-AER", name="External aerial"),
                                          OmsItem(code="AUX-FLY", name="Flying lead")]
    horizon_months: int = Field(24, ge=1, le=60)  # forecast months ahead, starting next month
    lock_months: int = Field(3, ge=0)  # the first N months of the horizon can no longer be changed
    tolerance_percent: float = Field(10, ge=0)  # order vs forecast, per variant and month
    lead_time_days: int = Field(10, ge=0)  # earliest delivery date: today + lead time
    max_quantity: int = Field(100_000, ge=1)  # per forecast month and per order line
    consignment_max_quantity: int = Field(1000, ge=1)  # a confirmed order line is split into consignments
    return_max_devices: int = Field(50, ge=1)
    device_id_pattern: str = r"^[0-9A-F]{2}(-[0-9A-F]{2}){7}$"  # CH device ID (EUI-64), upper case
    device_id_example: str = "00-DB-12-34-56-78-9A-BC"
    return_reasons: list[OmsChoice] = [OmsChoice(value="faulty_in_life", label="Faulty in life"),
                                       OmsChoice(value="no_fault_found", label="No fault found"),
                                       OmsChoice(value="wrong_item", label="Wrong item")]
    rejection_reasons: list[OmsChoice] = [OmsChoice(value="damaged", label="Damaged in transit"),
                                          OmsChoice(value="wrong_item", label="Wrong item"),
                                          OmsChoice(value="short", label="Quantity short")]
    triage_outcomes: list[OmsChoice] = [OmsChoice(value="fault_confirmed", label="Fault confirmed"),
                                        OmsChoice(value="no_fault_found", label="No fault found"),
                                        OmsChoice(value="damaged", label="Physical damage")]
    statuses: OmsStatuses = OmsStatuses()
    numbers: OmsNumbers = OmsNumbers()

    @model_validator(mode="after")
    def _consistent(self) -> Oms:
        if self.lock_months >= self.horizon_months:
            raise ValueError("lock_months must be smaller than horizon_months")
        for name, items in (("regions", self.regions), ("ch_variants", [i.code for i in self.ch_variants]),
                            ("auxiliary_equipment", [i.code for i in self.auxiliary_equipment])):
            if not items or len(set(items)) != len(items):
                raise ValueError(f"{name} must be a non-empty list without duplicates")
        re.compile(self.device_id_pattern)
        return self

    def items(self) -> list[OmsItem]:
        return [*self.ch_variants, *self.auxiliary_equipment]

    def item(self, code_or_name: str) -> OmsItem:
        for i in self.items():
            if code_or_name in (i.code, i.name):
                return i
        known = ", ".join(f'"{i.name}"' for i in self.items())
        raise UsageError(f'the OMS catalogue has no item "{code_or_name}"', f"use one of {known}")

    def status(self, kind: str, state: str) -> str:
        return getattr(self.statuses, kind)[state]

    @staticmethod
    def choice(choices: list[OmsChoice], value_or_label: str) -> OmsChoice:
        for c in choices:
            if value_or_label in (c.value, c.label):
                return c
        known = ", ".join(f'"{c.label}"' for c in choices)
        raise UsageError(f'"{value_or_label}" is not in the profile\'s choice list', f"use one of {known}")
# The OMS pages' accessible names the page objects find elements by (the OMS menu, tables, lists, facts
# and the returns search), as labels.oms.<key>. A profile that does not state one gets the reference
# SSI's own wording below; {region} and {version} stand for the Region and the forecast version number.
OMS_LABEL_DEFAULTS: dict[str, str] = {
    "menu_region": "OMS menu",
    "regions_list": "Regions",
    "variants_table": "Communications Hub variants",
    "auxiliary_table": "Auxiliary equipment",
    "forecast_table": "Forecast for {region}",
    "forecast_version": "Forecast version {version}",
    "versions_table": "Forecast versions",
    "version_row": "Version {version}",
    "number": "Number",
    "order_lines_table": "Order lines",
    "consignments_table": "Consignments",
    "consignment_number": "Consignment",
    "quantity": "Quantity",
    "devices_table": "Devices in this consignment",
    "return_number": "Return",
    "returned_devices_table": "Returned devices",
    "returns_table": "Returns",
    "returns_search": "Search returns",
    "orders_table": "Orders",
}
# Labels the page objects need that older profiles may not state, with the reference SSI's wording.
LABEL_DEFAULTS: dict[str, dict[str, str]] = {
    "oms": OMS_LABEL_DEFAULTS,
    "incident": {"add_attachments": "Add attachments"},
    # the service catalogue (BFD09): its page, an item's form, a request's ticket page
    "service_request": {
        "items": "Catalogue items",
        "request_item": "Request", "open_requests": "Open service requests", "no_requests": "No open service requests",
        "submit": "Submit", "form_error": "The request was not submitted. Correct the fields marked below.",
        "raised": "Request submitted", "request_number": "Request", "item": "Item", "stage": "Delivery status",
        "request_state": "Request state", "raised_on": "Raised", "requested_for": "Requested for",
        "organisation": "Raising organisation", "variables": "Options", "number": "Number",
        "respond": "Respond with",
    },
    "login": {"locate_heading": "Log in with single sign-on", "locate_submit": "Submit"},  # login_locate_sso.do
    "mfa": {"remember_browser": "Remember this browser"},  # the Service Portal's paperclip button
    # My profile (SSI-FR-62/63): the labels of its values and of the table of functions and its columns
    "user_profile": {"user_id": "User ID", "name": "Name", "roles": "Roles", "user_ids": "Organisations (User IDs)",
                     "functions": "Functions available to me", "function": "Function", "available": "Available"},
}


class ComponentPage(_Strict):
    """Where a role-matrix component lives on the portal: its page, its menu label and its heading.

    A component the profile does not list gets the reference SSI's defaults: page fn_<key>,
    and the component's name from the role matrix as menu label and heading.
    menu: null means the function has no menu entry (it is reached from another page).
    """

    page: str
    params: dict[str, str] = {}
    menu: str | None = None
    heading: str | None = None


class UserAdmin(_Strict):
    """Organisational Administrator functions (UC_OrgManager_001..003)."""

    page_size: int = Field(10, ge=1, le=200)
    # Roles an administrator may grant; empty: every role of the matrix (FSM: no DCC validation, 000 s2.2).
    assignable_roles: list[str] = []
    max_lengths: dict[str, int] = {"user_name": 40, "first_name": 50, "last_name": 50, "email": 100, "phone": 40}


class Profile(_Strict):
    name: str
    description: str = ""
    portal: Portal = Portal()
    session: Session = Session()
    mfa: Mfa = Mfa()
    sso: Sso = Sso()
    labels: dict[str, dict[str, str]]
    evidence: Evidence = Evidence()
    role_matrix: RoleMatrix
    incidents: Incidents = Incidents()
    table_api: TableApi = TableApi()

    oms: Oms = Oms()
    service_requests: ServiceRequests = ServiceRequests()
    component_pages: dict[str, ComponentPage] = {}
    user_admin: UserAdmin = UserAdmin()

    @model_validator(mode="before")
    @classmethod
    def _label_defaults(cls, data: object) -> object:
        """Each labels group of LABEL_DEFAULTS gets its defaults for every key the profile does not state."""
        if isinstance(data, dict) and isinstance(data.get("labels"), dict):
            labels = dict(data["labels"])
            for group, defaults in LABEL_DEFAULTS.items():
                stated = labels.get(group) if isinstance(labels.get(group), dict) else {}
                labels[group] = {**defaults, **stated}
            data = {**data, "labels": labels}
        return data

    def component_page(self, key: str) -> ComponentPage:
        """Where component `key` lives (listed in the profile, or the reference SSI's default)."""
        comp = self.role_matrix.component(key)
        found = self.component_pages.get(key)
        if found is None:
            return ComponentPage(page=f"fn_{key}", menu=comp.name, heading=comp.name)
        return found

    def assignable_roles(self) -> list[str]:
        return list(self.user_admin.assignable_roles) or self.role_matrix.role_abbrs

    @model_validator(mode="after")
    def _known_keys(self) -> Profile:
        keys = {c.key for c in self.role_matrix.components}
        unknown = sorted(set(self.component_pages) - keys)
        if unknown:
            raise ValueError(f"component_pages: {', '.join(unknown)} is not a component of the role matrix")
        bad = sorted(set(self.user_admin.assignable_roles) - set(self.role_matrix.role_abbrs))
        if bad:
            raise ValueError(f"user_admin.assignable_roles: {', '.join(bad)} is not a role of the role matrix")
        return self

    def label(self, dotted: str) -> str:
        """A visible label, e.g. label('login.username') -> 'User name'."""
        group, _, key = dotted.partition(".")
        try:
            return self.labels[group][key]
        except KeyError:
            raise UsageError(
                f"profile '{self.name}' has no label '{dotted}'",
                f"add labels.{group}.{key} to the profile",
            ) from None


# Incident fields (record-producer variables and ticket fields) -> their label key under labels.incident:
# the reference SSI labels its form with them and the page objects find the fields by them.
INCIDENT_LABEL_KEYS = {
    "category": "category",
    "subcategory": "subcategory",
    "impact": "impact",
    "urgency": "urgency",
    "short_description": "short_description",
    "description": "description",
    "u_contact_first_name": "contact_first_name",
    "u_contact_last_name": "contact_last_name",
    "u_contact_phone": "contact_phone",
    "u_contact_email": "contact_email",
    "u_device_id": "device_id",
    "u_mpxn": "mpxn",
    "u_your_reference": "your_reference",
    "close_code": "close_code",
    "close_notes": "close_notes",
    "comments": "comment",
    "u_update_type": "update_type",
    "hold_reason": "hold_reason",
    "state": "state",
    "work_notes": "comment",
}


def incident_label_key(field: str) -> str:
    """The labels.incident key of an incident field (a field without an entry is its own key)."""
    return INCIDENT_LABEL_KEYS.get(field, field)


@cache
def load_profile(name_or_path: str = "reference") -> Profile:
    """Load a profile by built-in name ('reference') or by path to a YAML file."""
    path = Path(name_or_path)
    if not path.suffix:
        path = PROFILES_DIR / f"{name_or_path}.yaml"
    if not path.is_file():
        raise UsageError(
            f"target profile '{name_or_path}' not found (looked for {path})",
            "give the name of a built-in profile ('reference') or the path to a profile YAML file",
        )
    data = read_yaml(path, "profile") or {}
    if not isinstance(data, dict):
        raise UsageError(f"profile {path} must hold a mapping (portal:, session:, mfa:, labels: ...)",
                         "start from a copy of ssi/profiles/reference.yaml")
    matrix_ref = data.get("role_matrix", "role_matrix.yaml")
    if isinstance(matrix_ref, str):
        matrix_path = path.parent / matrix_ref
        if not matrix_path.is_file():
            raise UsageError(f"profile {path}: role matrix file {matrix_path} not found", "fix 'role_matrix'")
        data["role_matrix"] = read_yaml(matrix_path, "role matrix")
    try:
        return Profile.model_validate(data)
    except ValidationError as exc:
        raise UsageError(f"profile {path}: {first_problem(exc)}", "correct that value in the profile") from None
