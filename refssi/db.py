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
    used_totp_steps TEXT NOT NULL DEFAULT '[]',     -- time steps of codes already used, within the window
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
-- browsers a user ticked "Remember this browser" in (refssi/auth/remember.py): the cookie's digest
CREATE TABLE IF NOT EXISTS mfa_remembered_browser (
    token_hash TEXT PRIMARY KEY, user TEXT NOT NULL REFERENCES sys_user(sys_id), expires_at REAL NOT NULL
);
-- single sign-on (refssi/auth/sso.py): the SAML requests the SSI sent and the assertions it accepted
CREATE TABLE IF NOT EXISTS sso_request (id TEXT PRIMARY KEY, created_at REAL NOT NULL, used INTEGER NOT NULL DEFAULT 0);
CREATE TABLE IF NOT EXISTS sso_assertion (id TEXT PRIMARY KEY, accepted_at REAL NOT NULL);
-- Microsoft Entra ID imitated (refssi/auth/entra.py): the directory and sign-ins in progress
CREATE TABLE IF NOT EXISTS entra_user (
    upn TEXT PRIMARY KEY COLLATE NOCASE, display_name TEXT NOT NULL, password TEXT NOT NULL, totp_seed TEXT,
    used_totp_steps TEXT NOT NULL DEFAULT '[]', failed INTEGER NOT NULL DEFAULT 0, locked_until REAL NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS entra_flow (             -- one sign-in, identified by its flowToken
    token_hash TEXT PRIMARY KEY, request TEXT NOT NULL, relay_state TEXT NOT NULL, upn TEXT,
    stage TEXT NOT NULL, created_at REAL NOT NULL
);
-- incidents (refssi/incidents/): ServiceNow's incident table, its journal and attachments
CREATE TABLE IF NOT EXISTS sys_number_counter (tbl TEXT PRIMARY KEY, next INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS incident (
    sys_id TEXT PRIMARY KEY, number TEXT NOT NULL UNIQUE,
    short_description TEXT NOT NULL DEFAULT '', description TEXT NOT NULL DEFAULT '',
    caller_id TEXT REFERENCES sys_user(sys_id), opened_by TEXT REFERENCES sys_user(sys_id),
    company TEXT NOT NULL REFERENCES core_company(sys_id),   -- the raising organisation
    category TEXT NOT NULL DEFAULT '', subcategory TEXT NOT NULL DEFAULT '',
    contact_type TEXT NOT NULL DEFAULT 'self-service',
    impact INTEGER NOT NULL DEFAULT 3, urgency INTEGER NOT NULL DEFAULT 3, priority INTEGER NOT NULL DEFAULT 5,
    state INTEGER NOT NULL DEFAULT 1, hold_reason INTEGER, active INTEGER NOT NULL DEFAULT 1,
    close_code TEXT NOT NULL DEFAULT '', close_notes TEXT NOT NULL DEFAULT '',
    resolved_by TEXT, resolved_at TEXT NOT NULL DEFAULT '', closed_by TEXT, closed_at TEXT NOT NULL DEFAULT '',
    reopen_count INTEGER NOT NULL DEFAULT 0, reopened_by TEXT, reopened_time TEXT NOT NULL DEFAULT '',
    u_contact_first_name TEXT NOT NULL DEFAULT '', u_contact_last_name TEXT NOT NULL DEFAULT '',
    u_contact_phone TEXT NOT NULL DEFAULT '', u_contact_email TEXT NOT NULL DEFAULT '',
    u_device_id TEXT NOT NULL DEFAULT '', u_mpxn TEXT NOT NULL DEFAULT '', u_your_reference TEXT NOT NULL DEFAULT '',
    u_sec_category INTEGER, u_target_resolution TEXT NOT NULL DEFAULT '',
    u_action_item TEXT NOT NULL DEFAULT '',          -- a catalogue item DCC asks the caller to answer with
    opened_at TEXT NOT NULL, sys_created_on TEXT NOT NULL, sys_updated_on TEXT NOT NULL,
    sys_created_by TEXT NOT NULL DEFAULT '', sys_updated_by TEXT NOT NULL DEFAULT '',
    sys_mod_count INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS incident_company_updated ON incident(company, sys_updated_on);
CREATE INDEX IF NOT EXISTS incident_company_active_updated ON incident(company, active, sys_updated_on);
CREATE INDEX IF NOT EXISTS incident_company_created ON incident(company, sys_created_on);
CREATE INDEX IF NOT EXISTS incident_company_sys_id ON incident(company, sys_id);
CREATE INDEX IF NOT EXISTS incident_company_state ON incident(company, state, sys_id);
-- covers LIKE scans of summaries:
CREATE INDEX IF NOT EXISTS incident_company_summary ON incident(company, active, short_description, priority);
CREATE INDEX IF NOT EXISTS incident_caller ON incident(caller_id);
CREATE TABLE IF NOT EXISTS sys_journal_field (     -- comments (customer-visible) and work_notes (internal)
    sys_id TEXT PRIMARY KEY, name TEXT NOT NULL, element TEXT NOT NULL, element_id TEXT NOT NULL,
    value TEXT NOT NULL, u_update_type TEXT NOT NULL DEFAULT '', author TEXT,
    sys_created_by TEXT NOT NULL, sys_created_on TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS sys_journal_element ON sys_journal_field(element_id, sys_created_on);
CREATE TABLE IF NOT EXISTS sys_attachment (
    sys_id TEXT PRIMARY KEY, table_name TEXT NOT NULL, table_sys_id TEXT NOT NULL, file_name TEXT NOT NULL,
    content_type TEXT NOT NULL, size_bytes INTEGER NOT NULL, hash TEXT NOT NULL, author TEXT,
    sys_created_by TEXT NOT NULL, sys_created_on TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS sys_attachment_record ON sys_attachment(table_sys_id);
CREATE TABLE IF NOT EXISTS sys_attachment_doc (
    sys_attachment TEXT PRIMARY KEY REFERENCES sys_attachment(sys_id) ON DELETE CASCADE, data BLOB NOT NULL
);

-- OMS (BFD13): forecasts, orders, consignments, devices and returns of Communications Hubs.
-- All reads and writes go through refssi/oms/store.py (OMS_TABLES lists them for the Table API).
CREATE TABLE IF NOT EXISTS x_dcc_oms_forecast (     -- one submitted version of a Region's forecast
    sys_id TEXT PRIMARY KEY, number TEXT NOT NULL UNIQUE, company TEXT NOT NULL REFERENCES core_company(sys_id),
    region TEXT NOT NULL, version INTEGER NOT NULL, changes INTEGER NOT NULL,
    submitted_by TEXT NOT NULL REFERENCES sys_user(sys_id), sys_created_on TEXT NOT NULL,
    UNIQUE (company, region, version)
);
CREATE TABLE IF NOT EXISTS x_dcc_oms_forecast_line (
    sys_id TEXT PRIMARY KEY, forecast TEXT NOT NULL REFERENCES x_dcc_oms_forecast(sys_id),
    month TEXT NOT NULL, item TEXT NOT NULL, quantity INTEGER NOT NULL, UNIQUE (forecast, month, item)
);
CREATE TABLE IF NOT EXISTS x_dcc_oms_order (
    sys_id TEXT PRIMARY KEY, number TEXT NOT NULL UNIQUE, company TEXT NOT NULL REFERENCES core_company(sys_id),
    region TEXT NOT NULL, delivery_location TEXT NOT NULL, delivery_date TEXT NOT NULL,   -- YYYY-MM-DD
    state TEXT NOT NULL, tolerance_exception INTEGER NOT NULL DEFAULT 0, justification TEXT NOT NULL DEFAULT '',
    opened_by TEXT NOT NULL REFERENCES sys_user(sys_id), submitted_on TEXT NOT NULL DEFAULT '',
    confirmed_by TEXT, confirmed_on TEXT NOT NULL DEFAULT '',
    sys_created_on TEXT NOT NULL, sys_updated_on TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS x_dcc_oms_order_line (
    sys_id TEXT PRIMARY KEY, oms_order TEXT NOT NULL REFERENCES x_dcc_oms_order(sys_id), item TEXT NOT NULL,
    quantity INTEGER NOT NULL, forecast_quantity INTEGER, variance_percent REAL,
    outside_tolerance INTEGER NOT NULL DEFAULT 0, UNIQUE (oms_order, item)
);
CREATE TABLE IF NOT EXISTS x_dcc_oms_consignment (
    sys_id TEXT PRIMARY KEY, number TEXT NOT NULL UNIQUE, company TEXT NOT NULL REFERENCES core_company(sys_id),
    oms_order TEXT NOT NULL REFERENCES x_dcc_oms_order(sys_id), item TEXT NOT NULL, quantity INTEGER NOT NULL,
    state TEXT NOT NULL, delivery_date TEXT NOT NULL, tracking_ref TEXT NOT NULL DEFAULT '',
    dispatched_on TEXT NOT NULL DEFAULT '', delivered_on TEXT NOT NULL DEFAULT '',
    rejection_reason TEXT NOT NULL DEFAULT '', rejected_quantity INTEGER NOT NULL DEFAULT 0,
    responded_by TEXT, responded_on TEXT NOT NULL DEFAULT '',
    sys_created_on TEXT NOT NULL, sys_updated_on TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS x_dcc_oms_device (        -- a CH the organisation holds, by device ID
    sys_id TEXT PRIMARY KEY, serial TEXT NOT NULL UNIQUE, company TEXT NOT NULL REFERENCES core_company(sys_id),
    item TEXT NOT NULL, consignment TEXT REFERENCES x_dcc_oms_consignment(sys_id), sys_created_on TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS x_dcc_oms_return (
    sys_id TEXT PRIMARY KEY, number TEXT NOT NULL UNIQUE, rma_number TEXT NOT NULL DEFAULT '',
    company TEXT NOT NULL REFERENCES core_company(sys_id), reason TEXT NOT NULL, notes TEXT NOT NULL DEFAULT '',
    state TEXT NOT NULL, opened_by TEXT NOT NULL REFERENCES sys_user(sys_id),
    sys_created_on TEXT NOT NULL, sys_updated_on TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS x_dcc_oms_return_item (
    sys_id TEXT PRIMARY KEY, oms_return TEXT NOT NULL REFERENCES x_dcc_oms_return(sys_id),
    device TEXT NOT NULL REFERENCES x_dcc_oms_device(sys_id),   -- a CH is returned once (checked by the OMS)
    triage_outcome TEXT NOT NULL DEFAULT ''
);
CREATE INDEX IF NOT EXISTS x_dcc_oms_return_item_device ON x_dcc_oms_return_item(device);
CREATE TABLE IF NOT EXISTS x_dcc_oms_activity (      -- the activity stream of OMS records, newest last
    sys_id TEXT PRIMARY KEY, document_table TEXT NOT NULL, document TEXT NOT NULL, text TEXT NOT NULL,
    sys_created_by TEXT NOT NULL, sys_created_on TEXT NOT NULL, seq INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS x_dcc_oms_activity_doc ON x_dcc_oms_activity(document, seq);
-- the service catalogue (BFD09, refssi/requests/): ServiceNow's request, requested item, its variables and
-- catalogue tasks; items (sc_cat_item) come from the profile. Comments and attachments use the incident tables.
CREATE TABLE IF NOT EXISTS sc_request (
    sys_id TEXT PRIMARY KEY, number TEXT NOT NULL UNIQUE, company TEXT NOT NULL REFERENCES core_company(sys_id),
    requested_for TEXT NOT NULL REFERENCES sys_user(sys_id), opened_by TEXT NOT NULL REFERENCES sys_user(sys_id),
    request_state TEXT NOT NULL, stage TEXT NOT NULL, short_description TEXT NOT NULL DEFAULT '',
    active INTEGER NOT NULL DEFAULT 1, opened_at TEXT NOT NULL, sys_created_on TEXT NOT NULL,
    sys_updated_on TEXT NOT NULL, sys_created_by TEXT NOT NULL, sys_updated_by TEXT NOT NULL,
    sys_mod_count INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS sc_req_item (
    sys_id TEXT PRIMARY KEY, number TEXT NOT NULL UNIQUE, request TEXT NOT NULL REFERENCES sc_request(sys_id),
    cat_item TEXT NOT NULL, company TEXT NOT NULL REFERENCES core_company(sys_id),
    requested_for TEXT NOT NULL REFERENCES sys_user(sys_id), opened_by TEXT NOT NULL REFERENCES sys_user(sys_id),
    short_description TEXT NOT NULL DEFAULT '', quantity INTEGER NOT NULL DEFAULT 1, stage TEXT NOT NULL,
    state INTEGER NOT NULL DEFAULT 1, active INTEGER NOT NULL DEFAULT 1, opened_at TEXT NOT NULL,
    sys_created_on TEXT NOT NULL, sys_updated_on TEXT NOT NULL, sys_created_by TEXT NOT NULL,
    sys_updated_by TEXT NOT NULL, sys_mod_count INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS sc_req_item_company ON sc_req_item(company, active, sys_updated_on);
CREATE TABLE IF NOT EXISTS sc_item_option (         -- a requested item's variables, in the item's order
    sys_id TEXT PRIMARY KEY, request_item TEXT NOT NULL REFERENCES sc_req_item(sys_id), name TEXT NOT NULL,
    value TEXT NOT NULL, ord INTEGER NOT NULL, UNIQUE (request_item, name)
);
CREATE TABLE IF NOT EXISTS sc_task (
    sys_id TEXT PRIMARY KEY, number TEXT NOT NULL UNIQUE, request_item TEXT NOT NULL REFERENCES sc_req_item(sys_id),
    request TEXT NOT NULL REFERENCES sc_request(sys_id), company TEXT NOT NULL REFERENCES core_company(sys_id),
    short_description TEXT NOT NULL DEFAULT '', state INTEGER NOT NULL DEFAULT 1,
    assignment_group TEXT NOT NULL DEFAULT 'DCC Service Desk', active INTEGER NOT NULL DEFAULT 1,
    sys_created_on TEXT NOT NULL, sys_updated_on TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS x_dcc_party_key (       -- the file-signing keys each organisation registered with DCC
    sys_id TEXT PRIMARY KEY, company TEXT NOT NULL REFERENCES core_company(sys_id), key_id TEXT NOT NULL,
    public_key TEXT NOT NULL, active INTEGER NOT NULL DEFAULT 1
);
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
