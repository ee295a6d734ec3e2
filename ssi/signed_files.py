"""Files a Party signs before it submits them through the SSI (ADT files, quarantine command actions).

ASSUMPTION (DCC keeps "file signing as it is today" but publishes no format): a signed file is the file's
bytes followed by one last line

    #SIGNATURE ed25519 <key id> <base64 signature>

where the signature is an Ed25519 signature (RFC 8032) over every byte before that line, and the key id is
the first 16 hex digits of the SHA-256 of the raw public key. DCC holds the public keys each organisation
registered; the SSI accepts a file only if its signature verifies under one of the submitting
organisation's keys. One module for both sides: the harness signs with it, the reference SSI checks with it.
"""

from __future__ import annotations

import base64
import hashlib
import re

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat, PublicFormat

TRAILER = re.compile(rb"\n#SIGNATURE ed25519 ([0-9a-f]{16}) ([A-Za-z0-9+/=]+)\n?\Z")


def new_private_key() -> str:
    """A fresh Ed25519 private key, raw and base64 (a secret: never logged, never in evidence)."""
    raw = Ed25519PrivateKey.generate().private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption())
    return base64.b64encode(raw).decode()


def public_key_of(private_b64: str) -> str:
    key = Ed25519PrivateKey.from_private_bytes(base64.b64decode(private_b64))
    return base64.b64encode(key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)).decode()


def key_id(public_b64: str) -> str:
    return hashlib.sha256(base64.b64decode(public_b64)).hexdigest()[:16]


def sign(content: bytes, private_b64: str) -> bytes:
    """The file with its signature line (content is the file as it would be without one)."""
    body = content if content.endswith(b"\n") else content + b"\n"
    key = Ed25519PrivateKey.from_private_bytes(base64.b64decode(private_b64))
    signature = base64.b64encode(key.sign(body[:-1])).decode()
    return body + f"#SIGNATURE ed25519 {key_id(public_key_of(private_b64))} {signature}\n".encode()


def signer_of(data: bytes, public_keys: list[str]) -> tuple[str | None, str]:
    """(the key id that signed the file, "") when its signature verifies under one of these public keys; else
    (None, why not): no signature line, a key that is not among them, or a signature that does not verify."""
    found = TRAILER.search(data)
    if found is None:
        return None, "it is not signed (no signature line at its end)"
    kid, signature = found.group(1).decode(), found.group(2)
    by_id = {key_id(k): k for k in public_keys}
    if kid not in by_id:
        return None, f"it is signed with key {kid}, which is not registered for your organisation"
    try:
        Ed25519PublicKey.from_public_bytes(base64.b64decode(by_id[kid])).verify(
            base64.b64decode(signature), data[: found.start()])
    except (InvalidSignature, ValueError):
        return None, "its signature does not match its content"
    return kid, ""
