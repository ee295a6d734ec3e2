"""Test completion: a run folder assessed against the scenario catalogue.

`assess(run_dir)` reads run.json, scenario-set.json and every scenarios/*/result.json
and returns the machine-readable summary (summary.json) that the HTML report renders
and that `uept verify` recomputes: run, party, target, counts, the exit-criteria
verdict for the party's SEC User Role, a summary per UEPT theme, every scenario with
its attempts, and the requirement coverage matrix.

Which scenarios are mandatory for which role is data: uept/evidence/catalogue/scenarios.yaml
(see the comments in that file for the rules).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from ssi.errors import UsageError, read_yaml
from uept import __version__
from uept.evidence.rundir import RunFolder, now_iso
from uept.evidence.tags import UEPT_ID

CATALOGUE_DIR = Path(__file__).resolve().parent / "catalogue"
DEFAULT_SCENARIO_CATALOGUE = CATALOGUE_DIR / "scenarios.yaml"
REQUIREMENT_CATALOGUE = CATALOGUE_DIR / "ssi-requirements.yaml"
FORMAT = "uept-summary/1"

COMPLETE, INCOMPLETE = "COMPLETE", "INCOMPLETE"
# worst first: the status a scenario shows when its examples differ
SEVERITY = ["failed", "damaged", "error", "interrupted", "not run", "skipped", "not selected", "not applicable",
            "flaky", "passed"]
SATISFIED = ("passed", "not applicable")  # what a mandatory scenario may show for the verdict to be COMPLETE
# ... and "flaky" (failed, then passed on a retry) when the catalogue's flaky_counts_as says "passed" (the default)
FLAKY_RULES = ("passed", "failed")
FAILING = ("failed", "error")  # an attempt with one of these, followed by a pass, makes the case flaky
ATTEMPT = re.compile(r"-attempt(\d+)$")
def file_sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


# ---------------------------------------------------------------- the scenario catalogue
@dataclass
class ScenarioCatalogue:
    path: Path
    roles: dict[str, list[str]]  # role name -> groups
    groups: set[str]
    themes: dict[str, dict[str, Any]]
    not_mandatory_tags: set[str]
    scenarios: dict[str, dict[str, Any]]
    sha256: str = ""
    flaky_counts_as: str = "passed"  # what a flaky mandatory scenario counts as (scenario and theme entries may say)

    @classmethod
    def load(cls, path: Path | None = None) -> ScenarioCatalogue:
        path = Path(path) if path else DEFAULT_SCENARIO_CATALOGUE
        data = read_yaml(path, "scenario catalogue")
        where = f"scenario catalogue {path}"
        if not isinstance(data, dict) or not isinstance(data.get("roles"), dict):
            raise UsageError(f"{where} needs a 'roles:' mapping (SEC User Role -> groups)",
                             "see uept/evidence/catalogue/scenarios.yaml for the format")
        groups = set((data.get("role_groups") or {}).keys())
        roles: dict[str, list[str]] = {}
        for name, spec in data["roles"].items():
            g = list((spec or {}).get("groups") or [])
            unknown = [x for x in g if x not in groups]
            if unknown:
                raise UsageError(f"{where}: role '{name}' names unknown group(s) {', '.join(unknown)}",
                                 "declare them under role_groups:")
            roles[str(name)] = g
        themes = data.get("themes") or {}
        scenarios = data.get("scenarios") or {}
        cat = cls(path, roles, groups, {str(k): dict(v or {}) for k, v in themes.items()},
                  set(data.get("not_mandatory_tags") or []), {str(k): dict(v or {}) for k, v in scenarios.items()},
                  file_sha256(path), str(data.get("flaky_counts_as", "passed")))
        if cat.flaky_counts_as not in FLAKY_RULES:
            raise UsageError(f"{where}: flaky_counts_as is '{cat.flaky_counts_as}'",
                             "give flaky_counts_as: passed or flaky_counts_as: failed")
        for kind, entries in (("themes", cat.themes), ("scenarios", cat.scenarios)):
            for key, spec in entries.items():
                if spec.get("flaky_counts_as", "passed") not in FLAKY_RULES:
                    raise UsageError(f"{where}: {kind}.{key}.flaky_counts_as is '{spec['flaky_counts_as']}'",
                                     "give passed or failed")
                for who in spec.get("mandatory_for") or []:
                    if who != "all" and who not in groups and cat.role(who) is None:
                        raise UsageError(f"{where}: {kind}.{key}.mandatory_for names '{who}', which is neither "
                                         "a role, a role group nor 'all'", "correct the name")
        return cat

    def role(self, name: str | None) -> str | None:
        """The catalogue's spelling of a role (matched case-insensitively), or None."""
        if not name:
            return None
        for r in self.roles:
            if r.casefold() == name.strip().casefold():
                return r
        return None

    def _applies(self, who: list[str], role: str) -> bool:
        return any(w == "all" or w == role or w in self.roles.get(role, []) for w in who)

    def mandatory(self, scenario_id: str | None, tags: list[str], role: str | None) -> tuple[bool, str]:
        """Whether a scenario is mandatory for the role, and the rule that decided it."""
        if role is None or scenario_id is None:
            return False, "no role" if role is None else "no @UEPT id"
        if scenario_id in self.scenarios and "mandatory_for" in self.scenarios[scenario_id]:
            return self._applies(self.scenarios[scenario_id]["mandatory_for"] or [], role), "scenario entry"
        hit = sorted(self.not_mandatory_tags & set(tags))
        if hit:
            return False, f"tagged @{hit[0]}"
        theme = theme_of(scenario_id)
        if theme in self.themes:
            return self._applies(self.themes[theme].get("mandatory_for") or [], role), f"theme {theme}"
        return False, "theme not in the catalogue"

    def flaky_rule(self, scenario_id: str | None) -> tuple[str, str]:
        """What a flaky (failed, then passed on a retry) mandatory scenario counts as, and the entry that says so:
        its scenario entry, else its theme's, else the catalogue's flaky_counts_as (default: passed)."""
        if scenario_id and "flaky_counts_as" in self.scenarios.get(scenario_id, {}):
            return self.scenarios[scenario_id]["flaky_counts_as"], "scenario entry"
        theme = theme_of(scenario_id)
        if theme and "flaky_counts_as" in self.themes.get(theme, {}):
            return self.themes[theme]["flaky_counts_as"], f"theme {theme}"
        return self.flaky_counts_as, "catalogue"

    def mandatory_themes(self, role: str | None) -> list[str]:
        if role is None:
            return []
        return [t for t, spec in self.themes.items() if self._applies(spec.get("mandatory_for") or [], role)]


def theme_of(scenario_id: str | None) -> str | None:
    if not scenario_id:
        return None
    return re.sub(r"-\d+$", "", scenario_id)


@lru_cache(maxsize=4)
def _requirements(path: str, mtime: float) -> list[dict[str, Any]]:
    data = read_yaml(Path(path), "requirement catalogue")
    return [r for r in (data or {}).get("requirements", []) if isinstance(r, dict) and r.get("id")]


def requirement_catalogue(path: Path = REQUIREMENT_CATALOGUE) -> list[dict[str, Any]]:
    return _requirements(str(path), path.stat().st_mtime)


# ---------------------------------------------------------------- reading a run folder
def base_key(key: str) -> str:
    return ATTEMPT.sub("", key)


def _attempt_no(r: dict) -> int:
    return int(r.get("attempt") or 1)


def case_status(attempts: list[dict]) -> str:
    """One case's status from its attempts (oldest first): the last attempt's, except that a pass after a
    failed or errored attempt is "flaky". A case whose every attempt failed is failed."""
    final = attempts[-1]["status"] if attempts else "not run"
    if final == "passed" and any(a["status"] in FAILING for a in attempts[:-1]):
        return "flaky"
    return final


def worst(statuses: list[str]) -> str:
    return min(statuses, key=lambda s: SEVERITY.index(s) if s in SEVERITY else 0) if statuses else "not run"


@dataclass
class _Scenario:
    id: str
    name: str
    feature: dict
    tags: list[str]
    requirements: list[str]
    examples: int = 1
    selected: bool = True
    in_set: bool = True
    line: int | None = None
    not_applicable: str | None = None  # why an outline has no rows (e.g. generated from a role matrix)
    damaged: list[str] = field(default_factory=list)  # its result files that could not be read
    results: dict[str, list[dict]] = field(default_factory=dict)  # base key -> attempts (oldest first)


def _set_id(s: dict) -> str:
    return s.get("uept_id") or f"{s['feature'].get('file')}:{s['name']}"


def set_problems(scenario_set: dict | None) -> list[str]:
    """What makes a scenario set unfit to judge by: a scenario without its @UEPT- ID, or one ID used twice
    (then one scenario's result can stand for another's)."""
    if not scenario_set:
        return []
    out: list[str] = []
    seen: dict[str, str] = {}
    for s in scenario_set.get("scenarios", []):
        where = f"{s['feature'].get('file')}:{s.get('line') or '?'}"
        sid = s.get("uept_id")
        if not sid:
            out.append(f"the scenario at {where} ('{s['name']}') has no @UEPT- ID")
        elif sid in seen:
            out.append(f"scenario ID {sid} is used twice in the scenario set: {seen[sid]} and {where}")
        else:
            seen[sid] = where
    return out


def _scenarios(scenario_set: dict | None, results: list[dict], damaged: list[dict],
               problems: list[str]) -> list[_Scenario]:
    out: dict[str, _Scenario] = {}
    if scenario_set:
        for s in scenario_set.get("scenarios", []):
            sid = _set_id(s)
            if sid in out:
                continue  # a duplicate ID: set_problems() makes the verdict INCOMPLETE
            examples = int(s["examples"]) if s.get("examples") is not None else 1
            out[sid] = _Scenario(sid, s["name"], s["feature"], s.get("tags", []), s.get("requirements", []),
                                 examples, bool(s.get("selected", True)), True, s.get("line"),
                                 s.get("not_applicable") if examples == 0 else None)
    for r in results:
        sid = r.get("uept_id") or f"{(r.get('feature') or {}).get('file')}:{r.get('name')}"
        sc = out.get(sid)
        if sc is None:  # ran, but not in the recorded scenario set (or no set was recorded)
            sc = out[sid] = _Scenario(sid, r.get("name", sid), r.get("feature") or {}, r.get("tags", []),
                                      r.get("requirements", []), 0, True, False)
        elif (r.get("name"), (r.get("feature") or {}).get("file")) != (sc.name, sc.feature.get("file")):
            problems.append(f"the result {r['key']} is of scenario '{r.get('name')}' in "
                            f"{(r.get('feature') or {}).get('file')}, but the scenario set gives {sid} to "
                            f"'{sc.name}' in {sc.feature.get('file')}")
            sc.damaged.append(f"scenarios/{r['key']}/result.json")
            continue
        sc.results.setdefault(base_key(r["key"]), []).append(r)
    for d in damaged:  # a damaged result file counts against the scenario its folder is named after
        parts = d["file"].split("/")
        if len(parts) == 3 and parts[0] == "scenarios":
            key = base_key(parts[1])
            owner = max((sc for sid, sc in out.items() if key == sid or key.startswith(f"{sid}-")),
                        key=lambda sc: len(sc.id), default=None)
            if owner is not None:
                owner.damaged.append(d["file"])
    for sc in out.values():
        for attempts in sc.results.values():
            attempts.sort(key=lambda r: (_attempt_no(r), r.get("started") or ""))
        if not sc.in_set:
            sc.examples = max(1, len(sc.results))
    return sorted(out.values(), key=_sort_key)


def _sort_key(sc: _Scenario) -> tuple:
    m = re.match(r"^(.*)-(\d+)$", sc.id)
    return (m.group(1), int(m.group(2)), "") if m else (sc.id, 0, sc.id)


def _status(sc: _Scenario) -> str:
    finals = [case_status(attempts) for attempts in sc.results.values()]
    if sc.damaged:
        return "damaged"
    if sc.not_applicable is not None and not finals:
        return "not applicable"
    if not sc.selected and not finals:
        return "not selected"
    missing = max(0, sc.examples - len(finals))
    return worst(finals + ["not run"] * missing)


def _reason(status: str, sc: _Scenario) -> str:
    if status == "damaged":
        return "its result cannot be trusted: " + ", ".join(sc.damaged)
    if status == "flaky":
        tries = next((a for a in sc.results.values() if case_status(a) == "flaky"), [])
        return ("flaky: " + ", ".join(f"attempt {_attempt_no(a)} {a['status']}" for a in tries)
                + "; the scenario catalogue counts a flaky mandatory scenario as failed")
    errors = [a[-1].get("error") for a in sc.results.values() if a[-1]["status"] == status and a[-1].get("error")]
    detail = f": {errors[0]}" if errors else ""
    return {
        "failed": "failed", "error": "could not run (error in setup)", "interrupted": "interrupted",
        "skipped": "skipped", "not run": "did not run", "not selected": "not part of this run",
    }.get(status, status) + detail


# ---------------------------------------------------------------- the assessment
def assess(run_dir: Path, catalogue: ScenarioCatalogue | None = None,
           requirements_path: Path = REQUIREMENT_CATALOGUE, salvage: bool = False,
           files: tuple[Iterable[str], Callable[[str], bytes]] | None = None) -> dict[str, Any]:
    """The summary of a run folder. A damaged record file stops it (DamagedRecord) unless salvage is set;
    then the damaged files are listed and the verdict is INCOMPLETE. `files`: see RunFolder.load."""
    run_dir = Path(run_dir)
    folder = RunFolder.load(run_dir, salvage=salvage, files=files)
    run = folder.run or {}
    scenario_set = folder.scenario_set
    catalogue = catalogue or ScenarioCatalogue.load()
    results = folder.results
    problems: list[str] = []
    damaged_files = [d["file"] for d in folder.damaged]
    for d in folder.damaged:
        problems.append(f"{d['file']} is damaged ({d['why']}): what it recorded is not in this report")
    if not run and "run.json" not in damaged_files:
        problems.append("run.json is missing: the party, target and run times are unknown")
    if not scenario_set:
        problems.append("no scenario set was recorded (scenario-set.json): mandatory scenarios that never "
                        "ran cannot be listed")

    party = run.get("party") or {}
    declared_role = party.get("user_role")
    role = catalogue.role(declared_role)
    set_faults = set_problems(scenario_set)
    problems += set_faults
    mismatched: list[str] = []
    scenarios = _scenarios(scenario_set, results, folder.damaged, mismatched)
    problems += mismatched

    run_status = run.get("status") or "unknown"
    interrupted = run_status in ("incomplete", "interrupted", "running") or any(
        r["status"] == "interrupted" for r in results)
    crashed = [r["key"] for r in results if _browser_crash(r.get("error"))]
    if run_status == "running":
        problems.append("the run did not finish (uept itself was stopped): this report was made from what "
                        "was recorded")
    if crashed:
        problems.append(f"the browser crashed or closed during {', '.join(crashed[:5])}"
                        + (" ..." if len(crashed) > 5 else ""))

    # per scenario
    rows: list[dict[str, Any]] = []
    blocking: list[dict[str, Any]] = []
    for sc in scenarios:
        status = _status(sc)
        mandatory, rule = catalogue.mandatory(sc.id if UEPT_ID.match(sc.id) else None, sc.tags, role)
        if status == "not applicable":
            mandatory, rule = False, f"not applicable: {sc.not_applicable}"
        attempts_total = sum(len(a) for a in sc.results.values())
        flaky_as, flaky_rule = catalogue.flaky_rule(sc.id) if status == "flaky" else (None, None)
        row = {
            "id": sc.id, "name": sc.name, "theme": theme_of(sc.id) if UEPT_ID.match(sc.id) else None,
            "feature": sc.feature, "line": sc.line, "tags": sc.tags, "requirements": sc.requirements,
            "mandatory": mandatory, "mandatory_rule": rule, "selected": sc.selected, "in_scenario_set": sc.in_set,
            "status": status, "examples": sc.examples, "retried": attempts_total > len(sc.results),
            "flaky": status == "flaky", "flaky_counts_as": flaky_as if mandatory else None,
            "flaky_rule": flaky_rule if mandatory else None,
            "not_applicable": sc.not_applicable if status == "not applicable" else None,
            "damaged": sc.damaged,
            "results": [_result_row(attempts) for _, attempts in sorted(sc.results.items())],
        }
        rows.append(row)
        if mandatory and not _satisfied(status, flaky_as):
            blocking.append({"id": sc.id, "name": sc.name, "status": status, "reason": _reason(status, sc)})

    reasons: list[str] = []
    if role is None:
        known = ", ".join(catalogue.roles)
        reasons.append(f"the party's User Role '{declared_role or '(none)'}' is not in the scenario catalogue "
                       f"(known roles: {known}); set party.user_role in uept.yaml")
    else:
        for theme in catalogue.mandatory_themes(role):
            if not any(r["theme"] == theme for r in rows):
                reasons.append(f"theme {theme} ({catalogue.themes[theme].get('title', '')}) is mandatory for "
                               f"{role} but the scenario set has no scenario for it")
    if interrupted:
        reasons.append("the run was interrupted before it finished")
    shard, shards = run.get("shard"), run.get("shards")
    if isinstance(shard, dict) and int(shard.get("total") or 1) > 1:
        reasons.append(f"this run is shard {shard.get('index')} of {shard.get('total')} ({shard.get('cases')} of "
                       f"{shard.get('cases_selected')} selected scenario cases): the verdict is that of the "
                       f"{shard.get('total')} shards' run folders joined with `uept merge`")
    if isinstance(shards, dict) and shards.get("missing"):
        reasons.append(f"shard(s) {', '.join(map(str, shards['missing']))} of {shards.get('total')} are not in "
                       "this merge: their scenarios did not run here")
    if set_faults:
        reasons.append("the scenario set does not give every scenario one ID of its own ("
                       + "; ".join(set_faults[:3]) + (" ..." if len(set_faults) > 3 else "")
                       + "), so results cannot be told apart")
    if mismatched:
        reasons.append(f"{len(mismatched)} result file(s) do not match the scenario their ID names in the "
                       "scenario set")
    if folder.damaged:
        reasons.append(f"{len(folder.damaged)} record file(s) of the run are damaged: "
                       + ", ".join(damaged_files[:5]) + (" ..." if len(damaged_files) > 5 else ""))
    if not scenario_set:
        reasons.append("the run recorded no scenario set, so it cannot show that every mandatory scenario ran")
    if crashed:
        reasons.append("the browser crashed or was closed during the run, so later evidence may be missing")
    if not any(r["mandatory"] for r in rows) and role is not None and not reasons:
        reasons.append(f"no scenario in the scenario set is mandatory for {role}")
    if blocking:
        reasons.append(f"{len(blocking)} mandatory scenario(s) did not pass")
    verdict = INCOMPLETE if (reasons or blocking) else COMPLETE

    themes = _themes(rows, catalogue)
    reqs, unknown_reqs = _coverage(rows, requirements_path)
    if unknown_reqs:
        problems.append("requirement tags not in the requirement catalogue: " + ", ".join(sorted(unknown_reqs)))

    counts: dict[str, int] = {}  # every attempt
    for r in results:
        counts[r["status"]] = counts.get(r["status"], 0) + 1
    outcomes: dict[str, int] = {}  # every case, by its status after its last attempt (flaky included)
    for row in rows:
        for res in row["results"]:
            outcomes[res["status"]] = outcomes.get(res["status"], 0) + 1
    mandatory_rows = [r for r in rows if r["mandatory"]]
    browsers = sorted({_browser_of(r) for r in results} - {None})
    return {
        "format": FORMAT,
        "generated": now_iso(),
        "generator": f"uept {__version__}",
        "run": {
            "id": run.get("run_id") or run_dir.name, "status": "interrupted" if interrupted else run_status,
            "interrupted": interrupted, "started": run.get("started"), "ended": run.get("ended"),
            "user": run.get("user"), "host": run.get("host"), "workers": run.get("workers"),
            "tags": run.get("tags"), "features": run.get("features", []), "pytest_exit": run.get("pytest_exit"),
            "merged_from": run.get("merged_from"), "shard": run.get("shard"), "shards": run.get("shards"),
            "uept_version": run.get("uept_version"),
        },
        "party": party,
        "target": run.get("target") or {},
        "environment": {
            "browser": run.get("browser"), "browser_versions": browsers, "os": run.get("os"),
            "platform": run.get("platform"), "python": run.get("python"), "playwright": run.get("playwright"),
        },
        "scenario_set": {
            "hash": (scenario_set or {}).get("hash"), "files": sorted((scenario_set or {}).get("files", {})),
            "scenarios": sum(1 for r in rows if r["in_scenario_set"]),
            "selected": sum(1 for r in rows if r["selected"]),
        },
        "catalogue": {"path": str(catalogue.path), "sha256": catalogue.sha256},
        "verdict": {
            "result": verdict, "role": declared_role, "catalogue_role": role, "reasons": reasons,
            "mandatory": len(mandatory_rows),
            "mandatory_passed": sum(_satisfied(r["status"], r["flaky_counts_as"]) for r in mandatory_rows),
            "mandatory_flaky": sum(r["status"] == "flaky" for r in mandatory_rows),
            "blocking": blocking,
            "flaky": [{"id": r["id"], "name": r["name"], "mandatory": r["mandatory"],
                       "counts_as": r["flaky_counts_as"], "rule": r["flaky_rule"],
                       "attempts": [[(a["attempt"], a["status"]) for a in res["attempts"]]
                                    for res in r["results"] if res["status"] == "flaky"]}
                      for r in rows if r["status"] == "flaky"],
        },
        "counts": counts,
        "outcomes": outcomes,
        "results_total": len(results),
        "damaged": folder.damaged,
        "problems": problems,
        "themes": themes,
        "scenarios": rows,
        "coverage": {
            "requirements": len(reqs), "covered": sum(r["status"] != "not covered" for r in reqs),
            "passed": sum(r["status"] == "passed" for r in reqs),
            "not_covered": sum(r["status"] == "not covered" for r in reqs),
        },
        "requirements": reqs,
    }


def _satisfied(status: str, flaky_counts_as: str | None) -> bool:
    return status in SATISFIED or (status == "flaky" and flaky_counts_as == "passed")


def _browser_crash(error: str | None) -> bool:
    if not error:
        return False
    e = error.lower()
    return ("target crashed" in e or "browser has been closed" in e or "browser closed" in e
            or "target page, context or browser has been closed" in e or "connection closed" in e)


def _browser_of(r: dict) -> str | None:
    b = r.get("browser")
    if isinstance(b, dict) and b.get("version"):
        return f"{b.get('name', 'chromium')} {b['version']}"
    return None


def _result_row(attempts: list[dict]) -> dict[str, Any]:
    final = attempts[-1]
    return {
        "key": final["key"], "example": final.get("example") or {}, "status": case_status(attempts),
        "error": final.get("error"), "started": final.get("started"), "ended": final.get("ended"),
        "duration": final.get("duration"), "worker": final.get("worker"),
        "attempts": [{"key": a["key"], "attempt": _attempt_no(a), "status": a["status"], "error": a.get("error"),
                      "started": a.get("started"), "ended": a.get("ended"), "duration": a.get("duration")}
                     for a in attempts],
    }


def _themes(rows: list[dict], catalogue: ScenarioCatalogue) -> list[dict[str, Any]]:
    by: dict[str, dict[str, Any]] = {}
    for r in rows:
        t = r["theme"] or "(no UEPT id)"
        entry = by.setdefault(t, {"id": t, "title": (catalogue.themes.get(t) or {}).get("title")
                                  or r["feature"].get("name") or t, "in_catalogue": t in catalogue.themes,
                                  "scenarios": 0, "mandatory": 0, "passed": 0, "failed": 0, "skipped": 0,
                                  "not_run": 0, "not_applicable": 0, "mandatory_passed": 0, "flaky": 0})
        entry["scenarios"] += 1
        entry["mandatory"] += r["mandatory"]
        entry["mandatory_passed"] += r["mandatory"] and _satisfied(r["status"], r["flaky_counts_as"])
        entry["flaky"] += r["status"] == "flaky"
        if r["status"] in ("passed", "flaky"):  # flaky: passed on a retry (its own column says how many)
            entry["passed"] += 1
        elif r["status"] in ("failed", "error", "damaged"):
            entry["failed"] += 1
        elif r["status"] == "not applicable":
            entry["not_applicable"] += 1
        elif r["status"] == "skipped":
            entry["skipped"] += 1
        else:
            entry["not_run"] += 1
    for t, spec in catalogue.themes.items():
        if t not in by:
            by[t] = {"id": t, "title": spec.get("title") or t, "in_catalogue": True, "scenarios": 0, "mandatory": 0,
                     "passed": 0, "failed": 0, "skipped": 0, "not_run": 0, "not_applicable": 0,
                     "mandatory_passed": 0, "flaky": 0}
    for e in by.values():
        applicable = e["scenarios"] - e["not_applicable"]
        e["status"] = ("passed" if applicable and e["passed"] == applicable else
                       "failed" if e["failed"] else "no scenarios" if not e["scenarios"] else "incomplete")
    return sorted(by.values(), key=lambda e: e["id"])


def _coverage(rows: list[dict], path: Path) -> tuple[list[dict[str, Any]], set[str]]:
    catalogue = requirement_catalogue(path)
    known = {r["id"] for r in catalogue}
    by_req: dict[str, list[dict]] = {}
    for r in rows:
        for req in r["requirements"]:
            by_req.setdefault(req, []).append(r)
    out = []
    for req in catalogue:
        scen = by_req.get(req["id"], [])
        statuses = [s["status"] for s in scen if s["status"] != "not applicable"]
        if not scen:
            status = "not covered"
        elif not statuses:
            status = "not applicable"
        elif any(s in ("failed", "error", "damaged") for s in statuses):
            status = "failed"
        elif "passed" in statuses or "flaky" in statuses:
            status = "passed" if all(s in ("passed", "flaky") for s in statuses) else "partly run"
        else:
            status = "not run"
        out.append({"id": req["id"], "kind": req.get("kind"), "title": req.get("title"), "area": req.get("area"),
                    "summary": req.get("summary"), "referenced_only": req.get("status") == "referenced-only",
                    "status": status, "scenarios": [{"id": s["id"], "status": s["status"]} for s in scen]})
    return out, set(by_req) - known
