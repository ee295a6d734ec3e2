from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.helpers import Portal
from uept.runtime.reference import EmbeddedSSI, RunningSSI


@pytest.fixture(scope="session")
def reference_ssi() -> Iterator[RunningSSI]:
    """One reference SSI for the HTTP-level tests (tests that mutate state use their own personas)."""
    with EmbeddedSSI() as ssi:
        yield ssi


@pytest.fixture
def portal(reference_ssi: RunningSSI) -> Portal:
    return Portal(reference_ssi.url)
