"""The catalogue item and ticket pages of the sp generation, as small registries like catalog/portal.py's.

An item or table with an sp builder renders as widgets; any other keeps its classic page. The
component checks are the classic ones (CATALOG_ITEMS), applied before a builder runs.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..faults import fault
from ..sp.widgets import Widgets, forbidden, not_valid, sp_page
from ..web import Ctx
from .portal import CATALOG_ITEMS, CatalogItem

SP_ITEMS: list[tuple[Callable[[Any], str], Callable[[Ctx], Widgets]]] = []
SP_TICKETS: dict[str, Callable[[Ctx, str], Widgets]] = {}


def sp_catalog_item(sys_id: Callable[[Any], str]):
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


def _item_builder(ctx: Ctx) -> Callable[[Ctx], Widgets] | None:
    wanted = ctx.request.query_params.get("sys_id", "")
    return next((fn for sid, fn in SP_ITEMS if wanted and sid(ctx.profile) == wanted), None)


def item_allowed(ctx: Ctx, item_sys_id: str) -> CatalogItem:
    """The catalogue item, when this user may use it (else a Refusal: 404 unknown, 403 not granted)."""
    item = next((i for i in CATALOG_ITEMS if i.sys_id(ctx.profile) == item_sys_id), None)
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
