"""A secret shown or posted while tracing is paused (private(page)) never reaches a trace part.

Regression test: pausing with tracing.stop_chunk() left Playwright recording network traffic,
and the next chunk carried the page that showed a one-time password and the form post that
carried a new password.
"""

from __future__ import annotations

import http.server
import secrets
import threading
import urllib.parse
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError
from playwright.sync_api import sync_playwright

from uept.runtime import browser
from uept.runtime.tracing import TraceRecorder, private, untraced

SHOWN = "Shown" + secrets.token_hex(8)  # what the page shows in a [data-secret] element
TYPED = "Typed" + secrets.token_hex(8)  # what the user types and posts


class _Handler(http.server.BaseHTTPRequestHandler):
    def _send(self, body: str) -> None:
        data = f"<!doctype html><html><body>{body}</body></html>".encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self) -> None:
        pages = {
            "/start": "<form method=post action=/secret><label for=p>New password</label>"
                      "<input id=p name=p type=password><button>Go</button></form>",
            "/clean": "<p>Nothing secret here</p>",
            "/disabled": "<label for=p>Password</label><input id=p name=p type=password disabled>",
        }
        self._send(pages.get(self.path, "not found"))

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length", 0))
        urllib.parse.parse_qs(self.rfile.read(length).decode())
        self._send(f"<p>Your one-time password: <code data-secret>{SHOWN}</code></p><a href=/clean>Next</a>")

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def site() -> Iterator[str]:
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{srv.server_address[1]}"
    srv.shutdown()


def test_nothing_from_a_private_moment_reaches_any_trace_part(site: str, tmp_path: Path) -> None:
    with sync_playwright() as pw:
        b = pw.chromium.launch(**browser.resolve().launch_args())
        try:
            context = b.new_context(base_url=site)
            page = context.new_page()
            rec = TraceRecorder(context, tmp_path, "secrets", ["[data-secret]", "input[type=password]"])
            rec.start()
            page.goto("/start")
            with private(page):  # type and post a password; the next page shows a one-time password
                page.get_by_label("New password").fill(TYPED)
                with page.expect_navigation():
                    page.get_by_role("button", name="Go").click()
            assert rec.paused, "tracing resumed while the page still showed a secret"
            with page.expect_navigation():
                page.get_by_role("link", name="Next").click()
            rec.resume_if_clean(page)
            assert not rec.paused
            page.goto("/start")
            parts = rec.stop()
        finally:
            b.close()
    assert len(parts) == 2, parts
    for part in parts:
        with zipfile.ZipFile(part) as z:
            for name in z.namelist():
                data = z.read(name)
                assert SHOWN.encode() not in data, f"the shown secret is in {part.name}:{name}"
                assert TYPED.encode() not in data, f"the typed secret is in {part.name}:{name}"


def test_a_failed_fill_inside_private_never_repeats_the_typed_value(site: str) -> None:
    """Playwright's error ends with a call log holding `fill("<the value>")`; pytest would copy it
    into the console, JUnit XML and Allure (seen when the browser died while a password was typed)."""
    with sync_playwright() as pw:
        b = pw.chromium.launch(**browser.resolve().launch_args())
        try:
            page = b.new_page(base_url=site)
            page.goto("/disabled")
            with pytest.raises(PlaywrightTimeoutError) as caught:  # the same kind of error as before
                with private(page):
                    page.get_by_label("Password").fill(TYPED, timeout=300)
        finally:
            b.close()
    message = str(caught.value)
    assert TYPED not in message
    assert "fill(<typed value withheld>)" in message and "Timeout 300ms exceeded" in message
    assert caught.value.__cause__ is None and caught.value.__suppress_context__  # the original is not chained


def actions_of(part: Path) -> list[dict]:
    """The calls a trace part records, as (method, params) of its "before" events."""
    import json

    with zipfile.ZipFile(part) as z:
        events = [json.loads(line) for line in z.read("trace.trace").decode().splitlines()]
    return [e for e in events if e.get("type") == "before"]


def test_the_harness_own_calls_are_left_out_of_the_trace_and_still_work(site: str, tmp_path: Path) -> None:
    """untraced(): a step's screenshot, its page-text script and a persona's cookies are not actions of the trace
    (no DOM snapshots, no session cookie in it), while the scenario's own calls around them are traced."""
    cookie = "Cookie" + secrets.token_hex(8)
    with sync_playwright() as pw:
        b = pw.chromium.launch(**browser.resolve().launch_args())
        try:
            context = b.new_context(base_url=site)
            page = context.new_page()
            rec = TraceRecorder(context, tmp_path, "untraced", ["[data-secret]"])
            rec.start()
            page.goto("/clean")
            assert page.evaluate("() => 'traced ' + 1") == "traced 1"
            with untraced():
                assert page.evaluate("() => 'untraced ' + 2") == "untraced 2"
                assert page.screenshot(type="jpeg")[:2] == b"\xff\xd8"
                context.add_cookies([{"name": "JSESSIONID", "value": cookie, "url": site}])
                with pytest.raises(Exception, match="boom"):  # a failing call still fails, with its reason
                    page.evaluate("() => { throw new Error('boom') }")
            page.get_by_text("Nothing secret here").click()
            [part] = rec.stop()
        finally:
            b.close()
    methods = [a.get("method") for a in actions_of(part)]
    assert methods.count("evaluateExpression") == 1 and "goto" in methods and "click" in methods, methods
    assert "screenshot" not in methods and "addCookies" not in methods, methods
    with zipfile.ZipFile(part) as z:
        everything = b"".join(z.read(n) for n in z.namelist())
    assert b"traced ' + 1" in everything and b"untraced ' + 2" not in everything
    assert cookie.encode() not in everything
