"""Two generic Service Portal pages that several modules share, as small registries.

/sp?id=sc_cat_item&sys_id=<item>  a catalog item or record producer; each module registers its items
/sp?id=ticket&table=<t>&sys_id=…  the standard ticket page; each module registers the tables it shows

The portal page itself only needs a signed-in user; the component that guards an
item or a table is checked here, on the server, so a direct URL is refused just
like a hidden menu entry.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from fastapi.responses import Response

from ..faults import declared, fault
from ..web import Ctx, portal_page


@dataclass(frozen=True)
class CatalogItem:
    sys_id: Callable[[Any], str | tuple[str, ...]]  # profile -> sys_id, or the sys_ids of several items
    handler: Callable[[Ctx], Response]
    component: str | None
    bypass_fault: str | None = None  # the fault (refssi/faults.py) that skips the component check

    def serves(self, profile: Any, wanted: str) -> bool:
        ids = self.sys_id(profile)
        return bool(wanted) and (wanted == ids if isinstance(ids, str) else wanted in ids)


def item_of(profile: Any, wanted: str) -> CatalogItem | None:
    return next((i for i in CATALOG_ITEMS if i.serves(profile, wanted)), None)


CATALOG_ITEMS: list[CatalogItem] = []
TICKET_TABLES: dict[str, Callable[[Ctx, str], Response]] = {}
# links another module adds to a table's ticket page: (ctx, record) -> {"label", "url"} or None
TICKET_LINKS: dict[str, list[Callable[[Ctx, dict[str, Any]], dict[str, str] | None]]] = {}


@dataclass(frozen=True)
class ListSource:
    """Records of another table that My Requests lists beside incidents (the source checks who may see them).
    rows(ctx, view, q, n): the newest n, each with sys_id, number, short_description, state_label,
    priority_label, caller, sys_updated_on and url."""

    count: Callable[[Ctx, str, str], int]  # (ctx, view 'open' | 'closed', q: a number or words)
    rows: Callable[[Ctx, str, str, int], list[dict[str, Any]]]


LIST_SOURCES: dict[str, ListSource] = {}


def listed_in_my_requests(table: str, source: ListSource) -> None:
    LIST_SOURCES[table] = source


def ticket_link(table: str):
    """Register link(ctx, record) -> {"label", "url"} | None, shown on the ticket page of `table`'s records."""

    def register(fn):
        TICKET_LINKS.setdefault(table, []).append(fn)
        return fn

    return register


def links_for(ctx: Ctx, table: str, record: dict[str, Any]) -> list[dict[str, str]]:
    return [link for fn in TICKET_LINKS.get(table, []) if (link := fn(ctx, record))]


def catalog_item(sys_id: Callable[[Any], str | tuple[str, ...]], *, component: str | None,
                 bypass_fault: str | None = None):
    def register(fn: Callable[[Ctx], Response]) -> Callable[[Ctx], Response]:
        CATALOG_ITEMS.append(CatalogItem(sys_id, fn, component, bypass_fault and declared(bypass_fault)))
        return fn

    return register


def ticket_table(table: str):
    """Register handler(ctx, sys_id) for /sp?id=ticket&table=<table>; it applies its own visibility rules."""

    def register(fn: Callable[[Ctx, str], Response]) -> Callable[[Ctx, str], Response]:
        if table in TICKET_TABLES:
            raise ValueError(f"ticket table {table!r} registered twice")
        TICKET_TABLES[table] = fn
        return fn

    return register


@portal_page("sc_cat_item", title="Catalog item")
def sc_cat_item(ctx: Ctx) -> Response:
    wanted = ctx.request.query_params.get("sys_id", "")
    item = item_of(ctx.profile, wanted)
    if item is None:
        return ctx.not_valid()
    if (
        item.component
        and item.component not in ctx.components
        and not (item.bypass_fault and fault(ctx.settings, item.bypass_fault))
    ):
        return ctx.forbidden()
    return item.handler(ctx)


@portal_page("ticket", title="Ticket")
def ticket(ctx: Ctx) -> Response:
    handler = TICKET_TABLES.get(ctx.request.query_params.get("table", ""))
    sys_id = ctx.request.query_params.get("sys_id", "")
    if handler is None or not sys_id:
        return ctx.not_valid()
    return handler(ctx, sys_id)
