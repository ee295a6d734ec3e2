"""The scenario set of a run: every scenario of the suite, its tags and steps, and one hash.

Written at the start of `uept run` as scenario-set.json in the run folder, so that the
report can say what should have run (and what an interruption stopped from running),
which scenarios are mandatory for the party's role, and which version of the feature
files produced the evidence (the scenario-set hash: SHA-256 over every feature file).
"""

from __future__ import annotations

import hashlib
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from uept.evidence.features import ScenarioInfo, gherkin_of
from uept.evidence.tags import requirement_ids, uept_id

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


# A feature whose Examples are made at collection (the access-control template): its completed text and,
# for each outline left out of it, why (rundir: `examples: 0` with `not_applicable`).
Expander = Callable[[Path], "tuple[str, dict[str, str]] | None"]


def _parse(path: Path) -> Any:
    return gherkin_of(path)  # a malformed file: the friendly one-line error


def _parse_text(text: str, name: str) -> Any:
    """A generated feature's text, parsed."""
    with tempfile.TemporaryDirectory(prefix="uept-inventory-") as tmp:
        f = Path(tmp) / name
        f.write_text(text, encoding="utf-8")
        return _parse(f)


def _row_counts(text: str, name: str) -> dict[str, int]:
    """Rows per scenario of a generated feature's text."""
    return {sc.name: (sum(len(e.examples) for e in sc.examples) if sc.examples else 1)
            for sc in _parse_text(text, name).scenarios.values()}


def _feature_entries(path: Path, root: Path, expand: Expander | None = None) -> list[dict[str, Any]]:
    feature = _parse(path)
    generated = expand(path) if expand is not None else None
    rows, left_out = (_row_counts(generated[0], path.name), generated[1]) if generated else (None, {})
    out = []
    for sc in feature.scenarios.values():
        tags = set(feature.tags) | set(sc.tags)
        steps = [{"keyword": s.keyword, "text": s.name, "line": s.line_number}
                 for s in [*sc.all_background_steps, *sc.steps]]
        examples = sum(len(e.examples) for e in sc.examples) if sc.examples else 1
        if rows is not None:
            examples = rows.get(sc.name, 0)
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
        if examples == 0 and sc.name in left_out:  # else an outline without rows is "not run": it may block
            out[-1]["not_applicable"] = left_out[sc.name]
    return out


def build(suite: Path, given: list[Path], selected: list[ScenarioInfo],
          expand: Expander | None = None) -> dict[str, Any]:
    """The scenario set: the suite's feature files plus any given from elsewhere. `expand` completes
    features whose Examples are generated, so that each outline records the rows it will really have."""
    root = suite.resolve()
    files = sorted({*(p.resolve() for p in (suite / "features").rglob("*.feature")),
                    *(p.resolve() for p in given)})
    chosen = {(s.file.resolve(), s.name) for s in selected}
    hashes: dict[str, str] = {}
    scenarios: list[dict[str, Any]] = []
    for f in files:
        rel = _rel(f, root)
        hashes[rel] = hashlib.sha256(f.read_bytes()).hexdigest()
        for entry in _feature_entries(f, root, expand):
            entry["selected"] = (f, entry["name"]) in chosen
            scenarios.append(entry)
    return {"format": FORMAT, "hash": scenario_set_hash(hashes), "files": hashes, "scenarios": scenarios}


@dataclass(frozen=True)
class SelectedCase:
    """One case a run will record a result for: a scenario, or one row of an outline (generated rows too)."""

    uept_id: str | None
    feature: str  # relative to the suite
    scenario: str
    example: dict[str, str]
    steps: tuple[tuple[str, str], ...]  # (given|when|then, text) with the row's values filled in


def selected_cases(suite: Path, selected: list[ScenarioInfo], expand: Expander | None = None) -> list[SelectedCase]:
    """Every case of the selected scenarios, in file and scenario order."""
    root = suite.resolve()
    chosen: dict[Path, set[str]] = {}
    for s in selected:
        chosen.setdefault(s.file.resolve(), set()).add(s.name)
    out: list[SelectedCase] = []
    for f in sorted(chosen):
        generated = expand(f) if expand is not None else None
        feature = _parse_text(generated[0], f.name) if generated else _parse(f)
        for sc in feature.scenarios.values():
            if sc.name not in chosen[f]:
                continue
            tags = set(feature.tags) | set(sc.tags)
            contexts = [c for ex in sc.examples for c in ex.as_contexts()] or [{}]
            for context in contexts:
                steps = tuple((st.type, st.name) for st in sc.render(context).steps)
                out.append(SelectedCase(uept_id(tags), _rel(f, root), sc.name, dict(context), steps))
    return out
