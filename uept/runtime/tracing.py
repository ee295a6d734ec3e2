"""Playwright traces that never hold a secret.

A trace records every typed value (action parameters), every input's value (DOM
snapshots) and every request body (its network log), passwords included. So while
a page holds a secret, tracing is paused: the tracing session so far is saved as
one part and ended, nothing is recorded during the credential ceremony, and a new
session starts once no secret is on the page any more. (Chunks are not enough:
Playwright keeps one network log per tracing session, and a later chunk still
carries the login POST made between chunks.) A scenario's trace is therefore one
or more parts: trace-01.zip, trace-02.zip...

Page objects wrap credential entry in `with private(page): ...`; they need not
know whether anything is being traced. An error raised inside it is cleaned as well:
Playwright's messages end with a call log that repeats every typed value (`- fill("...")`),
and pytest would copy a failed fill's password into the console, JUnit XML and Allure.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from weakref import WeakKeyDictionary

from playwright.sync_api import BrowserContext, Error, Page

from uept.runtime.secrets import REGISTRY

_RECORDERS: WeakKeyDictionary[BrowserContext, TraceRecorder] = WeakKeyDictionary()

# Where the harness looks for secrets and masked fields on a page: the document and every open shadow root in it, as
# Playwright's locators and DOM snapshots see them. One walk for the trace's secret check below and the step
# picture's masks (uept/evidence/recorder.py), so that neither finds a field the other misses.
OPEN_SCOPES_JS = """const openScopes = () => {
  const scopes = [document];
  for (let i = 0; i < scopes.length; i++) {
    for (const el of scopes[i].querySelectorAll('*')) if (el.shadowRoot) scopes.push(el.shadowRoot);
  }
  return scopes;
};"""

# True when the page shows a secret: a [data-secret] element, or a masked input with a value, in the document or an
# open shadow root.
_SHOWS_SECRET_JS = """(selectors) => {
  """ + OPEN_SCOPES_JS + """
  for (const scope of openScopes()) {
    if (scope.querySelector('[data-secret]')) return true;
    for (const sel of selectors) {
      for (const el of scope.querySelectorAll(sel)) {
        if (('value' in el) ? el.value : el.textContent.trim()) return true;
      }
    }
  }
  return false;
}"""


def page_shows_secret(page: Page, selectors: list[str]) -> bool:
    try:
        with untraced():
            return bool(page.evaluate(_SHOWS_SECRET_JS, selectors))
    except Error:
        return True  # cannot tell (navigating, crashed): assume the worst


@contextmanager
def untraced() -> Iterator[None]:
    """The harness's own calls inside (a step's screenshot and page text, its secret and mask checks, a persona's
    session cookies put in place) go to the browser as Playwright's internal calls: the trace leaves them out, as
    it leaves out Playwright's own, so it records the scenario's actions and checks only. Each traced call costs a
    DOM snapshot before and after it (bench/step_profile.py), and a session's cookie in a trace is a credential.
    What they record is the step's own evidence (result.json, its picture and text). A Playwright whose client
    internals differ is left alone: the calls are then traced as before."""
    try:
        from playwright._impl.channel_owner import ApiZone
        from playwright._impl.utils import zones
    except ImportError:
        yield
        return
    # An API call made inside an open API zone runs as part of it; this zone is internal, so every channel call
    # under it is sent with internal metadata, which the tracer does not record (playwright 1.65's client).
    zone = zones.current_zone().with_("apiZone", ApiZone(api_name="uept evidence", frames=[], title=None,
                                                          internal=True))
    token = zones._async_local_storage.set(zone)
    try:
        yield
    finally:
        zones._async_local_storage.reset(token)


class TraceRecorder:
    def __init__(self, context: BrowserContext, out_dir: Path, title: str, mask_selectors: list[str]) -> None:
        self.context = context
        self.out_dir = out_dir
        self.title = title
        self.mask_selectors = mask_selectors
        self.parts: list[Path] = []
        self.active = False
        self.paused = False

    def _next(self) -> Path:
        return self.out_dir / f"trace-{len(self.parts) + 1:02d}.zip"

    def _start(self) -> None:
        # No screencast (screenshots=False): every step already has a masked screenshot, and the
        # screencast's continuous frames cost CPU and could show a secret mid-typing. No sources
        # (sources=False): they were half of every trace part, and the scenario-set hash in the
        # report identifies the exact step and page-object code anyway.
        self.context.tracing.start(title=self.title, screenshots=False, snapshots=True, sources=False)

    def start(self) -> None:
        self._start()
        self.active = True
        _RECORDERS[self.context] = self

    def pause(self) -> None:
        if self.active and not self.paused:
            path = self._next()
            self.context.tracing.stop(path=str(path))  # ends the session: its network log goes with it
            self.parts.append(path)
            self.paused = True

    def resume_if_clean(self, page: Page) -> None:
        if self.active and self.paused and not page_shows_secret(page, self.mask_selectors):
            self._start()
            self.paused = False

    def stop(self) -> list[Path]:
        if not self.active:
            return self.parts
        self.active = False
        try:
            if not self.paused:
                path = self._next()
                self.context.tracing.stop(path=str(path))
                self.parts.append(path)
        except Error:
            pass  # the browser is gone: keep the parts already saved
        _RECORDERS.pop(self.context, None)
        return [p for p in self.parts if p.exists()]


def recorder_for(context: BrowserContext) -> TraceRecorder | None:
    return _RECORDERS.get(context)


# The values of typing actions in Playwright's call logs: fill("..."), type("..."), press_sequentially("...").
_TYPED = re.compile(r'\b(fill|type|press_sequentially|pressSequentially)\((["\']).*?\2\)')


def without_typed_values(text: str) -> str:
    return REGISTRY.redact(_TYPED.sub(lambda m: f"{m.group(1)}(<typed value withheld>)", text))


@contextmanager
def private(page: Page) -> Iterator[None]:
    """Keep what happens inside out of the trace (typing a password or a code), and out of errors."""
    rec = recorder_for(page.context)
    if rec:
        rec.pause()
    try:
        yield
    except (Error, AssertionError) as exc:
        clean = without_typed_values(str(exc))
        if clean == str(exc):
            raise
        try:
            cleaned = type(exc)(clean)
        except Exception:
            cleaned = Error(clean)
        raise cleaned from None  # not chained: the original message holds the value
    finally:
        if rec:
            rec.resume_if_clean(page)
