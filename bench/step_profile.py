"""Where a scenario step's time goes (issue 17): the browser's action against each part of the evidence.

    .venv/bin/python bench/step_profile.py [FEATURE ...]      # default: features/mfa_login.feature

Runs the features as `uept run` runs them (one worker, per-step screenshots, traces, Allure) against a
reference SSI of their own, with bench/step_timing.py timing each part of the evidence, and prints per step
kind (the step function) the mean wall time of a step and how it splits: the step's own work (the browser's
action and the trace snapshots it takes) and each part of the evidence (page view script, screenshot, mask
re-check, page text and other, result.json, trace pause and start, trace secret check, Allure). The last
line gives the same split over every step.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from uept.runtime.reference import EmbeddedSSI  # noqa: E402

OWN = "step's own work"


def profile(features: list[str], extra: list[str]) -> list[dict]:
    with EmbeddedSSI() as server, tempfile.TemporaryDirectory() as tmp:
        timings = Path(tmp) / "timings.jsonl"
        run_dir = Path(tmp) / "run"
        env = {**{k: v for k, v in os.environ.items() if not k.startswith(("UEPT_", "PYTEST_"))}, **server.env,
               "UEPT_STEP_TIMINGS": str(timings), "PYTHONPATH": str(ROOT)}
        proc = subprocess.run(
            [sys.executable, "-m", "pytest", *features, "-o", "testpaths=", "--rootdir", str(ROOT), "-c",
             str(ROOT / "pyproject.toml"), "--uept-run-dir", str(run_dir), "--alluredir",
             str(run_dir / "allure-results"), "-q", "-p", "no:cacheprovider", "-p", "bench.step_timing",
             "-m", "not real-clock", *extra],  # as uept run: @real-clock scenarios wait 5 and 15 real minutes
            cwd=ROOT, env=env, capture_output=True, text=True)
        if proc.returncode != 0:
            raise SystemExit(f"the features failed:\n{proc.stdout[-3000:]}")
        return [json.loads(line) for line in timings.read_text().splitlines()]


def table(rows: list[dict]) -> None:
    kinds: dict[str, list[dict]] = defaultdict(list)
    for r in rows:
        kinds[r["kind"]].append(r)
    parts = sorted({k for r in rows for k in r if k not in ("kind", "total")})
    print(f"{'step kind':<44}{'n':>4}{'mean ms':>9}  {OWN:>16}" + "".join(f"{p[:14]:>16}" for p in parts))

    def line(name: str, group: list[dict]) -> None:
        n = len(group)
        mean = {p: 1000 * sum(r.get(p, 0.0) for r in group) / n for p in parts}
        total = 1000 * sum(r["total"] for r in group) / n
        own = total - sum(mean.values())
        print(f"{name[:43]:<44}{n:>4}{total:>9.1f}  {own:>16.1f}" + "".join(f"{mean[p]:>16.1f}" for p in parts))

    for kind, group in sorted(kinds.items(), key=lambda kv: -sum(r["total"] for r in kv[1])):
        line(kind, group)
    line("EVERY STEP", rows)
    total = sum(r["total"] for r in rows)
    evidence = sum(v for r in rows for k, v in r.items() if k not in ("kind", "total"))
    print(f"\n{len(rows)} steps, {total:.1f} s in all: the steps' own work {total - evidence:.1f} s, "
          f"the evidence {evidence:.1f} s ({100 * evidence / total:.0f}%)")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("features", nargs="*", default=["features/mfa_login.feature"])
    ap.add_argument("--no-traces", action="store_true", help="without Playwright traces (what they cost)")
    args = ap.parse_args()
    table(profile(args.features, ["--uept-no-traces"] if args.no_traces else []))


if __name__ == "__main__":
    main()
