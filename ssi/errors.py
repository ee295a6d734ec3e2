"""One kind of error for everything a user can get wrong.

Every problem caused by input (config, credentials, target, browser, feature files)
is raised as a UsageError carrying one line that says what is wrong and how to fix
it. The CLI prints that line and exits 2; nothing else prints a traceback for it.
"""

from __future__ import annotations


class UsageError(Exception):
    """A problem with the user's input or environment, not a bug in uept."""

    exit_code = 2

    def __init__(self, problem: str, fix: str = "") -> None:
        self.problem = problem.rstrip(".")
        self.fix = fix.rstrip(".")
        super().__init__(self.line())

    def line(self) -> str:
        return f"{self.problem}. {self.fix}." if self.fix else f"{self.problem}."
