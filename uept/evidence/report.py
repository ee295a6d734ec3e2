"""The Test Completion Report of a run folder, and everything generated beside it.

`write_reports(run_dir)` (called at the end of every `uept run`, and by `uept report`)
writes, from the result files alone:
  summary.json     the assessment (uept/completion.py)
  report.html      one self-contained HTML file: inline CSS, screenshot thumbnails as
                   data: URIs linking to the full-size files, no script, no request
  report.pdf       the same page printed by Chromium (skipped with a note if it cannot start)
  cucumber.json    Cucumber JSON (uept/exports.py)
  allure-results/  environment.properties, executor.json, categories.json added
"""

from __future__ import annotations

import base64
import hashlib
import io
import os
import posixpath
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape

from uept.evidence.completion import ScenarioCatalogue, assess
from uept.evidence.pdfprint import PdfPrinter
from uept.evidence.rundir import read_json, write_json_atomic
from uept.runtime.secrets import REGISTRY

TEMPLATES = Path(__file__).resolve().parent / "templates"
THUMB_WIDTH = 200


def _anchor(value: str) -> str:
    return "sc-" + re.sub(r"[^A-Za-z0-9_-]+", "-", value)


def _cls(value: str) -> str:
    return re.sub(r"[^A-Za-z0-9]+", "-", str(value))


_ENV = Environment(loader=FileSystemLoader(str(TEMPLATES)), autoescape=select_autoescape(["html"]),
                   trim_blocks=True, lstrip_blocks=True)
_ENV.filters["anchor"] = _anchor
_ENV.filters["cls"] = _cls


class Thumbnails:
    """Small JPEG data: URIs of screenshots; identical screenshots are decoded once."""

    def __init__(self) -> None:
        self._cache: dict[str, str | None] = {}

    def __call__(self, path: Path) -> str | None:
        try:
            data = path.read_bytes()
        except OSError:
            return None
        digest = hashlib.sha1(data).hexdigest()
        if digest not in self._cache:
            self._cache[digest] = self._make(data)
        return self._cache[digest]

    def prepare(self, paths: list[Path]) -> None:
        """Make the thumbnails of these pictures on every core: Pillow lets go of the GIL while it decodes, scales
        and encodes (bench/evidence.py prints what the report takes)."""
        from concurrent.futures import ThreadPoolExecutor

        todo: dict[str, bytes] = {}
        for path in dict.fromkeys(paths):
            try:
                data = path.read_bytes()
            except OSError:
                continue
            digest = hashlib.sha1(data).hexdigest()
            if digest not in self._cache:
                todo.setdefault(digest, data)
        if len(todo) < 2:
            return
        with ThreadPoolExecutor(max_workers=min(4, os.cpu_count() or 1)) as pool:
            self._cache.update(zip(todo, pool.map(self._make, todo.values()), strict=True))

    @staticmethod
    def _make(data: bytes) -> str | None:
        from PIL import Image, UnidentifiedImageError

        try:
            with Image.open(io.BytesIO(data)) as im:
                if im.format == "JPEG":
                    im.draft("RGB", (THUMB_WIDTH * 2, THUMB_WIDTH * 2))  # DCT-domain downscale: fast
                im = im.convert("RGB")
                im.thumbnail((THUMB_WIDTH, THUMB_WIDTH * 4))
                out = io.BytesIO()
                # WebP: half the bytes of a JPEG at the same quality (1.4 against 2.8 KB a thumbnail of a full run's
                # pictures), for 1.5 ms more each; a full run's report.html held 7 MB of JPEG thumbnails
                im.save(out, "WEBP", quality=60)
        except (UnidentifiedImageError, OSError, ValueError):
            return None
        return "data:image/webp;base64," + base64.b64encode(out.getvalue()).decode()


@dataclass
class Report:
    run_dir: Path
    summary: dict[str, Any]
    html: str
    pdf: Path | None = None
    notes: list[str] = field(default_factory=list)


def _details(run_dir: Path, summary: dict, thumbs: Thumbnails) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    results = {a["key"]: read_json(run_dir / "scenarios" / a["key"] / "result.json") or {}
               for sc in summary["scenarios"] for res in sc["results"] for a in res["attempts"]}
    thumbs.prepare([run_dir / "scenarios" / key / st["screenshot"]
                    for key, data in results.items() for st in data.get("steps", []) if st.get("screenshot")])
    for sc in summary["scenarios"]:
        for res in sc["results"]:
            for a in res["attempts"]:
                folder = run_dir / "scenarios" / a["key"]
                data = results[a["key"]]
                steps = []
                first_step_of: dict[str, int] = {}
                for st in data.get("steps", []):
                    st = dict(st)
                    if st.get("screenshot"):
                        # a screenshot may be stored once for identical pages: in another scenario's
                        # folder, or as the Allure attachment with the same bytes
                        st["full"] = posixpath.normpath(f"scenarios/{a['key']}/{st['screenshot']}")
                        st["thumb"] = thumbs(folder / st["screenshot"])
                        first = first_step_of.setdefault(st["full"], st.get("n"))
                        if first != st.get("n"):  # the page did not change since that step
                            st["same_as_step"] = first
                    steps.append(st)
                out[a["key"]] = {"steps": steps, "worker": data.get("worker"),
                                 "traces": [posixpath.normpath(f"scenarios/{a['key']}/{t}")
                                            for t in data.get("traces", [])],
                                 "withheld": data.get("traces_withheld", [])}
    return out


def render_html(run_dir: Path, summary: dict[str, Any]) -> str:
    details = _details(run_dir, summary, Thumbnails())
    html = _ENV.get_template("report.html").render(s=summary, details=details)
    return REGISTRY.redact(html)  # defence in depth: no secret this process knows can be printed


def write_reports(run_dir: Path, catalogue: ScenarioCatalogue | None = None, *, pdf: bool = True,
                  printer: PdfPrinter | None = None, salvage: bool = False) -> Report:
    """Everything but the pack. With a printer, the PDF is only started (printer.wait() ends it).
    A damaged record file stops it (rundir.DamagedRecord) unless salvage is set: see completion.assess."""
    from uept.evidence.exports import (
        mark_allure_flaky,
        share_with_allure,
        write_allure_extras,
        write_cucumber_json,
        write_junit_attempts,
    )

    run_dir = Path(run_dir)
    summary = assess(run_dir, catalogue, salvage=salvage)  # before the printer starts: it may stop here
    own_printer = printer is None and pdf
    if own_printer:
        printer = PdfPrinter()  # Chromium starts while the report is made
    write_json_atomic(run_dir / "summary.json", summary)
    notes: list[str] = []
    if (run_dir / "allure-results").is_dir():
        write_allure_extras(run_dir, summary)
        mark_allure_flaky(run_dir)
        share_with_allure(run_dir)  # one file per screenshot and trace, whoever points at it
    write_cucumber_json(run_dir)
    write_junit_attempts(run_dir)
    html = render_html(run_dir, summary)
    html_path = run_dir / "report.html"
    tmp = html_path.with_suffix(".html.tmp")
    tmp.write_text(html, encoding="utf-8")
    tmp.replace(html_path)
    (run_dir / "report.pdf").unlink(missing_ok=True)  # never a PDF of an older report
    pdf_path: Path | None = None
    if printer is not None:
        printer.print(html_path, run_dir / "report.pdf")
        if own_printer:
            pdf_path = printer.wait()
            if pdf_path is None:
                notes.append(f"report.pdf not made: {printer.error}")
    return Report(run_dir, summary, html, pdf_path, notes)
