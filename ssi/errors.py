"""One kind of error for everything a user can get wrong.

Every problem caused by input (config, credentials, target, browser, feature files)
is raised as a UsageError carrying one line that says what is wrong and how to fix
it. The CLI prints that line and exits 2; nothing else prints a traceback for it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class UsageError(Exception):
    """A problem with the user's input or environment, not a bug in uept."""

    exit_code = 2

    def __init__(self, problem: str, fix: str = "") -> None:
        self.problem = problem.rstrip(".")
        self.fix = fix.rstrip(".")
        super().__init__(self.line())

    def line(self) -> str:
        return f"{self.problem}. {self.fix}." if self.fix else f"{self.problem}."


def read_yaml(path: Path, what: str) -> Any:
    """The YAML file's data, or a UsageError naming the file (and the line) when it cannot be read or parsed."""
    try:
        return yaml.load(path.read_text(encoding="utf-8"), Loader=_LOADER)
    except OSError as exc:
        raise UsageError(f"cannot read the {what} {path} ({exc.strerror})", "check the path") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        at = f":{mark.line + 1}" if mark else ""
        raise UsageError(f"the {what} {path}{at} is not valid YAML", "fix the YAML syntax") from None


def first_problem(err: ValidationError) -> str:
    """A pydantic validation error as one line: where, what, and how many more problems there are."""
    first = err.errors()[0]
    where = ".".join(str(p) for p in first["loc"]) or "(top level)"
    more = f" (and {err.error_count() - 1} more problems)" if err.error_count() > 1 else ""
    return f"{where}: {first['msg'].removeprefix('Value error, ')}{more}"
