"""The tables a portal user may attach files to (incident, sc_req_item), as a small registry: the REST
Attachment API, the sys_attachment table's scope and the download page serve every one of them alike."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Attachable:
    view: str  # the role-matrix component that shows the record (and so its files)
    update: str  # the component that lets a user attach a file to it
    visible: Callable[..., dict[str, Any] | None]  # (conn, settings, principal, sys_id) -> record or None
    attach: Callable[..., dict[str, Any]]  # (conn, settings, principal, record, Upload) -> sys_attachment row
    scope: Callable[..., tuple[str, list[Any]]]  # (settings, principal, column) -> SQL condition on `column`
    listed: bool = True  # False: a form's files before it is submitted (a cart item's), seen by their uploader only


ATTACHABLE: dict[str, Attachable] = {}


def attachable(table: str, entry: Attachable) -> None:
    if table in ATTACHABLE:
        raise ValueError(f"attachable table {table!r} registered twice")
    ATTACHABLE[table] = entry
