"""The run this process belongs to, as scenario code sees it: where its folder is, and what it may add to
the evidence. The evidence engine (uept.evidence.plugin) sets the folder and provides the `uept_evidence`
fixture, an `Evidence`; fixtures and steps only use these names."""

from __future__ import annotations

from pathlib import Path
from typing import Protocol

import pytest

RUN_DIR_KEY = pytest.StashKey[Path]()  # config.stash[RUN_DIR_KEY]: this run's folder, reports/<run-id>/


class Evidence(Protocol):
    def attach(self, name: str, content: str | bytes, mime: str = "application/json") -> Path | None:
        """Keep a piece of evidence (e.g. the stored record a step checked) with the current step."""
