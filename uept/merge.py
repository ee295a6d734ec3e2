"""`uept merge`: join the run folders of shards (or separate parallel runs) into one.

The inputs must be runs of the same party against the same kind of target with the
same scenario set (hash); each shard may have used its own reference SSI (URL). The
merged folder gets a new run id, every scenario result (a scenario that ran in more
than one input becomes attempts of one scenario, oldest first: nothing is dropped),
the Allure results, one JUnit file with every input's test suites, one pytest.log,
and run.json with `merged_from`. The report and the signed pack are then made from it.
"""

from __future__ import annotations

import shutil
import xml.etree.ElementTree as ET
from collections.abc import Callable
from contextlib import ExitStack
from pathlib import Path
from typing import Any

from .completion import base_key, read_json
from .errors import UsageError
from .evidence import write_json_atomic
from .pack import OpenedPack, PackUnreadable

GENERATED = {"environment.properties", "executor.json", "categories.json"}
STATUS_ORDER = ["passed", "failed", "incomplete"]


def _open(path: Path, stack: ExitStack) -> Path:
    if not path.exists():
        raise UsageError(f"{path} not found", "give run folders (reports/<run-id>) or evidence packs")
    try:
        root = stack.enter_context(OpenedPack(path)).root
    except PackUnreadable as exc:
        raise UsageError(str(exc), "give an intact pack or its run folder") from None
    if not (root / "run.json").is_file() and not (root / "scenarios").is_dir():
        raise UsageError(f"{path} is not a uept run folder or pack (no run.json, no scenarios/)",
                         "give folders under reports/ or evidence-pack-*.zip files")
    return root


def merge_runs(inputs: list[Path], reports: Path, output: Path | None = None,
               log: Callable[[str], None] = print) -> Path:
    from .plugin import new_run_id

    if len(inputs) < 1:
        raise UsageError("nothing to merge", "give two or more run folders")
    with ExitStack() as stack:
        roots = [_open(p, stack) for p in inputs]
        runs = [read_json(r / "run.json") or {} for r in roots]
        sets = [read_json(r / "scenario-set.json") for r in roots]
        _check_same(inputs, runs, sets)

        run_id = new_run_id()
        out = (output or reports / run_id).resolve()
        if out.exists() and any(out.iterdir()):
            raise UsageError(f"{out} already exists and is not empty", "choose another --output")
        (out / "scenarios").mkdir(parents=True, exist_ok=True)

        # scenario results, oldest first; repeats become attempts
        results: list[tuple[str, Path, dict]] = []
        for root in roots:
            for f in (root / "scenarios").glob("*/result.json"):
                data = read_json(f)
                if data is not None:
                    results.append((data.get("started") or "", f.parent, data))
        results.sort(key=lambda t: (t[0], t[2].get("key", "")))
        attempts: dict[str, int] = {}
        for _, folder, data in results:
            base = base_key(data.get("key") or folder.name)
            n = attempts[base] = attempts.get(base, 0) + 1
            key = base if n == 1 else f"{base}-attempt{n}"
            shutil.copytree(folder, out / "scenarios" / key)
            if key != data.get("key") or n != int(data.get("attempt") or 1):
                data.update(key=key, attempt=n)
                write_json_atomic(out / "scenarios" / key / "result.json", data)

        # Allure results: one file per test or attachment, uuid-named
        allure = out / "allure-results"
        for root in roots:
            src = root / "allure-results"
            if src.is_dir():
                allure.mkdir(exist_ok=True)
                for f in src.iterdir():
                    if f.is_file() and f.name not in GENERATED and not (allure / f.name).exists():
                        shutil.copy2(f, allure / f.name)

        _merge_junit([r / "junit.xml" for r in roots], out / "junit.xml")
        with (out / "pytest.log").open("w", encoding="utf-8") as logf:
            for root, run in zip(roots, runs, strict=True):
                if (root / "pytest.log").is_file():
                    logf.write(f"===== {run.get('run_id', root.name)} =====\n")
                    logf.write((root / "pytest.log").read_text(encoding="utf-8", errors="replace"))
        if any(sets):
            first = next(s for s in sets if s)
            selected = {(s["feature"]["file"], s["name"])
                        for ss in sets if ss for s in ss["scenarios"] if s.get("selected")}
            for s in first["scenarios"]:
                s["selected"] = (s["feature"]["file"], s["name"]) in selected
            write_json_atomic(out / "scenario-set.json", first)
        write_json_atomic(out / "run.json", _merged_run(run_id, runs))
        log(f"uept: merged {len(results)} scenario result(s) from {len(roots)} run(s)")
        return out


def _check_same(inputs: list[Path], runs: list[dict], sets: list[dict | None]) -> None:
    def ident(run: dict) -> tuple:
        p = run.get("party") or {}
        return (p.get("name"), p.get("sec_party_id"), p.get("user_role"))

    first = ident(runs[0])
    for path, run in zip(inputs[1:], runs[1:], strict=True):
        if ident(run) != first:
            raise UsageError(f"{path} is a run of {ident(run)}, not of {first}",
                             "merge only runs of one party and User Role")
        if (run.get("target") or {}).get("environment") != (runs[0].get("target") or {}).get("environment"):
            raise UsageError(f"{path} ran against another environment "
                             f"({(run.get('target') or {}).get('environment')})", "merge runs of one environment")
    hashes = {s.get("hash") for s in sets if s}
    if len(hashes) > 1:
        raise UsageError("the inputs ran different scenario sets (feature files differ: "
                         + ", ".join(sorted(h or "?" for h in hashes)) + ")",
                         "merge only shards of one checkout of the feature files")


def _merged_run(run_id: str, runs: list[dict]) -> dict[str, Any]:
    first = runs[0]
    statuses = [r.get("status") or "incomplete" for r in runs]
    status = max(statuses, key=lambda s: STATUS_ORDER.index(s) if s in STATUS_ORDER else len(STATUS_ORDER))
    urls = sorted({(r.get("target") or {}).get("url") for r in runs} - {None})
    started = min((r.get("started") for r in runs if r.get("started")), default=None)
    ended = max((r.get("ended") for r in runs if r.get("ended")), default=None)
    features: list[str] = []
    for r in runs:
        features += [f for f in r.get("features", []) if f not in features]
    return {
        **{k: first.get(k) for k in ("uept_version", "party", "browser", "platform", "os", "python", "playwright")},
        "run_id": run_id,
        "target": {**(first.get("target") or {}), "url": urls[0] if len(urls) == 1 else ", ".join(urls)},
        "features": features,
        "tags": " | ".join(sorted({r.get("tags") or "(all)" for r in runs})),
        "workers": sum(int(r.get("workers") or 1) for r in runs),
        "user": ", ".join(sorted({r.get("user") or "unknown" for r in runs})),
        "host": ", ".join(sorted({r.get("host") or "unknown" for r in runs})),
        "started": started, "ended": ended, "status": "incomplete" if status not in STATUS_ORDER else status,
        "merged_from": [{k: r.get(k) for k in ("run_id", "status", "started", "ended", "host", "user")} for r in runs],
    }


def _merge_junit(files: list[Path], out: Path) -> None:
    merged = ET.Element("testsuites", name="uept merged")
    for f in files:
        if not f.is_file():
            continue
        try:
            root = ET.parse(f).getroot()
        except ET.ParseError:
            continue  # an interrupted shard may have no complete JUnit file
        for suite in ([root] if root.tag == "testsuite" else root.findall("testsuite")):
            merged.append(suite)
    ET.ElementTree(merged).write(out, encoding="utf-8", xml_declaration=True)
