"""The OMS module of the SSI (BFD13): catalogue, forecasts, orders, consignments and returns.

Locators use the visible labels of the target profile (labels.oms.*) and its OMS
catalogue (profile.oms), so pointing them at DCC's SSI means changing the profile.
A field's error is read the way a screen reader reads it: the field is marked
invalid and its accessible description holds the message.
"""

from __future__ import annotations

import re
from datetime import datetime

from playwright.sync_api import Locator, expect

from ssi.profile import Oms, OmsItem

from .base import BasePage


def month_key(label: str) -> str:
    """'March 2027' -> '2027-03'."""
    return datetime.strptime(label.strip(), "%B %Y").strftime("%Y-%m")


def month_label(key: str) -> str:
    return datetime.strptime(key, "%Y-%m").strftime("%B %Y")


class OmsPage(BasePage):
    """What every OMS page shares: the OMS menu, facts, fields and their errors."""

    @property
    def oms(self) -> Oms:
        return self.profile.oms

    @property
    def oms_menu(self) -> Locator:
        return self.page.get_by_role("navigation", name=self.label("oms.menu_region"))

    def go(self, label_key: str) -> None:
        """Follow an OMS menu entry, e.g. go('oms.returns')."""
        self.follow(self.oms_menu.get_by_role("link", name=self.label(label_key), exact=True))

    def fact(self, label: str) -> Locator:
        """A read-only value of the record shown, by its visible label (e.g. 'Status')."""
        return self.value_labelled(label)

    @property
    def state(self) -> Locator:
        return self.fact(self.label("oms.status"))

    def status_name(self, kind: str, state: str) -> str:
        """The visible name of an order, consignment or return ('returns') state, e.g. ('order', 'Draft')."""
        return self.oms.status(kind, state.lower())

    def show(self, locator: Locator) -> None:
        """Bring an element into view, so the step's evidence screenshot shows it."""
        locator.first.scroll_into_view_if_needed()

    def field(self, label: str) -> Locator:
        """A form field by its label, with or without the mandatory prefix (BasePage.labelled)."""
        return self.labelled(label)

    def expect_field_error(self, field: Locator, message: str | re.Pattern[str]) -> None:
        pattern = message if isinstance(message, re.Pattern) else re.compile(re.escape(message))
        expect(field, "to be marked as in error").to_have_attribute("aria-invalid", "true")
        shown = f'"{message}"' if isinstance(message, str) else f"/{message.pattern}/"
        expect(field, f"to show the message {shown}").to_have_accessible_description(pattern)

    @property
    def error_summary(self) -> Locator:
        return self.alert.filter(has_text=re.compile("Correct the|cannot be"))

    def button(self, label_key: str) -> Locator:
        return self.page.get_by_role("button", name=self.label(label_key), exact=True)

    def table(self, name: str) -> Locator:
        return self.page.get_by_role("table", name=name, exact=True)

    def row(self, table: str, header: str) -> Locator:
        return (
            self.table(table)
            .get_by_role("row")
            .filter(has=self.page.get_by_role("rowheader", name=header, exact=True))
        )


class OmsHome(OmsPage):
    def open(self) -> None:
        self.open_portal("oms")

    @property
    def heading_(self) -> Locator:
        return self.heading(self.label("oms.heading"))


class OmsCatalogue(OmsPage):
    @property
    def regions(self) -> Locator:
        return self.page.get_by_role("list", name=self.label("oms.regions_list")).get_by_role("listitem")

    @property
    def variants(self) -> Locator:
        return self.table(self.label("oms.variants_table"))

    @property
    def auxiliary(self) -> Locator:
        return self.table(self.label("oms.auxiliary_table"))

    def item_rows(self, table: Locator) -> Locator:
        return table.get_by_role("row")

    def item_row(self, table: Locator, item: OmsItem) -> Locator:
        return table.get_by_role("row").filter(has_text=item.name)


class ForecastPage(OmsPage):
    """A Region's forecast grid (months x CH variants) and its version history."""

    def open(self, region: str) -> None:
        self.open_portal("oms_forecast", region=region)
        expect(self.grid(region)).to_be_visible()

    def grid(self, region: str) -> Locator:
        return self.table(self.label("oms.forecast_table").format(region=region))

    def cell(self, variant: OmsItem, month: str) -> Locator:
        """The quantity field of one variant and month ('YYYY-MM')."""
        return self.field(f"{variant.name}, {month_label(month)}")

    def months(self, region: str) -> list[tuple[str, bool]]:
        """[(month 'YYYY-MM', locked?)] in the order shown."""
        out = []
        for text in self.grid(region).get_by_role("rowheader").all_inner_texts():
            locked = self.label("oms.locked") in text
            out.append((month_key(text.replace(self.label("oms.locked"), "")), locked))
        return out

    def open_months(self, region: str) -> list[str]:
        """The months of the forecast shown that can still be changed (after the lock window)."""
        months = [m for m, locked in self.months(region) if not locked]
        assert months, f"every month of the {region} forecast is locked"
        return months

    def value(self, variant: OmsItem, month: str) -> str:
        return self.cell(variant, month).input_value()

    def enter(self, variant: OmsItem, month: str, quantity: str) -> None:
        self.cell(variant, month).fill(quantity)

    def submit(self) -> None:
        self.act(self.button("oms.submit_forecast"))

    @property
    def confirmation(self) -> Locator:
        return self.status.filter(has_text=self._version_pattern).last  # the newest, when toasts stack up

    def submitted_version(self) -> int:
        return int(self._version_pattern.search(self.confirmation.inner_text()).group(1))

    @property
    def _version_pattern(self) -> re.Pattern[str]:
        """'Forecast version 12' as the profile words it, the number captured."""
        return re.compile(re.escape(self.label("oms.forecast_version")).replace(re.escape("{version}"), r"(\d+)"))

    def version_table(self, version: int) -> str:
        return self.label("oms.forecast_version").format(version=version)

    # ---- history
    def open_history(self, region: str) -> None:
        self.open_portal("oms_forecast_history", region=region)

    @property
    def versions(self) -> Locator:
        return self.table(self.label("oms.versions_table"))

    def version_row(self, version: int) -> Locator:
        return self.row(self.label("oms.versions_table"), self.label("oms.version_row").format(version=version))

    def open_version(self, version: int) -> None:
        self.version_row(version).get_by_role("link").click()
        expect(self.table(self.version_table(version))).to_be_visible()

    def version_cell(self, version: int, variant: OmsItem, month: str) -> Locator:
        table = self.version_table(version)
        column = [v.code for v in self.oms.ch_variants].index(variant.code)
        return self.row(table, month_label(month)).get_by_role("cell").nth(column)


class OrderForm(OmsPage):
    """A new order, or a draft being edited."""

    def open_new(self) -> None:
        self.open_portal("oms_order_form", sys_id="-1")
        expect(self.heading(self.label("oms.new_order"))).to_be_visible()

    @property
    def region(self) -> Locator:
        return self.field(self.label("oms.region"))

    @property
    def delivery_location(self) -> Locator:
        return self.field(self.label("oms.delivery_location"))

    @property
    def delivery_date(self) -> Locator:
        return self.field(self.label("oms.delivery_date"))

    def quantity(self, item: OmsItem) -> Locator:
        return self.field(item.name)

    def fill(
        self,
        *,
        region: str | None = None,
        location: str | None = None,
        delivery_date: str | None = None,
        quantities: dict[str, str] | None = None,
    ) -> None:
        if region is not None:
            self.choose(self.region, region)
        if location is not None:
            self.delivery_location.fill(location)
        if delivery_date is not None:
            self.delivery_date.fill(delivery_date)
        for code, q in (quantities or {}).items():
            self.quantity(self.oms.item(code)).fill(q)

    def save_draft(self) -> None:
        self.act(self.button("oms.save_draft"))


class OrderPage(OmsPage):
    @property
    def number(self) -> Locator:
        return self.fact(self.label("oms.number"))

    def line(self, item: OmsItem) -> Locator:
        return self.row(self.label("oms.order_lines_table"), item.name)

    def submit(self) -> None:
        self.act(self.button("oms.submit_order"))

    @property
    def justification(self) -> Locator:
        return self.field(self.label("oms.justification"))

    def confirm(self, justification: str | None = None) -> None:
        if justification is not None:
            self.justification.fill(justification)
        self.act(self.button("oms.confirm_order"))

    @property
    def consignments(self) -> Locator:
        return self.table(self.label("oms.consignments_table"))

    @property
    def consignment_rows(self) -> Locator:
        return self.consignments.get_by_role("row").filter(has=self.page.get_by_role("rowheader"))

    def consignment_state(self, index: int) -> Locator:
        return self.consignment_rows.nth(index).get_by_role("cell").last

    def consignment_quantities(self) -> list[int]:
        """The units each consignment holds, in the table's order (its column headed labels.oms.quantity)."""
        expect(self.consignment_rows.first).to_be_visible()
        headers = [h.strip() for h in self.consignments.get_by_role("columnheader").all_inner_texts()]
        column = headers.index(self.label("oms.quantity")) - 1  # the first column is each row's header
        return [int(row.get_by_role("cell").nth(column).inner_text().strip().replace(",", ""))
                for row in self.consignment_rows.all()]

    def open_consignment(self, index: int = 0) -> str:
        link = self.consignments.get_by_role("rowheader").nth(index).get_by_role("link")
        number = link.inner_text()
        link.click()
        expect(self.heading(f"{self.label('oms.consignments')}: {number}")).to_be_visible()
        return number


class ConsignmentPage(OmsPage):
    @property
    def number(self) -> Locator:
        return self.fact(self.label("oms.consignment_number"))

    @property
    def delivery_date(self) -> Locator:
        return self.fact(self.label("oms.delivery_date"))

    @property
    def tracking(self) -> Locator:
        return self.fact(self.label("oms.tracking"))

    @property
    def new_delivery_date(self) -> Locator:
        return self.field(self.label("oms.new_delivery_date"))

    @property
    def amend_button(self) -> Locator:
        return self.button("oms.amend_date")

    def amend(self, new_date: str) -> None:
        self.new_delivery_date.fill(new_date)
        self.act(self.amend_button)

    def accept(self) -> None:
        self.act(self.button("oms.accept"))

    @property
    def rejection_reason(self) -> Locator:
        return self.field(self.label("oms.rejection_reason"))

    @property
    def rejected_quantity(self) -> Locator:
        return self.field(self.label("oms.rejected_quantity"))

    def reject(self, reason_label: str, quantity: str) -> None:
        self.choose(self.rejection_reason, reason_label)
        self.rejected_quantity.fill(quantity)
        self.act(self.button("oms.reject"))

    @property
    def devices(self) -> Locator:
        return (
            self.table(self.label("oms.devices_table"))
            .get_by_role("row")
            .filter(has=self.page.get_by_role("cell"))
        )

    def device_ids(self) -> list[str]:
        return [c.inner_text().strip() for c in self.devices.locator("td:first-child").all()]

    def reload(self) -> None:
        self.page.reload()


class ReturnForm(OmsPage):
    def open(self) -> None:
        self.open_portal("oms_return_form")

    @property
    def serials(self) -> Locator:
        return self.field(self.label("oms.serials"))

    @property
    def reason(self) -> Locator:
        return self.field(self.label("oms.return_reason"))

    def raise_return(self, serials: list[str], reason_label: str) -> None:
        self.serials.fill("\n".join(serials))
        self.choose(self.reason, reason_label)
        self.act(self.button("oms.raise_return"))


class ReturnPage(OmsPage):
    @property
    def number(self) -> Locator:
        return self.fact(self.label("oms.return_number"))

    @property
    def rma(self) -> Locator:
        return self.fact(self.label("oms.rma"))

    def device(self, serial: str) -> Locator:
        return self.row(self.label("oms.returned_devices_table"), serial)

    def outcome(self, serial: str) -> Locator:
        return self.device(serial).get_by_role("cell").last

    def expect_requested(self, serials: list[str]) -> None:
        """The return just raised: a ServiceNow-style number, Requested, and each of these devices awaiting triage."""
        prefix = self.profile.oms.numbers.returns
        expect(self.number).to_have_text(re.compile(rf"^{re.escape(prefix)}\d{{7}}$"))
        expect(self.state).to_have_text(self.status_name("returns", "requested"))
        for serial in serials:
            expect(self.outcome(serial)).to_have_text("Awaiting triage")

    def reload(self) -> None:
        self.page.reload()


class ReturnsList(OmsPage):
    def open(self) -> None:
        self.open_portal("oms_returns")

    def search(self, text: str) -> None:
        self.field(self.label("oms.search")).fill(text)
        self.search_with(self.page.get_by_role("search", name=self.label("oms.returns_search")).get_by_role(
            "button", name=self.label("oms.search")), q=text)

    @property
    def table_(self) -> Locator:
        return self.table(self.label("oms.returns_table"))

    @property
    def rows(self) -> Locator:
        return self.table_.get_by_role("row").filter(has=self.page.get_by_role("rowheader"))


class OrdersList(OmsPage):
    def open(self, q: str = "") -> None:
        self.open_portal("oms_orders", **({"q": q} if q else {}))

    @property
    def table_(self) -> Locator:
        return self.table(self.label("oms.orders_table"))

    def rows_with(self, text: str) -> Locator:
        """Order rows (not the 'no orders' line) that mention text."""
        return (
            self.table_.get_by_role("row")
            .filter(has=self.page.get_by_role("rowheader"))
            .filter(has_text=text)
        )
