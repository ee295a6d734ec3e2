"""The registry of portal pages the sp generation renders as widgets, and the refusals a builder may raise.

A builder turns a request into the page's widgets, plain JSON the shell's script renders:
{"title": str, "widgets": [{"type": "tiles" | "facts" | "producer" | "ticket" | "message", ...}]}.
Pages without a builder (or whose builder does not apply to this request) keep their classic rendering.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from fastapi.responses import Response

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


# ---- pages drawn by their classic handler: the same rules and context, the template swapped for a widget view
View = Callable[..., dict[str, Any]]
VIEWS: dict[str, View] = {}


def sp_view(template: str) -> Callable[[View], View]:
    """Register view(ctx, **context) -> widget: the sp drawing of what a classic template draws from its context."""

    def register(fn: View) -> View:
        if template in VIEWS:
            raise ValueError(f"sp view of {template!r} registered twice")
        VIEWS[template] = fn
        return fn

    return register


class WidgetReply(Response):
    """A handler's page as widgets (for the sp page API), in place of its rendered template."""

    def __init__(self, widgets: Widgets, status: int) -> None:
        super().__init__(status_code=status)
        self.widgets = widgets


def drawn(ctx: Ctx, template: str, title: str, status: int, context: dict[str, Any]) -> Response | None:
    """The widgets of a template's context when the sp page API draws the page (a WidgetReply), or when a widget's
    post is answered with the page again (a refused save: JSON {"status": "failure", "error", "result": widgets},
    the widget redraws itself from it); None when the template is to be rendered as it is."""
    view = VIEWS.get(template)
    if view is None or not (ctx.as_widgets or ctx.wants_json()):
        return None
    widgets = {"title": title, "widgets": [view(ctx, **context)]}
    if ctx.as_widgets:
        return WidgetReply(widgets, status)
    return ctx.json({"status": "failure", "error": {"message": "Nothing has been saved.", "detail": ""},
                     "result": widgets}, status if status >= 400 else 400)


def moved(ctx: Ctx, url: str) -> Response:
    """Where the browser goes after a post that succeeded: a redirect, or for a widget's post {"result": {"url"}}
    (the widget changes route, or redraws when it is the same page; the flashed message comes with that page)."""
    if not ctx.wants_json():
        return ctx.redirect(url)
    ctx.address_flash(url)
    return ctx.json({"result": {"url": url}})


def from_handler(handler: Callable[[Ctx], Response]) -> Callable[[Ctx], Widgets]:
    """A builder that runs the page's classic handler with its templates swapped for their widget views."""

    def build(ctx: Ctx) -> Widgets:
        ctx.as_widgets = True
        reply = handler(ctx)
        if isinstance(reply, WidgetReply):
            return reply.widgets
        if reply.status_code == 404:
            raise not_valid(ctx)
        if reply.status_code == 403:
            raise forbidden(ctx)
        raise Refusal(reply.status_code, "Error", "This page could not be drawn.")

    return build
