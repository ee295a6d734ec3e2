"""Features generated from the target profile: the access-control cells of its role matrix, and the state x action
matrices of its incidents and requested items.

features/access_control.feature is a template: real Gherkin whose Scenario Outlines carry
Examples tables with a header only, each announced by a comment `# uept:generate <kind>`.
When the suite is collected, the rows are generated from the role matrix of the target
profile in use (ssi/profiles/role_matrix.yaml for the reference SSI). pytest-bdd runs the
completed feature from a folder under the suite (.uept/generated/<digest of its text>/:
Allure's pytest-bdd plugin needs every feature file inside the suite's root), and a copy goes
into the run's evidence folder (reports/<run-id>/features/). So changing the matrix changes
the scenarios and nothing else, and the evidence keeps exactly the cells that were tested.

Kinds of rows:
  granted    | persona | function | role |  every cell the matrix allows
  withheld   | persona | function | role |  every cell it does not (for roles that may log in)
  roles      | persona | role |             one row per role
  no_log_in  | persona | role |             roles without the Log In component (the outline is
                                             left out when there is none)
  incident_states       | persona | raiser | state | actions | changes |
                        for each role that may view incidents and each state a user can bring an
                        incident to (incidents.caller_transitions from New): the actions the ticket page
                        offers it (incidents.caller_actions, none without "Update service management
                        incidents") and the states the Table API lets it set; `raiser` is the persona of
                        the first role that may raise and update incidents, who prepares each incident
  incident_states_desk  the same for the states only DCC's service desk sets (On Hold, Canceled)
  request_states        | persona | raiser | state | updates | changes |
                        for each role with the service catalogue and each item state a requester can bring
                        an item to (service_requests.requester_transitions from Open): the updates the ticket
                        page offers and the APIs take (service_requests.requester_updates, by the page's
                        labels) and the states the Table API lets them set; `raiser` is the persona of the
                        first such role, who orders each item
  request_states_desk   the same for the item states only DCC sets (left out when there is none)

Each role is played by the target's persona holding exactly that role, preferring the
one named "<ABBR> user" (the reference SSI seeds one per role).
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

from ssi.errors import UsageError
from ssi.profile import Profile, RoleMatrix
from uept.runtime.config import Persona

LOG_IN = "log_in"
MARKER = re.compile(r"^\s*#\s*uept:generate\s+(\w+)\s*$")
BLOCK_START = re.compile(r"^\s*(@|Scenario|Rule|Background)")
# Why an outline whose rows come out empty is left out (only kinds that may be empty are listed)
NOTHING_TO_CHECK = {"no_log_in": "the role matrix gives every role Log In: nothing to check",
                    "request_states_desk": "a requester can bring an item to every state: nothing only DCC sets"}
SCENARIO_LINE = re.compile(r"^\s*Scenario(?: Outline| Template)?:\s*(.+?)\s*$")
INCIDENT_COLUMNS = ("persona", "raiser", "state", "actions", "changes")
REQUEST_COLUMNS = ("persona", "raiser", "state", "updates", "changes")
COLUMNS = {
    "incident_states": INCIDENT_COLUMNS,
    "incident_states_desk": INCIDENT_COLUMNS,
    "request_states": REQUEST_COLUMNS,
    "request_states_desk": REQUEST_COLUMNS,
    "granted": ("persona", "function", "role"),
    "withheld": ("persona", "function", "role"),
    "roles": ("persona", "role"),
    "no_log_in": ("persona", "role"),
}


@dataclass(frozen=True)
class Cell:
    persona: str
    role: str  # abbreviation
    role_name: str
    component: str  # key
    function: str  # component name, as scenarios write it
    allowed: bool


def persona_for_roles(matrix: RoleMatrix, personas: dict[str, Persona]) -> dict[str, str]:
    """{role abbr: persona key} for every role of the matrix."""
    out: dict[str, str] = {}
    for role in matrix.roles:
        holders = [k for k, p in personas.items() if p.roles == [role.abbr]]
        if not holders:
            raise UsageError(
                f"no persona holds exactly the Job Type Role {role.abbr} ({role.name}), needed by the "
                "access-control scenarios",
                f'add a persona "{role.abbr} user" with roles: [{role.abbr}] to the target '
                "(ssi/data/seed.yaml for the reference SSI, targets.<name>.personas in the config otherwise)",
            )
        preferred = f"{role.abbr} user"
        out[role.abbr] = preferred if preferred in holders else sorted(holders)[0]
    return out


def cells(matrix: RoleMatrix, personas: dict[str, Persona]) -> list[Cell]:
    """Every role x component cell, role by role (so one persona's cells run together)."""
    who = persona_for_roles(matrix, personas)
    return [
        Cell(who[r.abbr], r.abbr, r.name, c.key, c.name, r.abbr in c.allowed_roles)
        for r in matrix.roles
        for c in matrix.components
    ]


def quoted(names: list[str]) -> str:
    """'"A", "B" and "C"', or 'none'."""
    q = [f'"{n}"' for n in names]
    return "none" if not q else q[0] if len(q) == 1 else ", ".join(q[:-1]) + " and " + q[-1]


def incident_rows(kind: str, matrix: RoleMatrix, personas: dict[str, Persona],
                  profile: Profile | None) -> list[tuple[str, ...]]:
    """One row per role that may view incidents and per state (see the module's docstring)."""
    if profile is None:
        raise UsageError(f"'# uept:generate {kind}' needs the target profile's incidents", "give the profile")
    cfg, who = profile.incidents, persona_for_roles(matrix, personas)
    comp = {c.key: set(c.allowed_roles) for c in matrix.components}
    view, update = comp.get("incident_view", set()), comp.get("incident_update", set())
    raisers = [r.abbr for r in matrix.roles if r.abbr in comp.get("incident_raise", set()) and r.abbr in update]
    if not raisers:
        raise UsageError("no Job Type Role may both raise and update incidents, which the state x action "
                         "scenarios need to prepare their incidents", "check the role matrix")
    reachable = cfg.reachable_by_caller()
    states = [s for s in cfg.states if (s in reachable) == (kind == "incident_states")]
    out = []
    for role in (r for r in matrix.roles if r.abbr in view):
        may = role.abbr in update
        for s in states:
            actions = [profile.label(f"incident.{a}") for a in cfg.actions_in(s)] if may else []
            changes = [cfg.states[t] for t in cfg.changes_from(s)] if may else []
            out.append((who[role.abbr], who[raisers[0]], cfg.states[s], quoted(actions), quoted(changes)))
    return out


def request_rows(kind: str, matrix: RoleMatrix, personas: dict[str, Persona],
                 profile: Profile | None) -> list[tuple[str, ...]]:
    """One row per role with the service catalogue and per item state (see the module's docstring)."""
    if profile is None:
        raise UsageError(f"'# uept:generate {kind}' needs the target profile's service requests", "give the profile")
    cfg, who = profile.service_requests, persona_for_roles(matrix, personas)
    catalogue = {c.key: c.allowed_roles for c in matrix.components}.get("service_catalogue", [])
    roles = [r.abbr for r in matrix.roles if r.abbr in catalogue]
    if not roles:
        raise UsageError("no Job Type Role has the service catalogue, which the item state scenarios need",
                         "check the role matrix")
    names = {"comment": profile.label("incident.comment"), "attach": profile.label("incident.attach_file")}
    states = [s for s in cfg.item_states if (cfg.requester_path(s) is not None) == (kind == "request_states")]
    return [(who[role], who[roles[0]], cfg.item_states[s], quoted(sorted(names[u] for u in cfg.updates_in(s))),
             quoted([cfg.item_states[t] for t in cfg.changes_from(s)])) for role in roles for s in states]


def rows(kind: str, matrix: RoleMatrix, personas: dict[str, Persona],
         profile: Profile | None = None) -> list[tuple[str, ...]]:
    if kind in ("incident_states", "incident_states_desk"):
        return incident_rows(kind, matrix, personas, profile)
    if kind in ("request_states", "request_states_desk"):
        return request_rows(kind, matrix, personas, profile)
    all_cells = cells(matrix, personas)
    has_log_in = any(c.key == LOG_IN for c in matrix.components)
    may_log_in = {c.role for c in all_cells if c.component == LOG_IN and c.allowed} if has_log_in \
        else {r.abbr for r in matrix.roles}
    if kind == "granted":
        return [(c.persona, c.function, c.role_name) for c in all_cells if c.allowed and c.role in may_log_in]
    if kind == "withheld":
        return [(c.persona, c.function, c.role_name) for c in all_cells if not c.allowed and c.role in may_log_in]
    if kind == "roles":
        return [(c.persona, c.role_name) for c in all_cells if c.component == matrix.components[0].key
                and c.role in may_log_in]
    if kind == "no_log_in":
        return [(c.persona, c.role_name) for c in all_cells if c.component == LOG_IN and not c.allowed]
    raise UsageError(f"unknown '# uept:generate {kind}' in the access-control feature template",
                     f"use one of: {', '.join(COLUMNS)}")


def _table(header: tuple[str, ...], body: list[tuple[str, ...]], indent: str) -> list[str]:
    widths = [max(len(h), *(len(r[i]) for r in body)) if body else len(h) for i, h in enumerate(header)]

    def line(values: tuple[str, ...]) -> str:
        cells_ = " | ".join(v.replace("|", "\\|").ljust(w) for v, w in zip(values, widths, strict=True))
        return f"{indent}| {cells_} |"

    return [line(header), *(line(r) for r in body)]


def _blocks(lines: list[str]) -> list[list[str]]:
    """The feature header, then one block per scenario (its tags and comments above it included)."""
    starts = []
    for i, ln in enumerate(lines):
        if re.match(r"^\s*Scenario", ln):
            j = i
            while j > 0 and (lines[j - 1].strip().startswith(("@", "#"))):
                j -= 1
            starts.append(j)
    bounds = [0, *starts, len(lines)]
    return [lines[a:b] for a, b in zip(bounds, bounds[1:], strict=False) if b > a]


def render(template: str, matrix: RoleMatrix, personas: dict[str, Persona], profile: Profile | None = None) -> str:
    """The template with every `# uept:generate` table filled in."""
    return render_with_notes(template, matrix, personas, profile)[0]


def render_with_notes(template: str, matrix: RoleMatrix, personas: dict[str, Persona],
                      profile: Profile | None = None) -> tuple[str, dict[str, str]]:
    """render(), and {scenario name: why} for each outline left out because it has nothing to check."""
    out: list[str] = []
    left_out: dict[str, str] = {}
    for block in _blocks(template.splitlines()):
        filled: list[str] = []
        drop = False
        i = 0
        while i < len(block):
            m = MARKER.match(block[i])
            if not m:
                filled.append(block[i])
                i += 1
                continue
            kind = m.group(1)
            body = rows(kind, matrix, personas, profile)
            filled.append(block[i])
            i += 1
            while i < len(block) and not block[i].strip().startswith("|"):  # the Examples: line
                filled.append(block[i])
                i += 1
            if i >= len(block):
                raise UsageError(f"'# uept:generate {kind}' is not followed by an Examples table",
                                 "put the marker just above 'Examples:' and its header row")
            indent = block[i][: len(block[i]) - len(block[i].lstrip())]
            header = tuple(h.strip() for h in block[i].strip().strip("|").split("|"))
            if header != COLUMNS.get(kind, header):
                raise UsageError(f"the '{kind}' Examples table must have the columns {' | '.join(COLUMNS[kind])}",
                                 "fix the header row of that table in the template")
            while i < len(block) and block[i].strip().startswith("|"):  # drop the template's rows
                i += 1
            if not body:
                drop = kind in NOTHING_TO_CHECK
                if drop:
                    name = next((m.group(1) for ln in block if (m := SCENARIO_LINE.match(ln))), kind)
                    left_out[name] = NOTHING_TO_CHECK[kind]
                else:
                    raise UsageError(f"the role matrix yields no '{kind}' cells", "check the role matrix")
            filled.extend(_table(header, body, indent))
        if not drop:
            out.extend(filled)
    return "\n".join(out).rstrip("\n") + "\n", left_out


def is_template(text: str) -> bool:
    return any(MARKER.match(ln) for ln in text.splitlines())


def expander(profile: Profile, personas: dict[str, Persona]):
    """For the scenario set (uept/inventory.py): a template's completed text and notes, None for other features
    (and for a template this target cannot complete: collecting it says why, if it is selected). The whole
    profile is needed: its role matrix and its incidents both generate rows."""
    matrix = profile.role_matrix

    def expand(path: Path) -> tuple[str, dict[str, str]] | None:
        text = path.read_text(encoding="utf-8")
        if not is_template(text):
            return None
        try:
            return render_with_notes(text, matrix, personas, profile)
        except UsageError:
            return None

    return expand


def generate(template_path: Path, matrix: RoleMatrix, personas: dict[str, Persona],
             profile: Profile | None = None) -> str:
    """The completed feature's text."""
    return generate_with_notes(template_path, matrix, personas, profile)[0]


def generate_with_notes(template_path: Path, matrix: RoleMatrix, personas: dict[str, Persona],
                        profile: Profile | None = None) -> tuple[str, dict[str, str]]:
    """The completed feature's text, and why each outline left out of it has nothing to check."""
    try:
        template = template_path.read_text(encoding="utf-8")
    except OSError as exc:
        raise UsageError(f"cannot read the feature template {template_path} ({exc.strerror})",
                         f"restore {template_path}") from None
    return render_with_notes(template, matrix, personas, profile)


def write_feature(text: str, out_dir: Path, name: str) -> Path:
    """Write a feature file atomically (parallel workers write the same text)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    target = out_dir / name
    tmp = out_dir / f".{name}.{os.getpid()}.tmp"
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, target)
    return target

