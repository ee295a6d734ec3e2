"""Secrets: passwords, TOTP seeds and one-time codes.

A Secret never prints its value (repr, str, f-strings and logs show a label), and
every Secret created in a process is remembered by the process-wide REGISTRY so
that logs can be redacted and evidence can be checked for leaks before it is kept.
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Iterable


class SecretRegistry:
    """Every secret value this process has seen, with a label saying what it is."""

    MIN_LENGTH = 4

    def __init__(self) -> None:
        self._values: dict[str, str] = {}
        self._lock = threading.Lock()
        self._pattern: re.Pattern[str] | None = None

    def add(self, value: str, label: str) -> None:
        if len(value) < self.MIN_LENGTH:
            return
        with self._lock:
            if value not in self._values:
                self._values[value] = label
                self._pattern = None

    def labels(self) -> list[str]:
        return list(self._values.values())

    def values(self) -> list[str]:
        return list(self._values)

    def items(self) -> dict[str, str]:
        """value -> label, for scanning evidence for these exact values."""
        with self._lock:
            return dict(self._values)

    def _regex(self) -> re.Pattern[str] | None:
        with self._lock:
            if self._pattern is None and self._values:
                # Numeric codes only match as whole numbers: '493817' must not match inside INC0493817x.
                parts = []
                for v in sorted(self._values, key=len, reverse=True):
                    e = re.escape(v)
                    parts.append(rf"(?<![0-9A-Za-z]){e}(?![0-9A-Za-z])" if v.isdigit() else e)
                self._pattern = re.compile("|".join(parts))
            return self._pattern

    def find(self, text: str) -> list[str]:
        """Labels of the secrets that occur in text (empty when none does)."""
        rx = self._regex()
        if rx is None or not text:
            return []
        return sorted({self._values[m.group(0)] for m in rx.finditer(text)})

    def redact(self, text: str) -> str:
        rx = self._regex()
        return rx.sub("******", text) if rx is not None and text else text



class StreamRedactor:
    """Redacts a stream that arrives in pieces (a child's output, read as it comes), passing on at once
    whatever cannot be part of a secret: complete lines, and an unfinished line (pytest's progress dots)
    except for a tail that could be the start of a secret, which waits for what follows."""

    def __init__(self, registry: SecretRegistry) -> None:
        self.registry = registry
        self.pending = ""

    def _could_begin_a_secret(self) -> int:
        """Length of the longest tail of `pending` that is the start of a known secret."""
        longest = 0
        for value in self.registry.values():
            for k in range(min(len(value), len(self.pending)), longest, -1):
                if self.pending.endswith(value[:k]):
                    longest = k
                    break
        return longest

    def feed(self, text: str) -> str:
        self.pending += text
        out = []
        head, newline, tail = self.pending.rpartition("\n")
        if newline:
            out.append(self.registry.redact(head + newline))
            self.pending = tail
        cut = len(self.pending) - self._could_begin_a_secret()
        rx = self.registry._regex()
        for m in rx.finditer(self.pending) if rx is not None else ():
            if m.start() < cut < m.end():  # never cut through a secret: keep it whole for later
                cut = m.start()
        if cut > 0:
            out.append(self.registry.redact(self.pending[:cut]))
            self.pending = self.pending[cut:]
        return "".join(out)

    def flush(self) -> str:
        out, self.pending = self.registry.redact(self.pending), ""
        return out


REGISTRY = SecretRegistry()


class Secret:
    """A secret value that does not show itself. Call reveal() only to type it into a field."""

    __slots__ = ("_value", "label")

    def __init__(self, value: str, label: str) -> None:
        if not isinstance(value, str):
            raise TypeError("a Secret holds a str")
        self._value = value
        self.label = label
        REGISTRY.add(value, label)

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return f"Secret({self.label})"

    __str__ = __repr__

    def __format__(self, spec: str) -> str:
        return repr(self)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)

    def __reduce__(self):  # never pickled into xdist messages, caches or reports
        raise TypeError("a Secret cannot be serialised")


class RedactingFilter(logging.Filter):
    """Replaces every registered secret in a log record's final message."""

    def filter(self, record: logging.LogRecord) -> bool:
        msg = record.getMessage()
        clean = REGISTRY.redact(msg)
        if clean != msg:
            record.msg, record.args = clean, None
        return True


def install_log_redaction(loggers: Iterable[logging.Logger | logging.Handler] = ()) -> None:
    """Redact secrets on the root logger's handlers (and any extra loggers/handlers given)."""
    flt = RedactingFilter()
    targets = [*logging.getLogger().handlers, *loggers]
    for t in targets:
        if not any(isinstance(f, RedactingFilter) for f in t.filters):
            t.addFilter(flt)
