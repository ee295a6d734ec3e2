"""A trace part as the harness keeps it (uncompressed: the pack compresses all of them together) opens in
Playwright's own trace viewer, with its actions; a damaged one does not, so the check can fail."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect, sync_playwright

from uept.evidence.writer import store_uncompressed
from uept.runtime import browser

PAGE = "<main><h1>Trace viewer check</h1><button onclick=\"this.textContent='Pressed'\">Press me</button></main>"


@pytest.fixture(scope="module")
def chromium():
    with sync_playwright() as p:
        b = p.chromium.launch(**browser.resolve().launch_args())
        yield b
        b.close()


def _trace(chromium, path: Path) -> Path:
    context = chromium.new_context()
    context.tracing.start(screenshots=False, snapshots=True, sources=False)
    page = context.new_page()
    page.set_content(PAGE)
    page.get_by_role("button", name="Press me").click()
    expect(page.get_by_role("button", name="Pressed")).to_be_visible()
    context.tracing.stop(path=str(path))
    context.close()
    return path


@contextmanager
def _viewer(trace: Path) -> Iterator[str]:
    """`playwright show-trace` serving the trace (its own server, no window), and the address it listens on."""
    proc = subprocess.Popen([sys.executable, "-m", "playwright", "show-trace", "--host", "127.0.0.1", "--port", "0",
                             str(trace)], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            start_new_session=True)  # its node driver too is stopped at the end, with the group
    try:
        for line in proc.stdout:  # type: ignore[union-attr]
            if line.startswith("Listening on "):
                yield line.split("Listening on ", 1)[1].strip()
                return
        raise AssertionError("playwright show-trace ended without serving the trace")
    finally:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
        proc.stdout.close()  # type: ignore[union-attr]


def _shows_the_click(page: Page, url: str) -> None:
    page.goto(url)
    expect(page.get_by_text('get_by_role("button", name="Press me")').first).to_be_visible()
    expect(page.get_by_text("Click", exact=True).first).to_be_visible()


def test_a_trace_part_kept_uncompressed_opens_in_playwrights_trace_viewer(chromium, tmp_path: Path) -> None:
    part = _trace(chromium, tmp_path / "trace-01.zip")
    store_uncompressed(part)
    with zipfile.ZipFile(part) as z:
        assert {i.compress_type for i in z.infolist()} == {zipfile.ZIP_STORED}
    page = chromium.new_page()
    with _viewer(part) as url:
        _shows_the_click(page, url)
    page.close()


def test_a_damaged_trace_part_does_not_show_its_actions(chromium, tmp_path: Path) -> None:
    part = _trace(chromium, tmp_path / "trace-01.zip")
    store_uncompressed(part)
    data = part.read_bytes()
    part.write_bytes(data.replace(b'"type":"before"', b'"type":"xxxxxx"'))  # no action starts any more
    page = chromium.new_page()
    with _viewer(part) as url, pytest.raises(AssertionError):
        _shows_the_click(page, url)
    page.close()
