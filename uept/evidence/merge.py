"""`uept merge`: join the run folders of shards (or separate parallel runs) into one.

Every input is verified first, as `uept verify` does (every file's SHA-256 against its signed
manifest, and the manifest's signature; against the party's registered key when one is given):
an input that fails, or that was never signed, is refused, so that merging can never re-sign a
changed result. The inputs must be runs of the same party and User Role with the same scenario
set (hash), against the same target URL and environment, signed by the same key, unless told
otherwise (`allow_different_targets`, `allow_different_signers`); each shard may have used its
own embedded reference SSI (a fresh URL each time). The merged folder gets a new run id, every
scenario result (a scenario that ran in more than one input becomes attempts of one scenario,
oldest first: nothing is dropped), the Allure results, one JUnit file with every input's test
suites, one pytest.log, and run.json with `merged_from`: each input's run, signer fingerprint,
verification and verdict. The report and the signed pack are then made from it.
"""

from __future__ import annotations

import shutil
import xml.etree.ElementTree as ET
from collections.abc import Callable
from contextlib import ExitStack
from pathlib import Path
from typing import Any

from ssi.errors import UsageError
from uept.evidence.completion import base_key
from uept.evidence.pack import PackReader, PackUnreadable
from uept.evidence.rundir import (
    RUN,
    SCENARIO_SET,
    ResultRecord,
    RunRecord,
    ScenarioSetRecord,
    read_record,
    write_json_atomic,
)

GENERATED = {"environment.properties", "executor.json", "categories.json"}
STATUS_ORDER = ["passed", "failed", "incomplete"]


def _open(path: Path, stack: ExitStack) -> Path:
    if not path.exists():
        raise UsageError(f"{path} not found", "give run folders (reports/<run-id>) or evidence packs")
    try:
        root = stack.enter_context(PackReader(path)).folder()
    except PackUnreadable as exc:
        raise UsageError(str(exc), "give an intact pack or its run folder") from None
    if not (root / "run.json").is_file() and not (root / "scenarios").is_dir():
        raise UsageError(f"{path} is not a uept run folder or pack (no run.json, no scenarios/)",
                         "give folders under reports/ or evidence-pack-*.zip files")
    return root


def _verified(path: Path, key: str | None) -> dict[str, Any]:
    """The input's signer and verification, or UsageError when its files or signature do not verify."""
    from uept.evidence.pack import MANIFEST, verify

    if not path.exists():
        raise UsageError(f"{path} not found", "give run folders (reports/<run-id>) or evidence packs")
    v = verify(path, key, completeness=False, scan=False)
    if not v.ok:
        failed = [f"{c.name}: {', '.join(c.lines[:3])}" for c in v.checks if not c.ok and c.lines] or ["not verified"]
        if v.manifest is None and not path.is_file():
            raise UsageError(f"{path} was never signed ({failed[0]})",
                             "merge evidence packs or finished run folders: run `uept report` on it first only if "
                             "you trust every file in it")
        raise UsageError(f"{path} does not verify, so it is not merged ({'; '.join(failed)})",
                         "merge only intact packs signed by the party (check them with `uept verify`)")
    signer = (v.manifest or {}).get("signer") or {}
    summary = v.summary or {}
    return {"pack": str(path), "signer": signer.get("fingerprint"),
            "verification": "hashes and signature verified" + (" (signed by the expected key)" if key else
                                                               " (signer not compared with a registered key)"),
            "verdict": (summary.get("verdict") or {}).get("result") or (v.manifest or {}).get("verdict"),
            "manifest": MANIFEST}


def merge_runs(inputs: list[Path], reports: Path, output: Path | None = None,
               log: Callable[[str], None] = print, keys: list[str] | None = None,
               allow_different_targets: bool = False, allow_different_signers: bool = False) -> Path:
    """keys: none; one public key every input must be signed by; or one per input, in order."""
    from uept.evidence.plugin import new_run_id

    if len(inputs) < 1:
        raise UsageError("nothing to merge", "give two or more run folders")
    keys = list(keys or [])
    if len(keys) not in (0, 1, len(inputs)):
        raise UsageError(f"{len(keys)} --key values for {len(inputs)} inputs",
                         "give one --key for all inputs, or one per input in the same order")
    per_input = keys * len(inputs) if len(keys) == 1 else keys or [None] * len(inputs)
    checks = [_verified(p, k) for p, k in zip(inputs, per_input, strict=True)]
    signers = sorted({c["signer"] or "?" for c in checks})
    if len(signers) > 1 and not allow_different_signers:
        raise UsageError(f"the inputs are signed by different keys ({', '.join(signers)})",
                         "merge packs of one signer, or pass --allow-different-signers if each signer is a "
                         "registered key of the party")
    for c in checks:
        log(f"uept: {c['pack']}: {c['verification']}, signer {c['signer']}")
    with ExitStack() as stack:
        roots = [_open(p, stack) for p in inputs]
        runs = [read_record(r / RUN, RunRecord) for r in roots]
        sets = [read_record(r / SCENARIO_SET, ScenarioSetRecord) if (r / SCENARIO_SET).exists() else None
                for r in roots]
        _check_same(inputs, runs, sets, allow_different_targets)

        run_id = new_run_id()
        out = (output or reports / run_id).resolve()
        if out.exists() and any(out.iterdir()):
            raise UsageError(f"{out} already exists and is not empty", "choose another --output")
        (out / "scenarios").mkdir(parents=True, exist_ok=True)

        # scenario results, oldest first; repeats become attempts
        results: list[tuple[str, Path, dict]] = []
        for root in roots:
            for f in (root / "scenarios").glob("*/result.json"):
                data = read_record(f, ResultRecord)
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
        write_json_atomic(out / "run.json", _merged_run(run_id, runs, checks))
        log(f"uept: merged {len(results)} scenario result(s) from {len(roots)} run(s)")
        return out


def _target_url(run: dict) -> str | None:
    """The target URL that identifies the system under test (an embedded reference SSI is a fresh one per run)."""
    t = run.get("target") or {}
    return None if t.get("embedded") else t.get("url")


def _check_same(inputs: list[Path], runs: list[dict], sets: list[dict | None],
                allow_different_targets: bool = False) -> None:
    def ident(run: dict) -> tuple:
        p = run.get("party") or {}
        return (p.get("name"), p.get("sec_party_id"), p.get("user_role"))

    first = ident(runs[0])
    told = "or pass --allow-different-targets if they really are one system under test"
    for path, run in zip(inputs[1:], runs[1:], strict=True):
        if ident(run) != first:
            raise UsageError(f"{path} is a run of {ident(run)}, not of {first}",
                             "merge only runs of one party and User Role")
        if allow_different_targets:
            continue
        if (run.get("target") or {}).get("environment") != (runs[0].get("target") or {}).get("environment"):
            raise UsageError(f"{path} ran against another environment ({(run.get('target') or {}).get('environment')})",
                             f"merge runs of one environment, {told}")
        if _target_url(run) != _target_url(runs[0]):
            raise UsageError(f"{path} ran against {_target_url(run) or 'an embedded reference SSI'}, not "
                             f"{_target_url(runs[0]) or 'an embedded reference SSI'}",
                             f"merge runs against one target, {told}")
    _check_shards(inputs, runs)
    hashes = {s.get("hash") for s in sets if s}
    if len(hashes) > 1:
        raise UsageError("the inputs ran different scenario sets (feature files differ: "
                         + ", ".join(sorted(h or "?" for h in hashes)) + ")",
                         "merge only shards of one checkout of the feature files")


def _check_shards(inputs: list[Path], runs: list[dict]) -> None:
    """Shards (`uept run --shard I/N`) join only with the other shards of the same split, each once."""
    seen: dict[int, Path] = {}
    plan = None
    for path, run in zip(inputs, runs, strict=True):
        shard = run.get("shard")
        if not isinstance(shard, dict):
            continue
        this = (shard.get("plan"), shard.get("total"))
        if plan is None:
            plan = (this, path)
        elif this != plan[0]:
            raise UsageError(f"{path} is shard {shard.get('index')}/{shard.get('total')} of another split than "
                             f"{plan[1]} (the selection, the number of shards or the durations differ)",
                             "merge the shards of one split: the same --tags, features, --shard I/N and --durations")
        index = int(shard.get("index") or 0)
        if index in seen:
            raise UsageError(f"{path} and {seen[index]} are both shard {index}/{shard.get('total')}",
                             "give each shard's run folder once")
        seen[index] = path


def _shards(runs: list[dict]) -> dict[str, Any] | None:
    """What the merged run.json says about the shards it joins: their number, and which are missing."""
    found = [r["shard"] for r in runs if isinstance(r.get("shard"), dict)]
    if not found:
        return None
    total = int(found[0].get("total") or 0)
    given = sorted(int(s.get("index") or 0) for s in found)
    return {"total": total, "merged": given, "missing": [i for i in range(1, total + 1) if i not in given],
            "plan": found[0].get("plan"), "balanced_by": found[0].get("balanced_by")}


def _merged_run(run_id: str, runs: list[dict], checks: list[dict]) -> dict[str, Any]:
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
        "target": {**(first.get("target") or {}), "url": urls[0] if len(urls) == 1 else ", ".join(urls),
                   "embedded": all((r.get("target") or {}).get("embedded") for r in runs)},
        "features": features,
        "tags": " | ".join(sorted({r.get("tags") or "(all)" for r in runs})),
        "workers": sum(int(r.get("workers") or 1) for r in runs),
        "user": ", ".join(sorted({r.get("user") or "unknown" for r in runs})),
        "host": ", ".join(sorted({r.get("host") or "unknown" for r in runs})),
        "started": started, "ended": ended, "status": "incomplete" if status not in STATUS_ORDER else status,
        **({"shards": _shards(runs)} if _shards(runs) else {}),
        "merged_from": [{**{k: r.get(k) for k in ("run_id", "status", "started", "ended", "host", "user", "shard")},
                         "target": (r.get("target") or {}).get("url"),
                         "environment": (r.get("target") or {}).get("environment"),
                         **{k: c[k] for k in ("pack", "signer", "verification", "verdict")}}
                        for r, c in zip(runs, checks, strict=True)],
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
