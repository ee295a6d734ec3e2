"""The catalogue item and ticket pages of the sp generation, as small registries like catalog/portal.py's.

An item or table with an sp builder renders as widgets; any other keeps its classic page. The
component checks are the classic ones (CATALOG_ITEMS), applied before a builder runs.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi.responses import Response

from ..faults import fault
from ..sp.widgets import Widgets, forbidden, not_valid, sp_page
from ..web import Ctx
from .portal import CatalogItem, item_of

SP_ITEMS: list[tuple[Callable[[Any], str | tuple[str, ...]], Callable[[Ctx], Widgets]]] = []
SP_TICKETS: dict[str, Callable[[Ctx, str], Widgets]] = {}
SP_TICKET_ACTIONS: dict[str, Callable[[Ctx, dict[str, Any]], Response]] = {}  # tables other than incident


def sp_catalog_item(sys_id: Callable[[Any], str | tuple[str, ...]]):
    """Register build(ctx) -> widgets for the catalogue item with this sys_id (profile -> sys_id)."""

    def register(fn: Callable[[Ctx], Widgets]) -> Callable[[Ctx], Widgets]:
        SP_ITEMS.append((sys_id, fn))
        return fn

    return register


def sp_ticket_table(table: str):
    """Register build(ctx, sys_id) -> widgets for the ticket page of this table; it applies its own visibility."""

    def register(fn: Callable[[Ctx, str], Widgets]) -> Callable[[Ctx, str], Widgets]:
        SP_TICKETS[table] = fn
        return fn

    return register


def sp_ticket_action(table: str):
    """Register act(ctx, body) -> Response for /api/now/sp/ticket_action posts about a record of this table (the
    session and its token already checked)."""

    def register(fn: Callable[[Ctx, dict[str, Any]], Response]) -> Callable[[Ctx, dict[str, Any]], Response]:
        SP_TICKET_ACTIONS[table] = fn
        return fn

    return register


def _item_builder(ctx: Ctx) -> Callable[[Ctx], Widgets] | None:
    wanted = ctx.request.query_params.get("sys_id", "")
    def serves(ids: str | tuple[str, ...]) -> bool:
        return wanted == ids if isinstance(ids, str) else wanted in ids

    return next((fn for sid, fn in SP_ITEMS if wanted and serves(sid(ctx.profile))), None)


def item_allowed(ctx: Ctx, item_sys_id: str) -> CatalogItem:
    """The catalogue item, when this user may use it (else a Refusal: 404 unknown, 403 not granted)."""
    item = item_of(ctx.profile, item_sys_id)
    if item is None:
        raise not_valid(ctx)
    if (item.component and item.component not in ctx.components
            and not (item.bypass_fault and fault(ctx.settings, item.bypass_fault))):
        raise forbidden(ctx)
    return item


@sp_page("sc_cat_item", applies=lambda ctx: _item_builder(ctx) is not None)
def sc_cat_item_widgets(ctx: Ctx) -> Widgets:
    item_allowed(ctx, ctx.request.query_params.get("sys_id", ""))
    build = _item_builder(ctx)
    assert build is not None
    return build(ctx)


@sp_page("ticket", applies=lambda ctx: ctx.request.query_params.get("table", "") in SP_TICKETS)
def ticket_widgets(ctx: Ctx) -> Widgets:
    sys_id = ctx.request.query_params.get("sys_id", "")
    if not sys_id:
        raise not_valid(ctx)
    return SP_TICKETS[ctx.request.query_params["table"]](ctx, sys_id)
