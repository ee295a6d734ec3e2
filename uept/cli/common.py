"""What every command shares: saying a line, finding the suite and a folder to write in, and holding off
signals while evidence is written."""

from __future__ import annotations

import os
import signal
from collections.abc import Iterator, MutableMapping
from contextlib import contextmanager
from pathlib import Path

from ssi.errors import UsageError


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


def suite_root() -> Path:
    """The checkout holding features/, steps/, pages/, fixtures/ and conftest.py."""
    explicit = os.environ.get("UEPT_SUITE")
    candidates = [Path(explicit)] if explicit else [Path.cwd(), Path(__file__).resolve().parents[2]]
    for c in candidates:
        if (c / "features").is_dir() and (c / "conftest.py").is_file():
            return c.resolve()
    raise UsageError("cannot find the UEPT suite (features/ and conftest.py)",
                     "run uept from the uept checkout, or set UEPT_SUITE to it")


def writable_folder(path: Path, what: str, option: str) -> Path:
    """The folder, made if needed, after proving a file can be written in it (one clear line if not)."""
    path = Path(path).expanduser()
    try:
        path.mkdir(parents=True, exist_ok=True)
        probe = path / f".uept-write-test-{os.getpid()}"
        probe.write_bytes(b"")
        probe.unlink()
    except FileExistsError:
        raise UsageError(f"{what} {path} is a file, not a folder", f"give a folder with {option}") from None
    except OSError as exc:
        raise UsageError(f"cannot write the {what} {path} ({exc.strerror or exc.__class__.__name__})",
                         f"give a folder you can write to with {option}") from None
    return path


def keep_bytecode(suite: Path, *envs: MutableMapping[str, str]) -> None:
    """uept's children (the reference SSI, pytest and its workers) keep their compiled modules, pytest's rewritten
    ones included, in the suite's .uept/pycache, even where PYTHONDONTWRITEBYTECODE is set (as in many CI images):
    otherwise every run compiles the same hundred modules again, about a second of every pytest start. Nothing is
    written beside the sources; a PYTHONPYCACHEPREFIX of the user's own is kept as it is."""
    for env in envs:
        if not env.get("PYTHONPYCACHEPREFIX"):
            env["PYTHONPYCACHEPREFIX"] = str(suite / ".uept" / "pycache")
            env.pop("PYTHONDONTWRITEBYTECODE", None)
