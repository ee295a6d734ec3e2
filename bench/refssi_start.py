"""How long the reference SSI takes to start (issue 17: target < 1 s), optionally beside another checkout.

    .venv/bin/python bench/refssi_start.py [--starts 10] [--vs /path/to/other/checkout]

Each start is `EmbeddedSSI().start()` in a fresh Python process, as `uept run` starts it: from launching
`python -m refssi` to its READY line (the harness's own measure, RunningSSI.started_in). With --vs, starts
of this checkout and of the other alternate (A B A B ...), so that the machine's changing speed falls on
both alike, and the ratio of the medians is printed.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ONE = ("from uept.runtime.reference import EmbeddedSSI\n"
       "s = EmbeddedSSI(); s.start(); print(s.running.started_in); s.stop()\n")


def start_once(checkout: Path) -> float:
    env = {**os.environ, "PYTHONPATH": str(checkout)}
    out = subprocess.run([sys.executable, "-c", ONE], cwd=checkout, env=env, capture_output=True, text=True,
                         check=True).stdout
    return float(out.split()[-1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--starts", type=int, default=10)
    ap.add_argument("--vs", type=Path, help="another checkout of uept to start alternately")
    args = ap.parse_args()
    here: list[float] = []
    there: list[float] = []
    for _ in range(args.starts):
        here.append(start_once(ROOT))
        if args.vs:
            there.append(start_once(args.vs.resolve()))
    print(f"reference SSI start, this checkout: median {statistics.median(here):.2f} s "
          f"(min {min(here):.2f}, max {max(here):.2f}; {len(here)} starts; target < 1 s)")
    if there:
        print(f"reference SSI start, {args.vs}: median {statistics.median(there):.2f} s "
              f"(min {min(there):.2f}, max {max(there):.2f})")
        print(f"ratio this / other: {statistics.median(here) / statistics.median(there):.2f}")


if __name__ == "__main__":
    main()
