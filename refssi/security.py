"""Passwords, tokens and one-time codes, done properly."""

from __future__ import annotations

import asyncio
import base64
import functools
import hashlib
import hmac
import json
import secrets
import threading
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor

import pyotp
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

# argon2id at OWASP's minimum profile (m=19 MiB, t=2, p=1): real hashing, fast enough
# for a reference server that seeds a few dozen accounts at start.
HASHER = PasswordHasher(time_cost=2, memory_cost=19456, parallelism=1)


@functools.cache
def _dummy_hash() -> str:
    """What an unknown user's password is checked against (the same work as a real check), made when first
    needed: argon2 at import would lengthen every server's start."""
    return HASHER.hash("not-a-real-password")


# Where argon2 ran, for the harness's own tests (GET /_operator/password_work): never on the event loop,
# whose every millisecond of hashing stalls every other request (refssi/passwords.py).
PASSWORD_WORK = {"on_event_loop": 0, "in_worker_threads": 0}


_COUNT_LOCK = threading.Lock()


def _count_password_work() -> None:
    try:
        asyncio.get_running_loop()
        where = "on_event_loop"
    except RuntimeError:  # no loop runs in this thread: a worker thread (or start-up, before the loop)
        where = "in_worker_threads"
    with _COUNT_LOCK:
        PASSWORD_WORK[where] += 1


def hash_password(password: str) -> str:
    _count_password_work()
    return HASHER.hash(password)


def hash_in_background(passwords: Mapping[str, str]) -> Callable[[], dict[str, str]]:
    """Start hashing these passwords ({key: password}) on worker threads and return what waits for the hashes
    ({key: hash}). argon2 releases the GIL, so the server hashes its seeded accounts' passwords on the second core
    while it imports the rest of itself: half its start-up time otherwise."""
    pool = ThreadPoolExecutor(max_workers=4, thread_name_prefix="refssi-seed-hash")
    dummy = pool.submit(_dummy_hash)  # ready before the first login: an unknown user costs what a known one does
    futures = {key: pool.submit(hash_password, password) for key, password in passwords.items()}
    pool.shutdown(wait=False)
    return lambda: dummy.result() and {key: f.result() for key, f in futures.items()}


def verify_password(stored_hash: str | None, password: str) -> bool:
    """Constant work whether or not the user exists."""
    _count_password_work()
    try:
        return HASHER.verify(stored_hash or _dummy_hash(), password) and stored_hash is not None
    except (VerificationError, InvalidHashError):
        return False


def new_token(nbytes: int = 32) -> str:
    return secrets.token_urlsafe(nbytes)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def same(a: str, b: str) -> bool:
    return hmac.compare_digest(a.encode(), b.encode())


def totp_match(seed: str, code: str, *, at: float, window: int, interval: int = 30, digits: int = 6) -> int | None:
    """The time step (RFC 6238 T) a code belongs to within +-window steps of `at`, or None."""
    if not (code.isdigit() and len(code) == digits):
        return None
    totp = pyotp.TOTP(seed, interval=interval, digits=digits)
    step = int(at // interval)
    found = None
    for offset in range(-window, window + 1):
        if hmac.compare_digest(totp.generate_otp(step + offset), code):
            found = step + offset
    return found


def new_numeric_code(digits: int = 6) -> str:
    return f"{secrets.randbelow(10**digits):0{digits}d}"


def code_hash(key: bytes, user: str, code: str) -> str:
    return hmac.new(key, f"{user}:{code}".encode(), hashlib.sha256).hexdigest()


# ---- signed messages (the imitated SAML request and response: JSON, base64url, HMAC-SHA256)
def signing_key(server_key: bytes, purpose: str) -> bytes:
    """A key of its own for each purpose, derived from the server's key."""
    return hmac.new(server_key, purpose.encode(), hashlib.sha256).digest()


def sign_message(key: bytes, data: dict) -> str:
    body = base64.urlsafe_b64encode(json.dumps(data, separators=(",", ":"), sort_keys=True).encode()).decode()
    return f"{body}.{hmac.new(key, body.encode(), hashlib.sha256).hexdigest()}"


def open_message(key: bytes | None, token: str) -> dict | None:
    """The data of a signed message, or None when it is malformed or (with a key) its signature is wrong."""
    body, _, mac = token.strip().partition(".")
    if key is not None and not (mac and same(mac, hmac.new(key, body.encode(), hashlib.sha256).hexdigest())):
        return None
    try:
        data = json.loads(base64.urlsafe_b64decode(body.encode()))
    except (ValueError, UnicodeDecodeError, RecursionError):
        return None
    return data if isinstance(data, dict) else None
