"""The reference SSI application factory (FastAPI)."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import replace
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException

from ssi.seed import Seed, load_seed

from . import components, mail, operator, pages
from .auth import portal as auth
from .auth import sso
from .auth.entra import HostDispatch, create_entra_app
from .db import Database, glide_time, new_sys_id
from .faults import switched_on
from .incidents import api as incidents_api
from .incidents import operator as incidents_operator
from .incidents import portal as incidents
from .incidents import sp as incidents_sp
from .latency import Latency
from .oms import api as oms_api
from .oms import operator as oms_operator
from .oms import portal as oms  # noqa: F401 - the OMS pages
from .oms import sp as oms_sp  # noqa: F401 - their widget views on the Service Portal
from .requests import api as requests_api  # noqa: F401 - the service catalogue's tables
from .requests import operator as requests_operator
from .requests import portal as requests  # noqa: F401 - the service catalogue pages
from .requests import sp as requests_sp
from .security import hash_in_background
from .settings import Settings
from .sp import api as sp_api
from .tableapi import batch
from .tableapi import routes as table_api
from .useradmin import api as useradmin_api  # noqa: F401 - the tables of users and companies
from .useradmin import portal as useradmin  # noqa: F401 - the user administration pages
from .useradmin import sp as useradmin_sp  # noqa: F401 - its account page as a portal widget


def seed_database(db: Database, settings: Settings, seed: Seed | None = None) -> list[tuple[str, str, str]]:
    """Organisations and personas from the seed file, with this run's secrets. Their passwords are stored as
    '!' (no usable password) for now: returns (table, user name, persona) of each, for store_seed_hashes."""
    seed = seed or load_seed()
    stamp = glide_time()
    pending = []
    with db.tx() as c:
        companies = {}
        for o in seed.organisations:
            companies[o.key] = new_sys_id()
            c.execute("INSERT INTO core_company VALUES (?,?,?,?,?)",
                      (companies[o.key], o.key, o.name, o.sec_party_id, o.user_role))
            c.executemany("INSERT INTO org_user_id VALUES (?,?)", [(u, companies[o.key]) for u in o.user_ids])
        for p in seed.personas:
            uid = new_sys_id()
            mfa = None if p.mfa == "none" else p.mfa
            totp_seed = settings.secrets[p.persona].get("totp_seed")
            if p.identity == "entra":  # the directory holds the password and the authenticator; the SSI neither
                c.execute("INSERT INTO entra_user (upn, display_name, password, totp_seed) VALUES (?,?,?,?)",
                          (p.user_name, f"{p.first_name} {p.last_name}".strip(), "!", totp_seed))
            local = p.identity == "local"
            pending.append(("sys_user" if local else "entra_user", p.user_name, p.persona))
            c.execute(
                "INSERT INTO sys_user (sys_id, user_name, first_name, last_name, email, phone, company, user_password,"
                " mfa_method, totp_seed, source, sys_created_on, sys_updated_on) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)",
                (uid, p.user_name, p.first_name, p.last_name, p.email, p.phone, companies[p.organisation],
                 "!", mfa if local else None, totp_seed if local else None,
                 "seed" if local else "entra", stamp, stamp),
            )
            c.executemany("INSERT INTO sys_user_has_role VALUES (?,?)", [(uid, r) for r in p.roles])
            c.executemany("INSERT INTO sys_user_org VALUES (?,?)",
                          [(uid, u) for u in seed.organisation(p.organisation).user_ids])
        for org, keys in settings.party_keys.items():  # public halves only: the Party keeps its private key
            from ssi.signed_files import key_id

            c.executemany("INSERT INTO x_dcc_party_key VALUES (?,?,?,?,1)",
                          [(new_sys_id(), companies[org], key_id(k), k) for k in keys if org in companies])
        for m in seed.migrated_accounts:  # inactive, no usable password ('!' is no hash), no MFA
            uid = new_sys_id()
            c.execute(
                "INSERT INTO sys_user (sys_id, user_name, first_name, last_name, email, company, active, user_password,"
                " password_needs_reset, source, sys_created_on, sys_updated_on) VALUES (?,?,?,?,?,?,0,'!',1,?,?,?)",
                (uid, m.user_name, m.first_name, m.last_name, m.email, companies[m.organisation], "migrated",
                 stamp, stamp),
            )
            c.executemany("INSERT INTO sys_user_has_role VALUES (?,?)", [(uid, r) for r in m.roles])
            c.executemany("INSERT INTO sys_user_org VALUES (?,?)",
                          [(uid, u) for u in seed.organisation(m.organisation).user_ids])
    return pending


def store_seed_hashes(db: Database, pending: list[tuple[str, str, str]], hashes: Callable[[], dict[str, str]],
                      done: threading.Event) -> None:
    """Store the seeded accounts' password hashes once made, then open the gate (SeedGate). Should hashing fail,
    the gate opens all the same on accounts without a usable password: no login can succeed, none is let in."""
    try:
        made = hashes()
        with db.tx() as c:
            for table, user_name, persona in pending:
                column, key = ("user_password", "user_name") if table == "sys_user" else ("password", "upn")
                c.execute(f"UPDATE {table} SET {column}=? WHERE {key}=?", (made[persona], user_name))
    finally:
        done.set()


class SeedGate:
    """ASGI: a request waits until the seeded accounts' password hashes are stored. The server says it is ready
    as soon as it accepts connections, and its accounts' hashing (argon2, on purpose slow: half its start-up on
    two cores) ends while the harness starts its browser; a request that comes sooner waits for it."""

    def __init__(self, app: Any, done: threading.Event) -> None:
        self.app, self.done = app, done

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] in ("http", "websocket") and not self.done.is_set():
            await asyncio.get_running_loop().run_in_executor(None, self.done.wait)
        await self.app(scope, receive, send)


def create_app(settings: Settings, *, on_ready=None) -> SeedGate:
    """The SSI, and Microsoft Entra ID under its own host name (refssi/auth/entra.py)."""
    db = Database(settings.db_path)
    sink = mail.MailSink(db)
    settings = replace(settings, smtp_port=sink.start())
    seed = load_seed()
    pending = seed_database(db, settings, seed)
    hashes = hash_in_background({p.persona: settings.secrets[p.persona]["password"] for p in seed.personas})
    seeded = threading.Event()
    threading.Thread(target=store_seed_hashes, args=(db, pending, hashes, seeded), name="refssi-seed-hashes",
                     daemon=True).start()
    if settings.bulk_incidents:
        from .bulk import seed_incidents

        seed_incidents(db, settings, settings.bulk_incidents)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if on_ready:
            on_ready(settings)
        yield
        sink.stop()
        db.close()

    app = FastAPI(title="Reference SSI", docs_url=None, redoc_url=None, openapi_url=None, lifespan=lifespan)
    app.state.settings = settings
    app.state.db = db
    app.mount("/static", StaticFiles(directory=str(Path(__file__).parent / "static")), name="static")
    assert oms_api  # registers the OMS tables on the Table API
    for router in (auth.router, sso.router, pages.router, operator.router, mail.api, oms_operator.router,
                   incidents.router, incidents_api.router, incidents_operator.router, table_api.router, batch.router,
                   sp_api.router, incidents_sp.router, requests_sp.router, requests_operator.router):
        app.include_router(router)
    sso.register_locate_page(app, settings.profile)
    components.register_component_pages(settings.profile)  # after every module registered its pages

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException):
        if request.url.path.startswith(("/_operator", "/_mailsink", "/api/")):
            from fastapi.responses import JSONResponse

            return JSONResponse({"error": {"message": str(exc.detail), "detail": ""}, "status": "failure"},
                                status_code=exc.status_code)
        title = {404: "Not valid", 405: "Not allowed"}.get(exc.status_code, "Error")
        msg = settings.profile.label("errors.not_authorized") if exc.status_code == 404 else str(exc.detail)
        html = pages.TEMPLATES_ENV.get_template("message.html").render(
            title=title, message=msg, profile=settings.profile, L=settings.profile.labels, user=None, menu=[],
            csrf="", flashes=[], unsafe=switched_on(settings), portal=settings.profile.portal.suffix)
        return HTMLResponse(html, status_code=exc.status_code)

    ssi = Latency(app, settings.latency_ms) if settings.latency_ms[1] else app
    return SeedGate(HostDispatch(ssi, create_entra_app(settings, db), settings.entra_host), seeded)
