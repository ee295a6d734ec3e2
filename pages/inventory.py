"""What the page objects locate on each page, for `uept probe`: a read-only inspection of a target.

Each probed page is opened the way the page objects open it, and every locator listed here is the page
object's own (so a label the profile gets wrong for the target shows up here as it would in a run). The
inspection counts each locator (0 missing, 1 ok, more ambiguous), says which way a labelled field was found
(exact label, mandatory-prefixed label, placeholder, sp_formfield_ id), names the nearest labels on the page
for a missing one, and compares choice lists with the profile's. Nothing here clicks a submit or types into a
field: opening a page and reading it is all.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from playwright.sync_api import Locator, Page

from .ssi import SSI


@dataclass
class Item:
    """One thing a page object finds: its profile key, its locator, and how to judge it."""

    key: str  # e.g. 'labels.incident.short_description' (what to correct when it is wrong)
    locator: Locator
    label: str | None = None  # the visible label it is found by, when it is a labelled field
    variable: str | None = None  # a record-producer variable (found by sp_formfield_<variable> too)
    choices: list[str] | None = None  # the choice labels the profile expects (a choice field)
    choices_key: str | None = None  # where the profile keeps them


@dataclass
class PageProbe:
    name: str
    open: Callable[[], None]
    items: Callable[[], list[Item]]
    anonymous: bool = False  # probed before signing in (the login page)

    @property
    def component(self) -> str | None:
        return NEEDS.get(self.name)


def _field(ssi: SSI, key: str, locator: Locator, variable: str | None = None) -> Item:
    return Item(f"labels.{key}", locator, label=ssi.profile.label(key), variable=variable)


def _choice(ssi: SSI, key: str, locator: Locator, choices: list[str], choices_key: str,
            variable: str | None = None) -> Item:
    select = locator.and_(ssi.page.locator("select"))  # what BasePage.choose drives (select2 draws over it)
    return Item(f"labels.{key}", select, label=ssi.profile.label(key), variable=variable, choices=choices,
                choices_key=choices_key)


def _control(key: str, locator: Locator) -> Item:
    return Item(f"labels.{key}", locator)


def login_items(ssi: SSI) -> list[Item]:
    lp = ssi.login
    return [_field(ssi, "login.username", lp.user_name), _field(ssi, "login.password", lp.password),
            _control("login.submit", lp.log_in)]


def home_items(ssi: SSI) -> list[Item]:
    return [Item("labels.home (signed-in indicator: Log out or the user menu)", ssi.home.signed_in)]


def profile_items(ssi: SSI) -> list[Item]:
    up = ssi.user_profile
    return [_control("user_profile.user_id", up.user_id), _control("user_profile.roles", up.roles),
            _control("user_profile.user_ids", up.user_ids)]


def create_incident_items(ssi: SSI) -> list[Item]:
    ci, cfg = ssi.create_incident, ssi.profile.incidents
    text = ["short_description", "description", "u_contact_first_name", "u_contact_last_name", "u_contact_phone",
            "u_contact_email", "u_your_reference"]
    from ssi.profile import incident_label_key

    items = [
        _choice(ssi, "incident.category", ci.field("category"), [c.label for c in cfg.categories],
                "incidents.categories", "category"),
        _choice(ssi, "incident.impact", ci.field("impact"), [c.label for c in cfg.impact], "incidents.impact",
                "impact"),
        _choice(ssi, "incident.urgency", ci.field("urgency"), [c.label for c in cfg.urgency], "incidents.urgency",
                "urgency"),
    ]
    sub = ci.field("subcategory").and_(ssi.page.locator("select"))  # its choices follow the category chosen
    items.append(Item("labels.incident.subcategory", sub, label=ssi.profile.label("incident.subcategory"),
                      variable="subcategory"))
    items += [_field(ssi, f"incident.{incident_label_key(v)}", ci.field(v), v) for v in text]
    items.append(_control("incident.submit", ci.submit_button))
    return items


def my_requests_items(ssi: SSI) -> list[Item]:
    mr = ssi.my_requests
    shows = [ssi.profile.label(f"incident.show_{v}") for v in ("open", "closed")]
    return [_choice(ssi, "incident.show", mr.labelled(ssi.profile.label("incident.show")), shows,
                    "labels.incident.show_<view>"),
            _field(ssi, "incident.search", mr.labelled(ssi.profile.label("incident.search"))),
            _control("incident.search_submit", mr.page.get_by_role(
                "button", name=ssi.profile.label("incident.search_submit"), exact=True)),
            Item("labels.incident.list_heading (the list, or the summary of an empty one)",
                 mr.table.or_(mr.summary).first)]


def user_admin_items(ssi: SSI) -> list[Item]:
    ul = ssi.user_list
    statuses = [ssi.profile.label(f"user_admin.{s}") for s in ("active", "inactive", "locked")]
    return [_control("user_admin.table", ul.table), _control("user_admin.search", ul.search_box),
            _choice(ssi, "user_admin.status_filter", ul.status_filter, statuses, "labels.user_admin.<status>"),
            _control("user_admin.create", ul.create_button)]


def oms_order_items(ssi: SSI) -> list[Item]:
    of, oms = ssi.oms_order_form, ssi.profile.oms
    items = [_choice(ssi, "oms.region", of.region, list(oms.regions), "oms.regions"),
             _field(ssi, "oms.delivery_location", of.delivery_location),
             _field(ssi, "oms.delivery_date", of.delivery_date)]
    items += [Item(f"oms.ch_variants / oms.auxiliary_equipment: {i.name}", of.quantity(i), label=i.name)
              for i in oms.items()]
    items.append(_control("oms.save_draft", of.button("oms.save_draft")))
    return items


def oms_return_items(ssi: SSI) -> list[Item]:
    rf, oms = ssi.oms_return_form, ssi.profile.oms
    return [_field(ssi, "oms.serials", rf.serials),
            _choice(ssi, "oms.return_reason", rf.reason, [c.label for c in oms.return_reasons], "oms.return_reasons"),
            _control("oms.raise_return", rf.button("oms.raise_return"))]


def catalogue_items(ssi: SSI) -> list[Item]:
    cat = ssi.catalogue
    where = "component_pages.service_catalogue"
    heading = ssi.profile.component_page("service_catalogue").heading or ""
    items = [Item(f"{where}.heading", cat.heading(heading), label=heading),
             Item("labels.service_request.open_requests (the table, or the words of an empty one)",
                  cat.open_requests.or_(cat.main.get_by_text(ssi.profile.label("service_request.no_requests"))).first)]
    items += [Item(f"service_requests.items[{i.key}].name", cat.item_link(i), label=i.name)
              for i in ssi.profile.service_requests.items]
    return items


def catalog_item_items(ssi: SSI) -> list[Item]:
    """The variables of the profile's first catalogue item (the general service request)."""
    page, item = ssi.catalog_item, ssi.profile.service_requests.items[0]
    out = []
    for v in item.variables:
        key = f"service_requests.items[{item.key}].variables[{v.name}]"
        locator = page.field(item, v.name)
        if v.type == "choice":
            out.append(Item(f"{key}.label", locator.and_(ssi.page.locator("select")), label=v.label, variable=v.name,
                            choices=[c.label for c in v.choices], choices_key=f"{key}.choices"))
        else:
            out.append(Item(f"{key}.label", locator, label=v.label, variable=v.name))
    out.append(_control("service_request.submit", page.submit_button))
    return out


PAGE_NAMES = ("login", "home", "profile", "create_incident", "my_requests", "user_admin", "oms_order_form",
              "oms_return_form", "service_catalogue", "catalog_item")
# the role-matrix component each page needs (the others: any signed-in user)
NEEDS = {"create_incident": "incident_raise", "my_requests": "incident_view", "user_admin": "user_admin",
         "oms_order_form": "oms", "oms_return_form": "oms", "service_catalogue": "service_catalogue",
         "catalog_item": "service_catalogue"}


# the pages each shipped feature's scenarios go through (a feature not named here: every page)
FEATURE_PAGES = {
    "mfa_login": ("login", "home", "profile"),
    "incidents": ("login", "home", "create_incident", "my_requests"),
    "credentials": ("login", "home", "profile", "user_admin"),
    "oms": ("login", "home", "oms_order_form", "oms_return_form"),
    "service_requests": ("login", "home", "service_catalogue", "catalog_item"),
}


def pages_for_features(stems: list[str]) -> list[str]:
    """The probed pages the given feature files (by stem) need, in the probe's order."""
    wanted: set[str] = set()
    for stem in stems:
        wanted.update(FEATURE_PAGES.get(stem, PAGE_NAMES))
    return [p for p in PAGE_NAMES if p in wanted]


def pages(ssi: SSI) -> list[PageProbe]:
    """Every page the probe visits, in order, with how the page objects open it."""
    return [
        PageProbe("login", lambda: ssi.login.open(), lambda: login_items(ssi), anonymous=True),
        PageProbe("home", ssi.home.open, lambda: home_items(ssi)),
        PageProbe("profile", ssi.user_profile.open, lambda: profile_items(ssi)),
        PageProbe("create_incident", ssi.create_incident.open, lambda: create_incident_items(ssi)),
        PageProbe("my_requests", ssi.my_requests.open, lambda: my_requests_items(ssi)),
        PageProbe("user_admin", ssi.user_list.open, lambda: user_admin_items(ssi)),
        PageProbe("oms_order_form", ssi.oms_order_form.open_new, lambda: oms_order_items(ssi)),
        PageProbe("oms_return_form", ssi.oms_return_form.open, lambda: oms_return_items(ssi)),
        PageProbe("service_catalogue", ssi.catalogue.open, lambda: catalogue_items(ssi)),
        PageProbe("catalog_item", lambda: ssi.catalog_item.open(ssi.profile.service_requests.items[0]),
                  lambda: catalog_item_items(ssi)),
    ]


# ---------------------------------------------------------------- judging what was found
_NAMES_JS = """() => {
  const out = new Set();
  const add = (t) => { t = (t || '').replace(/\\s+/g, ' ').trim(); if (t && t.length < 120) out.add(t); };
  const named = 'label, legend, th, h1, h2, h3, button, a, dt, .sp-field-label';
  document.querySelectorAll(named).forEach((e) => add(e.textContent));
  document.querySelectorAll('[aria-label]').forEach((e) => add(e.getAttribute('aria-label')));
  document.querySelectorAll('[placeholder]').forEach((e) => add(e.getAttribute('placeholder')));
  return [...out];
}"""


_CONTROLS_JS = """() => [...document.querySelectorAll('input:not([type=hidden]), select, textarea')]
  .filter((e) => e.offsetParent !== null || e.classList.contains('select2-offscreen'))
  .map((e) => (e.labels && e.labels[0] ? e.labels[0].textContent : e.getAttribute('aria-label')
    || e.getAttribute('placeholder') || '').replace(/\\s+/g, ' ').trim()).filter(Boolean)"""


@dataclass
class Names:
    """What a person sees named on the page: every label, heading, name and hint text, and the names of the
    form fields shown (mandatory prefixes taken off)."""

    all: list[str]
    controls: list[str]


def names_on(page: Page, mandatory_prefix: str) -> Names:
    def clean(names: list[str]) -> list[str]:
        return sorted({re.sub(rf"^\s*{re.escape(mandatory_prefix)}\s*", "", n).strip() for n in names} - {""})

    return Names(clean(page.evaluate(_NAMES_JS)), clean(page.evaluate(_CONTROLS_JS)))


def nearest(wanted: str, names: list[str], unclaimed: list[str] = ()) -> list[str]:
    """The likeliest candidates for a label not found: the page's fields that no label of the profile claims
    (most alike first), then other names on the page that read alike."""
    def alike(n: str) -> float:
        return difflib.SequenceMatcher(None, wanted.lower(), n.lower()).ratio()

    ranked = sorted(unclaimed, key=alike, reverse=True) + difflib.get_close_matches(wanted, names, n=3, cutoff=0.6)
    return list(dict.fromkeys(ranked))[:3]


def _fallbacks(page: Page, item: Item, mandatory_prefix: str) -> list[str]:
    """Which ways of finding a labelled field match something on the page."""
    if item.label is None:
        return []
    ways = {
        "exact label": page.get_by_label(item.label, exact=True),
        "mandatory-prefixed label": page.get_by_label(
            re.compile(rf"^\s*{re.escape(mandatory_prefix)}\s*{re.escape(item.label)}\s*$")),
        "placeholder": page.get_by_placeholder(item.label, exact=True),
    }
    if item.variable:
        ways["id"] = page.locator(f"#sp_formfield_{item.variable}")
    return [name for name, loc in ways.items() if loc.count()]


_OWN_LABEL_JS = """(e) => ((e.labels && e.labels[0] ? e.labels[0].textContent : e.getAttribute('aria-label')
  || e.getAttribute('placeholder')) || '').replace(/\\s+/g, ' ').trim()"""


def judge(page: Page, item: Item, names: Names, mandatory_prefix: str, unclaimed: list[str]) -> dict[str, Any]:
    """{key, count, status: ok|missing|ambiguous, matched_by, nearest, choices: {...}}."""
    count = item.locator.count()
    status = "ok" if count == 1 else "missing" if count == 0 else "ambiguous"
    out: dict[str, Any] = {"key": item.key, "label": item.label, "count": count, "status": status,
                           "matched_by": _fallbacks(page, item, mandatory_prefix)}
    if status == "ok" and item.label and out["matched_by"] == ["id"]:
        # found only by its sp_formfield_ id: the run would work here, but the label the profile gives is not the
        # page's (and DCC's instance may not keep the id): name the field's own label
        status = out["status"] = "label differs"
        own = item.locator.evaluate(_OWN_LABEL_JS)
        out["nearest"] = [re.sub(rf"^\s*{re.escape(mandatory_prefix)}\s*", "", own).strip()] if own else []
    if status == "missing":
        wanted = item.label or item.key.rsplit(".", 1)[-1].replace("_", " ")
        out["nearest"] = nearest(wanted, names.all, unclaimed if item.label else [])
    if item.choices is not None and count == 1:
        options = item.locator.evaluate(
            "(s) => [...s.options].map((o) => ({value: o.value, label: o.textContent.trim()}))")
        options = [o for o in options if o["value"] and o["label"]]  # not the empty choice's prompt
        found = [o["label"] for o in options]
        missing = [c for c in item.choices if c not in found]
        extra = [c for c in found if c not in item.choices]
        out["choices"] = {"profile_key": item.choices_key, "found": found, "missing": missing, "extra": extra,
                          "options": options}
        if missing:
            out["status"] = "choices differ"
            out["nearest_choices"] = {m: nearest(m, extra or found) for m in missing}
    return out


@dataclass
class PageReport:
    name: str
    url: str = ""
    status: str = "ok"  # ok | problems | not reached | skipped
    note: str = ""
    items: list[dict[str, Any]] = field(default_factory=list)
    widgets: list[str] = field(default_factory=list)
    formfields: list[str] = field(default_factory=list)


_WIDGETS_JS = """() => ({
  widgets: [...new Set([...document.querySelectorAll('[data-widget], [widget-id], .sp-widget')]
    .map((e) => e.getAttribute('data-widget') || e.getAttribute('widget-id') || e.className.split(' ')[0]))],
  formfields: [...document.querySelectorAll('[id^="sp_formfield_"]')].map((e) => e.id),
})"""


def inspect(ssi: SSI, probe: PageProbe) -> PageReport:
    """Judge every item of a page that is open now."""
    page, prefix = ssi.page, ssi.profile.portal.mandatory_prefix
    report = PageReport(probe.name, url=page.url)
    names = names_on(page, prefix)
    items = probe.items()
    claimed = {i.label for i in items if i.label}
    unclaimed = [n for n in names.controls if n not in claimed]
    report.items = [judge(page, item, names, prefix, unclaimed) for item in items]
    found = page.evaluate(_WIDGETS_JS)
    report.widgets, report.formfields = found["widgets"], found["formfields"]
    if any(i["status"] != "ok" for i in report.items):
        report.status = "problems"
    return report
