"""What the benchmarks measure besides wall time: CPU seconds by part, logins and clock waits.

CPU seconds of a benchmarked command are sampled by part from /proc while it runs.

Wall-clock figures depend on what else the machine is doing; CPU seconds much less. The
browser's processes are not the command's direct children and are often not reaped by it,
so `resource.getrusage(RUSAGE_CHILDREN)` misses most of them: the process tree is sampled instead.
"""

from __future__ import annotations

import glob
import json
import os
import re
import resource
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path


class CpuSampler:
    """CPU seconds of a process tree by part (browser, Playwright driver, pytest, reference SSI), sampled
    from /proc while it runs: load-independent, unlike wall-clock time. Linux only; elsewhere empty."""

    HZ = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100

    def __init__(self) -> None:
        self.seen: dict[int, tuple[float, str]] = {}

    @staticmethod
    def _children() -> dict[int, list[int]]:
        kids: dict[int, list[int]] = {}
        for p in os.listdir("/proc"):
            if p.isdigit():
                try:
                    ppid = int(Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()[1])
                except (OSError, IndexError, ValueError):
                    continue
                kids.setdefault(ppid, []).append(int(p))
        return kids

    def sample(self, root: int) -> None:
        if not Path("/proc").is_dir():
            return
        kids, todo = self._children(), [root]
        while todo:
            pid = todo.pop()
            todo += kids.get(pid, [])
            try:
                fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
                cmd = Path(f"/proc/{pid}/cmdline").read_text().replace("\0", " ")
                # an exited process (a zombie) has no command line any more: keep the one seen before
                if not cmd:
                    cmd = self.seen[pid][1] if pid in self.seen else Path(f"/proc/{pid}/comm").read_text()
            except (OSError, IndexError):
                continue
            self.seen[pid] = ((int(fields[11]) + int(fields[12])) / self.HZ, cmd)

    def chromium_processes(self) -> dict[str, float]:
        """Chromium's CPU seconds by process type: browser, renderer, gpu-process, utility..."""
        out: dict[str, float] = {}
        for seconds, cmd in self.seen.values():
            if "chrom" in cmd and "playwright/driver" not in cmd:
                m = re.search(r"--type=([\w-]+)", cmd)
                kind = m.group(1) if m else "browser"
                out[kind] = out.get(kind, 0.0) + seconds
        return dict(sorted(out.items(), key=lambda kv: -kv[1]))

    def parts(self) -> dict[str, float]:
        out: dict[str, float] = {}
        for seconds, cmd in self.seen.values():
            if "chrom" in cmd and "playwright/driver" not in cmd:
                part = "Chromium"
            elif "playwright/driver" in cmd or "node" in cmd:
                part = "Playwright driver"
            elif "-m refssi" in cmd:
                part = "reference SSI"
            else:
                part = "uept and pytest"
            out[part] = out.get(part, 0.0) + seconds
        return dict(sorted(out.items(), key=lambda kv: -kv[1]))


@dataclass
class SampledRun:
    returncode: int
    output: str
    wall: float
    cpu: dict[str, float]  # CPU seconds by part
    chromium: dict[str, float]  # Chromium's CPU seconds by process type
    load: tuple[float, float]  # one-minute load average before and after

    @property
    def cpu_total(self) -> float:
        return sum(self.cpu.values())

    def cpu_line(self) -> str:
        line = f"CPU {self.cpu_total:.1f}s: " + ", ".join(f"{k} {v:.1f}s" for k, v in self.cpu.items())
        if self.chromium:
            line += " (Chromium: " + ", ".join(f"{k} {v:.1f}s" for k, v in self.chromium.items()) + ")"
        return line


def run_sampled(cmd: list[str], cwd: Path, env: dict[str, str] | None = None) -> SampledRun:
    """Run a command to its end, with its output captured, its wall time and its CPU seconds by part."""
    load_before = os.getloadavg()[0]
    cpu0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    sampler = CpuSampler()
    t0 = time.monotonic()
    with tempfile.TemporaryFile("w+") as out:
        proc = subprocess.Popen(cmd, cwd=cwd, env=env, stdout=out, stderr=subprocess.STDOUT, text=True)
        while proc.poll() is None:
            sampler.sample(proc.pid)
            time.sleep(0.25)
        out.seek(0)
        output = out.read()
    wall = time.monotonic() - t0
    parts = sampler.parts()
    if not parts:  # no /proc: what the direct children reported (misses most of the browser)
        cpu1 = resource.getrusage(resource.RUSAGE_CHILDREN)
        parts = {"all": (cpu1.ru_utime - cpu0.ru_utime) + (cpu1.ru_stime - cpu0.ru_stime)}
    return SampledRun(proc.returncode, output, wall, parts, sampler.chromium_processes(),
                      (load_before, os.getloadavg()[0]))


@dataclass
class RunMetrics:
    mfa_logins: int
    personas: set[str]
    totp_wait: float  # seconds spent waiting for a fresh authenticator code (0: nothing waited on the clock)


def run_metrics(run_dir: Path) -> RunMetrics:
    """What the harness's workers recorded in reports/<run>/metrics/."""
    logins = [json.loads(Path(f).read_text()) for f in glob.glob(str(run_dir / "metrics" / "logins-*.json"))]
    waits = [json.loads(Path(f).read_text()) for f in glob.glob(str(run_dir / "metrics" / "totp-wait-*.json"))]
    return RunMetrics(sum(e["mfa_logins"] for e in logins), {p for e in logins for p in e["personas"]},
                      sum(e["totp_wait_seconds"] for e in waits))
