"""pytest as uept's child: started, watched, its output shown and kept, and the run finished.

`run_pytest` starts `python -m uept.cli.child` (see uept/cli/child.py) in a session of its own, with
SIGINT blocked until it can take it, forwards the first two signals as SIGINT and kills it on the
third, keeps its output in pytest.log as it comes (redacted), and shows the run's progress as the run
folder records it (uept/cli/progress.py; UEPT_PROGRESS=pytest shows pytest's own output instead).
`finish_run` records the outcome in run.json and writes the report and the signed pack, whatever happened.
"""

from __future__ import annotations

import argparse
import codecs
import collections
import contextlib
import os
import select
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ssi.errors import UsageError
from uept.cli import child, progress
from uept.cli.common import say, shielded
from uept.runtime import config
from uept.runtime.secrets import REGISTRY, StreamRedactor

PYTEST_TO_EXIT = {0: 0, 1: 1, 2: 1, 3: 2, 4: 2, 5: 2}
TAIL_LINES = 40  # pytest's last lines, shown when it could not run the suite
# How long before the run's estimated end the report's PDF printer is started (run_pytest's near_end): it takes
# 1-1.5 s here to start Python, Playwright's driver and a Chromium, which then wait for the report
NEAR_END_SECONDS = 3.0
# Failures a retry must never paper over: a secret shown on the page (uept/evidence/recorder.py SecretExposure).
RERUN_NEVER = r"^SecretExposure: "


@dataclass
class PytestOutcome:
    code: int  # pytest's exit status; negative: killed by that signal; 130: stopped before it had started
    signals: int = 0  # signals uept received and forwarded while pytest ran
    nothing_to_run: bool = False  # a shard that got no case: pytest was not started

    @property
    def interrupted(self) -> bool:
        return self.signals > 0 or self.code < 0 or self.code in (2, child.EXIT_INTERRUPTED)


def run_pytest(suite: Path, modules: list[str], run_dir: Path, env: dict, args: argparse.Namespace,
               markexpr: str | None, extra: list[str] | None = None, cases: int = 0,
               near_end: Callable[[], object] | None = None) -> PytestOutcome:
    """Run pytest as uept's child; `cases`: how many scenario cases the run is to record (for the progress).
    `near_end` is called once, when the progress shows the run's last cases running or about NEAR_END_SECONDS
    left (not at all where no progress is followed: UEPT_PROGRESS=pytest)."""
    cmd = [sys.executable, "-m", "uept.cli.child", *modules, "-o", "testpaths=", "--rootdir", str(suite),
           "-c", str(suite / "pyproject.toml"), "--uept-run-dir", str(run_dir),
           "--junitxml", str(run_dir / "junit.xml"), "--alluredir", str(run_dir / "allure-results"),
           "-q", "--no-header", "-rfEs", "-p", "no:cacheprovider", "--color", "no",
           # plugins that come with faker and anyio, which no scenario uses: pytest would load both packages (80
           # modules, their asserts rewritten) at every start
           "-p", "no:faker", "-p", "no:anyio"]
    if markexpr:
        cmd += ["-m", markexpr]
    if args.workers > 1:
        cmd += ["-n", str(args.workers), "--dist", "loadgroup"]  # as 'load', but keeps xdist_group(s) together
    if args.headed:
        cmd += ["--headed"]
    if args.slowmo:
        cmd += ["--slowmo", str(args.slowmo)]
    if args.retries:  # pytest-rerunfailures; only --retries decides (a scenario's @flaky tag does not)
        cmd += ["--force-reruns", str(args.retries), "--rerun-except", RERUN_NEVER]
    else:
        cmd += ["-p", "no:rerunfailures"]
    cmd += extra or []
    log = open(run_dir / "pytest.log", "w", encoding="utf-8")
    # pytest runs in its own session, so a terminal's Ctrl-C reaches it once, through uept, and
    # pytest-xdist workers and the browsers are stopped by pytest, not killed mid-write. It holds the
    # read end of a pipe whose write end only uept holds: if uept dies, pytest stops too (uept/child.py).
    watch_r, watch_w = os.pipe()
    previous = {s: signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM)}
    signals = [0]
    started: list[subprocess.Popen] = []

    def forward(signum: int, _frame: object) -> None:  # let pytest stop cleanly; we write the summary after
        signals[0] += 1
        if not started or started[0].poll() is not None:
            return
        proc = started[0]
        if signals[0] == 1:
            print("uept: stopping: the scenarios running now end as 'interrupted'; the report follows "
                  "(press Ctrl-C twice more to abandon them)", file=sys.stderr, flush=True)
        if signals[0] <= 2:
            proc.send_signal(signal.SIGINT)
        else:
            os.killpg(proc.pid, signal.SIGKILL)

    for s in previous:
        signal.signal(s, forward)
    # The child starts with SIGINT blocked, and unblocks it once it can take it quietly (uept/child.py): a
    # Ctrl-C while Python itself starts would otherwise end in a "Fatal Python error" and a traceback.
    mask = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
    try:
        proc = subprocess.Popen(cmd, cwd=suite, env={**env, "UEPT_PARENT_FD": str(watch_r)},
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                start_new_session=True, pass_fds=(watch_r,))
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, mask)
    os.close(watch_r)
    started.append(proc)
    if signals[0]:  # a signal came while it was being started
        signals[0] -= 1
        forward(signal.SIGINT, None)
    redactor = StreamRedactor(REGISTRY)
    decoder = codecs.getincrementaldecoder("utf-8")("replace")
    echo = os.environ.get("UEPT_PROGRESS") == "pytest"  # pytest's own output on the console, as it was
    display = None if echo else progress.follow(run_dir, cases, args.workers)
    tail: collections.deque[str] = collections.deque(maxlen=TAIL_LINES)
    pending = [""]

    def show(text: str) -> None:
        if not text:
            return
        log.write(text)
        log.flush()  # the log holds it as it comes, should uept be killed a moment later
        if echo:
            sys.stdout.write(text)
            sys.stdout.flush()
        lines = (pending[0] + text).split("\n")
        pending[0] = lines.pop()
        tail.extend(lines)

    def follow() -> None:
        nonlocal display, near_end
        if display is None:
            return
        try:
            display.update()
        except Exception as exc:  # the display must never stop a run: the evidence is what matters
            display = None
            say(f"uept: the progress display stopped ({exc.__class__.__name__}); the run goes on")
            return
        run, left = display.progress, display.progress.remaining()
        if near_end is not None and (run.total - run.done() <= run.workers
                                     or (left is not None and left <= NEAR_END_SECONDS)):
            call, near_end = near_end, None
            try:
                call()
            except Exception:  # an early start is only a head start: the report starts its printer as it always did
                pass

    try:
        assert proc.stdout is not None
        fd = proc.stdout.fileno()
        with display if display is not None else contextlib.nullcontext():
            last = 0.0
            while True:
                try:
                    ready, _, _ = select.select([fd], [], [], progress.POLL_SECONDS)
                    chunk = os.read(fd, 65536) if ready else None
                except InterruptedError:
                    continue
                if chunk == b"":
                    break
                if chunk:
                    show(redactor.feed(decoder.decode(chunk)))
                if time.monotonic() - last >= progress.POLL_SECONDS:
                    follow()
                    last = time.monotonic()
            show(redactor.feed(decoder.decode(b"", final=True)) + redactor.flush())
            follow()
        code = proc.wait()
        if not echo and (code in (3, 4, 5) or (code == 2 and not signals[0])):
            # pytest could not run the suite (usage, collection or internal error): what it said
            say(f"uept: pytest stopped (exit {code}); its last lines (all of them are in {run_dir / 'pytest.log'}):")
            for line in [*tail, pending[0]]:
                if line.strip():
                    say(f"  {line}")
        return PytestOutcome(code, signals[0])
    finally:
        for s, h in previous.items():
            signal.signal(s, h)
        os.close(watch_w)
        log.close()


def finish_run(run_dir: Path, info: dict, outcome: PytestOutcome, started: float,
               settings: config.Settings | None = None, printer: Any = None) -> int:
    from uept.evidence.plugin import write_run_info
    from uept.evidence.results import RunResults

    results = RunResults.load(run_dir)
    counts = results.counts()
    outcomes = results.outcomes()
    interrupted = outcome.interrupted or counts.get("interrupted", 0) > 0
    pytest_code = outcome.code
    verdict = ("incomplete" if interrupted else
               "passed" if pytest_code == 0 and (results.all_passed or outcome.nothing_to_run) else "failed")
    info.update(status=verdict, ended=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), counts=counts,
                outcomes=outcomes, pytest_exit=pytest_code, interrupted=interrupted)
    write_run_info(run_dir, info)
    say()
    if results.scenarios:
        say(results.table(shutil.get_terminal_size((110, 20)).columns))
    total = sum(outcomes.values())
    parts = ", ".join(f"{n} {k}" for k, n in sorted(outcomes.items()))
    retried = len(results.scenarios) - total
    tries = f" ({len(results.scenarios)} attempts: {retried} retried)" if retried else ""
    say(f"\n{total} scenario(s): {parts or 'none ran'}{tries} in {time.time() - started:.0f}s. "
        f"Verdict: {verdict.upper()}" + (" (the run was interrupted)" if interrupted else ""))
    say(f"Evidence: {run_dir}/  (scenarios/, junit.xml, cucumber.json, allure-results/, report.html, report.pdf)")
    evidence_code = write_evidence(run_dir, settings, printer)
    if interrupted:
        return max(evidence_code, 1)
    if pytest_code in (3, 4):
        say("uept: pytest could not run the suite; see pytest.log in the evidence folder")
        return 2
    if verdict == "passed":
        return evidence_code
    return max(evidence_code, 1 if pytest_code in (0, 1) else PYTEST_TO_EXIT.get(pytest_code, 2))


def write_evidence(run_dir: Path, settings: config.Settings | None, printer: Any = None) -> int:
    """The report and the signed pack, whatever happened to the run; 0 when both were made. `printer`: the PDF
    printer, if the run started it already."""
    from uept.cli.evidence import produce_evidence

    with shielded("uept: writing the report and the evidence pack; please wait"):
        try:
            ok, _ = produce_evidence(run_dir, settings, printer=printer)
        except UsageError as exc:
            say(f"uept: error: the report or pack was not made: {exc.line()} Then run: uept report {run_dir}")
            return 2
        except Exception as exc:
            if os.environ.get("UEPT_DEBUG"):
                raise
            say(f"uept: internal error while writing the report: {exc.__class__.__name__}: "
                f"{REGISTRY.redact(str(exc))}. The results are kept; run: uept report {run_dir}")
            return 3
    return 0 if ok else 1
