"""Bulk seeding: a year of DCC incident volume, for the benchmarks (bench/incidents.py).

`uept serve --incidents 300000` (or REFSSI_BULK_INCIDENTS) fills the incident table
before the server says it is ready: generated organisations, a few users each,
incidents spread over the last 365 days in realistic states (most closed), and a
comment on every fourth. Data is generated from fixed word pools with a fixed
random seed (no faker: 300,000 rows must take seconds, not minutes).
"""

from __future__ import annotations

import random
import sys
import time
import uuid

from .db import Database, glide_time
from .settings import Settings

STATS: dict[str, float | int] = {}

SUBJECTS = [
    "Communications Hub",
    "smart meter",
    "SM WAN connection",
    "DUIS service request",
    "SSI report",
    "firmware update",
    "meter read",
    "install and commission",
    "SMKI certificate",
    "pre-payment top-up",
    "CH firmware",
    "gas proxy function",
    "alert",
    "change of supplier",
    "tariff update",
]
PROBLEMS = [
    "not responding",
    "returns an error",
    "times out",
    "shows the wrong status",
    "is missing",
    "fails intermittently",
    "rejected",
    "delayed by more than 24 hours",
    "cannot be found",
    "reports an unexpected value",
]
PLACES = [
    "in the North region",
    "in the Central region",
    "in the South region",
    "after the last release",
    "since this morning",
    "for several premises",
    "for one premises",
    "during installation",
]
COMMENTS = [
    "We have retried and the problem persists.",
    "Please give us an update.",
    "The site visit is booked for next week.",
    "Logs attached to the previous update.",
    "The issue affects more devices than first reported.",
]


def _states(rng: random.Random) -> tuple[int, int | None]:
    r = rng.random()
    if r < 0.80:
        return 7, None
    if r < 0.86:
        return 6, None
    if r < 0.88:
        return 8, None
    if r < 0.94:
        return 2, None
    if r < 0.97:
        return 3, rng.choice((1, 3, 4, 5))
    return 1, None


def seed_incidents(
    db: Database, settings: Settings, n: int, *, extra_orgs: int = 48, seed: int = 2025
) -> dict:
    """Insert n incidents: 20% for the first seeded organisation (NPS), 10% for the second, the rest spread
    over `extra_orgs` generated organisations."""
    t0 = time.monotonic()
    rng = random.Random(seed)
    cfg = settings.profile.incidents
    now = time.time()
    with db.tx() as c:
        orgs = [r[0] for r in c.execute("SELECT sys_id FROM core_company ORDER BY rowid")]
        users: dict[str, list[tuple[str, str]]] = {}
        for o in orgs:
            users[o] = [
                (r[0], r[1])
                for r in c.execute("SELECT sys_id, user_name FROM sys_user WHERE company = ?", (o,))
            ]
        stamp = glide_time(now)
        for i in range(extra_orgs):
            oid = uuid.uuid4().hex
            c.execute(
                "INSERT INTO core_company VALUES (?,?,?,?,?)",
                (oid, f"GEN{i:03d}", f"Generated Energy Party {i:03d} Ltd", f"GEP{i:03d}", "Import Supplier"),
            )
            users[oid] = []
            for k in range(3):
                uid, name = uuid.uuid4().hex, f"user{k}.gen{i:03d}"
                c.execute(
                    "INSERT INTO sys_user (sys_id, user_name, first_name, last_name, email, phone, company, "
                    "user_password, active, source, sys_created_on, sys_updated_on) "
                    "VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
                    (
                        uid,
                        name,
                        f"User{k}",
                        f"Gen{i:03d}",
                        f"{name}@gen.example.com",
                        "01632 960000",
                        oid,
                        "!",
                        1,
                        "bulk",
                        stamp,
                        stamp,
                    ),
                )
                users[oid].append((uid, name))
            orgs.append(oid)
        weights = [0.20, 0.10] + [0.70 / extra_orgs] * extra_orgs if extra_orgs else [1.0] * len(orgs)
        weights = weights[: len(orgs)] + [0.0] * (len(orgs) - len(weights))
        start = c.execute("SELECT next FROM sys_number_counter WHERE tbl = 'incident'").fetchone()
        number = start[0] if start else cfg.number_start
        prefix, digits = cfg.number_prefix, cfg.number_digits
        categories = [(x.value, [s.value for s in x.subcategories]) for x in cfg.categories]
        close_codes = cfg.close_codes
        org_choice = rng.choices(orgs, weights=weights, k=n)
        # sys_ids stay random GUIDs, but are handed out in ascending order, and the secondary indexes are
        # rebuilt once at the end: inserting then appends to every index instead of scattering pages
        sys_ids = sorted(f"{rng.getrandbits(128):032x}" for _ in range(n))
        indexes = c.execute(
            "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL "
            "AND tbl_name IN ('incident', 'sys_journal_field')"
        ).fetchall()
        for name, _ in indexes:
            c.execute(f"DROP INDEX {name}")
        cols = (
            "sys_id",
            "number",
            "short_description",
            "description",
            "caller_id",
            "opened_by",
            "company",
            "category",
            "subcategory",
            "impact",
            "urgency",
            "priority",
            "state",
            "hold_reason",
            "active",
            "close_code",
            "close_notes",
            "resolved_at",
            "closed_at",
            "u_contact_first_name",
            "u_contact_last_name",
            "u_contact_phone",
            "u_your_reference",
            "u_sec_category",
            "u_target_resolution",
            "opened_at",
            "sys_created_on",
            "sys_updated_on",
            "sys_created_by",
            "sys_updated_by",
        )
        sql = f"INSERT INTO incident ({', '.join(cols)}) VALUES ({', '.join('?' * len(cols))})"
        jsql = "INSERT INTO sys_journal_field VALUES (?,?,?,?,?,?,?,?,?)"
        rows, jrows = [], []
        sec_hours = {c_.value: c_.target_resolution_hours for c_ in cfg.sec_categories}
        for k in range(n):
            org = org_choice[k]
            uid, uname = rng.choice(users[org]) if users[org] else (None, "bulk")
            opened = now - rng.random() * 365 * 86400
            state, hold = _states(rng)
            updated = min(now, opened + rng.random() * 14 * 86400)
            impact, urgency = rng.randint(1, 3), rng.randint(1, 3)
            priority = cfg.priority_of(impact, urgency)
            sec = cfg.sec_category_by_priority.get(priority, priority)
            cat, subs = rng.choice(categories)
            resolved = glide_time(updated) if state in (6, 7) else ""
            sid = sys_ids[k]
            rows.append(
                (
                    sid,
                    f"{prefix}{number + k:0{digits}d}",
                    f"{rng.choice(SUBJECTS).capitalize()} {rng.choice(PROBLEMS)} {rng.choice(PLACES)}",
                    "Generated for the benchmark.",
                    uid,
                    uid,
                    org,
                    cat,
                    rng.choice(subs) if subs else "",
                    impact,
                    urgency,
                    priority,
                    state,
                    hold,
                    0 if state in (7, 8) else 1,
                    rng.choice(close_codes) if state in (6, 7) else "",
                    "Resolved (generated)." if state in (6, 7) else "",
                    resolved,
                    glide_time(updated) if state in (7, 8) else "",
                    "Bulk",
                    "Caller",
                    "01632 960000",
                    f"REF-{k:06d}",
                    sec,
                    glide_time(opened + sec_hours.get(sec, 24) * 3600),
                    glide_time(opened),
                    glide_time(opened),
                    glide_time(updated),
                    uname,
                    uname,
                )
            )
            if k % 4 == 0:
                jrows.append(
                    (
                        f"{rng.getrandbits(128):032x}",
                        "incident",
                        "comments",
                        sid,
                        rng.choice(COMMENTS),
                        "",
                        uid,
                        uname,
                        glide_time(updated),
                    )
                )
            if len(rows) >= 20000:
                c.executemany(sql, rows)
                c.executemany(jsql, jrows)
                rows, jrows = [], []
        c.executemany(sql, rows)
        c.executemany(jsql, jrows)
        c.execute("INSERT OR REPLACE INTO sys_number_counter VALUES ('incident', ?)", (number + n,))
        for _, create in indexes:
            c.execute(create)
    with db.tx() as c:
        c.execute("ANALYZE")  # let SQLite's planner pick the per-organisation indexes
    STATS.update(incidents=n, organisations=len(orgs), seconds=round(time.monotonic() - t0, 2))
    print(
        f"refssi: seeded {n} incidents across {len(orgs)} organisations in {STATS['seconds']} s",
        file=sys.stderr,
        flush=True,
    )
    return dict(STATS)
