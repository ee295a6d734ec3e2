"""The target's own clock: what a time rule of the SSI (an idle timeout, an emailed code's validity) is measured by.

A real-clock scenario cannot watch the outcome while it waits: any signed-in request restarts the idle timer, and
typing the emailed code uses it up. So it waits on what it can watch without touching either, the target's clock,
read from the HTTP Date header of a request that carries no cookie, until the profile's time plus a margin has
passed there; then the scenario's next step checks the outcome once. Polled with a deadline, never a blind sleep.
"""

from __future__ import annotations

import time
from email.utils import parsedate_to_datetime

import httpx

from uept.runtime.polling import poll


def margin_for(seconds: float) -> float:
    """How long past a time limit to wait before checking it: a tenth of it, at least 2 s (the Date header counts
    whole seconds) and at most a minute."""
    return min(60.0, max(2.0, seconds / 10))


class TargetClock:
    def __init__(self, url: str) -> None:
        self._http = httpx.Client(base_url=url, timeout=10, follow_redirects=False)

    def now(self) -> float:
        """The target's time (epoch seconds), from the Date header of an anonymous HEAD request (any answer has one);
        this machine's clock if the target sends none."""
        date = self._http.head("/").headers.get("date")
        return parsedate_to_datetime(date).timestamp() if date else time.time()

    def wait_past(self, seconds: float, what: str) -> float:
        """Wait until `seconds` plus margin_for(seconds) have passed on the target's clock from now; the wall-clock
        seconds waited."""
        deadline = self.now() + seconds + margin_for(seconds)
        t0 = time.monotonic()
        poll(lambda: True if self.now() >= deadline else None, timeout=seconds + margin_for(seconds) + 120,
             every=min(10.0, max(0.5, seconds / 30)), what=f"the SSI's clock passing {what}")
        return time.monotonic() - t0
