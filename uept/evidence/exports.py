"""Exports generated from the result files: Cucumber JSON and Allure run metadata.

pytest-bdd's own --cucumberjson writes an empty list under pytest-xdist (its report
data stays in the worker processes), so uept writes cucumber.json itself from the
scenarios/*/result.json files, which every worker writes: it is right for any number
of workers, for shards merged with `uept merge`, and for interrupted runs. Every
attempt of a retried scenario is its own element, named "(attempt N)"; Cucumber JSON
has no flaky status, so every attempt of a flaky case (failed, then passed on a retry)
carries the tag @flaky, and the failed attempt still shows as failed.

A retried scenario (`uept run --retries N`) is written in junit.xml as Maven Surefire
writes a re-run test, the convention JUnit consumers read (Jenkins' JUnit plugin, the
publish-unit-test-result GitHub Action, ...): one <testcase>, the last attempt's, holding
a <flakyFailure>/<flakyError> per failed attempt when it then passed (consumers that do
not know the convention see a pass), or its <failure>/<error> followed by a
<rerunFailure>/<rerunError> per earlier attempt when every attempt failed. In Allure,
the attempts of a case share their historyId (Allure shows them as retries) and the
passing last attempt of a flaky case has statusDetails.flaky = true.
"""

from __future__ import annotations

import json
import posixpath
import re
from pathlib import Path
from typing import Any

from uept.evidence.completion import base_key, case_status
from uept.evidence.results import RunResults
from uept.evidence.rundir import read_json, write_json_atomic

CUCUMBER_STATUS = {"passed": "passed", "failed": "failed", "skipped": "skipped", "not run": "skipped",
                   "undefined": "undefined", "pending": "pending"}


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "unnamed"


def _tag_list(tags: list[str], line: int | None) -> list[dict[str, Any]]:
    return [{"name": f"@{t}", "line": line or 1} for t in sorted(tags)]


def cucumber_json(run_dir: Path) -> list[dict[str, Any]]:
    run_dir = Path(run_dir)
    scenario_set = read_json(run_dir / "scenario-set.json") or {}
    known = {(s["feature"]["file"], s["name"]): s for s in scenario_set.get("scenarios", [])}
    features: dict[str, dict[str, Any]] = {}
    results = RunResults.load(run_dir).scenarios
    results.sort(key=lambda r: (r.get("feature", {}).get("file") or "", r.get("started") or "", r["key"]))
    flaky = {base_key(a[-1]["key"]) for a in _attempts(results).values() if case_status(a) == "flaky"}
    for r in results:
        feat = r.get("feature") or {}
        uri = feat.get("file") or "unknown.feature"
        info = known.get((uri, r.get("name")))
        finfo = (info or {}).get("feature") or {}
        f = features.get(uri)
        if f is None:
            f = features[uri] = {
                "uri": uri, "id": _slug(feat.get("name") or uri), "keyword": "Feature", "name": feat.get("name", ""),
                "description": finfo.get("description", ""), "line": finfo.get("line") or 1,
                "tags": _tag_list(finfo.get("tags", []), max(1, (finfo.get("line") or 2) - 1)), "elements": [],
            }
        feature_tags = set(finfo.get("tags", []))
        steps_meta = (info or {}).get("steps", [])
        line = (info or {}).get("line") or 1
        name = r.get("name", "")
        if r.get("example"):
            name += " (" + ", ".join(f"{k}={v}" for k, v in sorted(r["example"].items())) + ")"
        if int(r.get("attempt") or 1) > 1:
            name += f" (attempt {r['attempt']})"
        extra_tags = ["flaky"] if base_key(r["key"]) in flaky else []
        steps = []
        for i, st in enumerate(r.get("steps", [])):
            meta = steps_meta[i] if i < len(steps_meta) else {}
            result: dict[str, Any] = {"status": CUCUMBER_STATUS.get(st.get("status"), "skipped")}
            if st.get("duration") is not None:
                result["duration"] = int(st["duration"] * 1e9)  # nanoseconds, as cucumber-js writes them
            if st.get("error"):
                result["error_message"] = st["error"]
            at = meta.get("line") or line
            step: dict[str, Any] = {"keyword": f"{st.get('keyword', '').strip()} ", "name": st.get("text", ""),
                                    "line": at, "match": {"location": f"{uri}:{at}"}, "result": result}
            if st.get("screenshot"):
                shot = posixpath.normpath(f"scenarios/{r['key']}/{st['screenshot']}")
                step["output"] = [f"screenshot: {shot}"]
            steps.append(step)
        if r["status"] in ("failed", "error", "interrupted") and not any(
                s["result"]["status"] == "failed" for s in steps):
            # the failure happened outside a step (setup, or the run stopped): show it on a step of its own
            steps.append({"keyword": "After ", "name": f"scenario {r['status']}", "line": line, "hidden": False,
                          "match": {"location": f"{uri}:{line}"},
                          "result": {"status": "failed", "error_message": r.get("error") or r["status"]}})
        f["elements"].append({
            "id": f"{f['id']};{_slug(r['key'])}", "keyword": (info or {}).get("keyword") or "Scenario",
            "type": "scenario", "name": name, "description": "", "line": line,
            "tags": _tag_list([t for t in r.get("tags", []) if t not in feature_tags] + extra_tags, max(1, line - 1)),
            "steps": steps,
        })
    return list(features.values())


def _attempts(results: list[dict]) -> dict[str, list[dict]]:
    """Each case's attempts, oldest first."""
    out: dict[str, list[dict]] = {}
    for r in sorted(results, key=lambda d: (int(d.get("attempt") or 1), d.get("started") or "")):
        out.setdefault(base_key(r["key"]), []).append(r)
    return out


def write_cucumber_json(run_dir: Path) -> Path:
    path = Path(run_dir) / "cucumber.json"
    write_json_atomic(path, cucumber_json(run_dir))
    return path


def _prop(value: Any) -> str:
    return str(value if value is not None else "").replace("\\", "\\\\").replace("\n", " ").replace("=", "\\=")


def write_allure_extras(run_dir: Path, summary: dict[str, Any]) -> None:
    """environment.properties, executor.json and categories.json for the Allure 2 report."""
    out = Path(run_dir) / "allure-results"
    out.mkdir(exist_ok=True)
    env = {
        "Party": summary["party"].get("name"), "SEC.Party.ID": summary["party"].get("sec_party_id"),
        "User.Role": summary["party"].get("user_role"), "Environment": summary["target"].get("environment"),
        "Target": summary["target"].get("url"), "uept": summary["run"].get("uept_version"),
        "Scenario.set": summary["scenario_set"].get("hash"),
        "Browser": ", ".join(summary["environment"].get("browser_versions") or [])
        or summary["environment"].get("browser"),
        "OS": summary["environment"].get("os"), "Exit.criteria": summary["verdict"]["result"],
    }
    (out / "environment.properties").write_text(
        "".join(f"{k}={_prop(v)}\n" for k, v in env.items()), encoding="utf-8")
    write_json_atomic(out / "executor.json", {
        "name": "uept", "type": "uept", "buildName": f"UEPT run {summary['run']['id']}",
        "reportName": f"UEPT: {summary['party'].get('name', '')} ({summary['verdict']['result']})",
    })
    write_json_atomic(out / "categories.json", [
        {"name": "Browser crashed or closed", "matchedStatuses": ["broken", "failed"],
         "messageRegex": ".*(Target crashed|[Bb]rowser has been closed"
                         "|Target page, context or browser has been closed).*"},
        {"name": "Run interrupted", "matchedStatuses": ["broken", "unknown", "skipped"],
         "messageRegex": ".*(KeyboardInterrupt|run stopped).*"},
        {"name": "SSI behaviour differs from the scenario", "matchedStatuses": ["failed"]},
        {"name": "Harness or target problem", "matchedStatuses": ["broken"]},
    ])


def share_with_allure(run_dir: Path) -> int:
    """Store each screenshot and trace once outside Allure: where an Allure attachment holds the same bytes
    as a scenario's file, the scenario's result.json points at the Allure copy and its own copy goes.
    Returns the bytes saved. result.json files are rewritten before any file is removed.

    Allure's own attachments are never shared: each reference keeps the file Allure's plugin wrote for it.
    Allure 3 and Allure TestOps link a file at its first reference only (allure3's store/convert.ts denies
    reusing one; allure-framework/allure2#1480), so a shared file would show as missing at every later step."""
    import hashlib
    import os

    results = run_dir / "allure-results"
    if not results.is_dir():
        return 0
    by_digest: dict[str, Path] = {}
    for f in sorted(results.glob("*-attachment*")):
        if f.suffix in (".webp", ".jpg", ".jpeg", ".zip"):
            by_digest.setdefault(hashlib.sha256(f.read_bytes()).hexdigest(), f)
    digests: dict[Path, str] = {}

    def allure_copy(path: Path) -> Path | None:
        path = Path(os.path.normpath(path))
        if path.parent == results or not path.is_file():
            return None
        if path not in digests:
            digests[path] = hashlib.sha256(path.read_bytes()).hexdigest()
        return by_digest.get(digests[path])

    replaced: set[Path] = set()
    still_used: set[Path] = set()
    for rj in sorted((run_dir / "scenarios").glob("*/result.json")):
        try:
            data = json.loads(rj.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError):
            continue
        folder, changed = rj.parent, False
        for st in data.get("steps", []):
            shot = st.get("screenshot")
            if not shot:
                continue
            target = allure_copy(folder / shot)
            if target is not None:
                replaced.add(Path(os.path.normpath(folder / shot)))
                st["screenshot"] = os.path.relpath(target, folder)
                changed = True
            else:
                still_used.add(Path(os.path.normpath(folder / shot)))
        traces = []
        for t in data.get("traces", []):
            target = allure_copy(folder / t)
            if target is not None:
                replaced.add(Path(os.path.normpath(folder / t)))
                traces.append(os.path.relpath(target, folder))
                changed = True
            else:
                traces.append(t)
        data["traces"] = traces
        if changed:
            write_json_atomic(rj, data)
    saved = 0
    for path in replaced - still_used:
        if path.is_file():
            saved += path.stat().st_size
            path.unlink()
    return saved


# ---------------------------------------------------------------- retried scenarios in JUnit XML and Allure
RERUN_TAGS = ("flakyFailure", "flakyError", "rerunFailure", "rerunError")


def junit_name(nodeid: str) -> tuple[str, str]:
    """(classname, name) of a test in pytest's JUnit XML (as pytest's junitxml mangles a node ID)."""
    path, bracket, params = nodeid.partition("[")
    names = path.split("::")
    names[0] = re.sub(r"\.py$", "", names[0].replace("/", "."))
    names[-1] += bracket + params
    return ".".join(names[:-1]), names[-1]


def write_junit_attempts(run_dir: Path) -> bool:
    """Rewrite junit.xml so that each retried case is one <testcase> in the Surefire re-run convention (see the
    module's docstring). pytest writes one <testcase> per attempt, the failed ones without their failure.
    Idempotent; False when there is no readable junit.xml."""
    import xml.etree.ElementTree as ET

    path = Path(run_dir) / "junit.xml"
    try:
        tree = ET.parse(path)
    except (OSError, ET.ParseError):
        return False
    root = tree.getroot()
    suites = [root] if root.tag == "testsuite" else root.findall("testsuite")
    cases: dict[tuple[str | None, str | None], list[tuple[ET.Element, ET.Element]]] = {}
    for suite in suites:
        for tc in suite.findall("testcase"):
            cases.setdefault((tc.get("classname"), tc.get("name")), []).append((suite, tc))
    for attempts in _attempts(RunResults.load(run_dir).scenarios).values():
        if len(attempts) < 2 or not attempts[-1].get("nodeid"):
            continue
        found = cases.get(junit_name(attempts[-1]["nodeid"]), [])
        if not found:
            continue
        for suite, tc in found[:-1]:  # earlier attempts' testcases: their failures go into the last one
            suite.remove(tc)
        keep = found[-1][1]
        for old in [c for c in keep if c.tag in RERUN_TAGS]:
            keep.remove(old)
        kind = "flaky" if case_status(attempts) == "flaky" else "rerun"
        for a in attempts[:-1]:
            if a["status"] not in ("failed", "error"):
                continue
            el = ET.SubElement(keep, kind + ("Failure" if a["status"] == "failed" else "Error"),
                               message=a.get("error") or a["status"], type=a["status"])
            ET.SubElement(el, "stackTrace").text = (f"attempt {a.get('attempt')} {a['status']}: "
                                                    f"{a.get('error') or ''} (evidence: scenarios/{a['key']}/)")
    for suite in suites:
        tcs = suite.findall("testcase")
        suite.set("tests", str(len(tcs)))
        for attr, tag in (("failures", "failure"), ("errors", "error"), ("skipped", "skipped")):
            suite.set(attr, str(sum(1 for tc in tcs if tc.find(tag) is not None)))
        suite.set("flakes", str(sum(1 for tc in tcs if tc.find("flakyFailure") is not None
                                    or tc.find("flakyError") is not None)))
    tree.write(path, encoding="utf-8", xml_declaration=True)
    return True


def mark_allure_flaky(run_dir: Path) -> int:
    """In allure-results, the passing last attempt of a case whose earlier attempt failed or broke gets
    statusDetails.flaky = true (its attempts share their historyId). Returns how many were marked."""
    results = Path(run_dir) / "allure-results"
    by_history: dict[str, list[tuple[Path, dict]]] = {}
    for f in sorted(results.glob("*-result.json")):
        data = read_json(f)
        if isinstance(data, dict) and data.get("historyId"):
            by_history.setdefault(str(data["historyId"]), []).append((f, data))
    marked = 0
    for tries in by_history.values():
        tries.sort(key=lambda t: (t[1].get("start") or 0, t[0].name))
        last_file, last = tries[-1]
        if last.get("status") == "passed" and any(d.get("status") in ("failed", "broken") for _, d in tries[:-1]):
            details = last.setdefault("statusDetails", {})
            if details.get("flaky") is not True:
                details["flaky"] = True
                write_json_atomic(last_file, last)
            marked += 1
    return marked
