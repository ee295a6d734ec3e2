"""The run folder's records, read and checked in one place.

A run folder holds three kinds of record the evidence is made from: `run.json` (the run),
`scenario-set.json` (every scenario of the suite, and which were selected) and one
`scenarios/<key>/result.json` per scenario attempt. Whoever reads them reads them here.

A record that cannot be read, is not JSON, or does not have the shape uept writes
(e.g. a truncated file, a number where a name belongs) is *damaged*. Reading strictly
(`uept report`, `uept merge`, the end of `uept run`) stops at the first damaged record
with one line naming the file (`DamagedRecord`, exit 2), so that a damaged record can
never quietly turn into "not run" or a report signed for nobody. Reading with
`salvage=True` (`uept report --salvage`, `uept verify`) keeps going and lists every
damaged file, which the assessment then reports (and which makes the verdict INCOMPLETE).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from ssi.errors import UsageError
from uept.evidence.writer import write_atomic

RUN, SCENARIO_SET, SCENARIOS, RESULT = "run.json", "scenario-set.json", "scenarios", "result.json"


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def write_json_atomic(path: Path, data: Any) -> None:
    write_atomic(path, json_bytes(data))


def json_bytes(data: Any) -> bytes:
    """A record as the run folder keeps it."""
    return json.dumps(data, indent=2, ensure_ascii=False).encode("utf-8")


class DamagedRecord(UsageError):
    """A record file of a run folder that cannot be read or has the wrong shape."""

    def __init__(self, path: Path, why: str) -> None:
        self.path = Path(path)
        self.why = why
        super().__init__(f"{path} is damaged ({why})",
                         "restore it from the run's evidence pack, or run `uept report --salvage RUN_DIR` "
                         "to make a report that lists it as damaged")


class _Record(BaseModel):
    model_config = ConfigDict(extra="allow")


class _Party(_Record):
    name: str | None = None
    sec_party_id: str | None = None
    user_role: str | None = None


class _Target(_Record):
    name: str | None = None
    url: str | None = None
    environment: str | None = None
    profile: str | None = None
    embedded: bool = False  # an embedded reference SSI, started for this run (its URL is a fresh one)


class RunRecord(_Record):
    run_id: str = Field(min_length=1)
    party: _Party
    target: _Target
    status: str
    started: str | None = None
    ended: str | None = None
    features: list[str] = []
    tags: str | None = None
    workers: int = 1
    counts: dict[str, int] = {}
    pytest_exit: int | None = None
    merged_from: list[dict[str, Any]] | None = None


class _FeatureRef(_Record):
    name: str | None = None
    file: str | None = None


class _Step(_Record):
    n: int
    keyword: str
    text: str
    status: str
    error: str | None = None
    screenshot: str | None = None
    page_text: str | None = None
    url: str | None = None
    duration: float | None = None


class ResultRecord(_Record):
    key: str = Field(min_length=1)
    name: str
    uept_id: str | None = None
    feature: _FeatureRef
    status: Literal["running", "passed", "failed", "error", "skipped", "interrupted"]
    tags: list[str] = []
    requirements: list[str] = []
    attempt: int = Field(1, ge=1)
    started: str | None = None
    ended: str | None = None
    duration: float | None = None
    steps: list[_Step] = []
    traces: list[str] = []
    error: str | None = None
    example: dict[str, str] = {}
    worker: str | None = None


class _SetScenario(_Record):
    uept_id: str | None = None
    name: str
    line: int | None = None
    tags: list[str] = []
    requirements: list[str] = []
    examples: int = Field(1, ge=0)
    not_applicable: str | None = None  # why an outline has no rows (generated from the target's role matrix)
    selected: bool = True
    feature: _FeatureRef
    steps: list[dict[str, Any]] = []


class ScenarioSetRecord(_Record):
    hash: str
    files: dict[str, str] = {}
    scenarios: list[_SetScenario]


def _why(exc: ValidationError) -> str:
    first = exc.errors()[0]
    where = ".".join(str(p) for p in first["loc"]) or "(top level)"
    more = f"; and {exc.error_count() - 1} more" if exc.error_count() > 1 else ""
    return f"{where}: {first['msg']}{more}"


def read_record(path: Path, model: type[BaseModel], read: Callable[[], bytes] | None = None) -> dict[str, Any]:
    """One record as uept wrote it (a dict), or DamagedRecord saying why it is not. `read`: its bytes from
    elsewhere than the file system (a pack's member)."""
    try:
        data = json.loads((read() if read else Path(path).read_bytes()).decode("utf-8"))
    except UnicodeDecodeError:
        raise DamagedRecord(path, "not UTF-8 text") from None
    except OSError as exc:
        raise DamagedRecord(path, exc.strerror or str(exc) or exc.__class__.__name__) from None
    except (ValueError, RecursionError) as exc:
        raise DamagedRecord(path, f"not valid JSON: {str(exc)[:80]}") from None
    if not isinstance(data, dict):
        raise DamagedRecord(path, "not a JSON object")
    try:
        model.model_validate(data)
    except ValidationError as exc:
        raise DamagedRecord(path, _why(exc)) from None
    return data


def read_json(path: Path) -> Any:
    """A JSON file uept made that nothing depends on being right (e.g. summary.json, to show), or None."""
    try:
        return json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError, RecursionError):
        return None


@dataclass
class RunFolder:
    """What a run folder records. `damaged` lists {file, why} for each damaged record (salvage only)."""

    path: Path
    run: dict[str, Any] | None
    scenario_set: dict[str, Any] | None
    results: list[dict[str, Any]]
    damaged: list[dict[str, str]] = field(default_factory=list)

    @classmethod
    def load(cls, run_dir: Path, salvage: bool = False,
             files: tuple[Iterable[str], Callable[[str], bytes]] | None = None) -> RunFolder:
        """`files`: the run folder's paths and a reader of their bytes, for a folder that is not on disk (a pack
        read where it is)."""
        run_dir = Path(run_dir)
        damaged: list[dict[str, str]] = []
        names = set(files[0]) if files else None

        def fault(path: Path, why: str) -> None:
            if not salvage:
                raise DamagedRecord(path, why)
            damaged.append({"file": path.relative_to(run_dir).as_posix(), "why": why})

        def one(path: Path, model: type[BaseModel]) -> dict[str, Any] | None:
            rel = path.relative_to(run_dir).as_posix()
            if not (rel in names if names is not None else path.exists()):
                return None
            try:
                return read_record(path, model, (lambda: files[1](rel)) if files else None)
            except DamagedRecord as exc:
                fault(path, exc.why)
                return None

        run = one(run_dir / RUN, RunRecord)
        scenario_set = one(run_dir / SCENARIO_SET, ScenarioSetRecord)
        results = []
        found = (sorted(run_dir / n for n in names if n.startswith(f"{SCENARIOS}/") and n.count("/") == 2
                        and n.endswith(f"/{RESULT}")) if names is not None
                 else sorted((run_dir / SCENARIOS).glob(f"*/{RESULT}")))
        for f in found:
            data = one(f, ResultRecord)
            if data is not None and data["key"] != f.parent.name:
                fault(f, f"key {data['key']!r} is not its folder's name {f.parent.name!r}")
                data = None
            if data is None:
                continue
            if data["status"] == "running":  # the run stopped in the middle of it
                data["status"] = "interrupted"
            results.append(data)
        results.sort(key=lambda d: d["key"])
        return cls(run_dir, run, scenario_set, results, damaged)
