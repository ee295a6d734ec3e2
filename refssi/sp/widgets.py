"""The registry of portal pages the sp generation renders as widgets, and the refusals a builder may raise.

A builder turns a request into the page's widgets, plain JSON the shell's script renders:
{"title": str, "widgets": [{"type": "tiles" | "facts" | "producer" | "ticket" | "message", ...}]}.
Pages without a builder (or whose builder does not apply to this request) keep their classic rendering.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ..web import Ctx

Widgets = dict[str, Any]


@dataclass(frozen=True)
class SpPage:
    build: Callable[[Ctx], Widgets]
    applies: Callable[[Ctx], bool]


SP_PAGES: dict[str, SpPage] = {}


def sp_page(page_id: str, *, applies: Callable[[Ctx], bool] = lambda ctx: True):
    """Register build(ctx) -> widgets for /sp?id=page_id in the sp generation."""

    def register(fn: Callable[[Ctx], Widgets]) -> Callable[[Ctx], Widgets]:
        if page_id in SP_PAGES:
            raise ValueError(f"sp page {page_id!r} registered twice")
        SP_PAGES[page_id] = SpPage(fn, applies)
        return fn

    return register


def sp_applies(ctx: Ctx, page_id: str) -> bool:
    page = SP_PAGES.get(page_id)
    return bool(page and page.applies(ctx))


class Refusal(Exception):
    """The page cannot be shown: its widgets become one message widget with this HTTP status."""

    def __init__(self, status: int, title: str, text: str) -> None:
        super().__init__(text)
        self.status, self.title, self.text = status, title, text

    def widgets(self) -> Widgets:
        return {"title": self.title, "widgets": [{"type": "message", "code": self.status, "heading": self.title,
                                                  "text": self.text}]}


def not_valid(ctx: Ctx) -> Refusal:
    return Refusal(404, "Not valid", ctx.profile.label("errors.not_authorized"))


def forbidden(ctx: Ctx) -> Refusal:
    return Refusal(403, ctx.profile.labels["errors"].get("forbidden_heading", "Access denied"),
                   ctx.profile.label("errors.forbidden"))


def pair(key: str, label: str, value: str, stamp: str = "") -> dict[str, str]:
    """A label/value pair of a record or profile (rendered without dl/dd or table semantics); a time shown as
    "time ago" keeps its stamp (UTC, glide format) as ServiceNow's sn-time-ago keeps it in a title."""
    return {"key": key, "label": label, "value": value, **({"stamp": stamp} if stamp else {})}
