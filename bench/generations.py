"""The suite's time on the Service Portal generation against the classic one, side by side in one run.

    .venv/bin/python bench/generations.py                       # every feature, 2 rounds (A B A B)
    .venv/bin/python bench/generations.py --rounds 3 features/incidents.feature

Each round runs `uept run -n 2` once with REFSSI_PORTAL_UI=classic and once with REFSSI_PORTAL_UI=sp
(no latency), alternating so that this machine's changing speed falls on both alike. Prints each run's
wall time and verdict, and the ratio sp/classic of the medians. Target (issue 12): sp within 1.25x.
Exits 1 when a run fails or the target is missed.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TARGET = 1.25


def one_run(ui: str, features: list[str], reports: Path) -> tuple[float, int]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("UEPT_", "REFSSI_", "PYTEST_"))}
    env["REFSSI_PORTAL_UI"] = ui
    t0 = time.monotonic()
    proc = subprocess.run([sys.executable, "-m", "uept.cli", "run", *features, "-n", "2", "--reports", str(reports)],
                          cwd=ROOT, env=env, capture_output=True, text=True)
    return time.monotonic() - t0, proc.returncode


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("features", nargs="*", default=["features"])
    ap.add_argument("--rounds", type=int, default=2)
    args = ap.parse_args()
    times: dict[str, list[float]] = {"classic": [], "sp": []}
    failed = False
    with tempfile.TemporaryDirectory(prefix="uept-bench-gen-") as tmp:
        for r in range(args.rounds):
            for ui in ("classic", "sp"):
                seconds, code = one_run(ui, args.features, Path(tmp) / f"{ui}-{r}")
                times[ui].append(seconds)
                failed |= code != 0
                print(f"round {r + 1} {ui:7s}: {seconds:6.1f} s  exit {code}", flush=True)
    classic, sp = statistics.median(times["classic"]), statistics.median(times["sp"])
    ratio = sp / classic
    print(f"median classic {classic:.1f} s, sp {sp:.1f} s: sp/classic {ratio:.2f}x (target <= {TARGET}x)")
    return 1 if failed or ratio > TARGET else 0


if __name__ == "__main__":
    sys.exit(main())
