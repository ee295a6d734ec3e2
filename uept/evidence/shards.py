"""Shards: the selected scenario cases of one run split into N parts, for N machines (`uept run --shard I/N`).

A *case* is what one result.json records: a scenario, or one row of an outline (the access-control cells
generated from the profile's role matrix included). Its ID is the scenario's @UEPT- ID plus the row's values,
which `uept run` computes from the feature files before anything starts and the evidence plugin computes
from each collected test in the same way (`case_id`), so that both sides agree on every case.

The split keeps every persona's cases in one shard: authenticator-code and lockout state belong to the
account, and the record of codes already used ("never reuse a code") is local to one machine, so two shards
must never sign in as the same account. Cases that name several personas join their groups (a scenario in
which the "SM user" raises an incident that the "LA user" then views puts both personas' cases in one group).
The groups are then dealt out largest first, each to the shard with the least work so far (the
longest-processing-time rule), work being the durations recorded by a previous run (`--durations`) or,
without them, the number of cases. The split depends only on the cases, their personas and the durations:
every machine of a CI matrix computes the same plan, and every case is in exactly one shard.

The plan is written into the run folder (shard.json) and given to pytest, whose collection keeps this
shard's cases (uept/evidence/plugin.py); a collected case the plan does not know stops the run (exit 2),
so a shard can never quietly leave a scenario out.
"""

from __future__ import annotations

import hashlib
import json
import re
import statistics
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ssi.errors import UsageError

FORMAT = "uept-shard-plan/1"
PLAN_FILE = "shard.json"
_SPEC = re.compile(r"^\s*(\d+)\s*/\s*(\d+)\s*$")


def case_id(scenario: str, example: dict[str, Any] | None = None) -> str:
    """One case's ID: the scenario's ID, and for an outline row its values (sorted by column)."""
    if not example:
        return scenario
    return f"{scenario} {json.dumps({str(k): str(v) for k, v in example.items()}, sort_keys=True, ensure_ascii=False)}"


@dataclass(frozen=True)
class Case:
    id: str
    personas: frozenset[str] = frozenset()
    feature: str = ""  # the feature file, relative to the suite


def parse_spec(text: str) -> tuple[int, int]:
    """'I/N' as (I, N), 1 <= I <= N; UsageError otherwise."""
    m = _SPEC.match(text or "")
    if not m:
        raise UsageError(f"--shard '{text}' is not of the form I/N",
                         "give the shard's number and the number of shards, e.g. --shard 1/3")
    index, total = int(m.group(1)), int(m.group(2))
    if total < 1:
        raise UsageError(f"--shard {text}: the number of shards must be at least 1", "give e.g. --shard 1/3")
    if not 1 <= index <= total:
        raise UsageError(f"--shard {text}: the shard's number must be between 1 and {total}",
                         f"give --shard 1/{total} to --shard {total}/{total}, one per machine")
    return index, total


# ---------------------------------------------------------------- the split
def persona_groups(cases: list[Case]) -> list[list[Case]]:
    """Cases that share a persona, directly or through other cases, in one group; a case naming no persona
    is a group of its own. Groups and their cases in a stable order (by case ID)."""
    parent: dict[str, str] = {}

    def find(x: str) -> str:
        parent.setdefault(x, x)
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    def union(a: str, b: str) -> None:
        ra, rb = find(a), find(b)
        if ra != rb:
            parent[max(ra, rb)] = min(ra, rb)

    for c in cases:
        names = sorted(c.personas)
        for other in names[1:]:
            union("persona:" + names[0], "persona:" + other)
    groups: dict[str, list[Case]] = {}
    for c in cases:
        key = find("persona:" + min(c.personas)) if c.personas else "case:" + c.id
        groups.setdefault(key, []).append(c)
    out = [sorted(g, key=lambda c: c.id) for g in groups.values()]
    return sorted(out, key=lambda g: g[0].id)


def weights(cases: list[Case], durations: dict[str, float] | None) -> dict[str, float]:
    """Seconds per case from the durations (a case they do not know counts as their median), or 1 per case."""
    if not durations:
        return {c.id: 1.0 for c in cases}
    known = [durations[c.id] for c in cases if c.id in durations]
    if not known:
        return {c.id: 1.0 for c in cases}
    typical = statistics.median(known)
    return {c.id: durations.get(c.id, typical) for c in cases}


def split(cases: Iterable[Case], total: int, durations: dict[str, float] | None = None) -> list[list[Case]]:
    """The cases in `total` shards (a list per shard, each sorted by case ID): persona groups kept whole,
    largest first to the least loaded shard (ties: the lower shard number). Deterministic."""
    cases = sorted({c.id: c for c in cases}.values(), key=lambda c: c.id)
    if total < 1:
        raise ValueError("total must be at least 1")
    w = weights(cases, durations)
    groups = persona_groups(cases)
    groups.sort(key=lambda g: (-round(sum(w[c.id] for c in g), 6), g[0].id))
    loads = [0.0] * total
    shards: list[list[Case]] = [[] for _ in range(total)]
    for g in groups:
        i = min(range(total), key=lambda k: (round(loads[k], 6), k))
        shards[i].extend(g)
        loads[i] += sum(w[c.id] for c in g)
    return [sorted(s, key=lambda c: c.id) for s in shards]


@dataclass
class Plan:
    index: int
    total: int
    balanced_by: str  # "count" or "durations from FILE"
    assignment: dict[str, int]  # case ID -> shard number (1-based), every selected case
    estimate: list[float]  # the work of each shard (seconds, or cases when balanced by count)

    @property
    def mine(self) -> list[str]:
        return sorted(c for c, s in self.assignment.items() if s == self.index)

    @property
    def digest(self) -> str:
        """The same for every shard of one split (`uept merge` joins only shards of one plan)."""
        text = json.dumps([self.total, sorted(self.assignment.items())], ensure_ascii=False)
        return "sha256:" + hashlib.sha256(text.encode()).hexdigest()

    def record(self) -> dict[str, Any]:
        """What run.json says about the shard."""
        return {"index": self.index, "total": self.total, "balanced_by": self.balanced_by,
                "cases": len(self.mine), "cases_selected": len(self.assignment),
                "estimate": [round(x, 1) for x in self.estimate], "plan": self.digest}

    def to_json(self) -> dict[str, Any]:
        return {"format": FORMAT, **self.record(), "assignment": dict(sorted(self.assignment.items()))}


def plan(cases: list[Case], index: int, total: int, durations: dict[str, float] | None = None,
         source: str | None = None) -> Plan:
    parts = split(cases, total, durations)
    w = weights(sorted(cases, key=lambda c: c.id), durations)
    by = f"durations from {source}" if durations and source and any(c.id in durations for c in cases) else "count"
    assignment = {c.id: n for n, part in enumerate(parts, 1) for c in part}
    return Plan(index, total, by, assignment, [sum(w[c.id] for c in part) for part in parts])


def write_plan(run_dir: Path, p: Plan) -> Path:
    from uept.evidence.rundir import write_json_atomic

    path = Path(run_dir) / PLAN_FILE
    write_json_atomic(path, p.to_json())
    return path


def read_plan(path: Path) -> Plan:
    data = json.loads(Path(path).read_text(encoding="utf-8"))
    if data.get("format") != FORMAT:
        raise ValueError(f"{path} is not a uept shard plan")
    return Plan(int(data["index"]), int(data["total"]), str(data["balanced_by"]),
                {str(k): int(v) for k, v in data["assignment"].items()}, list(data.get("estimate") or []))


# ---------------------------------------------------------------- durations of a previous run
_FIX = "give a run folder (reports/<run-id>), its summary.json or its evidence pack from a previous uept run"


def load_durations(path: Path) -> dict[str, float]:
    """{case ID: seconds} from a previous run: its folder, its summary.json or its evidence pack (.zip).
    UsageError (one line) when the file is none of these."""
    path = Path(path)
    if not path.exists():
        raise UsageError(f"--durations {path}: not found", _FIX)
    if path.is_dir():
        if (path / "scenarios").is_dir():
            return _from_results(path)
        if (path / "summary.json").is_file():
            return _from_summary(path / "summary.json", _read(path / "summary.json"))
        raise UsageError(f"--durations {path}: not a uept run folder (no scenarios/, no summary.json)", _FIX)
    if path.suffix == ".zip":
        from uept.evidence.pack import PackReader, PackUnreadable

        try:
            with PackReader(path) as reader:
                data = json.loads(reader.read("summary.json"))
        except UsageError as exc:
            raise UsageError(f"--durations {path}: not a readable uept evidence pack ({exc.problem})", _FIX) from None
        except (PackUnreadable, OSError, ValueError) as exc:
            raise UsageError(f"--durations {path}: not a readable uept evidence pack ({exc})", _FIX) from None
        return _from_summary(path, data)
    return _from_summary(path, _read(path))


def _read(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except UnicodeDecodeError:
        raise UsageError(f"--durations {path}: not a uept summary.json (not UTF-8 text)", _FIX) from None
    except OSError as exc:
        raise UsageError(f"--durations {path}: cannot be read ({exc.strerror})", _FIX) from None
    except ValueError:
        raise UsageError(f"--durations {path}: not a uept summary.json (not JSON)", _FIX) from None


def _seconds(value: Any) -> float | None:
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) and value >= 0 else None


def _from_summary(path: Path, data: Any) -> dict[str, float]:
    if not isinstance(data, dict) or not str(data.get("format", "")).startswith("uept-summary/") \
            or not isinstance(data.get("scenarios"), list):
        raise UsageError(f"--durations {path}: not a uept summary.json", _FIX)
    out: dict[str, float] = {}
    for sc in data["scenarios"]:
        if not isinstance(sc, dict) or not isinstance(sc.get("results"), list):
            continue
        for res in sc["results"]:
            seconds = _seconds(res.get("duration")) if isinstance(res, dict) else None
            if seconds is not None:
                out[case_id(str(sc.get("id")), res.get("example") or {})] = seconds
    return out


def _from_results(run_dir: Path) -> dict[str, float]:
    from uept.evidence.rundir import RunFolder

    out: dict[str, tuple[int, float]] = {}
    for r in RunFolder.load(run_dir, salvage=True).results:
        seconds = _seconds(r.get("duration"))
        if seconds is None or not r.get("uept_id"):
            continue
        cid = case_id(r["uept_id"], r.get("example") or {})
        attempt = int(r.get("attempt") or 1)
        if cid not in out or attempt > out[cid][0]:  # the last attempt's time
            out[cid] = (attempt, seconds)
    return {k: v for k, (_, v) in out.items()}
