"""Argon2 work (verifying and hashing passwords) kept off the event loop.

A request's handler runs on the event loop inside one database transaction that holds the database
lock (refssi/deps.py), so an argon2id verification there (tens of milliseconds, on purpose) would
stall every other request. Handlers therefore never hash. Before the transaction opens, the
request's dependency asks what password work the page or route may need (its registered
preparer), runs that work on worker threads (argon2-cffi releases the GIL) and hands the results to
the handler in a PasswordWork memo. A handler that asks for something not prepared (e.g. a password
changed in the milliseconds between) still gets the right answer, computed inline.

Preparers only look (a short read of the session and the user's stored hash); every rule (the CSRF
token, lockout, the login stage) is still checked by the handler, in its transaction. They prepare
nothing for a form without the visitor's own security token, so a forged post costs no hash.
"""

from __future__ import annotations

import asyncio
import os
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from fastapi import Request

from . import security


# Threads of their own for argon2, never every core: the event loop keeps one (on 2 cores, one hashing
# thread; logins queue for it rather than take the loop's core).
def _yield_to_pages() -> None:
    """A hashing thread gives way to the event loop when both want a core (Linux: a thread's own nice value),
    so that a burst of logins slows the logins, not every page."""
    try:
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), HASH_NICENESS)
    except (AttributeError, OSError):
        pass


HASH_NICENESS = 10
HASH_POOL = ThreadPoolExecutor(max_workers=max(1, (os.cpu_count() or 2) - 1), thread_name_prefix="argon2",
                               initializer=_yield_to_pages)


@dataclass
class PasswordWork:
    """Results of argon2 work done before the transaction: verify(stored, password), hash(password), and
    (password, hash) pairs made in advance for handlers that generate passwords."""

    verified: dict[tuple[str | None, str], bool] = field(default_factory=dict)
    hashed: dict[str, str] = field(default_factory=dict)
    generated: list[tuple[str, str]] = field(default_factory=list)

    def verify(self, stored_hash: str | None, password: str) -> bool:
        key = (stored_hash, password)
        if key not in self.verified:
            self.verified[key] = security.verify_password(stored_hash, password)
        return self.verified[key]

    def hash(self, password: str) -> str:
        if password not in self.hashed:
            self.hashed[password] = security.hash_password(password)
        return self.hashed[password]

    def new_password(self, make: Callable[[], str]) -> tuple[str, str]:
        """A fresh password made by make() and its hash."""
        if self.generated:
            return self.generated.pop()
        password = make()
        return password, security.hash_password(password)


@dataclass
class Jobs:
    verify: list[tuple[str | None, str]] = field(default_factory=list)
    hash: list[str] = field(default_factory=list)
    generate: list[Callable[[], str]] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.verify or self.hash or self.generate)


def compute(jobs: Jobs) -> PasswordWork:
    """The work itself (in a worker thread)."""
    work = PasswordWork()
    for stored, password in jobs.verify:
        work.verify(stored, password)
    for password in jobs.hash:
        work.hash(password)
    for make in jobs.generate:
        password = make()
        work.generated.append((password, security.hash_password(password)))
    return work


async def run(jobs: Jobs) -> PasswordWork:
    """Do the jobs on a worker thread, the event loop serving other requests meanwhile."""
    if not jobs:
        return PasswordWork()
    return await asyncio.get_running_loop().run_in_executor(HASH_POOL, compute, jobs)


async def verify_off_loop(stored_hash: str | None, password: str) -> bool:
    return (await run(Jobs(verify=[(stored_hash, password)]))).verify(stored_hash, password)


# ---------------------------------------------------------------- what each page or route may need
@dataclass
class Peek:
    """What a preparer may look at: the form, the visitor's session (read, not touched) and stored hashes."""

    request: Request
    db: Any
    form: dict[str, str]
    session: dict[str, Any] | None  # sys_session row plus the user's stored hash as 'user_password'

    @property
    def csrf_ok(self) -> bool:
        sent = self.form.get("sysparm_ck") or self.request.headers.get("X-UserToken", "")
        return bool(self.session and sent and security.same(sent, self.session["csrf"]))

    def stored_hash(self, user_name: str) -> str | None:
        with self.db.tx() as c:
            row = c.execute("SELECT user_password FROM sys_user WHERE user_name=?", (user_name.strip(),)).fetchone()
        return row[0] if row else None


Preparer = Callable[[Peek], Jobs]
PREPARERS: dict[tuple[str, str], Preparer] = {}  # ('page', portal page id) | ('route', path) -> preparer


def prepares(kind: str, name: str) -> Callable[[Preparer], Preparer]:
    """Register the password work a portal page ('page', id) or a route ('route', path) may need on POST."""

    def register(fn: Preparer) -> Preparer:
        PREPARERS[(kind, name)] = fn
        return fn

    return register


def _peek_session(request: Request, db: Any, cookie: str) -> dict[str, Any] | None:
    token = request.cookies.get(cookie)
    if not token:
        return None
    with db.tx() as c:
        row = c.execute(
            "SELECT s.*, u.user_password FROM sys_session s LEFT JOIN sys_user u ON u.sys_id = s.user "
            "WHERE s.id_hash=?",
            (security.token_hash(token),),
        ).fetchone()
    return dict(row) if row else None


async def prepare(request: Request, db: Any, form: dict[str, str], portal_suffix: str, cookie: str) -> PasswordWork:
    """The password work this request's handler may ask for, done before its transaction opens."""
    if request.method != "POST":
        return PasswordWork()
    if request.url.path == portal_suffix:
        key = ("page", request.query_params.get("id") or "")
    else:
        key = ("route", request.url.path)
    preparer = PREPARERS.get(key)
    if preparer is None:
        return PasswordWork()
    jobs = preparer(Peek(request, db, form, _peek_session(request, db, cookie)))
    return await run(jobs)
