"""The Test Completion Report opens in Chromium offline: no console error, no request; the PDF prints."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import sync_playwright

from tests.evidence_helpers import catalogue_file, make_run, write_result
from uept.evidence.completion import ScenarioCatalogue
from uept.evidence.report import write_reports
from uept.runtime import browser


def open_offline(html: Path) -> dict:
    """Open a report file in Chromium; return what the page did and showed."""
    chromium = browser.resolve()
    seen: dict = {"console": [], "requests": [], "page_errors": []}
    with sync_playwright() as p:
        b = p.chromium.launch(**chromium.launch_args())
        try:
            page = b.new_page()
            page.on("console", lambda m: seen["console"].append(f"{m.type}: {m.text}") if m.type in (
                "error", "warning") else None)
            page.on("pageerror", lambda e: seen["page_errors"].append(str(e)))
            page.on("request", lambda r: seen["requests"].append(r.url))
            page.goto(html.resolve().as_uri(), wait_until="load")
            seen["title"] = page.title()
            seen["verdict"] = page.get_by_label("Exit criteria verdict").inner_text()
            seen["images"] = page.eval_on_selector_all(
                "img", "els => els.map(e => [e.naturalWidth, e.complete, e.src.slice(0, 22),"
                " e.closest('a')?.getAttribute('href')])")
            seen["text"] = page.locator("body").inner_text()
            page.emulate_media(media="print")  # as report.pdf is printed
            seen["print"] = page.eval_on_selector_all(
                "td.shot", "els => els.map(e => [e.closest('tr').className,"
                " !!e.querySelector('img')?.checkVisibility(),"
                " e.querySelector('.file')?.checkVisibility() ? e.querySelector('.file').textContent : null])")
        finally:
            b.close()
    return seen


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> dict:
    tmp = tmp_path_factory.mktemp("report")
    run_dir = make_run(tmp, statuses={"UEPT-DEMO-02-nobody": "failed", "UEPT-DEMO-03": "interrupted"})
    write_result(run_dir, "UEPT-DEMO-01-attempt2", "UEPT-DEMO-01", "First demo scenario", "passed", attempt=2,
                 tags=["UEPT-DEMO", "UEPT-DEMO-01", "SSI-FR-1a"], started="2026-11-23T08:00:09.000Z")
    rep = write_reports(run_dir, ScenarioCatalogue.load(catalogue_file(tmp)), pdf=True)
    return {"run": run_dir, "report": rep, "seen": open_offline(run_dir / "report.html")}


def test_report_opens_without_console_errors_or_requests(report: dict) -> None:
    seen = report["seen"]
    assert seen["console"] == [] and seen["page_errors"] == []
    # the only load is the report file itself: no CDN, no font, no image fetched
    assert seen["requests"] == [(report["run"] / "report.html").resolve().as_uri()]


def test_report_content(report: dict) -> None:
    seen = report["seen"]
    assert seen["title"].startswith("UEPT Test Completion Report: Northern Power Supply Ltd (INCOMPLETE)")
    assert "INCOMPLETE" in seen["verdict"] and "UEPT-DEMO-02" in seen["verdict"]
    assert "Expected to see 'Welcome'" in seen["verdict"]  # the failure message, in the blocking list
    text = seen["text"]
    for expected in ("NPSL", "Supplier", "Reference SSI (embedded)", "http://127.0.0.1:1", "sha256:",
                     "tester on ci-1", "chromium 150.0.7871.100", "Debian GNU/Linux 12", "Summary per UEPT theme",
                     "Requirement coverage", "not covered", "Retried: 2 attempts", "Attempt 1:", "Attempt 2:",
                     'Example: who = "nobody"', "2026-11-23T08:00:00.000Z"):
        assert expected in text, expected


def test_thumbnails_are_inline_and_link_to_full_size_screenshots(report: dict) -> None:
    images = report["seen"]["images"]
    assert len(images) >= 14
    for width, complete, src, href in images:
        assert complete and 0 < width <= 200 and src == "data:image/webp;base64"
        assert (report["run"] / href).is_file(), href


def test_on_paper_a_step_shows_its_picture_only_when_it_did_not_pass(report: dict) -> None:
    """The PDF holds the pictures of the steps that failed (or errored); a passed step names its picture in the
    pack instead of holding a copy too small to read (half the PDF's bytes in a full run)."""
    cells = report["seen"]["print"]
    shown = [cls for cls, visible, _ in cells if visible]
    named = [(cls, path) for cls, visible, path in cells if path and not visible]
    assert shown and "step-passed" not in shown, cells
    assert len(named) >= 10 and {cls for cls, _ in named} == {"step-passed"}, cells
    assert all((report["run"] / path).is_file() for _, path in named), named


def test_pdf_is_printed_by_chromium(report: dict) -> None:
    pdf = report["report"].pdf
    assert pdf is not None and pdf.read_bytes()[:5] == b"%PDF-"
    assert pdf.stat().st_size > 20_000
    assert report["report"].notes == []


def test_printed_text_is_at_least_8_points(tmp_path: Path) -> None:
    """report.pdf is read on paper: no text under 8 pt, even with long tag lists (an unbreakable run of tags
    once made Chromium shrink every page to two thirds, 5.5 pt body text)."""
    from pdfminer.high_level import extract_pages
    from pdfminer.layout import LTChar

    run_dir = make_run(tmp_path)
    tags = ["UEPT-DEMO", "UEPT-DEMO-05", "one-worker-per-persona", "needs-operator", "entra",
            *(f"SSI-FR-{n}" for n in range(1, 16))]
    write_result(run_dir, "UEPT-DEMO-05", "UEPT-DEMO-05", "A scenario with a long list of tags", "passed", tags=tags)
    report = write_reports(run_dir, ScenarioCatalogue.load(catalogue_file(tmp_path)), pdf=True)
    assert report.pdf is not None
    sizes: dict[float, int] = {}

    def walk(node) -> None:
        if isinstance(node, LTChar):
            if node.get_text().strip():
                sizes[round(node.size, 2)] = sizes.get(round(node.size, 2), 0) + 1
        elif hasattr(node, "__iter__"):
            for child in node:
                walk(child)

    for page in extract_pages(str(report.pdf)):
        walk(page)
    assert sum(sizes.values()) > 2000, sizes
    assert min(sizes) >= 8.0, sorted(sizes.items())
    html = (run_dir / "report.html").read_text()
    assert "font: 14px/1.45" in html  # the HTML keeps its own size


def test_thumbnails_made_on_every_core_are_each_their_own_pictures(tmp_path: Path) -> None:
    """Thumbnails.prepare makes them in a pool: each picture's thumbnail is the one made of it alone."""
    from PIL import Image

    from uept.evidence.report import Thumbnails

    paths = []
    for n, colour in enumerate(["#c00000", "#00c000", "#0000c0", "#c0c000", "#c00000"]):  # the last: a duplicate
        paths.append(tmp_path / f"step-{n}.webp")
        Image.new("RGB", (960, 600), colour).save(paths[-1], "WEBP", lossless=True)
    pooled = Thumbnails()
    pooled.prepare([*paths, tmp_path / "missing.webp"])
    assert len(pooled._cache) == 4
    assert [pooled(p) for p in paths] == [Thumbnails()(p) for p in paths]
    assert len({pooled(p) for p in paths}) == 4
