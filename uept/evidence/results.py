"""Reading a run folder back: scenario results and the end-of-run summary table."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from uept.evidence.rundir import RunFolder

ORDER = {"failed": 0, "error": 1, "interrupted": 2, "running": 2, "skipped": 3, "passed": 4}


@dataclass
class RunResults:
    run_dir: Path
    scenarios: list[dict]

    @classmethod
    def load(cls, run_dir: Path) -> RunResults:
        """The scenario results that can be read (damaged ones are the assessment's to report)."""
        return cls(run_dir, RunFolder.load(run_dir, salvage=True).results)

    def counts(self) -> dict[str, int]:
        c: dict[str, int] = {}
        for s in self.scenarios:
            c[s["status"]] = c.get(s["status"], 0) + 1
        return c

    @property
    def all_passed(self) -> bool:
        return bool(self.scenarios) and all(s["status"] == "passed" for s in self.scenarios)

    def table(self, width: int = 100, full_up_to: int = 40) -> str:
        """One row per scenario; for a big run, one row per feature plus every scenario that did not pass."""
        if len(self.scenarios) > full_up_to:
            return self._feature_table(width)
        return self._rows(self.scenarios, width)

    def _feature_table(self, width: int) -> str:
        by_feature: dict[str, dict[str, int]] = {}
        for s in self.scenarios:
            name = Path((s.get("feature") or {}).get("file") or "?").name
            counts = by_feature.setdefault(name, {})
            counts[s["status"]] = counts.get(s["status"], 0) + 1
        w = max(len(f) for f in by_feature)
        lines = [f"{'FEATURE':<{w}}  RESULTS"]
        for f, counts in sorted(by_feature.items()):
            lines.append(f"{f:<{w}}  " + ", ".join(f"{n} {k}" for k, n in sorted(counts.items())))
        others = [s for s in self.scenarios if s["status"] != "passed"]
        if others:
            lines += ["", self._rows(others, width)]
        return "\n".join(lines)

    def _rows(self, scenarios: list[dict], width: int) -> str:
        rows = [("RESULT", "SCENARIO", "NAME", "TIME")]
        for s in sorted(scenarios, key=lambda d: (ORDER.get(d["status"], 9), d["key"])):
            dur = f"{s['duration']:.1f}s" if s.get("duration") is not None else "-"
            rows.append((s["status"].upper(), s["key"], s["name"], dur))
        w0 = max(len(r[0]) for r in rows)
        w1 = max(len(r[1]) for r in rows)
        w3 = max(len(r[3]) for r in rows)
        wn = max(20, width - w0 - w1 - w3 - 6)
        lines = []
        for r in rows:
            name = r[2] if len(r[2]) <= wn else r[2][: wn - 1] + "…"
            lines.append(f"{r[0]:<{w0}}  {r[1]:<{w1}}  {name:<{wn}}  {r[3]:>{w3}}".rstrip())
        for s in scenarios:
            if s["status"] in ("failed", "error") and s.get("error"):
                lines.append(f"  {s['key']}: {s['error']}")
        return "\n".join(lines)
