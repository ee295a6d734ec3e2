"""The access-control feature is generated from the role matrix: the matrix changes, the scenarios follow."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml
from pytest_bdd.parser import FeatureParser

from ssi.errors import UsageError
from ssi.profile import PROFILES_DIR, RoleMatrix, load_profile
from uept.evidence import access_matrix
from uept.runtime.config import Persona, reference_target

TEMPLATE = Path(__file__).resolve().parent.parent / "features" / "access_control.feature"


def matrix_data() -> dict:
    return yaml.safe_load((PROFILES_DIR / "role_matrix.yaml").read_text())


def examples(path: Path) -> dict[str, list[dict[str, str]]]:
    feature = FeatureParser(str(path.parent), path.name).parse()
    out = {}
    for sc in feature.scenarios.values():
        tag = next(t for t in sc.tags if t.startswith("UEPT-ACCESS-"))
        out[tag] = [dict(zip(ex.example_params, row, strict=True)) for ex in sc.examples for row in ex.examples]
    return out


def generate(tmp_path: Path, matrix: RoleMatrix, personas: dict[str, Persona] | None = None) -> dict:
    personas = personas if personas is not None else reference_target().personas
    return examples(access_matrix.write_feature(access_matrix.generate(TEMPLATE, matrix, personas), tmp_path,
                                                TEMPLATE.name))


def test_the_reference_matrix_gives_one_scenario_per_cell(tmp_path):
    matrix = load_profile().role_matrix
    ex = generate(tmp_path, matrix)
    cells = {(r["persona"], r["function"]) for r in ex["UEPT-ACCESS-01"] + ex["UEPT-ACCESS-02"]}
    assert len(ex["UEPT-ACCESS-01"]) + len(ex["UEPT-ACCESS-02"]) == len(cells) == 11 * 22 == 242
    assert len(ex["UEPT-ACCESS-01"]) == sum(len(c.allowed_roles) for c in matrix.components) == 175
    assert {r["persona"] for r in ex["UEPT-ACCESS-03"]} == {f"{r.abbr} user" for r in matrix.roles}
    assert "UEPT-ACCESS-04" not in ex  # every role may log in: that outline is left out
    assert {"persona": "OA user", "function": "User account management", "role": "Organisational Administrator"} \
        in ex["UEPT-ACCESS-01"]
    assert {"persona": "AA user", "function": "User account management", "role": "All Access"} in ex["UEPT-ACCESS-02"]


def test_changing_the_matrix_changes_the_scenarios_and_nothing_else(tmp_path):
    data = matrix_data()
    reporting = next(c for c in data["components"] if c["key"] == "reporting")
    reporting["allowed_roles"].remove("LA")
    ex = generate(tmp_path, RoleMatrix.model_validate(data))
    cell = {"persona": "LA user", "function": "Reporting", "role": "Lead Agent"}
    assert cell in ex["UEPT-ACCESS-02"] and cell not in ex["UEPT-ACCESS-01"]
    assert len(ex["UEPT-ACCESS-01"]) == 174 and len(ex["UEPT-ACCESS-02"]) == 68


def test_a_role_without_log_in_gets_the_cannot_log_in_scenario_instead_of_its_cells(tmp_path):
    data = matrix_data()
    log_in = next(c for c in data["components"] if c["key"] == "log_in")
    log_in["allowed_roles"].remove("MI")
    ex = generate(tmp_path, RoleMatrix.model_validate(data))
    assert ex["UEPT-ACCESS-04"] == [{"persona": "MI user", "role": "MI User"}]
    assert not [r for k in ("UEPT-ACCESS-01", "UEPT-ACCESS-02", "UEPT-ACCESS-03") for r in ex[k]
                if r["persona"] == "MI user"]


def test_a_new_role_without_a_persona_stops_the_run_with_a_clear_message(tmp_path):
    data = matrix_data()
    data["roles"].append({"abbr": "OMSU", "name": "OMS User"})
    data["components"][0]["allowed_roles"].append("OMSU")
    with pytest.raises(UsageError) as err:
        generate(tmp_path, RoleMatrix.model_validate(data))
    assert "OMSU" in err.value.line() and 'persona "OMSU user"' in err.value.line()


def test_personas_are_found_by_their_single_role(tmp_path):
    personas = {"the auditor": Persona(username="aud", password_env="X", roles=["SCM"]),
                **{k: p for k, p in reference_target().personas.items() if k != "SCM user"}}
    ex = generate(tmp_path, load_profile().role_matrix, personas)
    assert {r["persona"] for r in ex["UEPT-ACCESS-03"] if r["role"] == "SEC Contract Manager"} == {"the auditor"}


def test_the_template_holds_no_rows_of_its_own():
    """The matrix is the single source of the cells: the template's generated tables have a header only."""
    ex = examples(TEMPLATE)
    assert ex and all(rows == [] for rows in ex.values())


def test_a_template_table_with_the_wrong_columns_is_refused(tmp_path):
    bad = tmp_path / "access_control.feature"
    bad.write_text(TEMPLATE.read_text().replace("| persona | function | role |", "| who | what |", 1))
    with pytest.raises(UsageError, match="must have the columns persona | function | role"):
        access_matrix.generate(bad, load_profile().role_matrix, reference_target().personas)


def test_a_matrix_naming_an_unknown_role_is_refused():
    data = matrix_data()
    data["components"][0]["allowed_roles"].append("ZZ")
    with pytest.raises(ValueError, match="unknown role"):
        RoleMatrix.model_validate(data)


# ---------------------------------------------------------------- the state x action matrix of incidents
INCIDENTS = Path(__file__).resolve().parent.parent / "features" / "incidents.feature"


def generated_rows(tmp_path: Path, profile, template: Path, tags: tuple[str, ...]) -> dict[str, list[dict[str, str]]]:
    """The rows the generator gives these outlines of a feature template, by tag, as {column: value}."""
    text = access_matrix.generate(template, profile.role_matrix, reference_target().personas, profile)
    feature = FeatureParser(str(tmp_path), access_matrix.write_feature(text, tmp_path, template.name).name).parse()
    return {tag: [dict(zip(ex.example_params, row, strict=True)) for ex in sc.examples for row in ex.examples]
            for sc in feature.scenarios.values() for tag in sc.tags if tag in tags}


def incident_rows(tmp_path: Path, profile) -> dict[str, list[dict[str, str]]]:
    return generated_rows(tmp_path, profile, INCIDENTS, ("UEPT-INC-25", "UEPT-INC-26"))


def test_the_state_x_action_rows_come_from_the_profile(tmp_path):
    profile = load_profile()
    ex = incident_rows(tmp_path, profile)
    viewers = {f"{r} user" for r in ("AA", "OA", "SU", "LA", "SM", "SMO", "SCM", "LOG")}
    assert {r["persona"] for r in ex["UEPT-INC-25"]} == viewers and len(ex["UEPT-INC-25"]) == 8 * 4
    assert {r["state"] for r in ex["UEPT-INC-25"]} == {"New", "In Progress", "Resolved", "Closed"}
    assert {r["state"] for r in ex["UEPT-INC-26"]} == {"On Hold", "Canceled"} and len(ex["UEPT-INC-26"]) == 16
    assert {"persona": "SM user", "raiser": "AA user", "state": "Resolved", "actions": '"Close" and "Reopen"',
            "changes": '"Closed" and "In Progress"'} in ex["UEPT-INC-25"]
    assert {"persona": "LA user", "raiser": "AA user", "state": "Resolved", "actions": "none", "changes": "none"} \
        in ex["UEPT-INC-25"]  # a role that may only view is offered nothing


def test_changing_the_profiles_incident_rules_changes_the_rows(tmp_path):
    data = yaml.safe_load((PROFILES_DIR / "reference.yaml").read_text())
    data["incidents"]["caller_actions"][6] = ["reopen"]  # DCC's portal does not let a caller close
    data["incidents"]["caller_transitions"][6] = [2]
    data["role_matrix"] = str(PROFILES_DIR / "role_matrix.yaml")
    (tmp_path / "p.yaml").write_text(yaml.safe_dump(data))
    ex = incident_rows(tmp_path, load_profile(str(tmp_path / "p.yaml")))
    row = next(r for r in ex["UEPT-INC-25"] if r["persona"] == "SM user" and r["state"] == "Resolved")
    assert (row["actions"], row["changes"]) == ('"Reopen"', '"In Progress"')
    assert "Closed" not in {r["state"] for r in ex["UEPT-INC-25"]}  # no user can close one: only the desk
    assert "Closed" in {r["state"] for r in ex["UEPT-INC-26"]}


# ---------------------------------------------------------------- the state x action matrix of service requests
REQUESTS = Path(__file__).resolve().parent.parent / "features" / "service_requests.feature"


def request_rows(tmp_path: Path, profile) -> dict[str, list[dict[str, str]]]:
    return generated_rows(tmp_path, profile, REQUESTS, ("UEPT-SR-14", "UEPT-SR-15"))


def test_the_item_state_rows_come_from_the_profile(tmp_path):
    ex = request_rows(tmp_path, load_profile())
    catalogue = {f"{r} user" for r in ("AA", "OA", "LA", "AMO", "LOG")}
    assert {r["persona"] for r in ex["UEPT-SR-14"]} == catalogue and {r["state"] for r in ex["UEPT-SR-14"]} == {"Open"}
    assert {r["state"] for r in ex["UEPT-SR-15"]} == {"Work in Progress", "Closed Complete", "Closed Incomplete",
                                                       "Closed Skipped"} and len(ex["UEPT-SR-15"]) == 5 * 4
    assert {"persona": "LOG user", "raiser": "AA user", "state": "Open", "updates": '"Attach a file" and "Update text"',
            "changes": "none"} in ex["UEPT-SR-14"]
    assert {"persona": "OA user", "raiser": "AA user", "state": "Closed Complete", "updates": "none",
            "changes": "none"} in ex["UEPT-SR-15"]


def test_changing_the_profiles_item_rules_changes_the_rows(tmp_path):
    data = yaml.safe_load((PROFILES_DIR / "reference.yaml").read_text())
    data["service_requests"]["requester_updates"] = {1: ["comment"], 3: ["comment"]}  # a comment on a closed item
    data["service_requests"]["requester_transitions"] = {1: [7]}  # a requester may withdraw an open item
    data["role_matrix"] = str(PROFILES_DIR / "role_matrix.yaml")
    (tmp_path / "p.yaml").write_text(yaml.safe_dump(data))
    ex = request_rows(tmp_path, load_profile(str(tmp_path / "p.yaml")))
    rows = {(r["persona"], r["state"]): (r["updates"], r["changes"]) for r in ex["UEPT-SR-14"] + ex["UEPT-SR-15"]}
    assert rows["LA user", "Open"] == ('"Update text"', '"Closed Skipped"')
    assert rows["LA user", "Closed Complete"] == ('"Update text"', "none")
    assert rows["LA user", "Work in Progress"] == ("none", "none")
    assert "Closed Skipped" in {r["state"] for r in ex["UEPT-SR-14"]}  # a requester reaches it: no operator needed


@pytest.mark.parametrize(("rules", "message"), [
    ({"requester_updates": {9: ["comment"]}}, "requester_updates: 9 is not an item state"),
    ({"requester_updates": {1: ["close"]}}, "unknown update 'close' (use comment, attach)"),
    ({"requester_transitions": {1: [5]}}, "requester_transitions: 5 is not an item state"),
    ({"item_states": {2: "Work in Progress"}}, "must label the state 1 (Open)"),
])
def test_item_rules_naming_an_unknown_state_or_update_are_refused(rules, message):
    from ssi.profile import ServiceRequests

    with pytest.raises(ValueError, match=re.escape(message)):
        ServiceRequests(**rules)


# ---------------------------------------------------------------- which worker runs which cells
def loads(groups: dict[str, list[int]], workers: int) -> list[int]:
    """The rows each worker ends with under pytest-xdist's loadgroup: groups largest first, the next
    group to whichever worker has the fewest rows so far (all rows take the same time)."""
    load = [0] * workers
    for members in sorted(groups.values(), key=len, reverse=True):
        load[load.index(min(load))] += len(members)
    return load


def test_persona_groups_balance_two_workers_with_one_more_login():
    from fixtures.actors import persona_groups

    rows = {f"P{i}": list(range(i * 100, i * 100 + 23)) for i in range(11)}  # 11 personas x 23 rows
    whole = persona_groups(rows, 1, lambda _p: 2)
    assert sorted(whole) == sorted(f"persona-{p}" for p in rows)  # one worker: one group per persona
    groups = persona_groups(rows, 2, lambda _p: 2)
    assert len(groups) == 12  # 12 logins in all (bound: 11 personas x 2 workers)
    assert sorted(r for members in groups.values() for r in members) == sorted(r for m in rows.values() for r in m)
    assert loads(groups, 2) == [127, 126]
    assert loads(whole, 2) == [138, 115]  # what whole groups would give


def test_persona_groups_never_split_a_persona_whose_logins_would_wait():
    from fixtures.actors import persona_groups

    rows = {f"P{i}": list(range(i * 100, i * 100 + 23)) for i in range(11)}
    groups = persona_groups(rows, 2, lambda _p: 1)  # e.g. a server without a step of tolerance
    assert sorted(groups) == sorted(f"persona-{p}" for p in rows)
    assert persona_groups({"A": [1, 2], "B": [3, 4], "C": [5]}, 2, lambda _p: 2) == {
        "persona-A": [1, 2], "persona-B": [3, 4], "persona-C": [5]}  # a one-row persona stays whole


# ---------------------------------------------------------------- the generated feature in a real run
@pytest.mark.slow
def test_the_generated_feature_runs_with_the_evidence_folder_outside_the_suite(tmp_path):
    """UEPT_REPORTS_DIR / --reports may point anywhere: Allure's pytest-bdd plugin needs the feature it
    runs inside the suite, so the generated feature runs from .uept/generated/, with a copy in the evidence."""
    import json
    import re

    from tests.helpers import run_uept

    reports = tmp_path / "evidence"
    run = run_uept("run", "features/access_control.feature", "--tags", "@UEPT-ACCESS-03", "--reports", str(reports))
    assert run.code == 0, run.stdout[-3000:]
    assert run.run_dir.is_relative_to(reports)
    results = [json.loads(p.read_text()) for p in run.run_dir.glob("scenarios/*/result.json")]
    assert len(results) == 11 and {r["status"] for r in results} == {"passed"}
    assert {r["feature"]["file"] for r in results} == {"features/access_control.feature"}  # as the scenario set
    copy = (run.run_dir / "features" / "access_control.feature").read_text()
    assert re.search(r"\|\s*AA user\s*\|\s*All Access\s*\|", copy), "the evidence lacks the generated rows"
    cucumber = json.loads((run.run_dir / "cucumber.json").read_text())
    assert [f["uri"] for f in cucumber] == ["features/access_control.feature"]
    assert {"@BFD14", "@UEPT-ACCESS"} <= {t["name"] for t in cucumber[0]["tags"]}  # found in the scenario set
