"""What a scenario's tags say: its own @UEPT-<THEME>-NN ID and the SSI requirements it shows."""

from __future__ import annotations

import re

UEPT_ID = re.compile(r"^UEPT-[A-Z]+-\d+$")
REQUIREMENT = re.compile(r"^(SSI-(?:FR|NFR)-\d+[a-z]?|BFD\d{2}|PM\d+)$")


def requirement_ids(tags: list[str] | set[str]) -> list[str]:
    return sorted(t for t in tags if REQUIREMENT.match(t))


def uept_id(tags: list[str] | set[str]) -> str | None:
    ids = sorted(t for t in tags if UEPT_ID.match(t))
    return ids[0] if ids else None
