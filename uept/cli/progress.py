"""Progress of `uept run` as it happens, followed from the run folder.

The evidence plugin rewrites scenarios/<key>/result.json after every step (atomically), so the run folder
already says which scenario each worker is running, at which step, and how every finished attempt ended.
uept follows it there (a poll twice a second of the files that changed), rather than through a protocol of
its own on pytest's output: nothing in pytest changes, and what is shown is what the evidence records.
pytest's own output still goes to pytest.log as it comes; the console shows its last lines only when pytest
could not run the suite (a collection or usage error).

- On a terminal: a live display (rich) of the scenario each worker is running and its step, the counts
  (passed, failed, flaky, ...), the time elapsed and an estimate of what remains; a line above it for each
  scenario that did not pass at once.
- Otherwise (a CI log, a test): one plain line per finished attempt, as it happens.

Every line is redacted with the run's secrets (REGISTRY) before it is shown.
"""

from __future__ import annotations

import os
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from uept.evidence.completion import base_key, case_status
from uept.evidence.rundir import read_json
from uept.runtime.secrets import REGISTRY

POLL_SECONDS = 0.5
SHOWN = {"passed": "PASSED", "failed": "FAILED", "error": "ERROR", "skipped": "SKIPPED", "flaky": "FLAKY",
         "interrupted": "INTERRUPTED"}


def clock(seconds: float) -> str:
    seconds = max(0, int(round(seconds)))
    h, rest = divmod(seconds, 3600)
    return f"{h}:{rest // 60:02d}:{rest % 60:02d}" if h else f"{rest // 60}:{rest % 60:02d}"


@dataclass
class RunProgress:
    """What the run folder says so far: each attempt's latest record, and what changed since the last poll."""

    run_dir: Path
    total: int  # scenario cases the run is to record
    workers: int = 1
    started: float = field(default_factory=time.monotonic)
    attempts: dict[str, dict[str, Any]] = field(default_factory=dict)  # result key -> latest result.json
    first_seen: dict[str, float] = field(default_factory=dict)  # result key -> when it was first seen running
    numbers: dict[str, int] = field(default_factory=dict)  # finished result key -> cases finished by then
    _seen: dict[Path, tuple[int, int]] = field(default_factory=dict)

    def poll(self) -> list[dict[str, Any]]:
        """Read the result files that changed; the attempts that finished since the last poll."""
        finished = []
        for f in sorted((self.run_dir / "scenarios").glob("*/result.json")):
            try:
                st = f.stat()
            except OSError:
                continue
            stamp = (st.st_mtime_ns, st.st_size)
            if self._seen.get(f) == stamp:
                continue
            data = read_json(f)
            if not isinstance(data, dict) or not isinstance(data.get("key"), str):
                continue  # being replaced at this moment: read again at the next poll
            self._seen[f] = stamp
            self.first_seen.setdefault(data["key"], time.monotonic())
            before = self.attempts.get(data["key"], {}).get("status")
            self.attempts[data["key"]] = data
            if data.get("status") not in (None, "running") and before in (None, "running"):
                finished.append(data)
                self.numbers[data["key"]] = len({base_key(k) for k in self.numbers} | {base_key(data["key"])})
        return finished

    def cases(self) -> dict[str, list[dict]]:
        out: dict[str, list[dict]] = {}
        for a in sorted(self.attempts.values(), key=lambda d: (int(d.get("attempt") or 1), d.get("started") or "")):
            out.setdefault(base_key(a["key"]), []).append(a)
        return out

    def running(self) -> list[dict[str, Any]]:
        return sorted((a for a in self.attempts.values() if a.get("status") == "running"),
                      key=lambda a: str(a.get("worker")))

    def counts(self) -> dict[str, int]:
        """Cases by their status so far (a case whose retry is running counts as running)."""
        out: dict[str, int] = {}
        for attempts in self.cases().values():
            status = "running" if attempts[-1].get("status") == "running" else case_status(attempts)
            out[status] = out.get(status, 0) + 1
        return out

    def done(self) -> int:
        return sum(n for k, n in self.counts().items() if k != "running")

    def remaining(self) -> float | None:
        """Seconds left: the cases not done yet times the mean time of the attempts done, shared by the
        workers; None until an attempt has finished."""
        times = [float(a["duration"]) for a in self.attempts.values()
                 if a.get("status") not in (None, "running") and isinstance(a.get("duration"), (int, float))]
        if not times:
            return None
        left = max(0, self.total - self.done())
        return left * (sum(times) / len(times)) / max(1, self.workers)

    def summary(self) -> str:
        counts = self.counts()
        order = ["passed", "failed", "flaky", "error", "skipped", "interrupted"]
        parts = [f"{counts[k]} {k}" for k in order if counts.get(k)]
        left = self.remaining()
        eta = "estimating what remains" if left is None else f"about {clock(left)} left"
        return (f"{self.done()}/{self.total} done" + (f": {', '.join(parts)}" if parts else "")
                + f" · {clock(time.monotonic() - self.started)} elapsed · {eta}")

    def line(self, attempt: dict[str, Any]) -> str:
        """One finished attempt, as a plain line."""
        attempts = self.cases().get(base_key(attempt["key"]), [attempt])
        status = case_status(attempts) if attempts and attempts[-1] is attempt else attempt.get("status")
        n = int(attempt.get("attempt") or 1)
        dur = attempt.get("duration")
        number = self.numbers.get(attempt["key"], self.done())
        text = (f"[{number:>{len(str(self.total))}}/{self.total}] {SHOWN.get(status, str(status).upper()):<7} "
                f"{base_key(attempt['key'])}" + (f" (attempt {n})" if n > 1 else "")
                + f"  {attempt.get('name', '')}" + (f"  {dur:.1f}s" if isinstance(dur, (int, float)) else "")
                + (f"  {attempt['worker']}" if attempt.get("worker") not in (None, "main") else ""))
        if status in ("failed", "error") and attempt.get("error"):
            text += f"\n        {attempt['error']}"
        return REGISTRY.redact(text)


class PlainProgress:
    """One line per finished attempt (CI logs, tests)."""

    def __init__(self, progress: RunProgress, out: TextIO | None = None) -> None:
        self.progress = progress
        self.out = out or sys.stdout

    def __enter__(self) -> PlainProgress:
        return self

    def __exit__(self, *exc: object) -> None:
        self.update()

    def update(self) -> None:
        for attempt in self.progress.poll():
            self.out.write(self.progress.line(attempt) + "\n")
            self.out.flush()


class LiveProgress:
    """A live display on a terminal: the scenario each worker is running, the counts, the time elapsed and an
    estimate of what remains; a line above it for each attempt that did not pass."""

    def __init__(self, progress: RunProgress, console=None) -> None:
        from rich.console import Console
        from rich.live import Live

        self.progress = progress
        self.console = console or Console(highlight=False)
        self.live = Live(console=self.console, auto_refresh=False, transient=True,
                         redirect_stdout=False, redirect_stderr=False)

    def __enter__(self) -> LiveProgress:
        self.live.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.update()
        self.live.stop()

    def view(self):
        """What the live display shows now."""
        from rich.table import Table
        from rich.text import Text

        p = self.progress
        table = Table.grid(padding=(0, 2))
        running = p.running()
        for a in running:
            step = len(a.get("steps") or []) + 1
            seconds = time.monotonic() - p.first_seen.get(a["key"], time.monotonic())
            table.add_row(Text(str(a.get("worker") or "main"), style="bold"),
                          Text(REGISTRY.redact(f"{base_key(a['key'])}  {a.get('name', '')}"), overflow="ellipsis",
                               no_wrap=True),
                          Text(f"step {step}, {seconds:.0f}s", style="dim"))
        if not running:
            table.add_row(Text("…", style="dim"), Text("starting" if not p.attempts else "between scenarios",
                                                       style="dim"), Text(""))
        grid = Table.grid()
        grid.add_row(table)
        grid.add_row(Text(p.summary(), style="bold"))
        return grid

    def update(self) -> None:
        for attempt in self.progress.poll():
            if attempt.get("status") != "passed" or int(attempt.get("attempt") or 1) > 1:
                self.console.print(self.progress.line(attempt), markup=False, highlight=False)
        self.live.update(self.view(), refresh=True)


def follow(run_dir: Path, total: int, workers: int, out: TextIO | None = None):
    """The progress display for this console: live on a terminal, plain lines otherwise (or with
    UEPT_PROGRESS=plain)."""
    progress = RunProgress(run_dir, total, workers)
    stream = out or sys.stdout
    live = stream.isatty() and os.environ.get("UEPT_PROGRESS", "") != "plain" and os.environ.get("TERM") != "dumb"
    return LiveProgress(progress) if live else PlainProgress(progress, stream)
