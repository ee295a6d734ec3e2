"""Reading a run folder back: scenario results and the end-of-run summary table."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from uept.evidence.completion import base_key, case_status
from uept.evidence.rundir import RunFolder

ORDER = {"failed": 0, "error": 1, "interrupted": 2, "running": 2, "skipped": 3, "flaky": 4, "passed": 5}


@dataclass
class RunResults:
    run_dir: Path
    scenarios: list[dict]

    @classmethod
    def load(cls, run_dir: Path) -> RunResults:
        """The scenario results that can be read (damaged ones are the assessment's to report)."""
        return cls(run_dir, RunFolder.load(run_dir, salvage=True).results)

    def counts(self) -> dict[str, int]:
        """Every attempt, by its status."""
        c: dict[str, int] = {}
        for s in self.scenarios:
            c[s["status"]] = c.get(s["status"], 0) + 1
        return c

    def cases(self) -> list[dict]:
        """One row per scenario case (its last attempt), with `status` "flaky" for a pass after a failed attempt
        and `attempts` the number of attempts."""
        by_case: dict[str, list[dict]] = {}
        for s in sorted(self.scenarios, key=lambda d: (int(d.get("attempt") or 1), d.get("started") or "")):
            by_case.setdefault(base_key(s["key"]), []).append(s)
        out = []
        for attempts in by_case.values():
            failed = [a for a in attempts[:-1] if a["status"] in ("failed", "error")]
            out.append({**attempts[-1], "status": case_status(attempts), "attempts": len(attempts),
                        "earlier_error": failed[-1].get("error") if failed else None})
        return out

    def outcomes(self) -> dict[str, int]:
        """Every case, by its status after its last attempt (flaky included)."""
        c: dict[str, int] = {}
        for s in self.cases():
            c[s["status"]] = c.get(s["status"], 0) + 1
        return c

    @property
    def all_passed(self) -> bool:
        """Every case passed, on its first attempt or a retry (flaky)."""
        cases = self.cases()
        return bool(cases) and all(s["status"] in ("passed", "flaky") for s in cases)

    def table(self, width: int = 100, full_up_to: int = 40) -> str:
        """One row per scenario case; for a big run, one row per feature plus every case that did not pass at once."""
        cases = self.cases()
        if len(cases) > full_up_to:
            return self._feature_table(cases, width)
        return self._rows(cases, width)

    def _feature_table(self, cases: list[dict], width: int) -> str:
        by_feature: dict[str, dict[str, int]] = {}
        for s in cases:
            name = Path((s.get("feature") or {}).get("file") or "?").name
            counts = by_feature.setdefault(name, {})
            counts[s["status"]] = counts.get(s["status"], 0) + 1
        w = max(len(f) for f in by_feature)
        lines = [f"{'FEATURE':<{w}}  RESULTS"]
        for f, counts in sorted(by_feature.items()):
            lines.append(f"{f:<{w}}  " + ", ".join(f"{n} {k}" for k, n in sorted(counts.items())))
        others = [s for s in cases if s["status"] != "passed"]
        if others:
            lines += ["", self._rows(others, width)]
        return "\n".join(lines)

    def _rows(self, scenarios: list[dict], width: int) -> str:
        rows = [("RESULT", "SCENARIO", "NAME", "TIME")]
        for s in sorted(scenarios, key=lambda d: (ORDER.get(d["status"], 9), d["key"])):
            dur = f"{s['duration']:.1f}s" if s.get("duration") is not None else "-"
            tries = f" ({s['attempts']} attempts)" if s.get("attempts", 1) > 1 else ""
            rows.append((s["status"].upper(), base_key(s["key"]), s["name"] + tries, dur))
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
                lines.append(f"  {base_key(s['key'])}: {s['error']}")
            elif s["status"] == "flaky":
                lines.append(f"  {base_key(s['key'])}: flaky: passed on attempt {s['attempts']} after "
                             f"{s.get('earlier_error') or 'a failed attempt'}")
        return "\n".join(lines)
