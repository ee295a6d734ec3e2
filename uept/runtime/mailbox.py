"""The emails a persona receives from the SSI (other than codes: those are uept/runtime/otp.py's), for the
steps that expect one, e.g. "I receive an email saying my request was accepted by DCC". From the reference
SSI's mail sink (a Mailpit-style API) or a real mailbox over IMAP (TLS), as the target's mailbox says."""

from __future__ import annotations

import email.utils
import imaplib
import time
from dataclasses import dataclass
from email import message_from_bytes
from email.policy import default as default_policy
from typing import Protocol

import httpx

from uept.runtime.polling import poll
from uept.runtime.secrets import Secret


@dataclass(frozen=True)
class Mail:
    subject: str
    body: str
    received: float  # epoch seconds


class Inbox(Protocol):
    def arrived(self, since: float) -> list[Mail]: ...


@dataclass
class MailsinkInbox:
    api_url: str
    token: Secret | None
    address: str

    def arrived(self, since: float) -> list[Mail]:
        headers = {"Authorization": f"Bearer {self.token.reveal()}"} if self.token else {}
        with httpx.Client(base_url=self.api_url, headers=headers, timeout=10) as http:
            r = http.get("/messages", params={"to": self.address, "since": since})
            r.raise_for_status()
            return [Mail(m["Subject"], http.get(f"/message/{m['ID']}").json()["Text"], m["Created"])
                    for m in r.json()["messages"]]


@dataclass
class ImapInbox:
    host: str
    port: int
    user: Secret
    password: Secret
    folder: str = "INBOX"

    def arrived(self, since: float) -> list[Mail]:
        day = time.strftime("%d-%b-%Y", time.gmtime(since))
        out = []
        with imaplib.IMAP4_SSL(self.host, self.port) as imap:
            imap.login(self.user.reveal(), self.password.reveal())
            imap.select(self.folder, readonly=True)
            _, data = imap.search(None, "SINCE", day)
            for num in data[0].split():
                _, msg_data = imap.fetch(num, "(BODY.PEEK[])")
                msg = message_from_bytes(msg_data[0][1], policy=default_policy)
                sent = email.utils.parsedate_to_datetime(msg["Date"]).timestamp() if msg["Date"] else 0.0
                if sent >= since:
                    body = msg.get_body(preferencelist=("plain",))
                    out.append(Mail(str(msg["Subject"] or ""), body.get_content() if body else "", sent))
        return out


def wait_for(inbox: Inbox, since: float, subject_has: str, *, timeout: float, who: str) -> Mail:
    """The first email to arrive since `since` whose subject holds these words (waiting up to `timeout`)."""

    def found() -> Mail | None:
        return next((m for m in inbox.arrived(since) if subject_has in m.subject), None)

    return poll(found, timeout=timeout, every=0.2, what=f'no email with "{subject_has}" in its subject reached {who}')
