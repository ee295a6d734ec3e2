"""The report's PDF printer handed to make_evidence by `uept run`, which starts it before the report (uept/cli/run.py
EarlyPrinter): a printer that has stopped meanwhile is replaced, and one that is not needed is ended."""

from __future__ import annotations

import os
import signal
from pathlib import Path

import pytest

from tests.evidence_helpers import catalogue_file, make_run, new_key
from uept.evidence.bundle import make_evidence
from uept.evidence.pdfprint import PdfPrinter


@pytest.fixture()
def run_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    new_key(tmp_path / "k.pem")
    monkeypatch.setenv("UEPT_SIGNING_KEY", str(tmp_path / "k.pem"))
    return make_run(tmp_path)


def test_a_printer_that_stopped_before_the_report_is_replaced(run_dir: Path, tmp_path: Path) -> None:
    early = PdfPrinter()
    os.killpg(early._proc.pid, signal.SIGKILL)  # e.g. its Chromium killed while the run went on
    early._proc.wait()
    assert not early.running()
    report, _ = make_evidence(run_dir, None, str(catalogue_file(tmp_path)), log=lambda _: None, printer=early)
    assert report.pdf == run_dir / "report.pdf" and report.notes == []
    assert (run_dir / "report.pdf").read_bytes()[:5] == b"%PDF-"


def test_a_running_printer_prints_and_one_not_needed_ends(run_dir: Path, tmp_path: Path) -> None:
    early = PdfPrinter()
    assert early.running()
    report, _ = make_evidence(run_dir, None, str(catalogue_file(tmp_path)), log=lambda _: None, printer=early)
    assert report.pdf == run_dir / "report.pdf" and early.pdf == report.pdf  # the printer handed over printed it
    unused = PdfPrinter()
    report, _ = make_evidence(run_dir, None, str(catalogue_file(tmp_path)), pdf=False, log=lambda _: None,
                              printer=unused)
    assert unused._proc.poll() is not None and not unused.running()  # ended, not left waiting for a job
    assert report.pdf is None and report.notes == []  # no PDF asked for: none said to be missing
