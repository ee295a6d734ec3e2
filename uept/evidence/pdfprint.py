"""Printing report.html to report.pdf with Chromium, in a process of its own session.

A terminal's Ctrl-C reaches every process of the foreground process group. uept holds the
signal while it writes the report (packcli.shielded), but Playwright's driver and the browser
it starts would be killed mid-print, and the PDF lost. So the printer runs as
`python -m uept.evidence.pdfprint` in a session of its own: it starts Chromium at once (while the report
is still being made), reads one job from stdin ({"html": ..., "pdf": ...}), prints it and writes
one line of JSON to stdout ({"pdf": path} or {"error": why}). End of stdin with no job (uept
cancelled it, or uept itself died) ends it without printing.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

FOOTER = ('<div style="font-size:11px;width:100%;text-align:center;color:#555">UEPT Test Completion Report '
          '&middot; page <span class="pageNumber"></span> of <span class="totalPages"></span></div>')


class PdfPrinter:
    """Prints report.html to PDF in a process started now, so that the browser starts while the report
    is being made, and prints while the pack is being hashed and zipped."""

    def __init__(self) -> None:
        self.pdf: Path | None = None
        self.error: str | None = None
        self._done = False
        self._proc = subprocess.Popen([sys.executable, "-m", "uept.evidence.pdfprint"], stdin=subprocess.PIPE,
                                      stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
                                      start_new_session=True)

    def running(self) -> bool:
        """Still waiting for its job (started earlier, e.g. while a run's last scenarios ran)."""
        return not self._done and self._proc.stdin is not None and self._proc.poll() is None

    def print(self, html_path: Path, pdf_path: Path) -> None:
        job = json.dumps({"html": str(Path(html_path).resolve()), "pdf": str(Path(pdf_path).resolve())})
        self._end_input(job + "\n")

    def cancel(self) -> None:
        self._end_input("")
        self._proc.wait()

    def _end_input(self, text: str) -> None:
        stdin, self._proc.stdin = self._proc.stdin, None  # communicate() must not touch it again
        if stdin is None:
            return
        try:
            stdin.write(text)
            stdin.close()
        except OSError as exc:  # the printer died starting Chromium; wait() says why
            self.error = f"the PDF printer stopped ({exc.__class__.__name__})"

    def wait(self, timeout: float = 300) -> Path | None:
        if self._done:
            return self.pdf
        self._done = True
        try:
            out, _ = self._proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            self._proc.kill()
            self._proc.wait()
            self.error = f"Chromium did not print within {timeout:.0f} s"
            return None
        last = (out.strip().splitlines() or [""])[-1]
        try:
            answer = json.loads(last)
        except ValueError:
            answer = {"error": self.error or f"the PDF printer ended with exit status {self._proc.returncode}"}
        if answer.get("pdf") and Path(answer["pdf"]).is_file():
            self.pdf = Path(answer["pdf"])
        else:
            self.error = answer.get("error") or "no PDF"
        return self.pdf


def _print(html_path: Path, pdf_path: Path, page) -> None:
    page.goto(html_path.as_uri(), wait_until="load")
    tmp = pdf_path.with_suffix(".pdf.tmp")
    page.pdf(path=str(tmp), format="A4", print_background=True, display_header_footer=True,
             header_template="<span></span>", footer_template=FOOTER,
             margin={"top": "12mm", "bottom": "14mm", "left": "10mm", "right": "10mm"})
    tmp.replace(pdf_path)


def main() -> int:
    def answer(**kw: str) -> None:
        sys.stdout.write(json.dumps(kw) + "\n")
        sys.stdout.flush()

    try:
        from playwright.sync_api import sync_playwright

        from uept.runtime import browser
        from uept.runtime.pwfix import install

        install()
        with sync_playwright() as p:
            own = Path(p.chromium.executable_path).is_file() and not os.environ.get("UEPT_CHROMIUM")
            chromium = browser.Chromium(None, "playwright") if own else browser.resolve(check_playwright=False)
            b = p.chromium.launch(**chromium.launch_args())
            try:
                page = b.new_page()
                line = sys.stdin.readline()
                if not line.strip():
                    return 0  # cancelled
                job = json.loads(line)
                _print(Path(job["html"]), Path(job["pdf"]), page)
                answer(pdf=job["pdf"])
            finally:
                b.close()
    except Exception as exc:  # the HTML report stands on its own; say why there is no PDF
        answer(error=str(exc).splitlines()[0] if str(exc) else type(exc).__name__)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
