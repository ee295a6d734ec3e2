"""The one way the harness waits on something outside the browser: ask again until it answers or a
deadline passes. (In the browser, Playwright waits on the page's own state: nothing polls there.)"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


def poll(ask: Callable[[], T | None], *, timeout: float, every: float, what: str) -> T:
    """ask() until it returns something other than None; AssertionError naming `what` after `timeout` s."""
    deadline = time.monotonic() + timeout
    while True:
        answer = ask()
        if answer is not None:
            return answer
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} within {timeout:.0f} s")
        time.sleep(every)  # waiting on an outside system's state (e.g. a mailbox), with a deadline
