"""Request context, sessions, CSRF, rendering and the Service Portal page registry.

Every request gets a Ctx: one database transaction, the visitor's session (expired
on the server after the idle timeout), the signed-in user and the components
their Job Type Roles grant. Every response leaves through Ctx, which sets the
session cookie (HttpOnly, SameSite=Lax) and the security headers.

Portal pages live at /sp?id=<page>; modules register them with @portal_page,
naming the role-matrix component that guards them.
"""

from __future__ import annotations

import functools
import json
import sqlite3
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlencode, urlsplit

from fastapi import Request
from fastapi.responses import JSONResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates

from . import security
from .db import now
from .faults import fault, switched_on
from .passwords import PasswordWork
from .settings import Settings

COOKIE = "JSESSIONID"
TEMPLATES = Jinja2Templates(directory=str(Path(__file__).parent / "templates"))


@functools.cache
def raw_templates() -> Jinja2Templates:
    """The same templates with autoescaping off, every typed value becoming markup: the no_escaping fault only."""
    env = TEMPLATES.env.overlay(autoescape=False)
    return Jinja2Templates(env=env)

# Login stages, in the order a sign-in walks through them, and the page of each.
STAGE_PAGES = {
    "mfa": "/validate_multifactor_auth_code.do",
    "mfa_setup": "/validate_multifactor_auth_code.do",
    "password_change": "/sp?id=password_change",
    "profile": "/sp?id=complete_profile",
}

SECURITY_HEADERS = {
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; style-src 'self'; "
    "script-src 'self'; frame-ancestors 'none'; form-action 'self'",
    "Cache-Control": "no-store",
}


@dataclass
class PortalPage:
    id: str
    title: str
    handler: Callable[..., Response]
    component: str | None = None  # role-matrix key; None: any signed-in user
    public: bool = False  # reachable without signing in
    login_stage: str | None = None  # reachable only during this login stage
    menu: str | None = None  # label in the header menu ('@group.key': the profile's label)
    menu_order: int = 100


PAGES: dict[str, PortalPage] = {}


def portal_page(
    page_id: str,
    *,
    title: str,
    component: str | None = None,
    public: bool = False,
    login_stage: str | None = None,
    menu: str | None = None,
    menu_order: int = 100,
) -> Callable[[Callable[..., Response]], Callable[..., Response]]:
    """Register a handler(ctx) -> Response for /sp?id=page_id (GET and POST)."""

    def register(fn: Callable[..., Response]) -> Callable[..., Response]:
        if page_id in PAGES:
            raise ValueError(f"portal page {page_id!r} registered twice")
        PAGES[page_id] = PortalPage(page_id, title, fn, component, public, login_stage, menu, menu_order)
        return fn

    return register


@dataclass
class MenuLink:
    """A header-menu entry to a portal page with parameters (e.g. a catalog item), labelled from the profile."""

    label_key: str  # profile label, e.g. 'incident.menu_create'
    page_id: str
    params: Callable[[Any], dict[str, str]] = lambda profile: {}
    component: str | None = None
    order: int = 100


MENU_LINKS: list[MenuLink] = []


def menu_link(label_key: str, page_id: str, *, params: Callable[[Any], dict[str, str]] = lambda profile: {},
              component: str | None = None, order: int = 100) -> None:
    MENU_LINKS.append(MenuLink(label_key, page_id, params, component, order))


def page_access(ctx: Ctx, page: PortalPage) -> str:
    """The access rules of a portal page: 'ok', 'login' (sign in first), 'stage' (finish the login stage
    first), 'home' (a login-stage page after signing in) or 'forbidden' (the roles do not grant it)."""
    if page.public:
        return "ok"
    if page.login_stage:
        if ctx.session and ctx.user and ctx.session["stage"] == page.login_stage:
            return "ok"
        return "home" if ctx.signed_in else "login"
    if not ctx.signed_in:
        return "stage" if ctx.session and ctx.user and ctx.session["stage"] in STAGE_PAGES else "login"
    if page.component and page.component not in ctx.components and not fault(ctx.settings, "no_component_check"):
        return "forbidden"
    return "ok"


def _same_origin_path(url: str, *, query_spaces: bool) -> bool:
    """A path on this site and nothing a browser could read as another host: one leading '/', never '//'
    or '/\\' (browsers read a backslash as a slash), no backslash, control character or whitespace (browsers
    drop tabs and newlines from URLs), no scheme or host. query_spaces: decoded spaces may stay in the query."""
    if not url.startswith("/") or url[1:2] in ("/", "\\"):
        return False
    path, _, query = url.partition("?")
    for part, spaces_ok in ((path, False), (query, query_spaces)):
        for ch in part:
            if ch == "\\" or (unicodedata.category(ch)[0] in ("C", "Z") and not (spaces_ok and ch == " ")):
                return False
    u = urlsplit(url)
    return not (u.scheme or u.netloc)


def safe_goto(url: str | None, default: str) -> str:
    """Only same-origin paths, before and after percent-decoding (repeated, for encoded-twice forms):
    no open redirects. Anything else gives default."""
    if not url or not _same_origin_path(url, query_spaces=False):
        return default
    decoded = url
    for _ in range(3):
        decoded, before = unquote(decoded), decoded
        if not _same_origin_path(decoded, query_spaces=True):
            return default
        if decoded == before:
            return url
    return default  # still encoded after three rounds: not a URL this SSI makes


@dataclass
class Ctx:
    request: Request
    db: sqlite3.Connection
    settings: Settings
    session: dict[str, Any] | None = None
    user: dict[str, Any] | None = None
    roles: list[str] = field(default_factory=list)
    components: set[str] = field(default_factory=set)
    _token: str | None = None  # a new session cookie to set
    _clear_cookie: bool = False
    cookies: dict[str, tuple[str, int]] = field(default_factory=dict)  # more cookies to set: name -> (value, max age)
    form: dict[str, str] = field(default_factory=dict)
    passwords: PasswordWork = field(default_factory=PasswordWork)  # argon2 results prepared off the loop
    as_widgets: bool = False  # the sp page API is drawing this page: a template with a widget view answers widgets

    # ---- session lifecycle -------------------------------------------------
    @property
    def profile(self):
        return self.settings.profile

    def load_session(self) -> None:
        token = self.request.cookies.get(COOKIE)
        if not token:
            return
        row = self.db.execute("SELECT * FROM sys_session WHERE id_hash=?", (security.token_hash(token),)).fetchone()
        if row is None:
            return
        sess = dict(row)
        idle = now() - sess["last_activity"]
        timeout = self.settings.idle_timeout_seconds - (60 if fault(self.settings, "idle_timeout_early") else 0)
        if sess["user"] and idle > timeout and not fault(self.settings, "no_idle_timeout"):
            self.db.execute("DELETE FROM sys_session WHERE id_hash=?", (sess["id_hash"],))
            self.new_session(flash=[("warning", self.profile.label("login.expired") + ". Please log in again.")])
            return
        self.session = sess
        self.db.execute("UPDATE sys_session SET last_activity=? WHERE id_hash=?", (now(), sess["id_hash"]))
        if sess["user"]:
            self._load_user(sess["user"])

    def _load_user(self, sys_id: str) -> None:
        row = self.db.execute("SELECT * FROM sys_user WHERE sys_id=?", (sys_id,)).fetchone()
        if row is None or not (row["active"] or fault(self.settings, "deactivate_keeps_access")):
            self.db.execute("DELETE FROM sys_session WHERE id_hash=?", (self.session["id_hash"],))
            self.session, self.user = None, None
            return
        self.user = dict(row)
        self.roles = [r[0] for r in self.db.execute("SELECT role FROM sys_user_has_role WHERE user=?", (sys_id,))]
        self.components = self.profile.role_matrix.components_for(self.roles)

    def new_session(self, *, user: str | None = None, stage: str = "anon", flash: list | None = None) -> dict:
        """Start a fresh session (a new id: no fixation), replacing the current one."""
        if self.session:
            self.db.execute("DELETE FROM sys_session WHERE id_hash=?", (self.session["id_hash"],))
        token = security.new_token()
        sess = {
            "id_hash": security.token_hash(token),
            "user": user,
            "stage": stage,
            "csrf": security.new_token(24),
            "created_at": now(),
            "last_activity": now(),
            "goto": (self.session or {}).get("goto", ""),
            "flash": json.dumps(flash or []),
            "pending_totp_seed": None,
            "setup_method": None,
            "login_confirmation": 0,
            "previous_login": "",
        }
        self.db.execute(
            "INSERT INTO sys_session VALUES (:id_hash,:user,:stage,:csrf,:created_at,:last_activity,:goto,:flash,"
            ":pending_totp_seed,:setup_method,:login_confirmation,:previous_login)",
            sess,
        )
        self.session, self._token = sess, token
        self.user = None
        if user:
            self._load_user(user)
        return sess

    def ensure_session(self) -> dict:
        return self.session or self.new_session()

    def update_session(self, **values: Any) -> None:
        sess = self.ensure_session()
        sess.update(values)
        cols = ", ".join(f"{k}=?" for k in values)
        self.db.execute(f"UPDATE sys_session SET {cols} WHERE id_hash=?", (*values.values(), sess["id_hash"]))

    def end_session(self) -> None:
        if self.session:
            self.db.execute("DELETE FROM sys_session WHERE id_hash=?", (self.session["id_hash"],))
        self.session, self.user, self._clear_cookie = None, None, True

    @property
    def signed_in(self) -> bool:
        return bool(self.user and self.session and self.session["stage"] == "active")

    # ---- flash messages ------------------------------------------------------
    def flash(self, kind: str, text: str) -> None:
        sess = self.ensure_session()
        items = json.loads(sess["flash"]) + [[kind, text]]
        self.update_session(flash=json.dumps(items))

    def portal_page_of(self, url: str) -> str | None:
        """The portal page an address (or the page API's request for it) shows, by its id; None elsewhere."""
        parts = urlsplit(url)
        if parts.path not in (self.profile.portal.suffix, "/api/now/sp/page"):
            return None
        return parse_qs(parts.query).get("id", [self.profile.portal.home_page])[0]

    def address_flash(self, url: str) -> None:
        """Messages waiting for the next page are for the portal page a redirect sends the browser to: a request
        the browser made before (a page API call still on its way when a post sent the browser on) leaves them."""
        page = self.portal_page_of(url)
        if not self.session or page is None:
            return
        items = json.loads(self.session["flash"])
        if any(len(i) == 2 for i in items):
            self.update_session(flash=json.dumps([i if len(i) == 3 else [*i, page] for i in items]))

    def take_flash(self) -> list[tuple[str, str]]:
        """The messages for this page: those addressed to it, and those addressed to no page."""
        if not self.session:
            return []
        items = json.loads(self.session["flash"])
        here = self.portal_page_of(str(self.request.url))
        mine = [i for i in items if len(i) == 2 or i[2] == here]
        if mine:
            self.update_session(flash=json.dumps([i for i in items if i not in mine]))
        return [(i[0], i[1]) for i in mine]

    # ---- CSRF ------------------------------------------------------------------
    def csrf_ok(self) -> bool:
        sent = self.form.get("sysparm_ck") or self.request.headers.get("X-UserToken", "")
        return bool(self.session and sent and security.same(sent, self.session["csrf"]))

    # ---- responses ---------------------------------------------------------------
    def finish(self, response: Response) -> Response:
        for k, v in SECURITY_HEADERS.items():
            response.headers.setdefault(k, v)
        if self._token:
            response.set_cookie(COOKIE, self._token, httponly=True, samesite="lax", path="/",
                                secure=self.request.url.scheme == "https")
        elif self._clear_cookie:
            response.delete_cookie(COOKIE, path="/")
        for name, (value, max_age) in self.cookies.items():
            response.set_cookie(name, value, max_age=max_age, httponly=True, samesite="lax", path="/",
                                secure=self.request.url.scheme == "https")
        return response

    def menu(self) -> list[tuple[str, str]]:
        if not self.signed_in:
            return []
        everything = fault(self.settings, "menu_shows_all")  # test-only: a menu that ignores the roles

        def shown(component: str | None) -> bool:
            return component is None or component in self.components or everything

        entries = [(p.menu_order, self.menu_label(p.menu), self.portal_url(p.id)) for p in PAGES.values()
                   if p.menu and shown(p.component)]
        entries += [(m.order, self.profile.label(m.label_key), self.portal_url(m.page_id, **m.params(self.profile)))
                    for m in MENU_LINKS if shown(m.component)]
        return [(label, url) for _, label, url in sorted(entries, key=lambda e: (e[0], e[1]))]

    def menu_label(self, menu: str) -> str:
        """A menu text, '@group.key': that label from the profile, or 'component:<key>': the menu label the
        profile's component_pages give that component."""
        if menu.startswith("component:"):
            return self.profile.component_page(menu.removeprefix("component:")).menu or ""
        return self.profile.label(menu[1:]) if menu.startswith("@") else menu

    def portal_url(self, page_id: str, **params: str) -> str:
        q = urlencode({"id": page_id, **params})
        return f"{self.profile.portal.suffix}?{q}"

    def render(self, template: str, status: int = 200, **context: Any) -> Response:
        sess = self.ensure_session()
        base = {
            "request": self.request,
            "profile": self.profile,
            "L": self.profile.labels,
            "user": self.user if self.signed_in else None,
            "menu": self.menu(),
            "csrf": sess["csrf"],
            "flashes": self.take_flash(),
            "unsafe": switched_on(self.settings),
            "portal": self.profile.portal.suffix,
            "sp": self.settings.portal_ui == "sp",
        }
        templates = raw_templates() if fault(self.settings, "no_escaping") else TEMPLATES
        resp = templates.TemplateResponse(self.request, template, {**base, **context}, status_code=status)
        return self.finish(resp)

    def wants_json(self) -> bool:
        """A post by a Service Portal widget (XHR, Accept: application/json): answered with JSON, not a page."""
        return self.request.method == "POST" and "application/json" in self.request.headers.get("accept", "")

    def redirect(self, url: str) -> Response:
        self.address_flash(url)
        return self.finish(RedirectResponse(url, status_code=303))

    def json(self, data: Any, status: int = 200) -> Response:
        return self.finish(JSONResponse(data, status_code=status))

    def login_redirect(self) -> Response:
        """Send an anonymous visitor to log in, remembering where they wanted to go."""
        target = str(self.request.url.path) + (f"?{self.request.url.query}" if self.request.url.query else "")
        self.update_session(goto=safe_goto(target, ""))
        return self.redirect(self.portal_url(self.profile.portal.login_page))

    def not_valid(self) -> Response:
        return self.render("message.html", status=404, title="Not valid", code=404,
                           message=self.profile.label("errors.not_authorized"))

    def forbidden(self) -> Response:
        return self.render("message.html", status=403, title=self.profile.labels["errors"].get("forbidden_heading",
                           "Access denied"), code=403, message=self.profile.label("errors.forbidden"))

