"""Benchmark: one selection of features in N = 1, 2 and 3 shards (`uept run --shard I/N`), then `uept merge`.

    flock /tmp/uept-browser.lock .venv/bin/python bench/shards.py [--features F ...] [--workers W] [--counts]

Each shard is what one machine of a CI matrix runs; here the shards run one after another on this machine
(each with its own reference SSI, its W browsers, its report, PDF and signed pack), so that each is measured
alone. The wall time of a matrix of N machines is then its slowest shard plus the merge job; the machine time
is the sum of the shards. N = 1 is a plain run of the whole selection; N = 2 and 3 are balanced by the
durations of that run (as a CI pipeline would, with --durations from its previous run), or by count with
--counts. Each shard's predicted work (the plan's estimate) is printed beside what it took. Default selection:
features/mfa_login.feature and features/oms.feature (29 cases of 19 personas). Prints the load average too:
the figures depend on what else the machine is doing.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from bench.measure import run_sampled  # noqa: E402

FEATURES = ["features/mfa_login.feature", "features/oms.feature"]


def uept(*args: str, env: dict[str, str]):
    return run_sampled([sys.executable, "-m", "uept.cli", *args], ROOT, env)


def run_dir_of(output: str) -> Path:
    m = re.search(r"^Evidence: (.+?)/  ", output, re.M)
    if not m:
        raise SystemExit(f"no run folder in the output:\n{output[-3000:]}")
    return Path(m.group(1))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--features", nargs="+", default=FEATURES)
    ap.add_argument("--workers", type=int, default=2, help="browsers per shard (default 2, as ci/ templates)")
    ap.add_argument("--counts", action="store_true", help="balance N = 2, 3 by count, not by durations")
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="uept-bench-shards-"))
    env = {k: v for k, v in os.environ.items() if not k.startswith(("UEPT_", "REFSSI_", "PYTEST_"))}
    env["UEPT_SIGNING_KEY"] = str(tmp / "party.pem")
    from uept.evidence.pack import create_key

    create_key(tmp / "party.pem")  # one party key for every shard, as a CI secret would give
    load0 = os.getloadavg()
    rows = []
    full: Path | None = None
    try:
        for total in (1, 2, 3):
            shards = []
            for index in range(1, total + 1):
                extra = ["--durations", str(full)] if total > 1 and full is not None and not args.counts else []
                run = uept("run", *args.features, "--shard", f"{index}/{total}", "-n", str(args.workers),
                           "--reports", str(tmp / f"n{total}"), *extra, env=env)
                if run.returncode not in (0, 1):
                    raise SystemExit(f"shard {index}/{total} exited {run.returncode}:\n{run.output[-3000:]}")
                run_dir = run_dir_of(run.output)
                info = json.loads((run_dir / "run.json").read_text())
                summary = json.loads((run_dir / "summary.json").read_text())
                scenario_s = sum(res["duration"] or 0 for sc in summary["scenarios"] for res in sc["results"])
                shards.append({"index": index, "wall": run.wall, "cpu": run.cpu_total, "cases": info["shard"]["cases"],
                               "estimate": info["shard"]["estimate"][index - 1], "scenario_s": scenario_s,
                               "balanced_by": info["shard"]["balanced_by"], "outcomes": info.get("outcomes"),
                               "dir": run_dir})
                if total == 1:
                    full = run_dir
            merge_wall = 0.0
            if total > 1:
                merged = uept("merge", *(str(s["dir"]) for s in shards), "-o", str(tmp / f"merged-{total}"), env=env)
                if merged.returncode != 0:
                    raise SystemExit(f"merge of {total} shards exited {merged.returncode}:\n{merged.output[-3000:]}")
                merge_wall = merged.wall
            rows.append({"total": total, "shards": shards, "merge": merge_wall})
            print(f"N={total}: " + "; ".join(
                f"shard {s['index']}: {s['cases']} cases, {s['wall']:.1f} s wall ({s['scenario_s']:.1f} s in "
                f"scenarios, estimate {s['estimate']:.1f}), {s['cpu']:.1f} s CPU, {s['outcomes']}" for s in shards)
                + (f"; merge {merge_wall:.1f} s" if total > 1 else ""), flush=True)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    base = max(s["wall"] for s in rows[0]["shards"])
    print()
    by = rows[1]["shards"][0]["balanced_by"] if len(rows) > 1 else "-"
    print(f"features: {' '.join(args.features)}; {args.workers} browser(s) per shard; N = 2, 3 balanced by "
          + ("the durations of the N = 1 run" if by.startswith("durations") else by))
    for r in rows:  # what a shard costs besides its scenarios: checks, server, browsers, report, PDF, pack
        fixed = [s["wall"] - s["scenario_s"] / args.workers for s in r["shards"]]
        print(f"N={r['total']}: per-shard time outside the scenarios {min(fixed):.1f}-{max(fixed):.1f} s")
    print("| N | cases per shard | slowest shard (s) | + merge (s) | matrix wall time (s) | speed-up | "
          "machine time (s) |")
    print("|---|---|---|---|---|---|---|")
    for r in rows:
        slowest = max(s["wall"] for s in r["shards"])
        wall = slowest + r["merge"]
        machine = sum(s["wall"] for s in r["shards"]) + r["merge"]
        print(f"| {r['total']} | {', '.join(str(s['cases']) for s in r['shards'])} | {slowest:.1f} | "
              f"{r['merge']:.1f} | {wall:.1f} | {base / wall:.2f}x | {machine:.1f} |")
    print(f"\nload average (1 min) before {load0[0]:.2f}, after {os.getloadavg()[0]:.2f}; ended {time.ctime()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
