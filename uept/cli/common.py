"""What every command shares: saying a line, and holding off signals while evidence is written."""

from __future__ import annotations

import signal
from collections.abc import Iterator
from contextlib import contextmanager


def say(msg: str = "") -> None:
    print(msg, flush=True)


@contextmanager
def shielded(message: str) -> Iterator[None]:
    """Let the report be written even when Ctrl-C or SIGTERM arrives meanwhile."""
    previous = {s: signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM)}

    def hold(signum: int, _frame: object) -> None:
        say(message)

    for s in previous:
        signal.signal(s, hold)
    try:
        yield
    finally:
        for s, h in previous.items():
            signal.signal(s, h)


# The epilog of `uept run` and `uept serve` (uept/runtime/reference.py CHOSEN_BY_USER passes them on).
REFSSI_ENV_HELP = (
    "The embedded reference SSI takes these from your environment: REFSSI_PORTAL_UI=classic|sp (the portal "
    "generation), REFSSI_ENTRA_UI=legacy|new, REFSSI_LATENCY_MS=N or MIN-MAX (a delay per request), "
    "REFSSI_ENTRA_HOST."
)
