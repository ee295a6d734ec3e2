"""Service catalogue pages: the catalogue (items and the organisation's open requests), an item's form, and a
requested item's ticket page. Locators use roles and the visible labels from the target profile
(labels.service_request.*, and each item's variable labels under service_requests.items)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import parse_qs, urlparse

from playwright.sync_api import Locator, expect

from ssi.profile import CatalogItemConfig

from .base import BasePage
from .incident import TicketPage


@dataclass
class RequestData:
    """What a user enters in a catalogue item's form: values by variable name, choices by their label, a file
    by its path."""

    item: CatalogItemConfig
    values: dict[str, str] = field(default_factory=dict)

    def __getitem__(self, name: str) -> str:
        return self.values.get(name, "")

    def shown(self) -> dict[str, str]:
        """The values by the variables' labels, as the ticket page shows them (a file by its name; the empty
        ones left out)."""
        return {self.item.variable(k).label: self.typed(k) for k, v in self.values.items() if v}

    def typed(self, name: str) -> str:
        """A variable's value as the user gave it: a file by its name."""
        v = self.values.get(name, "")
        return Path(v).name if v and self.item.variable(name).type == "attachment" else v


class CataloguePage(BasePage):
    """The service catalogue: its items, and the open requests of my organisation (SSI-FR-53)."""

    def open(self) -> None:
        where = self.profile.component_page("service_catalogue")
        self.open_portal(where.page, **where.params)

    def item_link(self, item: CatalogItemConfig) -> Locator:
        return self.page.get_by_role("link", name=item.name, exact=True)

    @property
    def open_requests(self) -> Locator:
        return self.page.get_by_role("table", name=self.label("service_request.open_requests"), exact=True)

    def row(self, number: str) -> Locator:
        return self.open_requests.get_by_role("row").filter(
            has=self.page.get_by_role("rowheader", name=number, exact=True))

    def open_request(self, number: str) -> None:
        self.follow(self.row(number).get_by_role("link", name=number, exact=True))


class CatalogItemPage(BasePage):
    """/sp?id=sc_cat_item&sys_id=<item>: the item's variables and its Submit button."""

    def open(self, item: CatalogItemConfig) -> None:
        self.open_portal("sc_cat_item", sys_id=item.sys_id)

    def path(self, item: CatalogItemConfig) -> str:
        return self.portal_path("sc_cat_item", sys_id=item.sys_id)

    def heading_(self, item: CatalogItemConfig) -> Locator:
        return self.heading(item.name)

    def field(self, item: CatalogItemConfig, name: str) -> Locator:
        """A variable by its label (mandatory prefix or not), or its sp_formfield_ id."""
        return self.labelled(item.variable(name).label, variable=name)

    @property
    def submit_button(self) -> Locator:
        return self.page.get_by_role("button", name=self.label("service_request.submit"), exact=True)

    def fill(self, data: RequestData) -> None:
        for name, value in data.values.items():
            kind = data.item.variable(name).type
            if kind == "choice":
                if value:
                    self.choose(self.field(data.item, name), value)
            elif kind == "attachment":
                if value:
                    self.attach(self.field(data.item, name), Path(value))
            else:
                self.field(data.item, name).fill(value)

    def attach(self, control: Locator, path: Path) -> None:
        """Choose the file for an attachment variable: a classic form sends it with the form; the portal's
        attachment variable uploads it at once (the page marks it so), done when the server has answered."""
        control = control.and_(self.page.locator("input[type=file]"))
        if control.get_attribute("data-uploads-at-once"):
            with self.page.expect_response(lambda r: r.request.method == "POST" and "/attachment/" in r.url):
                control.set_input_files(str(path))
            return
        control.set_input_files(str(path))

    def submit(self, data: RequestData) -> None:
        """Open the item, fill it in and submit it: done when the server has answered (the ticket page or the
        refusal is checked by the step that expects it)."""
        self.open(data.item)
        self.submit_here(data)

    def submit_here(self, data: RequestData) -> None:
        """Fill in and submit the item's form the browser is on (reached from a link that filled some in)."""
        expect(self.heading_(data.item)).to_be_visible()
        self.fill(data)
        self.act(self.submit_button)


class RequestTicketPage(TicketPage):
    """/sp?id=ticket&table=sc_req_item&sys_id=...: the requested item's header (its request's number, the
    delivery status), its variables, and the conversation and attachments every ticket page has."""

    table = "sc_req_item"

    def expect_new_request(self) -> tuple[str, str, str]:
        """On the ticket page of a just-submitted request, with its numbers and the confirmation;
        (request number, requested item number, the requested item's sys_id)."""
        cfg = self.profile.service_requests
        expect(self.page).to_have_url(re.compile(r"[?&]table=sc_req_item\b"))
        expect(self.number).to_have_text(re.compile(rf"^{cfg.item_prefix}\d{{7,}}$"))
        item = self.number.inner_text().strip()
        expect(self.fact("request_number")).to_have_text(re.compile(rf"^{cfg.request_prefix}\d{{7,}}$"))
        request = self.fact("request_number").inner_text().strip()
        expect(self.notice(f"{self.label('service_request.raised')}: {request} ({item})")).to_be_visible()
        return request, item, parse_qs(urlparse(self.page.url).query).get("sys_id", [""])[0]

    def offered_updates(self) -> list[str]:
        """What the page lets me add, by its label, sorted: the update text box (a comment) and the file control
        (none when the item's state takes neither). The ticket draws both with its Activity, in one go."""
        expect(self.activity).to_be_visible()
        expect(self.attachments).to_be_visible()
        offered = [(self.update_text, "incident.comment"), (self.upload_control, "incident.attach_file")]
        return sorted(self.label(key) for control, key in offered if control.count())

    def fact(self, key: str) -> Locator:
        """A value the page shows by its label key (labels.service_request.<key>)."""
        return self.value_labelled(self.label(f"service_request.{key}"))

    def variable(self, label: str) -> Locator:
        """The value the page shows for a variable, by the variable's label."""
        return self.value_labelled(label)
