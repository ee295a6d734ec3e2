"""A portal page for every functional component of the role matrix.

The Job Type Role x component matrix comes from the target profile (role_matrix.yaml),
and so does where each component lives (profile.component_pages). At start-up every
component whose page no module registered gets a placeholder page, guarded by that
component like any other page: the access rules of pages.py (403 when the user's roles
do not grant it) and the menu of web.py (absent when not granted) then hold for all
components, driven by the matrix, whichever module builds the real page later.
"""

from __future__ import annotations

from fastapi.responses import Response

from ssi.profile import Profile

from .web import PAGES, Ctx, PortalPage

PLACEHOLDER_MENU_ORDER = 20  # after Home, before the pages of the other modules' own menus


def placeholder(ctx: Ctx) -> Response:
    page = PAGES[ctx.request.query_params.get("id", "")]
    try:
        comp = ctx.profile.role_matrix.component(page.component or "")
    except KeyError:  # registered for another profile's matrix in this process
        return ctx.not_valid()
    return ctx.render("function.html", title=page.title, comp=comp)


def register_component_pages(profile: Profile) -> None:
    """Register a placeholder page for each component the profile places on a page nobody registered."""
    for n, comp in enumerate(profile.role_matrix.components):
        where = profile.component_page(comp.key)
        if where.page in PAGES:
            continue
        PAGES[where.page] = PortalPage(
            id=where.page, title=where.heading or comp.name, handler=placeholder, component=comp.key,
            menu=where.menu, menu_order=PLACEHOLDER_MENU_ORDER + n,
        )
