"""OMS data access: every read and write of the OMS tables goes through this module.

The OMS (BFD13) keeps forecasts, orders, consignments, devices and returns of
Communications Hubs per organisation (core_company). Every function that reads
records takes the organisation and never returns another one's: the portal pages
(refssi/oms/portal.py) and, after the merge, the Table API rely on that.

OMS_TABLES describes the tables (ServiceNow-style scoped names, x_dcc_oms_*) so a
Table API registry can serve them: the organisation column that scopes them and the
columns a client may read. The DDL lives in refssi/db.py SCHEMA.
"""

from __future__ import annotations

import calendar
import secrets
import sqlite3
from datetime import UTC, date, datetime, timedelta
from typing import Any

from ..db import glide_time, new_sys_id

# table -> (label, organisation column or None, the reference to the parent record)
OMS_TABLES: dict[str, dict[str, Any]] = {
    "x_dcc_oms_forecast": {"label": "CH forecast version", "company": "company"},
    "x_dcc_oms_forecast_line": {
        "label": "CH forecast line",
        "company": None,
        "parent": ("forecast", "x_dcc_oms_forecast"),
    },
    "x_dcc_oms_order": {"label": "CH order", "company": "company"},
    "x_dcc_oms_order_line": {
        "label": "CH order line",
        "company": None,
        "parent": ("oms_order", "x_dcc_oms_order"),
    },
    "x_dcc_oms_consignment": {"label": "Consignment", "company": "company"},
    "x_dcc_oms_device": {"label": "Communications Hub", "company": "company"},
    "x_dcc_oms_return": {"label": "CH return", "company": "company"},
    "x_dcc_oms_return_item": {
        "label": "CH return item",
        "company": None,
        "parent": ("oms_return", "x_dcc_oms_return"),
    },
    "x_dcc_oms_activity": {"label": "OMS activity", "company": None, "parent": ("document", None)},
}

Row = dict[str, Any]


# ---------------------------------------------------------------- calendar
def today() -> date:
    """The OMS's business date (UTC)."""
    return datetime.now(UTC).date()


def month_key(d: date) -> str:
    return f"{d.year:04d}-{d.month:02d}"


def add_months(month: str, n: int) -> str:
    y, m = int(month[:4]), int(month[5:7])
    idx = y * 12 + (m - 1) + n
    return f"{idx // 12:04d}-{idx % 12 + 1:02d}"


def month_label(month: str) -> str:
    return date(int(month[:4]), int(month[5:7]), 1).strftime("%B %Y")


def last_day(month: str) -> date:
    y, m = int(month[:4]), int(month[5:7])
    return date(y, m, calendar.monthrange(y, m)[1])


def horizon(horizon_months: int, on: date | None = None) -> list[str]:
    """The rolling forecast horizon: the months after this one."""
    this = month_key(on or today())
    return [add_months(this, k) for k in range(1, horizon_months + 1)]


# ---------------------------------------------------------------- helpers
def _rows(cur: sqlite3.Cursor) -> list[Row]:
    return [dict(r) for r in cur.fetchall()]


def _one(cur: sqlite3.Cursor) -> Row | None:
    r = cur.fetchone()
    return dict(r) if r else None


def next_number(c: sqlite3.Connection, table: str, prefix: str, column: str = "number") -> str:
    """ServiceNow-style numbering: prefix + 7 digits, the first one 0010001."""
    row = c.execute(
        f"SELECT {column} FROM {table} WHERE {column} LIKE ? ORDER BY {column} DESC LIMIT 1", (prefix + "%",)
    ).fetchone()
    n = int(row[0][len(prefix) :]) + 1 if row else 10001
    return f"{prefix}{n:07d}"


def log(c: sqlite3.Connection, table: str, document: str, text: str, by: str) -> None:
    c.execute(
        "INSERT INTO x_dcc_oms_activity VALUES (?,?,?,?,?,?,(SELECT COALESCE(MAX(seq),0)+1 FROM "
        "x_dcc_oms_activity))",
        (new_sys_id(), table, document, text, by, glide_time()),
    )


def activity(c: sqlite3.Connection, document: str) -> list[Row]:
    return _rows(
        c.execute(
            "SELECT text, sys_created_by, sys_created_on FROM x_dcc_oms_activity WHERE document=? "
            "ORDER BY seq",
            (document,),
        )
    )


def user_display(c: sqlite3.Connection, sys_id: str | None) -> str:
    if not sys_id:
        return ""
    r = c.execute(
        "SELECT first_name, last_name, user_name FROM sys_user WHERE sys_id=?", (sys_id,)
    ).fetchone()
    if r is None:
        return ""
    name = f"{r['first_name']} {r['last_name']}".strip()
    return f"{name} ({r['user_name']})" if name else r["user_name"]


def company_by_key(c: sqlite3.Connection, key: str) -> Row | None:
    return _one(c.execute("SELECT * FROM core_company WHERE key=?", (key,)))


# ---------------------------------------------------------------- forecasts
def forecast_versions(c: sqlite3.Connection, company: str, region: str) -> list[Row]:
    """Submitted versions of a Region's forecast, newest first."""
    rows = _rows(
        c.execute(
            "SELECT * FROM x_dcc_oms_forecast WHERE company=? AND region=? ORDER BY version DESC",
            (company, region),
        )
    )
    for r in rows:
        r["submitted_by_name"] = user_display(c, r["submitted_by"])
    return rows


def forecast_version(c: sqlite3.Connection, company: str, region: str, version: int) -> Row | None:
    return _one(
        c.execute(
            "SELECT * FROM x_dcc_oms_forecast WHERE company=? AND region=? AND version=?",
            (company, region, version),
        )
    )


def forecast_values(c: sqlite3.Connection, forecast_id: str) -> dict[tuple[str, str], int]:
    return {
        (r["month"], r["item"]): r["quantity"]
        for r in c.execute(
            "SELECT month, item, quantity FROM x_dcc_oms_forecast_line WHERE forecast=?", (forecast_id,)
        )
    }


def latest_forecast(
    c: sqlite3.Connection, company: str, region: str
) -> tuple[Row | None, dict[tuple[str, str], int]]:
    row = _one(
        c.execute(
            "SELECT * FROM x_dcc_oms_forecast WHERE company=? AND region=? ORDER BY version DESC LIMIT 1",
            (company, region),
        )
    )
    return row, (forecast_values(c, row["sys_id"]) if row else {})


def add_forecast(
    c: sqlite3.Connection,
    *,
    company: str,
    region: str,
    user: str,
    prefix: str,
    values: dict[tuple[str, str], int],
    changes: int,
) -> Row:
    """Record a new version holding the whole grid (values for every month and variant)."""
    latest, _ = latest_forecast(c, company, region)
    version = latest["version"] + 1 if latest else 1
    row = {
        "sys_id": new_sys_id(),
        "number": next_number(c, "x_dcc_oms_forecast", prefix),
        "company": company,
        "region": region,
        "version": version,
        "changes": changes,
        "submitted_by": user,
        "sys_created_on": glide_time(),
    }
    c.execute(
        "INSERT INTO x_dcc_oms_forecast VALUES (:sys_id,:number,:company,:region,:version,:changes,"
        ":submitted_by,:sys_created_on)",
        row,
    )
    c.executemany(
        "INSERT INTO x_dcc_oms_forecast_line VALUES (?,?,?,?,?)",
        [(new_sys_id(), row["sys_id"], m, i, q) for (m, i), q in sorted(values.items())],
    )
    return row


def forecast_quantity(c: sqlite3.Connection, company: str, region: str, month: str, item: str) -> int | None:
    """The latest forecast quantity for one Region, month and variant (None: never forecast)."""
    r = c.execute(
        "SELECT l.quantity FROM x_dcc_oms_forecast_line l JOIN x_dcc_oms_forecast f ON l.forecast=f.sys_id "
        "WHERE f.company=? AND f.region=? AND l.month=? AND l.item=? ORDER BY f.version DESC LIMIT 1",
        (company, region, month, item),
    ).fetchone()
    return r[0] if r else None


def forecast_summary(c: sqlite3.Connection, company: str, regions: list[str]) -> list[Row]:
    out = []
    for region in regions:
        latest, _ = latest_forecast(c, company, region)
        out.append(
            {
                "region": region,
                "latest": latest,
                "submitted_by_name": user_display(c, latest["submitted_by"]) if latest else "",
            }
        )
    return out


# ---------------------------------------------------------------- orders
def create_order(
    c: sqlite3.Connection,
    *,
    company: str,
    user: str,
    prefix: str,
    region: str,
    location: str,
    delivery_date: str,
    quantities: dict[str, int],
) -> Row:
    stamp = glide_time()
    row = {
        "sys_id": new_sys_id(),
        "number": next_number(c, "x_dcc_oms_order", prefix),
        "company": company,
        "region": region,
        "delivery_location": location,
        "delivery_date": delivery_date,
        "state": "draft",
        "opened_by": user,
        "stamp": stamp,
    }
    c.execute(
        "INSERT INTO x_dcc_oms_order (sys_id, number, company, region, delivery_location, delivery_date,"
        " state, opened_by, sys_created_on, sys_updated_on) VALUES (:sys_id,:number,:company,:region,"
        ":delivery_location,:delivery_date,:state,:opened_by,:stamp,:stamp)",
        row,
    )
    _set_lines(c, row["sys_id"], quantities)
    return row


def update_order(
    c: sqlite3.Connection,
    order_id: str,
    *,
    region: str,
    location: str,
    delivery_date: str,
    quantities: dict[str, int],
) -> None:
    c.execute(
        "UPDATE x_dcc_oms_order SET region=?, delivery_location=?, delivery_date=?, sys_updated_on=? "
        "WHERE sys_id=? AND state='draft'",
        (region, location, delivery_date, glide_time(), order_id),
    )
    _set_lines(c, order_id, quantities)


def _set_lines(c: sqlite3.Connection, order_id: str, quantities: dict[str, int]) -> None:
    c.execute("DELETE FROM x_dcc_oms_order_line WHERE oms_order=?", (order_id,))
    c.executemany(
        "INSERT INTO x_dcc_oms_order_line (sys_id, oms_order, item, quantity) VALUES (?,?,?,?)",
        [(new_sys_id(), order_id, item, q) for item, q in quantities.items()],
    )


def get_order(c: sqlite3.Connection, company: str, sys_id: str) -> Row | None:
    return _one(c.execute("SELECT * FROM x_dcc_oms_order WHERE sys_id=? AND company=?", (sys_id, company)))


def order_lines(c: sqlite3.Connection, order_id: str) -> list[Row]:
    return _rows(
        c.execute("SELECT * FROM x_dcc_oms_order_line WHERE oms_order=? ORDER BY rowid", (order_id,))
    )


def list_orders(c: sqlite3.Connection, company: str, q: str = "") -> list[Row]:
    like = f"%{q.strip()}%"
    return _rows(
        c.execute(
            "SELECT o.*, (SELECT SUM(quantity) FROM x_dcc_oms_order_line WHERE oms_order=o.sys_id) AS units "
            "FROM x_dcc_oms_order o WHERE company=? AND (number LIKE ? OR delivery_location LIKE ?) "
            "ORDER BY number DESC LIMIT 200",
            (company, like, like),
        )
    )


def submit_order(c: sqlite3.Connection, order: Row, assessed: list[Row], user: str) -> None:
    """Draft -> submitted, keeping the forecast comparison made at submission."""
    for line in assessed:
        c.execute(
            "UPDATE x_dcc_oms_order_line SET forecast_quantity=?, variance_percent=?, outside_tolerance=? "
            "WHERE sys_id=?",
            (
                line["forecast_quantity"],
                line["variance_percent"],
                int(line["outside_tolerance"]),
                line["sys_id"],
            ),
        )
    exception = int(any(line["outside_tolerance"] for line in assessed))
    stamp = glide_time()
    c.execute(
        "UPDATE x_dcc_oms_order SET state='submitted', tolerance_exception=?, submitted_on=?, "
        "sys_updated_on=? WHERE sys_id=?",
        (exception, stamp, stamp, order["sys_id"]),
    )


def confirm_order(
    c: sqlite3.Connection, order: Row, *, user: str, justification: str, prefix: str, consignment_max: int
) -> list[Row]:
    """Submitted -> confirmed; each line is split into consignments of at most consignment_max units."""
    stamp = glide_time()
    c.execute(
        "UPDATE x_dcc_oms_order SET state='confirmed', justification=?, confirmed_by=?, confirmed_on=?, "
        "sys_updated_on=? WHERE sys_id=?",
        (justification, user, stamp, stamp, order["sys_id"]),
    )
    made = []
    for line in order_lines(c, order["sys_id"]):
        left = line["quantity"]
        while left > 0:
            qty = min(left, consignment_max)
            left -= qty
            row = {
                "sys_id": new_sys_id(),
                "number": next_number(c, "x_dcc_oms_consignment", prefix),
                "company": order["company"],
                "oms_order": order["sys_id"],
                "item": line["item"],
                "quantity": qty,
                "state": "scheduled",
                "delivery_date": order["delivery_date"],
                "stamp": stamp,
            }
            c.execute(
                "INSERT INTO x_dcc_oms_consignment (sys_id, number, company, oms_order, item, quantity, "
                "state, delivery_date, sys_created_on, sys_updated_on) VALUES "
                "(:sys_id,:number,:company,:oms_order,:item,:quantity,:state,:delivery_date,:stamp,:stamp)",
                row,
            )
            made.append(row)
    return made


# ---------------------------------------------------------------- consignments
def list_consignments(c: sqlite3.Connection, company: str, order_id: str | None = None) -> list[Row]:
    sql = (
        "SELECT k.*, o.number AS order_number, o.delivery_location FROM x_dcc_oms_consignment k "
        "JOIN x_dcc_oms_order o ON k.oms_order=o.sys_id WHERE k.company=?"
    )
    args: list[Any] = [company]
    if order_id:
        sql += " AND k.oms_order=?"
        args.append(order_id)
    return _rows(c.execute(sql + " ORDER BY k.number DESC LIMIT 200", args))


def get_consignment(c: sqlite3.Connection, company: str, sys_id: str) -> Row | None:
    return _one(
        c.execute(
            "SELECT k.*, o.number AS order_number, o.delivery_location, o.region FROM "
            "x_dcc_oms_consignment k JOIN x_dcc_oms_order o ON k.oms_order=o.sys_id "
            "WHERE k.sys_id=? AND k.company=?",
            (sys_id, company),
        )
    )


def consignment_by_number(c: sqlite3.Connection, number: str) -> Row | None:
    """For operator controls only (DCC and carriers see every organisation's consignments)."""
    return _one(c.execute("SELECT * FROM x_dcc_oms_consignment WHERE number=?", (number,)))


def amend_delivery_date(c: sqlite3.Connection, consignment: Row, new_date: str) -> bool:
    n = c.execute(
        "UPDATE x_dcc_oms_consignment SET delivery_date=?, sys_updated_on=? WHERE sys_id=? "
        "AND state='scheduled'",
        (new_date, glide_time(), consignment["sys_id"]),
    ).rowcount
    return n == 1


def set_consignment_state(c: sqlite3.Connection, consignment: Row, state: str, **fields: Any) -> None:
    fields = {"state": state, "sys_updated_on": glide_time(), **fields}
    cols = ", ".join(f"{k}=?" for k in fields)
    c.execute(
        f"UPDATE x_dcc_oms_consignment SET {cols} WHERE sys_id=?", (*fields.values(), consignment["sys_id"])
    )


def new_tracking_ref() -> str:
    return "TRK" + "".join(secrets.choice("0123456789") for _ in range(10))


# ---------------------------------------------------------------- devices
def new_device_id() -> str:
    return "00-DB-12-" + "-".join(f"{b:02X}" for b in secrets.token_bytes(5))


def issue_devices(
    c: sqlite3.Connection, company: str, item: str, count: int, consignment: str | None = None
) -> list[str]:
    """Record CHs the organisation now holds (delivered to it, or seeded)."""
    serials: list[str] = []
    stamp = glide_time()
    while len(serials) < count:
        serial = new_device_id()
        if c.execute("SELECT 1 FROM x_dcc_oms_device WHERE serial=?", (serial,)).fetchone():
            continue
        c.execute(
            "INSERT INTO x_dcc_oms_device VALUES (?,?,?,?,?,?)",
            (new_sys_id(), serial, company, item, consignment, stamp),
        )
        serials.append(serial)
    return serials


def add_device(c: sqlite3.Connection, company: str, item: str, serial: str) -> Row:
    row = {
        "sys_id": new_sys_id(),
        "serial": serial,
        "company": company,
        "item": item,
        "consignment": None,
        "sys_created_on": glide_time(),
    }
    c.execute(
        "INSERT INTO x_dcc_oms_device VALUES (:sys_id,:serial,:company,:item,:consignment,:sys_created_on)",
        row,
    )
    return row


def devices_of_consignment(c: sqlite3.Connection, consignment_id: str) -> list[Row]:
    return _rows(
        c.execute(
            "SELECT serial, item FROM x_dcc_oms_device WHERE consignment=? ORDER BY serial", (consignment_id,)
        )
    )


def device_for_return(c: sqlite3.Connection, company: str, serial: str) -> tuple[Row | None, Row | None]:
    """(the organisation's device with this ID or None, the return it is already in or None)."""
    dev = _one(c.execute("SELECT * FROM x_dcc_oms_device WHERE serial=? AND company=?", (serial, company)))
    if dev is None:
        return None, None
    ret = _one(
        c.execute(
            "SELECT r.number, r.state FROM x_dcc_oms_return_item i JOIN x_dcc_oms_return r "
            "ON i.oms_return=r.sys_id WHERE i.device=?",
            (dev["sys_id"],),
        )
    )
    return dev, ret


# ---------------------------------------------------------------- returns
def create_return(
    c: sqlite3.Connection,
    *,
    company: str,
    user: str,
    prefix: str,
    reason: str,
    notes: str,
    devices: list[Row],
) -> Row:
    stamp = glide_time()
    row = {
        "sys_id": new_sys_id(),
        "number": next_number(c, "x_dcc_oms_return", prefix),
        "company": company,
        "reason": reason,
        "notes": notes,
        "state": "requested",
        "opened_by": user,
        "stamp": stamp,
    }
    c.execute(
        "INSERT INTO x_dcc_oms_return (sys_id, number, company, reason, notes, state, opened_by,"
        " sys_created_on, sys_updated_on) VALUES "
        "(:sys_id,:number,:company,:reason,:notes,:state,:opened_by,:stamp,:stamp)",
        row,
    )
    c.executemany(
        "INSERT INTO x_dcc_oms_return_item (sys_id, oms_return, device) VALUES (?,?,?)",
        [(new_sys_id(), row["sys_id"], d["sys_id"]) for d in devices],
    )
    return row


def get_return(c: sqlite3.Connection, company: str, sys_id: str) -> Row | None:
    return _one(c.execute("SELECT * FROM x_dcc_oms_return WHERE sys_id=? AND company=?", (sys_id, company)))


def return_by_number(c: sqlite3.Connection, number: str) -> Row | None:
    """For operator controls only."""
    return _one(c.execute("SELECT * FROM x_dcc_oms_return WHERE number=?", (number,)))


def return_items(c: sqlite3.Connection, return_id: str) -> list[Row]:
    return _rows(
        c.execute(
            "SELECT i.sys_id, d.serial, d.item, i.triage_outcome FROM x_dcc_oms_return_item i "
            "JOIN x_dcc_oms_device d ON i.device=d.sys_id WHERE i.oms_return=? ORDER BY d.serial",
            (return_id,),
        )
    )


def list_returns(c: sqlite3.Connection, company: str, q: str = "") -> list[Row]:
    q = q.strip()
    sql = (
        "SELECT r.*, (SELECT COUNT(*) FROM x_dcc_oms_return_item WHERE oms_return=r.sys_id) AS devices "
        "FROM x_dcc_oms_return r WHERE r.company=?"
    )
    args: list[Any] = [company]
    if q:
        sql += (
            " AND (r.number LIKE ? OR r.rma_number LIKE ? OR EXISTS (SELECT 1 FROM x_dcc_oms_return_item i "
            "JOIN x_dcc_oms_device d ON i.device=d.sys_id WHERE i.oms_return=r.sys_id AND d.serial LIKE ?))"
        )
        args += [f"%{q}%", f"%{q}%", f"%{q.upper()}%"]
    return _rows(c.execute(sql + " ORDER BY r.number DESC LIMIT 200", args))


def set_return_state(c: sqlite3.Connection, ret: Row, state: str, **fields: Any) -> None:
    fields = {"state": state, "sys_updated_on": glide_time(), **fields}
    cols = ", ".join(f"{k}=?" for k in fields)
    c.execute(f"UPDATE x_dcc_oms_return SET {cols} WHERE sys_id=?", (*fields.values(), ret["sys_id"]))


def set_triage_outcome(c: sqlite3.Connection, item_id: str, outcome: str) -> None:
    c.execute("UPDATE x_dcc_oms_return_item SET triage_outcome=? WHERE sys_id=?", (outcome, item_id))


# ---------------------------------------------------------------- counts (operator / tests)
def counts(c: sqlite3.Connection, company: str) -> dict[str, int]:
    out = {}
    for table, meta in OMS_TABLES.items():
        if meta["company"]:
            out[table] = c.execute(f"SELECT COUNT(*) FROM {table} WHERE company=?", (company,)).fetchone()[0]
    return out


def days_from_today(n: int) -> date:
    return today() + timedelta(days=n)
