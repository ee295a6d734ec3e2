"""Bench: the full access-control feature (every Job Type Role x component cell) on N workers.

    .venv/bin/python bench/access_control.py [--workers 2]

Runs `uept run features/access_control.feature -n WORKERS` against a fresh embedded
reference SSI, with full evidence, and prints:
  - wall time of the run (target of issue 4: < 60 s on 2 cores);
  - MFA logins performed, from reports/<run>/metrics/logins-*.json
    (target: <= personas x workers);
  - where the time goes: start-up, scenario steps, evidence per scenario (screenshots and
    trace parts), the busiest worker; the CPU seconds of the run by part (Chromium, the
    Playwright driver, pytest, the reference SSI) and the machine's load, so a figure taken
    on a shared machine can be read for what it is.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import sys
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from bench.measure import run_metrics, run_sampled  # noqa: E402


def ts(s: str) -> float:
    return datetime.fromisoformat(s.replace("Z", "+00:00")).timestamp()


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--workers", type=int, default=2)
    args = ap.parse_args()

    proc = run_sampled([sys.executable, "-m", "uept.cli", "run", "features/access_control.feature",
                        "-n", str(args.workers)], ROOT)
    m = re.search(r"^Evidence: (.+?)/  ", proc.output, re.M)
    if not m:
        print(proc.output[-3000:])
        print("bench: the run produced no evidence folder", file=sys.stderr)
        return 2
    run = Path(m.group(1))
    results = [json.loads(p.read_text()) for p in (run / "scenarios").glob("*/result.json")]
    metrics = run_metrics(run)
    info = json.loads((run / "run.json").read_text())
    passed = sum(r["status"] == "passed" for r in results)
    cells = sum(r["uept_id"] in ("UEPT-ACCESS-01", "UEPT-ACCESS-02") for r in results)

    step_time = [sum(s.get("duration") or 0 for s in r["steps"]) for r in results]
    evidence = [r["duration"] - st for r, st in zip(results, step_time, strict=True)]
    first_start = min(ts(r["started"]) for r in results)
    workers = {}
    for r in results:
        workers.setdefault(r["worker"], []).append(r)
    busiest = max(workers.values(), key=len)
    cpu = proc.cpu_total

    print(f"access_control feature on {args.workers} workers: {proc.wall:.1f} s wall "
          f"(target < 60 s), exit {proc.returncode}")
    print(f"  scenarios: {len(results)} ({cells} role x component cells, {len(results) - cells} profile checks), "
          f"{passed} passed")
    print(f"  MFA logins: {metrics.mfa_logins} for {len(metrics.personas)} personas "
          f"(bound: personas x workers = {len(metrics.personas) * args.workers}); "
          f"{metrics.totp_wait:.1f} s spent waiting for a fresh authenticator code")
    print(f"  start-up before the first scenario: {first_start - ts(info['started']):.1f} s "
          "(reference SSI, workers, Chromium, collection)")
    print(f"  per scenario: {statistics.mean(r['duration'] for r in results):.2f} s mean, of which steps "
          f"{statistics.mean(step_time):.2f} s and evidence (screenshots, trace) {statistics.mean(evidence):.2f} s")
    print("  per worker: " + ", ".join(f"{w} {len(rs)} scenarios" for w, rs in sorted(workers.items()))
          + f" (the busiest ran {len(busiest)}; a persona's cells stay on one worker, but for the personas"
          " left over after an even share, split in parts)")
    print(f"  {proc.cpu_line()}")
    print(f"  = {cpu / (os.cpu_count() or 1):.0f} s of wall time at the least on {os.cpu_count()} CPUs")
    print(f"  machine load average: {proc.load[0]:.1f} before, {proc.load[1]:.1f} after, on {os.cpu_count()} CPUs")
    print(f"  evidence: {run}")
    return 0 if proc.returncode == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
