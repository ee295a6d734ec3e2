"""`uept steps`: the shared step library as a tester reads it: every step phrase, its parameters and, where the
target profile knows them, their allowed values, what it does (its docstring), where it is defined and where the
features use it. `--json` prints the same as a document of the shape StepsDocument below (schema: `--schema`),
which an editor's Gherkin autocomplete can read: each step's `regex` matches exactly the lines the step binds.
"""

from __future__ import annotations

import argparse
import importlib
import inspect
import json
import re
import sys
from pathlib import Path

from pydantic import BaseModel

from uept.cli.common import say, suite_root

FORMAT = "uept-steps/1"


class Parameter(BaseModel):
    name: str
    type: str = ""  # the parse type, e.g. Quoted, Digits; "" for any text
    values: list[str] = []  # the allowed values, where the profile or the type knows them


class StepEntry(BaseModel):
    keyword: str  # Given | When | Then
    phrase: str  # the wording with {parameters}, as a tester writes it
    regex: str  # matches exactly the step lines it binds (anchored)
    parameters: list[Parameter] = []
    doc: str = ""
    defined_in: str  # steps/<module>.py:<line>
    used_in: list[str] = []  # features/<file>.feature:<line>


class StepsDocument(BaseModel):
    format: str = FORMAT
    profile: str
    steps: list[StepEntry]


def step_modules(suite: Path) -> list[str]:
    """The step plugins conftest.py registers (steps.*)."""
    return [m for m in suite_modules(suite) if m.startswith("steps.")]


def suite_modules(suite: Path) -> list[str]:
    """The suite's own plugins conftest.py registers (steps.*, fixtures.*: those with a file in the suite)."""
    text = (suite / "conftest.py").read_text(encoding="utf-8")
    names = re.findall(r'"([A-Za-z_][\w.]*)"', text)
    return [n for n in names if (suite / (n.replace(".", "/") + ".py")).is_file()]


def load_suite(suite: Path) -> None:
    """Import the suite's plugins as a run will: one that does not load (a syntax error, a missing import) is named
    with its file and line now, before anything starts."""
    from ssi.errors import UsageError

    if str(suite) not in sys.path:
        sys.path.insert(0, str(suite))
    for name in suite_modules(suite):
        try:
            importlib.import_module(name)
        except Exception as exc:  # whatever stops a module of the suite loading is the suite's to correct
            where = _where(exc, suite) or name.replace(".", "/") + ".py"
            what = str(exc).splitlines()[0] if str(exc) else ""
            raise UsageError(f"{where}: the suite's module {name} does not load ({exc.__class__.__name__}"
                             f"{': ' + what if what else ''})",
                             f"correct it; `python -c 'import {name}'` in the suite's folder shows the "
                             "traceback") from None


def _where(exc: BaseException, suite: Path) -> str | None:
    """file:line in the suite where loading a module failed: the line that does not parse, or the suite's deepest
    line of the traceback."""
    places = [(exc.filename, exc.lineno)] if isinstance(exc, SyntaxError) and exc.filename and exc.lineno else []
    places += [(f.filename, f.lineno) for f in reversed(inspect.getinnerframes(exc.__traceback__))]
    for file, line in places:
        path = Path(file).resolve()
        if path.is_relative_to(suite.resolve()):
            return f"{path.relative_to(suite.resolve())}:{line}"
    return None


def _type_values(type_name: str, types: dict) -> list[str]:
    """The words a parse type accepts, when it is a list of alternatives (e.g. DCC | the carrier)."""
    conv = types.get(type_name)
    pattern = getattr(conv, "pattern", "")
    if not pattern or any(ch in pattern for ch in "[]()*+?\\d") and "|" not in pattern:
        return []
    parts = pattern.split("|")
    words = [re.sub(r"\\(.)", r"\1", p) for p in parts]
    return words if all(not re.search(r"[\[\]()*+?]", w) for w in words) else []


def known_values(profile, personas: list[str]) -> dict[str, list[str]]:
    """Allowed values of parameters by their name, from the target profile and config."""
    m = profile.role_matrix
    return {
        "persona": personas,
        "role": [r.name for r in m.roles] + [r.abbr for r in m.roles],
        "function": [c.name for c in m.components],
        "state": list(profile.incidents.states.values()),
        "impact": [c.label for c in profile.incidents.impact],
        "urgency": [c.label for c in profile.incidents.urgency],
        "code": list(profile.incidents.close_codes),
        "update_type": list(profile.incidents.update_types),
        "item": [i.name for i in profile.service_requests.items],
        "stage": list(profile.service_requests.stages.values()),
    }


def _regex_of(parser) -> str:
    kind = type(parser).__name__
    if kind == "re":
        return parser.regex.pattern
    if kind == "parse":
        return f"^{parser.parser._expression}$"  # parse's own translation of the pattern, matched whole
    return "^" + re.escape(parser.name) + "$"


def library(suite: Path, profile, personas: list[str]) -> list[StepEntry]:
    return [entry for entry, _ in bound_library(suite, profile, personas)]


def step_lines(suite: Path, files: list[Path] | None = None,
               only: set[tuple[Path, int]] | None = None) -> list[tuple[str, str, str, str]]:
    """(type, text, file:line, keyword as written) of every step of these feature files (default: all of
    features/), outline rows filled in, background steps included, each once."""
    from uept.evidence.features import gherkin_of

    lines: list[tuple[str, str, str, str]] = []
    for path in sorted(files or (suite / "features").rglob("*.feature")):
        feature = gherkin_of(path)
        rel = path.resolve().relative_to(suite) if path.resolve().is_relative_to(suite) else path
        for template in feature.scenarios.values():
            if only is not None and (path.resolve(), template.line_number) not in only:
                continue  # a scenario the run does not select (--tags)
            contexts = [c for ex in template.examples for c in ex.as_contexts()] or [{}]
            for context in contexts:  # an outline's rows filled in (a generated table: its raw lines); background too
                for step in template.render(context).steps:
                    lines.append((step.type, step.name, f"{rel}:{step.line_number}", step.keyword.strip()))
    return list(dict.fromkeys(lines))


def bound_library(suite: Path, profile, personas: list[str],
                  usage: bool = True) -> list[tuple[StepEntry, object]]:
    """The library as (entry, pytest-bdd parser) pairs: the parser matches a step line exactly as a run does."""
    from pytest_bdd.scenario import step_function_context_registry

    load_suite(suite)
    types = dict(importlib.import_module("steps").TYPES)
    values = known_values(profile, personas)
    lines = step_lines(suite) if usage else []  # where each phrase is used: `uept steps`, not a check
    out: list[tuple[StepEntry, object]] = []
    seen: set[tuple[str, str, str]] = set()
    for ctx in step_function_context_registry.values():
        func = ctx.step_func
        key = (ctx.type, ctx.parser.name, f"{func.__module__}.{func.__qualname__}")  # two definitions of one
        # phrase both stay (uept check names such a line as ambiguous)
        if key in seen or not func.__module__.startswith("steps."):
            continue
        seen.add(key)
        kind = type(ctx.parser).__name__
        params: list[Parameter] = []
        if kind == "parse":
            for name, tname in re.findall(r"\{(\w+)(?::(\w+))?\}", ctx.parser.name):
                local = getattr(ctx.parser.parser, "_extra_types", None) or types
                params.append(Parameter(name=name, type=tname or "", values=values.get(name, [])
                                        or _type_values(tname, {**types, **local})))
        elif kind == "re":
            params = [Parameter(name=g, values=values.get(g, [])) for g in ctx.parser.regex.groupindex]
        phrase = ctx.parser.name if kind != "re" else re.sub(r"\(\?P<(\w+)>[^)]*\)", r"{\1}", ctx.parser.name)
        phrase = re.sub(r"\{(\w+):\w+\}", r"{\1}", phrase)  # as a tester reads it; the type is the parameter's
        src = Path(inspect.getsourcefile(func) or "")
        line = inspect.unwrap(func).__code__.co_firstlineno  # its first decorator's line, as getsourcelines says
        # without tokenising the module's source again for every step (a seventh of `uept run`'s checks)
        used = [where for t, text, where, _ in lines if t == ctx.type and ctx.parser.is_matching(text)]
        out.append((StepEntry(keyword=ctx.type.capitalize(), phrase=phrase, regex=_regex_of(ctx.parser),
                              parameters=params, doc=inspect.cleandoc(func.__doc__ or "").split("\n\n")[0],
                              defined_in=f"{src.relative_to(suite) if src.is_relative_to(suite) else src}:{line}",
                              used_in=used), ctx.parser))
    order = {"Given": 0, "When": 1, "Then": 2}
    return sorted(out, key=lambda e: (e[0].defined_in.split(":")[0], order.get(e[0].keyword, 3), e[0].phrase))


THEMES = {"session": "Signing in and sessions", "login": "Log in with MFA", "incidents": "Incidents",
          "credentials": "User credentials and Job Type Roles", "oms": "OMS", "requests": "Service requests",
          "access": "Access control"}


def markdown(steps: list[StepEntry]) -> str:
    """The step wording by theme (README's list, kept true by tests/test_authoring.py)."""
    out: list[str] = []
    for module, theme in THEMES.items():
        mine = [s for s in steps if s.defined_in.startswith(f"steps/{module}.py:")]
        if mine:
            out.append(f"**{theme}** (`steps/{module}.py`)\n")
            out += [f"- {s.keyword} {s.phrase}" for s in mine]
            out.append("")
    return "\n".join(out).rstrip() + "\n"


def cmd_steps(args: argparse.Namespace) -> int:
    from ssi.profile import load_profile
    from uept.runtime import config

    if args.schema:
        say(json.dumps(StepsDocument.model_json_schema(), indent=1))
        return 0
    suite = suite_root()
    settings = config.load_settings(config.config_path(args.config))
    resolved = config.resolve_target(settings, args.target)
    profile = load_profile(resolved.target.profile)
    steps = library(suite, profile, sorted(resolved.target.personas))
    if args.grep:
        words = args.grep.lower()
        steps = [s for s in steps if words in s.phrase.lower() or words in s.doc.lower()]
    if args.json:
        say(StepsDocument(profile=resolved.target.profile, steps=steps).model_dump_json(indent=1))
        return 0
    if args.markdown:
        print(markdown(steps), end="")
        return 0
    for s in steps:
        say(f"{s.keyword} {s.phrase}")
        for p in s.parameters:
            allowed = f"one of {', '.join(repr(v) for v in p.values[:12])}" + (" ..." if len(p.values) > 12 else "")
            say(f"    {{{p.name}}}: {allowed if p.values else 'any text'}")
        if s.doc:
            say(f"    {s.doc.splitlines()[0]}")
        where = f"used {len(s.used_in)} time(s), e.g. {s.used_in[0]}" if s.used_in else "not used by a feature yet"
        say(f"    defined in {s.defined_in}; {where}")
    say(f"{len(steps)} step phrase(s). Reuse them in any feature file under features/; `uept check` checks one.")
    return 0


def add_parser(sub) -> None:
    p = sub.add_parser("steps", help="list the step wording a feature file can use, with parameters and values",
                       description="Every step phrase of the shared library, its parameters and their allowed "
                                   "values, what it does, where it is defined and used.")
    p.add_argument("--grep", metavar="WORDS", help="only the phrases (or descriptions) holding these words")
    p.add_argument("--json", action="store_true", help=f"print the library as JSON ({FORMAT}; see --schema)")
    p.add_argument("--schema", action="store_true", help="print the JSON Schema of the --json document")
    p.add_argument("--markdown", action="store_true", help="print the wording by theme, as README lists it")
    p.add_argument("--target", help="target whose personas and profile give the allowed values (default: reference)")
    p.add_argument("--config", help="config file (default: $UEPT_CONFIG or ./uept.yaml)")
    p.set_defaults(func=cmd_steps)
