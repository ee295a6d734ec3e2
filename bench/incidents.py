"""Benchmark: incident pages and the Table API at one year of DCC volume.

    .venv/bin/python bench/incidents.py [--incidents 300000] [--samples 200]

Starts a reference SSI that first generates N incidents across organisations
(the same data as `uept serve --incidents N`), signs in as the "SM user" over
HTTP (no browser: this measures the server), and prints p50/p95 in milliseconds
for My Requests, search by number, the ticket page and Table API queries,
against the targets (pages p95 < 100 ms, API p95 < 50 ms), plus the seeding time
(target < 60 s) and the server's memory. Times include the HTTP client on the
same machine. Exit status 0 when every target is met, 1 otherwise.
"""

from __future__ import annotations

import argparse
import os
import random
import re
import statistics
import sys
import time
from pathlib import Path

import httpx
import pyotp

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from uept.runtime.reference import EmbeddedSSI, RunningSSI

PAGE_TARGET_MS, API_TARGET_MS, SEED_TARGET_S = 100.0, 50.0, 60.0
CSRF = re.compile(r'name="sysparm_ck" value="([^"]+)"')


def sign_in(url: str, user: str, password: str, seed: str) -> httpx.Client:
    http = httpx.Client(base_url=url, timeout=30, follow_redirects=False)
    token = CSRF.search(http.get("/sp?id=login").text).group(1)
    r = http.post("/sp?id=login", data={"sysparm_ck": token, "user_name": user, "user_password": password})
    assert r.headers.get("location") == "/validate_multifactor_auth_code.do", "password step failed"
    token = CSRF.search(http.get("/validate_multifactor_auth_code.do").text).group(1)
    r = http.post("/validate_mfa_code.do", data={"sysparm_ck": token, "txtResponse": pyotp.TOTP(seed).now()})
    assert r.status_code == 303 and "id=index" in r.headers.get("location", ""), "MFA step failed"
    return http


def timed(samples: int, call) -> list[float]:
    for i in range(5):  # warm up caches and the auth cache
        call(i)
    out = []
    for i in range(samples):
        t0 = time.perf_counter()
        call(i)
        out.append((time.perf_counter() - t0) * 1000)
    return out


def pct(values: list[float], p: float) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[int(p) - 1]


def memory(pid: int) -> dict[str, int]:
    fields = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            fields[key] = int(value.split()[0]) // 1024
    return fields


def check(r: httpx.Response, expect: int = 200) -> httpx.Response:
    if r.status_code != expect:
        raise SystemExit(f"bench: {r.request.url} answered {r.status_code}: {r.text[:200]}")
    return r


def run(ssi: RunningSSI, samples: int) -> bool:
    sec = ssi.secrets["SM user"]
    portal = sign_in(ssi.url, "sm.nps", sec["password"], sec["totp_seed"])
    api = httpx.Client(
        base_url=ssi.url, auth=("sm.nps", sec["password"]), timeout=30, headers={"Accept": "application/json"}
    )
    operator = httpx.Client(
        base_url=ssi.url, headers={"Authorization": f"Bearer {ssi.operator_token}"}, timeout=30
    )
    stats = check(operator.get("/_operator/incidents/stats")).json()
    mine = int(
        check(api.get("/api/now/table/incident", params={"sysparm_limit": 1})).headers["x-total-count"]
    )
    rng = random.Random(7)
    sample = []
    for _ in range(5):
        r = check(
            api.get(
                "/api/now/table/incident",
                params={
                    "sysparm_fields": "sys_id,number",
                    "sysparm_limit": 40,
                    "sysparm_offset": rng.randrange(0, max(1, mine - 40)),
                },
            )
        )
        sample += r.json()["result"]
    print(
        f"Volume: {stats['incidents']} incidents, {stats['bulk_seed'].get('organisations')} organisations; "
        f"the SM user's organisation holds {mine}."
    )
    print(
        f"Seeding: {stats['bulk_seed'].get('seconds')} s (target < {SEED_TARGET_S:.0f} s); "
        f"server ready after {ssi.started_in:.1f} s."
    )

    def pick(i: int) -> dict:
        return sample[i % len(sample)]

    pages = {
        "My Requests, open (page 1)": lambda i: check(portal.get("/sp?id=my_requests")),
        "My Requests, closed (page 1)": lambda i: check(portal.get("/sp?id=my_requests&view=closed")),
        "My Requests, closed (page 100)": lambda i: check(
            portal.get("/sp?id=my_requests&view=closed&page=100")
        ),
        "Search by number": lambda i: check(
            portal.get(f"/sp?id=my_requests&view=closed&q={pick(i)['number']}")
        ),
        "Search by summary word": lambda i: check(portal.get("/sp?id=my_requests&q=firmware")),
        "Ticket page": lambda i: check(
            portal.get(f"/sp?id=ticket&table=incident&sys_id={pick(i)['sys_id']}")
        ),
    }
    table = "/api/now/table/incident"
    apis = {
        "API: get by sys_id": lambda i: check(api.get(f"{table}/{pick(i)['sys_id']}")),
        "API: get by sys_id, display_value=all": lambda i: check(
            api.get(f"{table}/{pick(i)['sys_id']}", params={"sysparm_display_value": "all"})
        ),
        "API: number=...": lambda i: check(
            api.get(table, params={"sysparm_query": f"number={pick(i)['number']}"})
        ),
        "API: active=true^ORDERBYDESCsys_updated_on, 20": lambda i: check(
            api.get(
                table, params={"sysparm_query": "active=true^ORDERBYDESCsys_updated_on", "sysparm_limit": 20}
            )
        ),
        "API: state=7^ORDERBYsys_id, 100, offset": lambda i: check(
            api.get(
                table,
                params={
                    "sysparm_query": "state=7^ORDERBYsys_id",
                    "sysparm_limit": 100,
                    "sysparm_offset": (i * 100) % 5000,
                },
            )
        ),
        "API: short_descriptionLIKE^ORpriority=1, 20": lambda i: check(
            api.get(
                table,
                params={
                    "sysparm_query": "short_descriptionLIKEfirmware^ORpriority=1^ORDERBYDESCsys_created_on",
                    "sysparm_limit": 20,
                    "sysparm_fields": "number,short_description,priority",
                },
            )
        ),
        "API: sys_user list": lambda i: check(api.get("/api/now/table/sys_user")),
    }
    ok = True
    print(f"\n{'measurement':<52} {'p50 ms':>8} {'p95 ms':>8} {'target':>8}  verdict")
    for group, target in ((pages, PAGE_TARGET_MS), (apis, API_TARGET_MS)):
        for name, call in group.items():
            times = timed(samples, call)
            p50, p95 = pct(times, 50), pct(times, 95)
            met = p95 < target
            ok &= met
            print(
                f"{name:<52} {p50:>8.1f} {p95:>8.1f} {'<' + format(target, '.0f'):>8}  "
                f"{'ok' if met else 'OVER'}"
            )
    mem = memory(ssi.process.pid) if ssi.process else {}
    db = sum(f.stat().st_size for f in ssi.workdir.glob("refssi.sqlite3*")) // (1024 * 1024)
    print(
        f"\nServer memory: {mem.get('VmRSS', '?')} MB resident, {mem.get('VmHWM', '?')} MB peak; "
        f"database {db} MB on disk."
    )
    seed_ok = (stats["bulk_seed"].get("seconds") or 0) < SEED_TARGET_S
    load = Path("/proc/loadavg").read_text().split()[:3] if Path("/proc/loadavg").exists() else ["?"]
    print(
        f"Verdict: {'all targets met' if ok and seed_ok else 'some targets missed'} "
        f"({samples} samples per measurement; machine load average {' '.join(load)} "
        f"on {os.cpu_count()} CPUs)."
    )
    return ok and seed_ok


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--incidents", type=int, default=300_000, help="incidents to generate (default 300000)")
    ap.add_argument("--samples", type=int, default=200, help="timed requests per measurement (default 200)")
    args = ap.parse_args()
    print(f"bench: starting a reference SSI with {args.incidents} generated incidents ...", flush=True)
    with EmbeddedSSI(overrides={"bulk_incidents": args.incidents}, startup_timeout=300) as ssi:
        return 0 if run(ssi, args.samples) else 1


if __name__ == "__main__":
    sys.exit(main())
