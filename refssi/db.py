"""SQLite storage. One connection, one lock: every request's work is one transaction."""

from __future__ import annotations

import sqlite3
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

SCHEMA = """
CREATE TABLE IF NOT EXISTS core_company (
    sys_id TEXT PRIMARY KEY, key TEXT UNIQUE NOT NULL, name TEXT NOT NULL,
    sec_party_id TEXT NOT NULL, user_role TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS org_user_id (          -- SEC User IDs an organisation holds
    user_id TEXT PRIMARY KEY, company TEXT NOT NULL REFERENCES core_company(sys_id)
);
CREATE TABLE IF NOT EXISTS sys_user (
    sys_id TEXT PRIMARY KEY,
    user_name TEXT NOT NULL UNIQUE COLLATE NOCASE,
    first_name TEXT NOT NULL DEFAULT '', last_name TEXT NOT NULL DEFAULT '',
    email TEXT NOT NULL DEFAULT '', phone TEXT NOT NULL DEFAULT '',
    company TEXT NOT NULL REFERENCES core_company(sys_id),
    active INTEGER NOT NULL DEFAULT 1,
    locked_out INTEGER NOT NULL DEFAULT 0, locked_until REAL NOT NULL DEFAULT 0,
    failed_attempts INTEGER NOT NULL DEFAULT 0,
    user_password TEXT NOT NULL,                   -- argon2id hash, never returned
    password_needs_reset INTEGER NOT NULL DEFAULT 0,
    mfa_method TEXT,                                -- 'totp' | 'email' | NULL (not enrolled)
    totp_seed TEXT, last_totp_timecode INTEGER NOT NULL DEFAULT -1,
    last_login_time TEXT NOT NULL DEFAULT '',
    source TEXT NOT NULL DEFAULT 'seed',
    sys_created_on TEXT NOT NULL, sys_updated_on TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS sys_user_has_role (
    user TEXT NOT NULL REFERENCES sys_user(sys_id), role TEXT NOT NULL, PRIMARY KEY (user, role)
);
CREATE TABLE IF NOT EXISTS sys_user_org (           -- User IDs a person may act for
    user TEXT NOT NULL REFERENCES sys_user(sys_id), user_id TEXT NOT NULL, PRIMARY KEY (user, user_id)
);
CREATE TABLE IF NOT EXISTS sys_session (
    id_hash TEXT PRIMARY KEY, user TEXT, stage TEXT NOT NULL, csrf TEXT NOT NULL,
    created_at REAL NOT NULL, last_activity REAL NOT NULL,
    goto TEXT NOT NULL DEFAULT '', flash TEXT NOT NULL DEFAULT '[]',
    pending_totp_seed TEXT, setup_method TEXT, login_confirmation INTEGER NOT NULL DEFAULT 0,
    previous_login TEXT NOT NULL DEFAULT ''
);
CREATE TABLE IF NOT EXISTS mfa_email_code (
    user TEXT PRIMARY KEY, code_hash TEXT NOT NULL, created_at REAL NOT NULL, expires_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS sys_email (
    sys_id TEXT PRIMARY KEY, created_at REAL NOT NULL, sender TEXT NOT NULL, recipients TEXT NOT NULL,
    subject TEXT NOT NULL, body TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS sys_email_created ON sys_email(created_at);
CREATE TABLE IF NOT EXISTS sys_user_admin_log (     -- who did what to an account (user administration)
    sys_id TEXT PRIMARY KEY, user TEXT NOT NULL REFERENCES sys_user(sys_id), actor TEXT NOT NULL,
    action TEXT NOT NULL, detail TEXT NOT NULL DEFAULT '', sys_created_on TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS sys_user_admin_log_user ON sys_user_admin_log(user, sys_created_on);
"""


def new_sys_id() -> str:
    return uuid.uuid4().hex


def now() -> float:
    return time.time()


def glide_time(t: float | None = None) -> str:
    """ServiceNow's datetime format, UTC: 'YYYY-MM-DD HH:MM:SS'."""
    return time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(now() if t is None else t))


class Database:
    def __init__(self, path: Path) -> None:
        self.path = path
        self.conn = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self.conn.row_factory = sqlite3.Row
        self.conn.execute("PRAGMA journal_mode=WAL")
        self.conn.execute("PRAGMA synchronous=NORMAL")
        self.conn.execute("PRAGMA foreign_keys=ON")
        self.lock = threading.Lock()
        self.conn.executescript(SCHEMA)

    @contextmanager
    def tx(self) -> Iterator[sqlite3.Connection]:
        """One serialised transaction; committed on success, rolled back on error."""
        with self.lock:
            self.conn.execute("BEGIN IMMEDIATE")
            try:
                yield self.conn
            except BaseException:
                self.conn.execute("ROLLBACK")
                raise
            else:
                self.conn.execute("COMMIT")

    def close(self) -> None:
        self.conn.close()
