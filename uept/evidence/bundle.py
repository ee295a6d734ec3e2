"""Everything made from a run folder at the end: the report (HTML, PDF, exports) and the signed pack.

The catalogue and the signing key are found from the config (or the environment) here, for `uept run`,
`uept report` and `uept merge` alike.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from uept.evidence.completion import ScenarioCatalogue
from uept.evidence.pack import build, key_path, load_private_key
from uept.evidence.report import PdfPrinter, write_reports
from uept.runtime import config
from uept.runtime.secrets import REGISTRY


def scenario_catalogue(path: str | None, settings: config.Settings | None = None) -> ScenarioCatalogue:
    chosen = path or os.environ.get("UEPT_SCENARIO_CATALOGUE") or (settings.scenario_catalogue if settings else None)
    return ScenarioCatalogue.load(Path(chosen) if chosen else None)


def signing_key(settings: config.Settings | None, log: Callable[[str], None] = print):
    path, explicit = key_path(settings.signing_key if settings else None)
    return load_private_key(path, explicit, log)


def check_signing_key(settings: config.Settings | None) -> None:
    """A named signing key must exist and be usable; the default one is only made when a pack is made."""
    path, explicit = key_path(settings.signing_key if settings else None)
    if explicit or path.exists():
        load_private_key(path, explicit)


def make_evidence(run_dir: Path, settings: config.Settings | None, catalogue_path: str | None = None,
                  pdf: bool = True, salvage: bool = False, log: Callable[[str], None] = print,
                  printer: PdfPrinter | None = None) -> tuple[Any, Any]:
    """Report, PDF, exports and signed pack of a run folder: (report, pack). The PDF prints in a
    process of its own while the pack hashes and zips everything else. `printer`: one started earlier (`uept run`
    starts it while its last scenarios run); a new one is started if it has stopped meanwhile."""
    if printer is not None and (not pdf or not printer.running()):
        printer.cancel()
        printer = None
    try:
        catalogue = scenario_catalogue(catalogue_path, settings)
        key = signing_key(settings, log)
        printer = printer or (PdfPrinter() if pdf else None)
        report = write_reports(run_dir, catalogue, pdf=pdf, printer=printer, salvage=salvage)
    except BaseException:
        if printer:
            printer.cancel()
        raise
    pack = build(run_dir, key, known_secrets=REGISTRY.items(), late=("report.pdf",),
                 wait=printer.wait if printer else None)
    if printer is not None:
        report.pdf = printer.pdf
        if printer.pdf is None:
            report.notes.append(f"report.pdf not made: {printer.error}")
    return report, pack
