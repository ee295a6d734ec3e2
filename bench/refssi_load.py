"""Benchmark: the reference SSI under concurrent clients, with and without password logins in the mix.

    .venv/bin/python bench/refssi_load.py [--seconds 30] [--slice 5] [--clients 10,30] [--login-clients 0]
                                          [--hash-elsewhere]

Starts a reference SSI, signs four personas in over HTTP (password and authenticator code; a code
is good once, so each persona signs in once and its session is shared by several clients, as the
tabs of one browser share it), then for each client count runs two phases of --seconds each,
taking turns in slices of --slice seconds (so that the machine's other load, which varies, falls
on both alike):

- without logins: the clients, half of them on portal pages (the home page and My Requests,
  alternately, with a signed-in session) and half on the Table API
  (/api/now/table/incident?sysparm_limit=10 with basic auth, which the server verifies once and
  then caches);
- with logins: the same clients plus login clients (by default a fifth as many, at least two) that
  each load the login page and post the right password, again and again (one argon2id verification
  per post; the right password, so that no account is locked), alternating the portal login and the
  classic /login.do.

- with --hash-elsewhere, a control: the same clients without logins while another process (not the
  server) does argon2id verifications at the rate the logins phase reached. It shows what that much
  hashing costs the pages on this machine whatever the server does (CPU and memory bandwidth).

Each client sends its next request as soon as the last one is answered, on its own keep-alive
connection. It prints throughput (requests/s) and p50/p95/p99 latency per kind, the errors
(an unexpected status) and the dropped connections (connection errors and 30 s timeouts), then the
page p95 with logins against without. Targets: logins raise the page p95 by at most 1.5x, and no
connection is dropped. Exit status 0 when both are met at every client count, 1 otherwise. The
clients run in this process, on the same machine as the server, so their own CPU is in the figures.
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import os
import re
import statistics
import sys
import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pyotp

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from uept.runtime.reference import EmbeddedSSI, RunningSSI

CSRF = re.compile(r'name="sysparm_ck" value="([^"]+)"')
PAGE_PERSONAS = {"SM user": "sm.nps", "AA user": "aa.nps", "LA user": "la.nps", "SMO user": "smo.nps"}
LOGIN_PERSONAS = {"returning user": "kai.moss", "sign-out user": "jill.ford"}  # only ever the right password
P95_RATIO_TARGET = 1.5
TIMEOUT = 30.0


def sign_in(url: str, user: str, password: str, seed: str) -> httpx.Cookies:
    """The session cookie of a persona signed in with its password and a fresh authenticator code."""
    with httpx.Client(base_url=url, timeout=TIMEOUT, follow_redirects=False) as http:
        token = CSRF.search(http.get("/sp?id=login").text).group(1)
        r = http.post("/sp?id=login", data={"sysparm_ck": token, "user_name": user, "user_password": password})
        assert r.headers.get("location") == "/validate_multifactor_auth_code.do", f"{user}: password step failed"
        token = CSRF.search(http.get("/validate_multifactor_auth_code.do").text).group(1)
        r = http.post("/validate_mfa_code.do", data={"sysparm_ck": token, "txtResponse": pyotp.TOTP(seed).now()})
        assert r.status_code == 303 and "id=index" in r.headers.get("location", ""), f"{user}: MFA step failed"
        return httpx.Cookies(http.cookies)


@dataclass
class Tally:
    times: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    errors: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    dropped: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    examples: list[str] = field(default_factory=list)

    def note(self, kind: str, what: str) -> None:
        if len(self.examples) < 5:
            self.examples.append(f"{kind}: {what}")


async def timed(tally: Tally, kind: str, send, expect: tuple[int, ...]) -> httpx.Response | None:
    t0 = time.perf_counter()
    try:
        r = await send()
    except httpx.TransportError as exc:  # refused, reset, closed before the response, or timed out
        tally.dropped[kind] += 1
        tally.note(kind, f"{type(exc).__name__}: {exc}")
        return None
    tally.times[kind].append((time.perf_counter() - t0) * 1000)
    if r.status_code not in expect:
        tally.errors[kind] += 1
        tally.note(kind, f"HTTP {r.status_code} {r.text[:120]!r}")
    return r


def client(url: str, **kwargs) -> httpx.AsyncClient:
    return httpx.AsyncClient(base_url=url, timeout=TIMEOUT, follow_redirects=False,
                             limits=httpx.Limits(max_connections=1), **kwargs)


async def page_client(url: str, cookies: httpx.Cookies, tally: Tally, until: float) -> None:
    async with client(url, cookies=cookies) as http:
        i = 0
        while time.monotonic() < until:
            path = "/sp?id=index" if i % 2 == 0 else "/sp?id=my_requests"
            await timed(tally, "page", lambda path=path: http.get(path), (200,))
            i += 1


async def api_client(url: str, auth: tuple[str, str], tally: Tally, until: float) -> None:
    async with client(url, auth=auth, headers={"Accept": "application/json"}) as http:
        while time.monotonic() < until:
            await timed(tally, "api", lambda: http.get("/api/now/table/incident", params={"sysparm_limit": "10"}),
                        (200,))


async def login_client(url: str, user: str, password: str, tally: Tally, until: float, n: int) -> None:
    async with client(url) as http:
        i = n
        while time.monotonic() < until:
            http.cookies.clear()  # a new visitor each time
            path = "/sp?id=login" if i % 2 == 0 else "/login.do"
            page = await timed(tally, "login page", lambda path=path: http.get(path), (200,))
            m = CSRF.search(page.text) if page is not None else None
            if m is None:
                await asyncio.sleep(0.1)
                continue
            data = {"sysparm_ck": m.group(1), "user_name": user, "user_password": password}
            await timed(tally, "password post", lambda path=path, data=data: http.post(path, data=data), (303,))
            i += 1


async def phase(ssi: RunningSSI, sessions: list[httpx.Cookies], clients: int, logins: int,
                seconds: float) -> Tally:
    tally = Tally()
    until = time.monotonic() + seconds
    tasks = []
    personas = list(PAGE_PERSONAS.items())
    for i in range(clients):
        if i % 2 == 0:
            tasks.append(page_client(ssi.url, sessions[(i // 2) % len(sessions)], tally, until))
        else:
            persona, user = personas[(i // 2) % len(personas)]
            tasks.append(api_client(ssi.url, (user, ssi.secrets[persona]["password"]), tally, until))
    login_personas = list(LOGIN_PERSONAS.items())
    for i in range(logins):
        persona, user = login_personas[i % len(login_personas)]
        tasks.append(login_client(ssi.url, user, ssi.secrets[persona]["password"], tally, until, i))
    t0 = time.monotonic()
    await asyncio.gather(*tasks)
    tally.times["_elapsed"] = [time.monotonic() - t0]
    return tally


def hash_elsewhere(rate: float, seconds: float) -> None:
    """argon2id verifications at `rate` per second for `seconds`, in this (separate) process."""
    from refssi import security

    stored = security.hash_password("a password to verify")
    t0 = time.monotonic()
    n = 0
    while time.monotonic() - t0 < seconds:
        security.verify_password(stored, "a password to verify")
        n += 1
        time.sleep(max(0.0, t0 + n / rate - time.monotonic()))


def pct(values: list[float], p: int) -> float:
    if len(values) < 2:
        return values[0] if values else float("nan")
    return statistics.quantiles(values, n=100, method="inclusive")[p - 1]


def report(label: str, tally: Tally) -> None:
    elapsed = tally.times["_elapsed"][0]
    print(f"\n{label} ({elapsed:.1f} s)")
    print(f"  {'kind':<14} {'requests':>9} {'req/s':>8} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} "
          f"{'errors':>7} {'dropped':>8}")
    for kind in ("page", "api", "login page", "password post"):
        times = tally.times.get(kind, [])
        if not times and not tally.dropped.get(kind):
            continue
        print(f"  {kind:<14} {len(times):>9} {len(times) / elapsed:>8.1f} {pct(times, 50):>8.1f} "
              f"{pct(times, 95):>8.1f} {pct(times, 99):>8.1f} {tally.errors.get(kind, 0):>7} "
              f"{tally.dropped.get(kind, 0):>8}")
    for example in tally.examples:
        print(f"  e.g. {example}")


def merge(into: Tally, part: Tally) -> None:
    for kind, times in part.times.items():
        if kind == "_elapsed":
            into.times[kind] = [sum(into.times.get(kind, [])) + times[0]]
        else:
            into.times[kind].extend(times)
    for kind, n in part.errors.items():
        into.errors[kind] += n
    for kind, n in part.dropped.items():
        into.dropped[kind] += n
    into.examples.extend(part.examples[: max(0, 5 - len(into.examples))])


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--seconds", type=float, default=30.0, help="length of each phase (default 30)")
    ap.add_argument("--slice", type=float, default=5.0,
                    help="the phases take turns in slices of this many seconds (default 5), so that a change in "
                         "the machine's other load affects each alike; 0: one phase after the other")
    ap.add_argument("--clients", default="10,30", help="page and API client counts, comma-separated (default 10,30)")
    ap.add_argument("--login-clients", type=int, default=0,
                    help="login clients added in the 'with logins' phase (default: a fifth of the clients, >= 2)")
    ap.add_argument("--hash-elsewhere", action="store_true",
                    help="also run the control phase: no logins, the same hashing rate in another process")
    args = ap.parse_args()
    counts = [int(c) for c in args.clients.split(",") if c.strip()]
    step = args.slice if 0 < args.slice < args.seconds else args.seconds
    slices = max(1, round(args.seconds / step))
    load = Path("/proc/loadavg").read_text().split()[:3] if Path("/proc/loadavg").exists() else ["?"]
    print(f"bench: {os.cpu_count()} CPUs, load average {' '.join(load)}; phases of {slices * step:.0f} s "
          f"in {slices} slice(s) of {step:.0f} s, taking turns", flush=True)
    ok = True
    with EmbeddedSSI() as ssi:
        sessions = [sign_in(ssi.url, user, ssi.secrets[p]["password"], ssi.secrets[p]["totp_seed"])
                    for p, user in PAGE_PERSONAS.items()]
        verdicts = []
        for n in counts:
            logins = args.login_clients or max(2, n // 5)
            without, with_logins, control = Tally(), Tally(), Tally()
            rate = 0.0
            for _ in range(slices):
                merge(without, asyncio.run(phase(ssi, sessions, n, 0, step)))
                part = asyncio.run(phase(ssi, sessions, n, logins, step))
                merge(with_logins, part)
                rate = len(part.times["password post"]) / part.times["_elapsed"][0]
                if args.hash_elsewhere:
                    hasher = multiprocessing.Process(target=hash_elsewhere, args=(rate, step + 0.5))
                    hasher.start()
                    merge(control, asyncio.run(phase(ssi, sessions, n, 0, step)))
                    hasher.join()
            report(f"{n} clients, no logins", without)
            report(f"{n} clients + {logins} login clients", with_logins)
            base, loaded = pct(without.times["page"], 95), pct(with_logins.times["page"], 95)
            dropped = sum(without.dropped.values()) + sum(with_logins.dropped.values())
            ratio = loaded / base if base else float("inf")
            met = ratio <= P95_RATIO_TARGET and dropped == 0
            ok &= met
            verdicts.append(f"{n} clients: page p95 {base:.1f} ms -> {loaded:.1f} ms with logins = {ratio:.2f}x "
                            f"(target <= {P95_RATIO_TARGET}x), {dropped} dropped connections (target 0): "
                            f"{'ok' if met else 'MISSED'}")
            if args.hash_elsewhere:
                hashes = len(with_logins.times["password post"]) / with_logins.times["_elapsed"][0]
                report(f"{n} clients, no logins, about {hashes:.1f} argon2id verifications/s in another process",
                       control)
                elsewhere = pct(control.times["page"], 95)
                verdicts.append(f"{n} clients: page p95 {base:.1f} ms -> {elsewhere:.1f} ms with the same hashing "
                                f"in another process = {elsewhere / base:.2f}x (control, no target)")
    print()
    for line in verdicts:
        print(line)
    load = Path("/proc/loadavg").read_text().split()[:3] if Path("/proc/loadavg").exists() else ["?"]
    print(f"Verdict: {'all targets met' if ok else 'some targets missed'} (load average now {' '.join(load)})")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
