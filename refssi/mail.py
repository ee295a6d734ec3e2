"""Email: real SMTP delivery to a local mail sink, and a Mailpit-style API to read it.

The reference SSI sends emailed one-time codes with smtplib to an aiosmtpd server
it runs on loopback; the sink stores each message in the sys_email table. The
harness reads messages through /_mailsink/api/v1 (shaped like Mailpit's API, so a
real Mailpit can stand in), authenticated with the operator token.
"""

from __future__ import annotations

import asyncio
import smtplib
import socket
import threading
from email.message import EmailMessage
from email.parser import BytesParser
from email.policy import default as default_policy

from aiosmtpd.smtp import SMTP, Envelope, Session

from .db import Database, new_sys_id, now


class _StoreHandler:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        msg = BytesParser(policy=default_policy).parsebytes(envelope.content)  # type: ignore[arg-type]
        body = msg.get_body(preferencelist=("plain",))
        text = body.get_content() if body is not None else ""
        with self.db.tx() as c:
            c.execute(
                "INSERT INTO sys_email VALUES (?,?,?,?,?,?)",
                (new_sys_id(), now(), envelope.mail_from, ",".join(envelope.rcpt_tos), str(msg["Subject"] or ""), text),
            )
        return "250 Message accepted for delivery"


class MailSink:
    """An SMTP server on a free loopback port, in its own thread and event loop."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self.port = 0
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="mailsink", daemon=True)
        self._server: asyncio.AbstractServer | None = None

    def start(self) -> int:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", 0))
        self.port = sock.getsockname()[1]
        handler = _StoreHandler(self.db)
        self._thread.start()

        async def serve() -> asyncio.AbstractServer:
            return await self._loop.create_server(lambda: SMTP(handler, hostname="refssi.local"), sock=sock)

        self._server = asyncio.run_coroutine_threadsafe(serve(), self._loop).result(timeout=10)
        return self.port

    def stop(self) -> None:
        if self._server is not None:
            self._loop.call_soon_threadsafe(self._server.close)
        self._loop.call_soon_threadsafe(self._loop.stop)


def send_mail(port: int, to: str, subject: str, body: str) -> None:
    msg = EmailMessage()
    msg["From"] = "DCC SSI <no-reply@ssi.reference.example>"
    msg["To"] = to
    msg["Subject"] = subject
    msg.set_content(body)
    with smtplib.SMTP("127.0.0.1", port, timeout=10) as smtp:
        smtp.send_message(msg)


# ---------------------------------------------------------------- the sink's read API
from fastapi import APIRouter, Depends, HTTPException, Request  # noqa: E402

from .operator import require_operator  # noqa: E402

api = APIRouter(prefix="/_mailsink/api/v1", dependencies=[Depends(require_operator)])


def _summary(row) -> dict:
    return {
        "ID": row["sys_id"],
        "Created": row["created_at"],
        "From": {"Address": row["sender"]},
        "To": [{"Address": a} for a in row["recipients"].split(",")],
        "Subject": row["subject"],
    }


@api.get("/messages")
async def messages(request: Request, to: str | None = None, since: float = 0, limit: int = 50) -> dict:
    """Newest first; filter by recipient and by arrival time (epoch seconds)."""
    with request.app.state.db.tx() as c:
        rows = c.execute(
            "SELECT * FROM sys_email WHERE created_at>=? AND (? IS NULL OR ','||recipients||',' LIKE '%,'||?||',%') "
            "ORDER BY created_at DESC LIMIT ?", (since, to, to, limit)).fetchall()
    return {"total": len(rows), "messages": [_summary(r) for r in rows]}


@api.get("/message/{sys_id}")
async def message(sys_id: str, request: Request) -> dict:
    with request.app.state.db.tx() as c:
        row = c.execute("SELECT * FROM sys_email WHERE sys_id=?", (sys_id,)).fetchone()
    if row is None:
        raise HTTPException(404, "no such message")
    return {**_summary(row), "Text": row["body"]}
