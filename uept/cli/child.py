"""pytest as the child of `uept run`: quiet when stopped early, and never outliving uept.

`uept run` starts `python -m uept.cli.child PYTEST-ARGS...` in a session of its own (so a terminal's
Ctrl-C reaches pytest once, through uept), with SIGINT blocked until this module can take it, and
forwards its first two signals as SIGINT.

- Until pytest has configured itself (plugins and conftest.py are still being imported), a SIGINT
  ends the process at once, quietly, with status 130: nothing has started (no browser, no worker,
  no record), and Python's traceback of an interrupted import would only frighten the person who
  pressed Ctrl-C. From pytest_configure on (TakeSignals restores Python's handler), pytest stops
  itself and the running scenarios end as "interrupted" (the hook below, a plugin of this process only).
- uept passes the read end of a pipe (UEPT_PARENT_FD) whose write end only it holds. When uept
  dies in any way (kill -9 included), the pipe reads end-of-file: the child stops writing to the
  dead terminal pipe and interrupts itself as above; if it is still running a minute later, its
  whole process group (xdist workers and browser drivers) is killed.
"""

from __future__ import annotations

import os
import signal
import sys
import threading

EXIT_INTERRUPTED = 130
GRACE_SECONDS = 60.0


def _stop_early(signum: int, frame: object) -> None:
    os._exit(EXIT_INTERRUPTED)


class TakeSignals:
    """From pytest_configure on, pytest itself handles SIGINT (a plugin of this process only)."""

    @staticmethod
    def pytest_configure() -> None:
        if signal.getsignal(signal.SIGINT) is _stop_early:
            signal.signal(signal.SIGINT, signal.default_int_handler)


def _watch_parent(fd: int) -> None:
    try:
        while os.read(fd, 4096):
            pass
    except OSError:
        pass
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)  # uept, which read our output, is gone: write nowhere rather than fail
    os.dup2(devnull, 2)
    os.kill(os.getpid(), signal.SIGINT)
    if not threading.Event().wait(GRACE_SECONDS):
        os.killpg(os.getpgrp(), signal.SIGKILL)


def main(argv: list[str]) -> int:
    signal.signal(signal.SIGINT, _stop_early)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})  # uept started us with it blocked
    fd = os.environ.pop("UEPT_PARENT_FD", None)
    if fd is not None:
        threading.Thread(target=_watch_parent, args=(int(fd),), name="uept-parent-watch", daemon=True).start()
    import pytest

    return int(pytest.main(argv, plugins=[TakeSignals()]))


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
