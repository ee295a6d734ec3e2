"""A fix for a Playwright client bug that hangs a run when the browser dies in the middle of a call.

When Chromium dies (a crash, an out-of-memory kill) while a call is in flight, e.g. `page.goto`,
the Playwright driver may dispose of the page, and of the Response the call returns, before it
sends the call's result. The Python client then cannot read that result ("Object with guid
response@... was not bound in the connection") after it has already forgotten the call: the call
never returns, and the run hangs until CI kills it, instead of failing the scenario and writing
its report. (playwright 1.65; caught by tests/test_evidence_e2e.py, which kills the browser
mid-run, in about a third of its runs.) With install(), such a call fails with that error.
"""

from __future__ import annotations

from typing import Any


def install() -> None:
    """Idempotent. Leaves the client alone if its internals are not the ones this fix knows."""
    try:
        from playwright._impl.connection import Connection
    except ImportError:
        return
    original = getattr(Connection, "dispatch", None)
    if original is None or getattr(original, "uept_fixed", False):
        return

    def dispatch(self: Any, message: dict) -> None:
        callbacks = getattr(self, "_callbacks", {})
        callback = callbacks.get(message.get("id")) if isinstance(message, dict) and message.get("id") else None
        try:
            original(self, message)
        except Exception as exc:
            future = getattr(callback, "future", None)
            if future is None or future.done():
                raise
            callback.reject(exc)  # the call fails, with the reason, instead of waiting forever

    dispatch.uept_fixed = True  # type: ignore[attr-defined]
    dispatch.original = original  # type: ignore[attr-defined]
    Connection.dispatch = dispatch
