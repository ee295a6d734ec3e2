"""Mutation score of the reference SSI's rule modules: how many plausible faults in the SSI the scenarios catch.

The tool is cosmic-ray (a dev extra): it lists every mutant of a module (an operator swapped, a number
changed, a condition negated, ...), writes each one into the file in place, runs a test command and puts the
file back. The test command here is this script's `--run-one`: a reference SSI started as a subprocess (so it
imports the mutated module) and only the scenarios that exercise the module, selected by tag (SCOPES below),
stopping at the first failure. A mutant is killed when a scenario fails, survived when all pass, timed out
when the run takes more than the timeout (counted as killed, as cosmic-ray does: a hang is noticed).

Not every mutant is a fault a real SSI could have:
- mutants of the test-only fault switches (an `if fault(...)` and its body, refssi/faults.py) change nothing
  while no switch is on: they are left out and counted as such;
- equivalent mutants (the SSI behaves the same, e.g. `x >= 1` and `x > 0` on integers) are listed in
  EQUIVALENT with the reason, not run, and left out of the score.

    .venv/bin/python bench/mutation.py --module refssi/auth/rules.py --sample 0.15
    .venv/bin/python bench/mutation.py --module refssi/auth/rules.py --functions check_code register_failure
    .venv/bin/python bench/mutation.py --list            # the modules and the scenarios each one runs

It holds the browser lock (/tmp/uept-browser.lock) for its whole run: start it as it is, not under
`flock` (a second lock of the same file would wait for the first); --no-lock when the caller holds it.
Sampling picks mutants by a hash of the line's text, the operator and cosmic-ray's occurrence number (counted through
the whole module), so the same --sample and --seed choose mostly the same mutants after a change elsewhere in the file
(code added above a line can renumber its occurrences).
"""

from __future__ import annotations

import argparse
import ast
import fcntl
import hashlib
import json
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LOCK = Path("/tmp/uept-browser.lock")
COSMIC_RAY = Path(sys.executable).parent / "cosmic-ray"

# module -> (feature files, tag expression): the scenarios that exercise the module's rules
SCOPES: dict[str, tuple[tuple[str, ...], str]] = {
    "refssi/auth/rules.py": (("features/mfa_login.feature",), "@UEPT-LOGIN and not @entra and not @real-clock"),
    "refssi/incidents/rules.py": (("features/incidents.feature",), "@UEPT-INC"),
    "refssi/oms/rules.py": (("features/oms.feature",), "@UEPT-OMS"),
    "refssi/requests/rules.py": (("features/service_requests.feature",), "@UEPT-SR"),
    "refssi/useradmin/rules.py": (("features/credentials.feature",), "@UEPT-CRED"),
}

# Mutants that cannot change what the SSI does: (module, function, line text, mutated line text) -> why.
_PRUNING = ("it keeps more of the authenticator steps already used than it needs: a step older than the "
            "accepted window is refused by the window itself, so remembering it longer changes no answer")
_ANNOTATION = "an annotation: under `from __future__ import annotations` it is never evaluated"
_LAST_PART = "with a dot in the name, the last part after splitting at the last dot (or the last two) is the same"
EQUIVALENT: dict[tuple[str, str, str, str], str] = {
    ("refssi/auth/rules.py", "check_code", "- cfg.totp.valid_window - 1]", "- cfg.totp.valid_window >> 1]"): _PRUNING,
    ("refssi/auth/rules.py", "check_code",
     'used = [u for u in json.loads(user["used_totp_steps"]) if u >= int(now() // cfg.totp.interval)',
     'used = [u for u in json.loads(user["used_totp_steps"]) if u >= int(now() % cfg.totp.interval)'): _PRUNING,
    ("refssi/auth/rules.py", "check_code",
     'setup_seed = ctx.session["pending_totp_seed"] if ctx.session["stage"] == "mfa_setup" else None',
     'setup_seed = ctx.session["pending_totp_seed"] if ctx.session["stage"] <= "mfa_setup" else None'):
        "'mfa' <= 'mfa_setup' as well, but a session at the mfa stage holds no pending seed (enrolment clears it), so "
        "the seed checked is the user's either way",
    ("refssi/requests/rules.py", "file_errors", "uploads: dict[str, Upload | None]) -> dict[str, str]:",
     "uploads: dict[str, Upload // None]) -> dict[str, str]:"): _ANNOTATION,
    ("refssi/requests/rules.py", "file_errors", "uploads: dict[str, Upload | None]) -> dict[str, str]:",
     "uploads: dict[str, Upload ^ None]) -> dict[str, str]:"): _ANNOTATION,
    ("refssi/requests/rules.py", "file_errors", 'ext = name.rsplit(".", 1)[-1].lower() if "." in name else ""',
     'ext = name.rsplit(".", 1)[1].lower() if "." in name else ""'): _LAST_PART,
    ("refssi/requests/rules.py", "file_errors", 'ext = name.rsplit(".", 1)[-1].lower() if "." in name else ""',
     'ext = name.rsplit(".", 2)[-1].lower() if "." in name else ""'): _LAST_PART,
    ("refssi/requests/rules.py", "file_errors",
     'keys = [r[0] for r in conn.execute("SELECT public_key FROM x_dcc_party_key WHERE company = ? AND active = 1",',
     'keys = [r[ -1] for r in conn.execute("SELECT public_key FROM x_dcc_party_key WHERE company = ? AND active = 1",'):
        "the query selects one column: its first is its last",
    ("refssi/requests/rules.py", "file_errors", "continue", "break"):
        "every catalogue item of the reference profile has one attachment variable: after a missing file there is no "
        "other file to check",
}


@dataclass
class Mutant:
    job_id: str
    module: str
    function: str
    line: int
    operator: str
    occurrence: int
    before: str  # the line as it is
    after: str  # the line mutated
    outcome: str = ""  # killed | survived | timed out | equivalent | test-only | not sampled
    why: str = ""


# ---------------------------------------------------------------- what each mutant changes
def fault_lines(source: str) -> set[int]:
    """Lines of test-only fault-switch code: every `if` whose test calls fault(...) (test and body) and every
    other statement calling fault(...)."""
    lines: set[int] = set()

    def calls_fault(node: ast.AST) -> bool:
        return any(isinstance(n, ast.Call) and getattr(n.func, "id", "") == "fault" for n in ast.walk(node))

    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.If) and calls_fault(node.test):
            end = node.body[-1].end_lineno or node.lineno
            lines.update(range(node.lineno, end + 1))
        elif isinstance(node, ast.stmt) and not isinstance(node, (ast.FunctionDef, ast.If, ast.For, ast.While,
                                                                   ast.With, ast.Try)) and calls_fault(node):
            lines.update(range(node.lineno, (node.end_lineno or node.lineno) + 1))
    return lines


def mutated_line(source: str, operator: str, occurrence: int) -> str:
    """The mutated line(s), as they read after the mutation."""
    import difflib

    from cosmic_ray.mutating import mutate_code
    from cosmic_ray.plugins import get_operator

    code = mutate_code(source, get_operator(operator)(), occurrence)
    if code is None:
        return ""
    changed = [ln[1:].strip() for ln in difflib.ndiff(source.splitlines(), code.splitlines()) if ln.startswith("+ ")]
    return " / ".join(changed)


def sample_key(m: Mutant, seed: int) -> float:
    digest = hashlib.sha256(f"{seed}|{m.module}|{m.before}|{m.operator}|{m.occurrence}".encode()).hexdigest()
    return int(digest[:12], 16) / 16**12


# ---------------------------------------------------------------- one mutant's scenarios
def run_one(module: str, workers: int) -> int:
    """The test command cosmic-ray runs for each mutant: a fresh reference SSI, the module's scenarios."""
    sys.path.insert(0, str(ROOT))
    from uept.evidence.features import tags_to_markexpr
    from uept.runtime.reference import EmbeddedSSI

    features, tags = SCOPES[module]
    with tempfile.TemporaryDirectory(prefix="uept-mutant-") as tmp:
        server = EmbeddedSSI()
        try:
            ssi = server.__enter__()
        except Exception as exc:  # the mutant stops the server from starting: caught by any run
            print(f"server did not start: {exc}")
            return 3
        try:
            env = {k: v for k, v in os.environ.items() if not k.startswith(("UEPT_", "REFSSI_", "PYTEST_"))}
            env.update(ssi.env, UEPT_STATE_DIR=f"{tmp}/state")
            cmd = [sys.executable, "-m", "pytest", *features, "-m", tags_to_markexpr(tags), "-o", "testpaths=",
                   "-p", "no:cacheprovider", "-q", "-x", "--uept-target", ssi.url, "--uept-run-dir", f"{tmp}/run"]
            if workers > 1:
                cmd += ["-n", str(workers), "--dist", "loadgroup"]
            return subprocess.run(cmd, cwd=ROOT, env=env).returncode
        finally:
            server.__exit__(None, None, None)


# ---------------------------------------------------------------- the bench
def mutants_of(db_path: Path, module: str) -> list[Mutant]:
    from cosmic_ray.work_db import WorkDB, use_db

    source = (ROOT / module).read_text()
    lines = source.splitlines()
    out = []
    with use_db(str(db_path), WorkDB.Mode.open) as db:
        for item in db.work_items:
            spec = item.mutations[0]
            line = spec.start_pos[0]
            op = spec.operator_name
            out.append(Mutant(item.job_id, module, spec.definition_name or "", line, op, spec.occurrence,
                              lines[line - 1].strip(), mutated_line(source, op, spec.occurrence)))
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--module", action="append", choices=sorted(SCOPES), help="a rule module (repeatable; default all)")
    ap.add_argument("--functions", nargs="*", help="only mutants inside these functions")
    ap.add_argument("--sample", type=float, default=1.0, help="the fraction of mutants to run (0-1]")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--workers", type=int, default=2, help="pytest-xdist workers per mutant's run")
    ap.add_argument("--out", type=Path, help="write every mutant and its outcome to this JSON file")
    ap.add_argument("--no-lock", action="store_true", help="the caller already holds the browser lock")
    ap.add_argument("--list", action="store_true", help="list the modules and their scenarios, run nothing")
    ap.add_argument("--run-one", metavar="MODULE", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.run_one:
        return run_one(args.run_one, args.workers)
    if args.list:
        for module, (features, tags) in SCOPES.items():
            print(f"{module}: {' '.join(features)} --tags '{tags}'")
        return 0
    if not 0 < args.sample <= 1:
        print("--sample must be a fraction in (0, 1]", file=sys.stderr)
        return 2
    lock = None
    if not args.no_lock:
        lock = open(LOCK, "a")  # held until the process ends
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            print(f"waiting for the browser lock {LOCK} ...", flush=True)
            fcntl.flock(lock, fcntl.LOCK_EX)
    report = []
    for module in args.module or list(SCOPES):
        report.append(bench_module(module, args))
    if args.out:
        args.out.write_text(json.dumps(report, indent=2))
    return 0


def bench_module(module: str, args: argparse.Namespace) -> dict:
    from cosmic_ray.work_db import WorkDB, use_db
    from cosmic_ray.work_item import TestOutcome, WorkerOutcome, WorkResult

    path = ROOT / module
    original = path.read_bytes()
    work = Path(tempfile.mkdtemp(prefix="uept-mutation-"))
    features, tags = SCOPES[module]
    print(f"== {module}: mutants run {' '.join(features)} --tags '{tags}'", flush=True)
    t0 = time.monotonic()
    baseline = subprocess.run([sys.executable, __file__, "--run-one", module, "--workers", str(args.workers)],
                              cwd=ROOT, capture_output=True, text=True)
    base_s = time.monotonic() - t0
    if baseline.returncode != 0:
        print(f"the unmutated module's scenarios fail: fix that first\n{baseline.stdout[-3000:]}")
        return {"module": module, "error": "baseline failed"}
    timeout = max(3 * base_s, base_s + 60)
    print(f"unmutated: the scenarios pass in {base_s:.0f} s; timeout per mutant {timeout:.0f} s", flush=True)
    config = work / "cosmic-ray.toml"
    command = f"{sys.executable} {Path(__file__).resolve()} --run-one {module} --workers {args.workers}"
    config.write_text(
        "[cosmic-ray]\n"
        f'module-path = "{path}"\n'
        f"timeout = {timeout:.0f}\n"
        "excluded-modules = []\n"
        f'test-command = "{command}"\n'
        "[cosmic-ray.distributor]\n"
        'name = "local"\n'
    )
    db_path = work / "session.sqlite"
    subprocess.run([str(COSMIC_RAY), "init", str(config), str(db_path)], cwd=ROOT, check=True)
    mutants = mutants_of(db_path, module)
    test_only = fault_lines(path.read_text())
    skip = WorkResult(worker_outcome=WorkerOutcome.SKIPPED)
    chosen = 0
    with use_db(str(db_path), WorkDB.Mode.open) as db:
        for m in mutants:
            equivalent = EQUIVALENT.get((m.module, m.function, m.before, m.after))
            if args.functions and m.function not in args.functions:
                m.outcome = "not chosen"
            elif m.line in test_only:
                m.outcome = "test-only"
            elif sample_key(m, args.seed) >= args.sample:
                m.outcome = "not sampled"
            elif equivalent:
                m.outcome, m.why = "equivalent", equivalent
            else:
                chosen += 1
                continue
            db.set_result(m.job_id, skip)
    print(f"{len(mutants)} mutants; {chosen} to run", flush=True)
    t1 = time.monotonic()
    try:
        subprocess.run([str(COSMIC_RAY), "exec", str(config), str(db_path)], cwd=ROOT,
                       check=True)
    finally:
        if path.read_bytes() != original:  # interrupted mid-mutant: never leave a mutant in the tree
            path.write_bytes(original)
    with use_db(str(db_path), WorkDB.Mode.open) as db:
        results = dict(db.results)
    for m in mutants:
        r = results.get(m.job_id)
        if m.outcome or r is None:
            continue
        if r.test_outcome == TestOutcome.SURVIVED:
            m.outcome = "survived"
        elif r.test_outcome == TestOutcome.KILLED:
            m.outcome = "timed out" if (r.output or "").strip() == "timeout" else "killed"
        else:
            m.outcome, m.why = "incompetent", (r.output or "")[-300:]
    counts = {k: sum(1 for m in mutants if m.outcome == k)
              for k in ("killed", "survived", "timed out", "equivalent", "incompetent", "test-only", "not sampled",
                        "not chosen")}
    scored = counts["killed"] + counts["timed out"] + counts["survived"]
    score = (counts["killed"] + counts["timed out"]) / scored if scored else 0.0
    chose = f", functions {' '.join(args.functions)}" if args.functions else ""
    print(f"-- {module}: {len(mutants)} mutants, {scored} run in {time.monotonic() - t1:.0f} s "
          f"(sample {args.sample:g}, seed {args.seed}{chose})")
    print("   " + ", ".join(f"{k} {v}" for k, v in counts.items()))
    print(f"   score: {counts['killed'] + counts['timed out']}/{scored} = {score:.1%} of non-equivalent mutants "
          "killed (timed out counts as killed)")
    for m in mutants:
        if m.outcome == "survived":
            print(f"   survived: {m.module}:{m.line} {m.function} {m.operator.split('/')[-1]}\n"
                  f"       - {m.before}\n       + {m.after}")
    for m in mutants:
        if m.outcome == "equivalent":
            print(f"   equivalent: {m.module}:{m.line} {m.before!r} -> {m.after!r}: {m.why}")
    return {"module": module, "counts": counts, "score": score, "baseline_s": round(base_s, 1),
            "mutants": [asdict(m) for m in mutants]}


if __name__ == "__main__":
    sys.exit(main())
