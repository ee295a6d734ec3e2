"""Evidence benchmarks: report + pack for 100 scenarios, a full run's pack size, verify time.

    .venv/bin/python bench/evidence.py                 # runs the full UEPT suite once, then measures
    .venv/bin/python bench/evidence.py --run-dir DIR   # measures an existing full run folder instead

Targets (issues 6 and 17): report + pack for 100 scenarios < 5 s; a full UEPT run's pack <= 15 MB;
`uept verify` of that pack < 2 s. Prints the figures, and what the pack's bytes are (by kind of file, compressed);
exits 1 when a target is missed.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
import zipfile
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from uept.evidence import pack  # noqa: E402
from uept.evidence.bundle import make_evidence  # noqa: E402


def full_run(work: Path, key: Path) -> Path:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("UEPT_", "REFSSI_", "PYTEST_"))}
    env["UEPT_SIGNING_KEY"] = str(key)
    t0 = time.monotonic()
    proc = subprocess.run([sys.executable, "-m", "uept.cli", "run", "--reports", str(work / "reports"), "-n", "2"],
                          cwd=ROOT, env=env, capture_output=True, text=True)
    print(f"full UEPT run (all features, -n 2): exit {proc.returncode} in {time.monotonic() - t0:.0f} s")
    dirs = sorted((work / "reports").iterdir())
    if not dirs:
        sys.exit(f"the run wrote nothing:\n{proc.stdout[-2000:]}\n{proc.stderr[-2000:]}")
    return dirs[-1]


def synthesise(src: Path, dest: Path, n: int) -> Path:
    """n scenario result folders made from a real run's folders (round robin), with their Allure files."""
    dest.mkdir(parents=True)
    for name in ("run.json", "scenario-set.json", "junit.xml", "pytest.log"):
        if (src / name).exists():
            shutil.copy2(src / name, dest / name)
    real = sorted(p for p in (src / "scenarios").iterdir() if (p / "result.json").is_file())
    (dest / "scenarios").mkdir()
    allure_src = sorted((src / "allure-results").glob("*"))
    (dest / "allure-results").mkdir()
    copies = -(-n // len(real))
    for i in range(n):
        s = real[i % len(real)]
        key = f"UEPT-BENCH-{i + 1:03d}"
        shutil.copytree(s, dest / "scenarios" / key)
        data = json.loads((s / "result.json").read_text())
        data.update(key=key, uept_id=key, tags=[*data["tags"], key])
        (dest / "scenarios" / key / "result.json").write_text(json.dumps(data))
    for c in range(copies):
        for f in allure_src:
            if f.is_file() and f.name not in ("environment.properties", "executor.json", "categories.json"):
                shutil.copy2(f, dest / "allure-results" / f"{c:02d}{f.name[2:]}")
    return dest


def kinds(zip_path: Path) -> Counter:
    """Compressed bytes in the pack per kind of file (its extension; the trace parts and the records are in
    records.tar.xz)."""
    out: Counter = Counter()
    with zipfile.ZipFile(zip_path) as z:
        for info in z.infolist():
            name = info.filename
            kind = Path(name).suffix.lstrip(".") or "other"
            kind = {"zip": "trace (zip)", "xz": f"trace parts and records ({pack.SOLID})"}.get(kind, kind)
            out[kind] += info.compress_size
    return out


def deflated_parts(run_dir: Path) -> int:
    """What the run's trace parts would take deflated one by one, as Playwright writes them (before records.tar.xz)."""
    total, seen = 0, set()
    for part in run_dir.rglob("*.zip"):
        digest = pack.sha256_file(part)
        if part.name.startswith(pack.PACK_PREFIX) or digest in seen:
            continue
        seen.add(digest)
        buf = io.BytesIO()
        with zipfile.ZipFile(part) as src, zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as out:
            for info in src.infolist():
                out.writestr(info.filename, src.read(info))
        total += len(buf.getvalue())
    return total


def children_cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def mb(n: int) -> str:
    return f"{n / 1e6:.1f} MB"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--run-dir", help="an existing full run folder (default: run the suite now)")
    ap.add_argument("-n", type=int, default=100, help="scenarios to synthesise (default 100)")
    args = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="uept-bench-"))
    try:
        key_file = work / "key.pem"
        key = pack.create_key(key_file)
        run_dir = Path(args.run_dir) if args.run_dir else full_run(work, key_file)
        ok = True

        # 1. a full run's pack: size and verify time
        results = list((run_dir / "scenarios").glob("*/result.json"))
        built = pack.build(run_dir, key)
        size = built.zip_path.stat().st_size
        per = size / max(1, len(results))
        print(f"full run pack: {mb(size)} for {len(results)} scenario results ({mb(int(per))} each; "
              f"{len(built.manifest['files'])} files) -> target <= 15 MB: {'OK' if size <= 15e6 else 'MISSED'}")
        print(f"  at that rate, 60 scenario results would make {mb(int(per * 60))}")
        print("  by kind (compressed bytes in the zip): " + ", ".join(
            f"{kind} {mb(n)}" for kind, n in kinds(built.zip_path).most_common()))
        distinct = {f["sha256"]: f["path"] for f in built.manifest["files"] if f["path"].endswith(".zip")}
        records = {f["sha256"]: f["path"] for f in built.manifest["files"] if pack.in_solid(f["path"])}
        print(f"  {pack.SOLID}: {mb(kinds(built.zip_path)[f'trace parts and records ({pack.SOLID})'])} for "
              f"{len(records)} distinct files, of which {len(distinct)} trace parts, which take "
              f"{mb(deflated_parts(run_dir))} deflated one by one as Playwright writes them (each distinct part once)")
        ok &= size <= 15e6
        t0, c0 = time.monotonic(), children_cpu()
        proc = subprocess.run([sys.executable, "-m", "uept.cli", "verify", str(built.zip_path), "--key",
                               pack.fingerprint(key.public_key())], cwd=ROOT, capture_output=True, text=True)
        t_verify = time.monotonic() - t0
        verdict = next((ln for ln in proc.stdout.splitlines() if ln.startswith("Verdict:")), "no verdict")
        print(f"uept verify of that pack (whole command, incl. Python start-up): {t_verify:.2f} s, "
              f"{children_cpu() - c0:.2f} s of CPU, exit {proc.returncode}, {verdict} -> target < 2 s: "
              f"{'OK' if t_verify < 2 else 'MISSED'}")
        failed = [ln for ln in proc.stdout.splitlines() if ln.startswith("FAIL")]
        if failed:  # a full run of the shipped suite must verify: say what did not
            print("  " + "\n  ".join(proc.stdout.splitlines()[-20:]))
        ok &= t_verify < 2 and proc.returncode == 0

        # 2. report + pack for N scenarios, as `uept run` makes them at its end (PDF printing while the
        #    pack hashes and zips the rest)
        synth = synthesise(run_dir, work / "synthetic", args.n)
        os.environ["UEPT_SIGNING_KEY"] = str(key_file)
        t0, p0, c0 = time.monotonic(), time.process_time(), children_cpu()
        report, big = make_evidence(synth, None)
        total = time.monotonic() - t0
        cpu = time.process_time() - p0 + children_cpu() - c0
        print(f"report + pack for {args.n} scenarios: {total:.2f} s, {cpu:.2f} s of CPU incl. Chromium "
              f"(summary, report.html and .pdf, cucumber.json, Allure metadata, hash + sign + zip) -> "
              f"target < 5 s: {'OK' if total < 5 else 'MISSED'}")
        print(f"  report.html {mb((synth / 'report.html').stat().st_size)}, report.pdf "
              f"{mb(report.pdf.stat().st_size) if report.pdf else 'not made: ' + '; '.join(report.notes)}, "
              f"pack {mb(big.zip_path.stat().st_size)}")
        t0 = time.monotonic()
        make_evidence(synth, None, pdf=False)
        print(f"  the same without the PDF: {time.monotonic() - t0:.2f} s")
        print(f"  machine load average while measuring: {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
        ok &= total < 5
        return 0 if ok else 1
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
