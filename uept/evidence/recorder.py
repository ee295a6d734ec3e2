"""Evidence of one scenario: step records, masked screenshots, traces, result.json.

result.json is rewritten atomically after every step, so an interrupted or crashed
run keeps everything recorded up to that moment.
"""

from __future__ import annotations

import base64
import hashlib
import itertools
import os
import time
import weakref
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from playwright.sync_api import Error, Page

from uept.evidence.rundir import json_bytes, now_iso, write_json_atomic
from uept.evidence.writer import WRITER, Masks, palette_webp_of, store_uncompressed, webp_of, write_atomic
from uept.runtime.config import PICTURE_SCALE
from uept.runtime.secrets import REGISTRY
from uept.runtime.tracing import OPEN_SCOPES_JS, TraceRecorder, untraced

# What a screenshot would show. `text`: the page's visible text minus masked elements, kept
# beside each screenshot (searchable evidence) and checked for secrets before the screenshot is
# kept. `look`: everything else that decides the picture (the rendered document without the
# values of hidden inputs, which never show, e.g. a per-request CSRF token, and the empty style
# attributes an earlier screenshot leaves on inputs; viewport, scroll,
# focus, hover, selection), so that two steps with the same text and look get the same pixels.
# Where the masks go: the mask selectors that match an element (in the document or an open shadow root, as
# Playwright's locators find them), and the box of every element they match, in CSS pixels of the viewport: the
# element's border box joined with what its contents draw, the box Playwright's own mask covers and more.
_MASKS_FN = OPEN_SCOPES_JS + """
const masksOf = (selectors) => {
  const scopes = openScopes();
  const boxes = [];
  const masks = selectors.filter((s) => {
    let any = false;
    for (const scope of scopes) {
      for (const el of scope.querySelectorAll(s)) {
        any = true;
        const range = document.createRange();
        range.selectNode(el);
        const drawn = [el.getBoundingClientRect(), range.getBoundingClientRect()]
          .filter((r) => r.width > 0 && r.height > 0);
        if (!drawn.length) continue;
        const x = Math.min(...drawn.map((r) => r.left)), y = Math.min(...drawn.map((r) => r.top));
        const w = Math.max(...drawn.map((r) => r.right)) - x, h = Math.max(...drawn.map((r) => r.bottom)) - y;
        boxes.push([x, y, w, h].map((v) => Math.round(v * 100) / 100));
      }
    }
    return any;
  });
  return {masks, boxes, clip: {x: scrollX, y: scrollY, width: innerWidth, height: innerHeight}};
};"""

_PAGE_VIEW_JS = """async (selectors) => {
  if (!document.body) return null;  // a document still arriving (a step's post redirected the browser)
  """ + _MASKS_FN + """
  const masked = (el) => selectors.some((s) => el.closest(s));
  const out = [];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  while (walker.nextNode()) {
    const el = walker.currentNode.parentElement;
    if (!el || masked(el) || ['SCRIPT', 'STYLE', 'NOSCRIPT'].includes(el.tagName)) continue;
    if (el.checkVisibility && !el.checkVisibility()) continue;
    const t = walker.currentNode.textContent.trim();
    if (t) out.push(t);
  }
  for (const el of document.querySelectorAll('input, textarea, select')) {
    if (el.type === 'hidden' || masked(el) || !el.value) continue;
    if ((el.type === 'radio' || el.type === 'checkbox') && !el.checked) continue;
    out.push(`[${el.labels && el.labels[0] ? el.labels[0].textContent.trim() : el.name}: ${el.value}]`);
  }
  const body = document.body.cloneNode(true);
  for (const el of body.querySelectorAll('input[type=hidden]')) el.removeAttribute('value');
  for (const el of body.querySelectorAll('[style=""]')) el.removeAttribute('style');  // left by a screenshot
  const where = (el) => {
    const path = [];
    for (; el && el.parentElement; el = el.parentElement) {
      path.unshift(el.tagName + ':' + Array.prototype.indexOf.call(el.parentElement.children, el));
    }
    return path.join('/');
  };
  const active = document.activeElement;
  const hovered = document.querySelectorAll(':hover');
  const look = [
    [...document.styleSheets].map((s) => s.href).join(' '), body.outerHTML,
    `${innerWidth}x${innerHeight}@${scrollX},${scrollY}`,
    where(active) + (active && active.matches(':focus-visible') ? ' focus-visible' : ''),
    hovered.length ? where(hovered[hovered.length - 1]) : '', String(getSelection()),
  ].join('\\n');
  // a digest of the look where the page may make one (a secure context: https or this machine), so that the
  // whole rendered document does not travel to the harness at every step
  const digest = window.isSecureContext && crypto.subtle
    ? Array.from(new Uint8Array(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(look))),
                 (b) => b.toString(16).padStart(2, '0')).join('')
    : look;
  // where a caret may blink, the browser's own picture hides it, as Playwright's does (caret="hide"); the style
  // goes once the picture is taken, or found to be one already taken
  const typing = !!active && (active.isContentEditable || active.matches('input, textarea'));
  if (typing && !document.querySelector('style[data-uept-no-caret]')) {
    const style = document.createElement('style');
    style.dataset.ueptNoCaret = '';  // an attribute no page of its own uses: only this style is ever removed
    style.textContent = '*, *::before, *::after { caret-color: transparent !important; }';
    (document.head || document.documentElement).appendChild(style);
  }
  return {text: out.join('\\n'), look: digest, ...masksOf(selectors), caret_hidden: typing,
          moving: document.getAnimations().some((a) => a.playState === 'running')};
}"""

# After a picture: where the masks go now, to be compared with where they went (ScenarioRecorder._masked_picture).
_AFTER_PICTURE_JS = """(selectors) => {
  """ + _MASKS_FN + """
  return masksOf(selectors);
}"""
# Once the picture is kept, or found to be one already kept: the caret's style removed.
_CARET_BACK_JS = """() => {
  const style = document.querySelector('style[data-uept-no-caret]');
  if (style) style.remove();
}"""


NO_PAGE_YET = "no page is open yet (the browser shows a blank page until a step opens the SSI)"
# The browser's JPEG at this quality costs it what q60 does and is all but lossless; the evidence writer keeps it
# as WebP (uept/evidence/writer.py), half the bytes of the q60 JPEG it once kept (bench/screenshot_formats.py)
CAPTURE_QUALITY = 90
# Pictures with the harness's own masks taken before a page whose masked elements keep moving is left to Playwright
OWN_MASK_TRIES = 3

# Screenshots already taken in this process, by (run folder, digest of the page's text and look):
# identical pictures share one file.
_SHOTS: dict[tuple[str, str], tuple[Path, Path]] = {}
# Each page's DevTools session for its pictures (False: none could be opened).
_DEVTOOLS: weakref.WeakKeyDictionary[Page, Any] = weakref.WeakKeyDictionary()


class SecretExposure(AssertionError):
    """A secret is visible on the page outside the masked elements."""


@dataclass
class ScenarioRecorder:
    run_dir: Path
    key: str
    meta: dict[str, Any]
    mask_selectors: list[str]
    screenshots: bool = True
    picture_scale: float = PICTURE_SCALE
    result: dict[str, Any] = field(init=False)
    dir: Path = field(init=False)
    trace: TraceRecorder | None = field(default=None, init=False)
    _step_started: float = field(default=0.0, init=False)
    _t0: float = field(default=0.0, init=False)

    def __post_init__(self) -> None:
        base = self.run_dir / "scenarios" / self.key
        attempt, path = 1, base
        while path.exists():
            attempt += 1
            path = base.with_name(f"{self.key}-attempt{attempt}")
        path.mkdir(parents=True)
        self.dir = path
        self._t0 = time.monotonic()
        self.result = {
            **self.meta,
            "key": path.name,
            "attempt": attempt,
            "status": "running",
            "started": now_iso(),
            "ended": None,
            "duration": None,
            "steps": [],
            "traces": [],
            "error": None,
        }
        self.flush()

    def flush(self) -> None:
        """result.json as it stands, written by the evidence writer (the newest given is the last written)."""
        data = json_bytes(self.result)
        path = self.dir / "result.json"
        WRITER.submit(lambda: write_atomic(path, data), f"{self.key}/result.json")

    # ---- traces --------------------------------------------------------------
    def start_trace(self, page: Page) -> None:
        self.trace = TraceRecorder(page.context, self.dir, self.result["name"], self.mask_selectors)
        self.trace.start()

    # ---- steps -----------------------------------------------------------------
    def step_started(self) -> None:
        self._step_started = time.monotonic()

    def step_finished(self, keyword: str, text: str, status: str, page: Page | None, error: str | None = None) -> dict:
        n = len(self.result["steps"]) + 1
        duration = round(time.monotonic() - self._step_started, 3) if self._step_started else None
        step: dict[str, Any] = {"n": n, "keyword": keyword, "text": text, "status": status,
                                "ended": now_iso(), "duration": duration, "error": error}
        if page is not None and self.screenshots and page.url == "about:blank":
            step.update(screenshot=None, no_screenshot=NO_PAGE_YET)
        elif page is not None and self.screenshots:
            try:
                step.update(self.screenshot(page, f"step-{n:02d}"))
            except SecretExposure as exc:
                step.update(status="failed", error=str(exc))
                self.result["steps"].append(step)
                self.flush()
                raise
        self.result["steps"].append(step)
        self._step_started = 0.0
        self.flush()
        if self.trace is not None and page is not None:
            self.trace.resume_if_clean(page)
        return step

    def screenshot(self, page: Page, name: str) -> dict[str, Any]:
        """A masked picture and the visible text beside it; refused if a secret shows outside the masks. Taken by
        Playwright's internal calls: the step's picture is its own evidence, not an action of the trace."""
        with untraced():
            return self._screenshot(page, name)

    def _screenshot(self, page: Page, name: str) -> dict[str, Any]:
        try:
            view = page.evaluate(_PAGE_VIEW_JS, self.mask_selectors)
            if view is None:  # the next document has no body yet: the screenshot is of it, once it has
                page.wait_for_load_state("domcontentloaded")
                view = page.evaluate(_PAGE_VIEW_JS, self.mask_selectors)
            if view is None:
                return {"screenshot": None, "screenshot_error": "the page had no document body to show"}
            text, url = view["text"], page.url
        except Error as exc:
            return {"screenshot": None, "screenshot_error": str(exc).splitlines()[0]}
        try:
            return self._picture(page, name, view, text, url)
        finally:
            if view.get("caret_hidden"):  # the style goes whether a picture was taken or not
                try:
                    page.evaluate(_CARET_BACK_JS)
                except Error:
                    pass  # the page has gone on: the style went with its document

    def _picture(self, page: Page, name: str, view: dict[str, Any], text: str, url: str) -> dict[str, Any]:
        leaked = REGISTRY.find(text) + REGISTRY.find(url)
        if leaked:
            raise SecretExposure(
                f"a secret ({', '.join(leaked)}) is visible on the page outside the masked fields; "
                "the screenshot was not kept"
            )
        seen = (str(self.run_dir), hashlib.sha256(f"{text}\0{view['look']}".encode()).hexdigest())
        earlier = _SHOTS.get(seen)
        if earlier:
            # The same picture (every visible word and the same rendered document, scroll, focus and
            # hover) was already captured in this run, by this step's scenario or another one (e.g. the
            # home page each access-control cell starts from, or one role's 403 page at every address
            # it refuses; a screenshot shows no address bar, and the step records its own URL):
            # point at that screenshot instead of storing an identical picture again.
            return {"screenshot": os.path.relpath(earlier[0], self.dir),
                    "page_text": os.path.relpath(earlier[1], self.dir), "url": url, "shared": True}
        shot = self.dir / f"{name}.webp"
        try:
            picture, masks = self._masked_picture(page, view)
        except Error as exc:
            return {"screenshot": None, "screenshot_error": str(exc).splitlines()[0], "url": url}
        page_text = self.dir / f"{name}.txt"

        def keep() -> None:  # on the evidence writer's thread: what the step took is decided already
            write_atomic(page_text, text.encode("utf-8"))
            # the masks are drawn before the picture is written anywhere (the picture is in memory until then)
            write_atomic(shot, palette_webp_of(picture, masks) if masks is not None
                         else webp_of(picture, self.picture_scale))

        WRITER.submit(keep, f"{self.key}/{shot.name}")
        _SHOTS[seen] = (shot, page_text)
        return {"screenshot": shot.name, "page_text": page_text.name, "url": url}

    def _masked_picture(self, page: Page, view: dict[str, Any]) -> tuple[bytes, Masks | None]:
        """The step's picture and, where the harness draws the masks itself, where it must draw them.

        A still page is rendered by Chromium at the picture's scale and the masks are drawn on it (black boxes over
        every element a mask selector matches, as Playwright's mask draws them). The masks are looked up again once
        the picture is taken: should a masked element have appeared or moved since (a page still rendering), the
        picture is taken again where they are now; after OWN_MASK_TRIES such pictures, or where something on the
        page moves, or where no DevTools session can be opened, Playwright takes the picture (masks drawn in the
        page, animations stopped) and it is scaled down, lossy, as before."""
        masks, boxes, clip = list(view["masks"]), view["boxes"], view["clip"]
        for attempt in itertools.count():
            rendered = width = None
            if not view["moving"] and attempt < OWN_MASK_TRIES:
                rendered, width = self._rendered_at_scale(page, clip)
            if rendered is None:
                picture = page.screenshot(type="jpeg", quality=CAPTURE_QUALITY, animations="disabled",
                                          caret="hide", full_page=False,
                                          mask=[page.locator(sel) for sel in masks], mask_color="#000000")
            now = page.evaluate(_AFTER_PICTURE_JS, self.mask_selectors)
            if rendered is not None and now["boxes"] == boxes and now["clip"] == clip:
                return rendered, Masks(boxes, width)
            added = [sel for sel in now["masks"] if sel not in masks]
            if rendered is None and not added:
                return picture, None
            masks, boxes, clip = masks + added, now["boxes"], now["clip"]
        raise AssertionError("unreachable")

    def _rendered_at_scale(self, page: Page, clip: dict[str, float]) -> tuple[bytes, float] | tuple[None, None]:
        """The viewport as Chromium renders it at the picture's scale (a PNG; DevTools' own capture, which
        Playwright's scale="css" uses too) and the viewport's width in CSS pixels: crisp text at 960 x 600 where a
        picture scaled down after the capture is blurred, and no slower to take. None where no DevTools session can
        be opened (then Playwright's picture is scaled down instead, as it is when something on the page moves)."""
        cdp = _DEVTOOLS.get(page)
        if cdp is None:
            try:
                cdp = page.context.new_cdp_session(page)
            except Error:
                cdp = False
            _DEVTOOLS[page] = cdp
        if cdp is False:
            return None, None
        # the viewport's size as the harness set it, not as the page reports it; the page's scroll position
        size = page.viewport_size or {"width": clip["width"], "height": clip["height"]}
        # optimizeForSpeed: Chromium's quickest PNG encoding, the same pixels in more bytes (they stay in memory):
        # 33-36 ms a picture against 46-50 ms (medians of 60 alternating captures of a login page, three calls)
        shot = cdp.send("Page.captureScreenshot", {"format": "png", "optimizeForSpeed": True, "clip": {
            "x": clip["x"], "y": clip["y"], "width": size["width"], "height": size["height"],
            "scale": self.picture_scale}})
        return base64.b64decode(shot["data"]), size["width"]

    # ---- end -------------------------------------------------------------------
    def finish(self, status: str, error: str | None = None) -> None:
        if self.trace is not None:
            self.result["traces"] = [p.name for p in self.trace.stop()]
            self._withhold_unsafe_traces()
            for name in self.result["traces"]:  # the pack compresses all the run's parts together
                try:
                    store_uncompressed(self.dir / name)
                except (OSError, zipfile.BadZipFile):
                    pass  # kept as Playwright wrote it: the pack takes it as it is
        self.result.update(status=status, ended=now_iso(), duration=round(time.monotonic() - self._t0, 3))
        if error and not self.result["error"]:
            self.result["error"] = error
        self.flush()
        lost = WRITER.flush()  # everything of the scenario is written before it counts as ended
        if lost:
            self.result.update(status="error", error="evidence not written: " + "; ".join(lost)[:400])
            write_json_atomic(self.dir / "result.json", self.result)

    def _withhold_unsafe_traces(self) -> None:
        """Last line of defence: a trace part holding a secret (or its shape) is deleted, and the
        result says so. tracing.py keeps credentials out of traces; this catches what it missed."""
        from uept.evidence.leakscan import scan_bytes

        kept = []
        for name in self.result["traces"]:
            path = self.dir / name
            try:
                findings = scan_bytes(name, path.read_bytes(), REGISTRY.items())
            except OSError:
                continue
            if findings:
                path.unlink(missing_ok=True)
                self.result.setdefault("traces_withheld", []).append(
                    {"file": name, "why": "; ".join(sorted({f.what for f in findings}))})
            else:
                kept.append(name)
        self.result["traces"] = kept
