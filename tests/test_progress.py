"""uept run's progress, followed from the run folder as the evidence plugin writes it (no browser): plain lines
as attempts finish, the live view of what each worker runs, counts, elapsed time and the estimate, redaction.
A real run's plain lines are checked in tests/test_retries_e2e.py."""

from __future__ import annotations

import io
import json
from pathlib import Path

from rich.console import Console

from uept.cli import progress
from uept.runtime.secrets import REGISTRY, Secret


def _write(run_dir: Path, key: str, status: str, *, attempt: int = 1, worker: str = "gw0", steps: int = 2,
           error: str | None = None, duration: float | None = 2.0) -> None:
    folder = run_dir / "scenarios" / key
    folder.mkdir(parents=True, exist_ok=True)
    data = {"key": key, "uept_id": key.split("-attempt")[0], "name": f"scenario {key.split('-attempt')[0]}",
            "attempt": attempt, "status": status, "worker": worker, "error": error,
            "started": f"2026-11-23T08:00:0{attempt}.000Z",
            "duration": None if status == "running" else duration,
            "steps": [{"n": n, "keyword": "Given", "text": f"step {n}", "status": "passed"}
                      for n in range(1, steps + 1)]}
    (folder / "result.json").write_text(json.dumps(data))


def test_plain_lines_come_as_attempts_finish_with_a_flaky_case_named_so(tmp_path: Path) -> None:
    p = progress.RunProgress(tmp_path, total=3, workers=2)
    out = io.StringIO()
    plain = progress.PlainProgress(p, out)
    _write(tmp_path, "UEPT-A-01", "running")
    _write(tmp_path, "UEPT-A-02", "running", worker="gw1")
    plain.update()
    assert out.getvalue() == ""  # nothing finished yet
    assert [a["key"] for a in p.running()] == ["UEPT-A-01", "UEPT-A-02"]
    _write(tmp_path, "UEPT-A-01", "passed", duration=2.5)
    _write(tmp_path, "UEPT-A-02", "failed", worker="gw1", error="Locator expected to be visible")
    plain.update()
    lines = out.getvalue().splitlines()
    assert lines[0] == "[1/3] PASSED  UEPT-A-01  scenario UEPT-A-01  2.5s  gw0"
    assert lines[1] == "[2/3] FAILED  UEPT-A-02  scenario UEPT-A-02  2.0s  gw1"
    assert lines[2] == "        Locator expected to be visible"
    plain.update()
    assert len(out.getvalue().splitlines()) == 3  # each attempt once
    _write(tmp_path, "UEPT-A-02-attempt2", "passed", attempt=2, worker="gw1")
    plain.update()
    assert out.getvalue().splitlines()[3] == "[2/3] FLAKY   UEPT-A-02 (attempt 2)  scenario UEPT-A-02  2.0s  gw1"
    assert p.counts() == {"passed": 1, "flaky": 1}
    summary = p.summary()
    assert summary.startswith("2/3 done: 1 passed, 1 flaky · 0:0") and summary.endswith("about 0:01 left")


def test_the_estimate_waits_for_a_finished_attempt_and_shares_the_rest_between_workers(tmp_path: Path) -> None:
    p = progress.RunProgress(tmp_path, total=5, workers=2)
    _write(tmp_path, "UEPT-A-01", "running")
    p.poll()
    assert p.remaining() is None and "estimating what remains" in p.summary()
    _write(tmp_path, "UEPT-A-01", "passed", duration=10.0)
    p.poll()
    assert p.remaining() == 4 * 10.0 / 2


def test_the_live_view_shows_each_worker_s_scenario_the_counts_and_the_time(tmp_path: Path) -> None:
    p = progress.RunProgress(tmp_path, total=4, workers=2)
    _write(tmp_path, "UEPT-A-01", "passed")
    _write(tmp_path, "UEPT-A-02", "running", worker="gw1", steps=3)
    _write(tmp_path, "UEPT-A-03", "failed", worker="gw0", error="boom")
    out = io.StringIO()
    console = Console(file=out, width=120, force_terminal=False, color_system=None)
    live = progress.LiveProgress(p, console)
    with live:
        pass  # the display starts, follows the folder once, and stops
    console.print(live.view())
    text = out.getvalue()
    assert "FAILED  UEPT-A-03" in text and "boom" in text  # a line above the display for what did not pass
    assert "PASSED  UEPT-A-01" not in text  # a pass is only counted
    assert "gw1" in text and "UEPT-A-02  scenario UEPT-A-02" in text and "step 4" in text
    assert "2/4 done: 1 passed, 1 failed" in text and "elapsed" in text and "left" in text


def test_lines_are_redacted(tmp_path: Path) -> None:
    secret = Secret("Zebra-Quartz-4471", "a test password")
    p = progress.RunProgress(tmp_path, total=1)
    _write(tmp_path, "UEPT-A-01", "failed", error=f"typed {secret.reveal()} into the wrong field")
    (finished,) = p.poll()
    line = p.line(finished)
    assert secret.reveal() not in line and "typed " in line
    assert REGISTRY.find(line) == []


def test_plain_lines_off_a_terminal_live_on_one(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.delenv("UEPT_PROGRESS", raising=False)
    assert isinstance(progress.follow(tmp_path, 1, 1, io.StringIO()), progress.PlainProgress)

    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    monkeypatch.setenv("TERM", "xterm")
    assert isinstance(progress.follow(tmp_path, 1, 1, Terminal()), progress.LiveProgress)
    monkeypatch.setenv("UEPT_PROGRESS", "plain")
    assert isinstance(progress.follow(tmp_path, 1, 1, Terminal()), progress.PlainProgress)
