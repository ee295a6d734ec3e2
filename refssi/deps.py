"""The per-request dependency: parse the form, open the transaction, load the session."""

from __future__ import annotations

from collections.abc import AsyncIterator

from fastapi import Request
from starlette.datastructures import UploadFile

from . import passwords
from .mail import send_mail
from .web import COOKIE, Ctx


async def get_ctx(request: Request) -> AsyncIterator[Ctx]:
    form: dict[str, str] = {}
    form_lists: dict[str, list[str]] = {}  # every value of a repeated field (checkbox groups)
    files: dict[str, tuple[str, str, bytes]] = {}
    ctype = request.headers.get("content-type", "")
    if request.method in ("POST", "PUT", "PATCH") and (
        ctype.startswith("application/x-www-form-urlencoded") or ctype.startswith("multipart/form-data")
    ):
        for key, value in (await request.form()).multi_items():
            if isinstance(value, UploadFile):
                if value.filename:
                    files[key] = (value.filename, value.content_type or "application/octet-stream", await value.read())
            else:
                form[key] = value
                form_lists.setdefault(key, []).append(value)
    db = request.app.state.db
    settings = request.app.state.settings
    outbox: list[tuple[str, str, str]] = []
    # argon2 work the handler may need, on a worker thread before the transaction (refssi/passwords.py)
    work = await passwords.prepare(request, db, form, settings.profile.portal.suffix, COOKIE)
    # Everything below runs on the event loop thread, one request at a time per transaction;
    # handlers must not await while the transaction is open.
    with db.tx() as conn:
        ctx = Ctx(request=request, db=conn, settings=settings, form=form, passwords=work)
        ctx.files = files  # type: ignore[attr-defined]
        ctx.form_lists = form_lists  # type: ignore[attr-defined]
        ctx.outbox = outbox  # type: ignore[attr-defined]
        ctx.load_session()
        yield ctx
    # Mail leaves after the commit, outside the lock (the sink's own thread writes to the db).
    for to, subject, body in outbox:
        send_mail(settings.smtp_port, to, subject, body)
