"""The scenario set of a run: every scenario of the suite, its tags and steps, and one hash.

Written at the start of `uept run` as scenario-set.json in the run folder, so that the
report can say what should have run (and what an interruption stopped from running),
which scenarios are mandatory for the party's role, and which version of the feature
files produced the evidence (the scenario-set hash: SHA-256 over every feature file).
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

from .evidence import requirement_ids, uept_id
from .features import ScenarioInfo, parse_feature

FORMAT = "uept-scenario-set/1"


def _rel(path: Path, root: Path) -> str:
    path = path.resolve()
    return str(path.relative_to(root)) if path.is_relative_to(root) else str(path)


def scenario_set_hash(files: dict[str, str]) -> str:
    """SHA-256 over 'path sha256' lines of every feature file, sorted by path."""
    h = hashlib.sha256()
    for rel in sorted(files):
        h.update(f"{rel} {files[rel]}\n".encode())
    return "sha256:" + h.hexdigest()


def _feature_entries(path: Path, root: Path) -> list[dict[str, Any]]:
    from pytest_bdd.parser import FeatureParser

    parse_feature(path)  # the friendly one-line error for a malformed file
    feature = FeatureParser(str(path.parent), path.name).parse()
    out = []
    for sc in feature.scenarios.values():
        tags = set(feature.tags) | set(sc.tags)
        steps = [{"keyword": s.keyword, "text": s.name, "line": s.line_number}
                 for s in [*sc.all_background_steps, *sc.steps]]
        examples = sum(len(e.examples) for e in sc.examples) if sc.examples else 1
        out.append({
            "uept_id": uept_id(tags),
            "name": sc.name,
            "keyword": sc.keyword,
            "line": sc.line_number,
            "tags": sorted(tags),
            "requirements": requirement_ids(tags),
            "examples": examples,
            "steps": steps,
            "feature": {"name": feature.name, "file": _rel(path, root), "line": feature.line_number,
                        "tags": sorted(feature.tags), "description": feature.description or ""},
        })
    return out


def build(suite: Path, given: list[Path], selected: list[ScenarioInfo]) -> dict[str, Any]:
    """The scenario set: the suite's feature files plus any given from elsewhere."""
    root = suite.resolve()
    files = sorted({*(p.resolve() for p in (suite / "features").rglob("*.feature")),
                    *(p.resolve() for p in given)})
    chosen = {(s.file.resolve(), s.name) for s in selected}
    hashes: dict[str, str] = {}
    scenarios: list[dict[str, Any]] = []
    for f in files:
        rel = _rel(f, root)
        hashes[rel] = hashlib.sha256(f.read_bytes()).hexdigest()
        for entry in _feature_entries(f, root):
            entry["selected"] = (f, entry["name"]) in chosen
            scenarios.append(entry)
    return {"format": FORMAT, "hash": scenario_set_hash(hashes), "files": hashes, "scenarios": scenarios}
