"""`uept check [FEATURES...]`: a dry run of feature files, with no browser and no server.

It reports, one line per problem with file:line: Gherkin that does not parse; a step no definition matches,
with the nearest phrasings of the library and a ready-to-paste step definition; a step two definitions match;
a scenario without its own @UEPT- ID, or an ID used twice; a requirement tag the SSI requirement catalogue
does not know; a persona the target's config does not have; --tags that select nothing. Exit 0 when there is
nothing to correct, 2 otherwise. `uept run` runs the same checks before it starts anything.
"""

from __future__ import annotations

import argparse
import difflib
import re
from dataclasses import dataclass, field
from pathlib import Path

from ssi.errors import UsageError
from uept.cli.common import say, suite_root
from uept.evidence import features


@dataclass
class Problem:
    where: str  # file:line
    what: str
    snippet: list[str] = field(default_factory=list)  # a step definition to paste, for an undefined step

    def line(self) -> str:
        return f"{self.where}: {self.what}"


def _snippet(keyword: str, text: str) -> list[str]:
    """A step definition for an undefined line: quoted values become parameters."""
    names: list[str] = []

    def param(m: re.Match) -> str:
        names.append(f"value{len(names) + 1}" if len(names) else "value")
        return '"{' + names[-1] + '}"'

    pattern = re.sub(r'"[^"]*"', param, text)
    args = "".join(f", {n}: str" for n in names)
    func = re.sub(r"\W+", "_", re.sub(r'"[^"]*"', "", text).lower()).strip("_")[:60] or "step"
    quote = '"""' if "'" in pattern and '"' in pattern else ("'" if '"' in pattern else '"')
    return [f"@{keyword.lower()}(parsers.parse({quote}{pattern}{quote}))",
            f"def {func}(ssi: SSI{args}) -> None:",
            '    """What this step does, in a tester\'s words."""',
            "    ...  # call a page object or journey, then assert"]


def _nearest(text: str, phrases: list[str]) -> list[str]:
    plain = {re.sub(r"\{(\w+)(?::\w+)?\}", r"<\1>", p): p for p in phrases}
    return [plain[p] for p in difflib.get_close_matches(text, list(plain), n=3, cutoff=0.45)]


def step_problems(suite: Path, chosen: list[features.ScenarioInfo], profile, personas: list[str]) -> list[Problem]:
    """The steps of the chosen scenarios no definition matches, or two do, and the personas they name that the
    target does not have."""
    from uept.cli.steps import bound_library, step_lines

    lib = bound_library(suite, profile, personas, usage=False)
    out: list[Problem] = []
    files = sorted({s.file for s in chosen})
    only = {(s.file.resolve(), s.line) for s in chosen}
    for kind, text, where, keyword in step_lines(suite, files, only):
        same = [(e, p) for e, p in lib if e.keyword.lower() == kind]
        matches = [(e, p) for e, p in same if p.is_matching(text)]
        if not matches:
            near = _nearest(text, [e.phrase for e, _ in same])
            hint = ("; nearest: " + " | ".join(f'"{n}"' for n in near)) if near else ""
            out.append(Problem(where, f"no step definition matches '{keyword} {text}'{hint}",
                               _snippet(kind.capitalize(), text)))
            continue
        if len(matches) > 1:
            out.append(Problem(where, f"'{keyword} {text}' matches {len(matches)} step definitions: "
                               + ", ".join(e.defined_in for e, _ in matches) + "; reword it or one of them"))
            continue
        entry, parser = matches[0]
        if any(p.name == "persona" for p in entry.parameters):
            value = parser.parse_arguments(text).get("persona")
            if isinstance(value, str) and value not in personas and not value.startswith("<"):
                near = difflib.get_close_matches(value, personas, n=1)
                out.append(Problem(where, f'persona "{value}" is not in the target\'s config'
                                   + (f'; did you mean "{near[0]}"?' if near else "")))
    return out


def problems_of(suite: Path, feature_files: list[Path], markexpr: str | None, tags: str | None, settings,
                resolved, profile) -> list[Problem]:
    """Every problem of these feature files a tester can correct before a run."""
    from uept.evidence import access_matrix, inventory
    from uept.evidence.completion import set_problems

    out: list[Problem] = []
    scenarios: list[features.ScenarioInfo] = []
    parsed: list[Path] = []
    for f in feature_files:
        try:
            scenarios.extend(features.parse_feature(f))
            parsed.append(f)
        except UsageError as exc:
            where = re.search(r"(\S+\.feature:\d+)", exc.problem)
            out.append(Problem(where.group(1) if where else str(f), exc.problem.split(": ", 1)[-1]
                               + (f"; {exc.fix}" if exc.fix else "")))
    chosen = features.select(scenarios, markexpr)
    if tags and not chosen and scenarios:
        out.append(Problem("--tags", f"no scenario matches '{tags}'; check the tag names in the feature files"))
    suite_files = [f for f in parsed if f.resolve().is_relative_to(suite)]
    for f in sorted(set(parsed) - set(suite_files)):
        out.append(Problem(str(f), f"is outside the suite ({suite}): put it in the suite's features/ folder"))
    if not chosen or not suite_files:
        return out
    expand = access_matrix.expander(profile, resolved.target.personas)
    scenario_set = inventory.build(suite, suite_files, chosen, expand=expand)
    for fault in set_problems(scenario_set):
        at = re.findall(r"(\S+\.feature:\d+)", fault)  # where it is, or where the ID is used again
        out.append(Problem(at[-1] if at else "scenario set", fault + "; give every scenario one "
                           "@UEPT-<THEME>-NN tag of its own"))
    out += requirement_problems(suite, chosen)
    out += step_problems(suite, chosen, profile, sorted(resolved.target.personas))
    return list({p.line(): p for p in out}.values())


def requirement_problems(suite: Path, chosen: list[features.ScenarioInfo]) -> list[Problem]:
    """Requirement tags (@SSI-FR-..., @BFD..., @PM...) the SSI requirement catalogue does not know."""
    from uept.evidence.completion import requirement_catalogue
    from uept.evidence.tags import requirement_ids

    known = {r["id"] for r in requirement_catalogue()}
    out = []
    for s in chosen:
        for req in requirement_ids(s.tags):
            if req not in known:
                rel = s.file.resolve().relative_to(suite)
                near = difflib.get_close_matches(req, sorted(known), n=1)
                out.append(Problem(f"{rel}:{s.line}", f"requirement tag @{req} is not in the SSI requirement "
                                   "catalogue" + (f"; did you mean @{near[0]}?" if near else "")))
    return out


def cmd_check(args: argparse.Namespace) -> int:
    from ssi.profile import load_profile
    from uept.runtime import config

    suite = suite_root()
    settings = config.load_settings(config.config_path(args.config))
    resolved = config.resolve_target(settings, args.target)
    profile = load_profile(resolved.target.profile)
    files = features.discover([Path(p) for p in args.features] or [suite / "features"])
    markexpr = features.tags_to_markexpr(args.tags) if args.tags else None
    problems = problems_of(suite, files, markexpr, args.tags, settings, resolved, profile)
    for p in problems:
        say(f"PROBLEM  {p.line()}")
        if p.snippet:
            say("         to define it, add to a module in steps/ (and register it in conftest.py):")
            for line in p.snippet:
                say(f"             {line}")
    if problems:
        say(f"uept check: {len(problems)} problem(s) in {len(files)} feature file(s)")
        return 2
    say(f"uept check: {len(files)} feature file(s), no problem found")
    return 0


def add_parser(sub) -> None:
    p = sub.add_parser("check", help="check feature files without running them (no browser, no server)",
                       description="Check feature files: Gherkin, step wording, @UEPT- IDs, requirement tags, "
                                   "personas and --tags, as `uept run` does before it starts.")
    p.add_argument("features", nargs="*", help="feature files or folders (default: features/)")
    p.add_argument("--tags", help="tag expression the run would use")
    p.add_argument("--target", help="target whose personas the scenarios may name (default: reference)")
    p.add_argument("--config", help="config file (default: $UEPT_CONFIG or ./uept.yaml)")
    p.set_defaults(func=cmd_check)
