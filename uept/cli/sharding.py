"""`uept run --shard I/N [--durations FILE]`: which of the selected cases this machine runs.

The cases and their personas come from the feature files (outline rows and the access-control cells
generated from the target's role matrix included); the personas a case names are the values of the step
parameters named `persona` (as `uept check` reads them: "I am the ...", "I am signed in as the ...",
"the ... has raised an incident", ...). The split itself is uept/evidence/shards.py.
"""

from __future__ import annotations

from pathlib import Path

from ssi.errors import UsageError
from uept.evidence import features, inventory, shards


def check_options(shard: str | None, durations: str | None) -> tuple[tuple[int, int] | None, dict | None]:
    """The shard (I, N) and the durations, or UsageError; called before anything starts."""
    if durations and not shard:
        raise UsageError("--durations balances the shards of a run: it needs --shard I/N",
                         "give --shard I/N as well, or leave out --durations")
    spec = shards.parse_spec(shard) if shard else None
    known = shards.load_durations(Path(durations)) if durations else None
    return spec, known


def cases(suite: Path, chosen: list[features.ScenarioInfo], expand, profile,
          personas: list[str]) -> list[shards.Case]:
    """Every selected case with the personas it names."""
    from uept.cli.steps import bound_library

    library = [(entry.keyword.lower(), parser) for entry, parser in bound_library(suite, profile, personas, usage=False)
               if any(p.name == "persona" for p in entry.parameters)]
    named: dict[tuple[str, str], str | None] = {}

    def persona_of(kind: str, text: str) -> str | None:
        if (kind, text) not in named:
            value = None
            for k, parser in library:
                if k == kind and parser.is_matching(text):
                    value = parser.parse_arguments(text).get("persona")
                    break
            named[(kind, text)] = value if isinstance(value, str) else None
        return named[(kind, text)]

    out = []
    for c in inventory.selected_cases(suite, chosen, expand):
        names = {p for kind, text in c.steps if (p := persona_of(kind, text))}
        out.append(shards.Case(shards.case_id(c.uept_id or f"{c.feature}:{c.scenario}", c.example),
                               frozenset(names), c.feature))
    return out
