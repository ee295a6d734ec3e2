"""Where one-time codes come from: an authenticator (TOTP), an email, or a person.

TotpSource behaves like a careful human with an authenticator app: it never
starts typing a code that is about to roll over (it waits for the next time step
when fewer than `margin` seconds remain), and it never submits the same code
twice for the same account, even across parallel workers and consecutive runs
(the last used time step is kept per account under a file lock). When the target
profile says the server accepts codes a step ahead (clock-skew tolerance), a
second login in the same 30 s uses the next step's code instead of waiting.
"""

from __future__ import annotations

import hashlib
import imaplib
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from email import message_from_bytes
from email.policy import default as default_policy
from pathlib import Path
from typing import Protocol

import httpx
import pyotp
from filelock import FileLock

from ssi.errors import UsageError
from uept.runtime.polling import poll
from uept.runtime.secrets import Secret


class OtpSource(Protocol):
    def mark(self) -> None:
        """Called before the password is sent: only codes issued after this moment count."""

    def code(self) -> Secret: ...


@dataclass
class TotpSource:
    seed: Secret
    account: str  # a stable key for the account, e.g. target URL + user name
    state_dir: Path
    interval: int = 30
    digits: int = 6
    margin: float = 5.0
    lookahead: int = 0  # time steps ahead the server accepts (clock-skew tolerance); 0 = none
    clock: Callable[[], float] = time.time
    sleep: Callable[[float], None] = time.sleep
    waited: float = field(default=0.0, init=False)

    def __post_init__(self) -> None:
        self._totp = pyotp.TOTP(self.seed.reveal(), interval=self.interval, digits=self.digits)
        self.state_dir.mkdir(parents=True, exist_ok=True)
        key = hashlib.sha256(self.account.encode()).hexdigest()[:24]
        self._state = self.state_dir / f"totp-{key}.last"
        self._lock = FileLock(str(self.state_dir / f"totp-{key}.lock"))

    def _last_step(self) -> int:
        try:
            return int(self._state.read_text())
        except (FileNotFoundError, ValueError):
            return -1

    def mark(self) -> None:
        pass  # an authenticator's codes follow the clock, not the login

    def code(self) -> Secret:
        """A code no one has used yet, with at least `margin` seconds of validity left."""
        with self._lock:
            last = self._last_step()
            now = self.clock()
            step = int(now // self.interval)
            remaining = self.interval - (now % self.interval)
            if remaining < self.margin:
                step += 1
            step = max(step, last + 1)
            # A code is accepted from `lookahead` steps before its own step begins (the server's
            # tolerance for clock skew); before that, wait: the authenticator has no such code yet.
            start = (step - self.lookahead) * self.interval
            if start > now:
                self.waited += start - now
                self.sleep(start - now + 0.05)
            self._state.write_text(str(step))
            return Secret(self._totp.at(step * self.interval), f"one-time code for {self.account}")

    def past_code(self, steps_ago: int, keep: float = 0.0) -> Secret:
        """The code the authenticator showed `steps_ago` steps before the current one, typed as code() types the
        current one: never in a step's last `margin` (or `keep`) seconds, and from a step no code was used for yet.
        `keep`: seconds the current step must still last (the code stays inside the server's window that long)."""
        with self._lock:
            last = self._last_step()
            now = self.clock()
            step = int(now // self.interval)
            if self.interval - (now % self.interval) < max(self.margin, keep):
                step += 1
            step = max(step, last + 1 + steps_ago)
            if step * self.interval > now:
                self.waited += step * self.interval - now
                self.sleep(step * self.interval - now + 0.05)
            self._state.write_text(str(max(last, step - steps_ago)))
            return Secret(self._totp.at((step - steps_ago) * self.interval), f"earlier code for {self.account}")

    def expired_code(self, steps_ago: int = 4) -> Secret:
        """The code the authenticator showed `steps_ago` time steps ago: outside any server's tolerance."""
        return Secret(self._totp.at(self.clock() - steps_ago * self.interval), f"expired code for {self.account}")

    def last_code(self) -> Secret:
        """The code of the last time step this source used (to prove a replay is refused)."""
        last = self._last_step()
        if last < 0:
            raise UsageError(f"no code has been used yet for {self.account}", "sign in once before replaying a code")
        return Secret(self._totp.at(last * self.interval), f"replayed code for {self.account}")


class _Mailbox:
    """What the emailed-code sources share: a moment after which codes count, and waiting for the newest."""

    since: float
    timeout: float
    every: float = 0.2

    def mark(self) -> None:
        """Only codes that arrive after this moment count (call before asking for one)."""
        self.since = time.time() - 1

    def code(self) -> Secret:
        return poll(self._newest, timeout=self.timeout, every=self.every, what=self._missing())

    def _newest(self) -> Secret | None:
        raise NotImplementedError

    def _missing(self) -> str:
        raise NotImplementedError


@dataclass
class MailsinkSource(_Mailbox):
    """Reads the newest code sent to `address` from a Mailpit-style API (the reference SSI's sink)."""

    api_url: str
    token: Secret | None
    address: str
    pattern: str
    subject: str = ""
    timeout: float = 30.0
    since: float = 0.0
    _client: httpx.Client | None = field(default=None, init=False, repr=False)

    def _http(self) -> httpx.Client:
        if self._client is None:
            headers = {"Authorization": f"Bearer {self.token.reveal()}"} if self.token else {}
            self._client = httpx.Client(base_url=self.api_url, headers=headers, timeout=10)
        return self._client

    def _missing(self) -> str:
        return f"no email with a verification code reached {self.address}"

    def _newest(self) -> Secret | None:
        r = self._http().get("/messages", params={"to": self.address, "since": self.since})
        r.raise_for_status()
        for m in r.json()["messages"]:
            if self.subject and self.subject not in m["Subject"]:
                continue
            body = self._http().get(f"/message/{m['ID']}").json()["Text"]
            found = re.search(self.pattern, body)
            if found:
                self.since = m["Created"] + 1e-6
                return Secret(found.group(1), f"emailed code for {self.address}")
        return None


@dataclass
class ImapSource(_Mailbox):
    """Reads the newest code from a real mailbox over IMAP (TLS)."""

    host: str
    port: int
    user: Secret
    password: Secret
    pattern: str
    subject: str
    folder: str = "INBOX"
    timeout: float = 60.0
    since: float = field(default_factory=time.time)
    every: float = 2.0

    def _missing(self) -> str:
        return f"no email with a verification code arrived in {self.folder}"

    def _newest(self) -> Secret | None:
        with imaplib.IMAP4_SSL(self.host, self.port) as imap:
            imap.login(self.user.reveal(), self.password.reveal())
            imap.select(self.folder)
            _, data = imap.search(None, "SUBJECT", f'"{self.subject}"', "UNSEEN")
            for num in reversed(data[0].split()):
                _, msg_data = imap.fetch(num, "(RFC822)")
                msg = message_from_bytes(msg_data[0][1], policy=default_policy)
                if msg["Date"] and msg["Date"].datetime.timestamp() < self.since:
                    continue
                body = msg.get_body(preferencelist=("plain",))
                found = re.search(self.pattern, body.get_content() if body else "")
                if found:
                    return Secret(found.group(1), f"emailed code for {self.user.label}")
        return None


@dataclass
class PromptSource:
    """A person reads the code from their own authenticator and types it (real SSI, personal device)."""

    who: str
    tty: str = "/dev/tty"

    def mark(self) -> None:
        pass  # the person reads the current code when asked

    def code(self) -> Secret:
        try:
            with open(self.tty, "r+") as t:
                t.write(f"\nuept: enter the current verification code for {self.who}: ")
                t.flush()
                value = t.readline().strip()
        except OSError:
            raise UsageError(
                f"persona {self.who} uses otp 'prompt' but there is no terminal to type the code into",
                "run uept in a terminal with -n 1, or give the persona a totp seed",
            ) from None
        return Secret(value, f"typed code for {self.who}")
