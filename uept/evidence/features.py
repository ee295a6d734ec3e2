"""Feature files: found, parsed with the official Gherkin parser, checked up front.

A malformed feature file stops a run before the browser starts, with one line
naming the file, the line and the problem.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ssi.errors import UsageError

TAG_LINE = re.compile(r"^\s*(@\S+(?:\s+@\S+)*)\s*(#.*)?$")

# Feature files made at collection from another one (the access-control template with its
# Examples filled in): results and reports name the source, which the scenario set lists.
_SOURCES: dict[str, Path] = {}


def register_generated(generated: Path, source: Path) -> None:
    _SOURCES[str(Path(generated).resolve())] = Path(source)


def source_of(path: str | Path) -> Path:
    """The feature file a scenario comes from: the template of a generated feature, else itself."""
    return _SOURCES.get(str(Path(path).resolve()), Path(path))


@dataclass(frozen=True)
class ScenarioInfo:
    feature: str
    file: Path
    name: str
    tags: frozenset[str]
    line: int
    outline: bool
    cases: int = 1  # rows of its Examples tables (1 for a plain scenario)


# Feature files parsed in this process, by (path, modification time, size): `uept run` reads each one for the
# selection, the scenario set and the step check, and a parse costs about 13 ms a file
_PARSED: dict[tuple[str, int, int], Any] = {}


def gherkin_of(path: Path) -> Any:
    """The feature file as pytest-bdd parses it (a pytest_bdd.parser.Feature, not to be changed: it is shared);
    UsageError, in one line, where it cannot be read or parsed."""
    from pytest_bdd.exceptions import GherkinParseError
    from pytest_bdd.parser import FeatureParser

    try:
        st = path.stat()
        key = (str(path.resolve()), st.st_mtime_ns, st.st_size)
        if key not in _PARSED:
            _PARSED[key] = FeatureParser(str(path.parent), path.name).parse()
        return _PARSED[key]
    except GherkinParseError as exc:
        what = exc.message.strip().splitlines()[0].rstrip(".")
        raise UsageError(f"malformed feature file {path}:{exc.line}: {what}",
                         "fix the Gherkin syntax on that line") from None
    except UnicodeDecodeError:
        raise UsageError(f"feature file {path} is not UTF-8 text", "save it as UTF-8") from None
    except OSError as exc:
        raise UsageError(f"cannot read feature file {path} ({exc.strerror})", "check the path") from None


def parse_feature(path: Path) -> list[ScenarioInfo]:
    feature = gherkin_of(path)
    out = []
    for sc in feature.scenarios.values():
        rows = sum(len(ex.examples) for ex in sc.examples)
        out.append(ScenarioInfo(feature.name, path, sc.name, frozenset(feature.tags | sc.tags), sc.line_number,
                                bool(sc.examples), rows if sc.examples else 1))
    return out


def discover(paths: list[Path]) -> list[Path]:
    files: list[Path] = []
    for p in paths:
        if p.is_dir():
            files.extend(sorted(p.rglob("*.feature")))
        elif p.suffix == ".feature" and p.is_file():
            files.append(p)
        else:
            raise UsageError(f"{p} is not a feature file or a folder of them", "give .feature files or folders")
    if not files:
        raise UsageError(f"no feature files in {', '.join(map(str, paths))}", "give .feature files or folders")
    return files


def load(paths: list[Path]) -> list[ScenarioInfo]:
    scenarios: list[ScenarioInfo] = []
    for f in discover(paths):
        scenarios.extend(parse_feature(f))
    return scenarios


def all_tags_in(where: Path) -> set[str]:
    """Every tag used in a feature file, or in the feature files under a folder (cheap; no full parse)."""
    tags: set[str] = set()
    for f in (where.rglob("*.feature") if where.is_dir() else [where]):
        for line in f.read_text(encoding="utf-8", errors="replace").splitlines():
            m = TAG_LINE.match(line)
            if m:
                tags.update(t[1:] for t in m.group(1).split())
    return tags


def tags_to_markexpr(expr: str) -> str:
    """A Cucumber-style tag expression ('@smoke and not @slow') as a pytest -m expression."""
    out = re.sub(r"@(?=[\w-])", "", expr).strip()
    from _pytest.mark import expression

    # pytest < 9.1 raises its own ParseError (.message); 9.1 raises SyntaxError (.msg)
    parse_error = getattr(expression, "ParseError", SyntaxError)
    try:
        expression.Expression.compile(out)
    except parse_error as exc:
        why = getattr(exc, "message", None) or getattr(exc, "msg", str(exc))
        raise UsageError(f"--tags '{expr}' is not a valid tag expression ({why})",
                         "use tags joined by and / or / not, e.g. '@UEPT-LOGIN-01 or @SSI-FR-1a'") from None
    return out


def select(scenarios: list[ScenarioInfo], markexpr: str | None) -> list[ScenarioInfo]:
    if not markexpr:
        return scenarios
    from _pytest.mark.expression import Expression

    expr = Expression.compile(markexpr)
    return [s for s in scenarios if expr.evaluate(lambda name, tags=s.tags, **kw: name in tags)]
