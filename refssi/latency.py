"""REFSSI_LATENCY_MS: a random delay before every portal and API response, as a slow instance or network gives.

'N' waits N ms, 'MIN-MAX' a uniformly random time between the two. The harness's control endpoints
(/_operator, /_mailsink) and static files answer at once: only what a user's browser waits for is slowed.
"""

from __future__ import annotations

import asyncio
import random
from typing import Any

UNDELAYED = ("/_operator", "/_mailsink", "/static/")
MAX_MS = 10_000  # longer, and every wait of the harness (30 s an action) would time out: a typo, not a slow instance


def parse_latency(value: str) -> tuple[int, int]:
    """'300' -> (300, 300), '50-1500' -> (50, 1500); anything else is a ValueError saying how to fix it."""
    lo, sep, hi = value.strip().partition("-")
    try:
        low, high = int(lo), int(hi) if sep else int(lo)
    except ValueError:
        low, high = -1, -1
    if low < 0 or high < low:
        raise ValueError(f"REFSSI_LATENCY_MS={value}: use N or MIN-MAX in milliseconds, e.g. 300 or 50-1500")
    if high > MAX_MS:
        raise ValueError(f"REFSSI_LATENCY_MS={value}: at most {MAX_MS} ms a request, e.g. 50-1500")
    return low, high


class Latency:
    """ASGI middleware: await a random delay, then hand the request on."""

    def __init__(self, app: Any, window: tuple[int, int]) -> None:
        self.app, self.window = app, window

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] == "http" and self.window[1] and not scope.get("path", "").startswith(UNDELAYED):
            await asyncio.sleep(random.uniform(*self.window) / 1000)
        await self.app(scope, receive, send)
