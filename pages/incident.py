"""Incident pages: the Create Incident record producer, the ticket page and My Requests.

Locators use roles and the visible labels from the target profile (labels.incident.*).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import parse_qs, urlparse

from playwright.sync_api import APIResponse, Download, Locator, expect

from ssi.profile import incident_label_key

from .base import BasePage

CHOICE_FIELDS = {"category", "subcategory", "impact", "urgency"}


@dataclass
class IncidentData:
    """What a user types into the Create Incident form; choices are given by their visible labels."""

    values: dict[str, str] = field(default_factory=dict)

    def __getitem__(self, name: str) -> str:
        return self.values.get(name, "")


_INVALID_FIELD_JS = """(message) => {
  for (const el of document.querySelectorAll('[aria-invalid="true"]')) {
    const ids = (el.getAttribute('aria-describedby') || '').split(/\\s+/).filter(Boolean);
    if (ids.some((id) => (document.getElementById(id)?.textContent || '').includes(message))) {
      return el.labels && el.labels[0] ? el.labels[0].textContent.trim() : el.name;
    }
  }
  return null;
}"""


class CreateIncidentPage(BasePage):
    """/sp?id=sc_cat_item&sys_id=<Create Incident record producer>."""

    def open(self) -> None:
        self.open_portal("sc_cat_item", sys_id=self.profile.incidents.record_producer_sys_id)

    @property
    def heading_(self) -> Locator:
        return self.heading(self.label("incident.create_heading"))

    def field(self, name: str) -> Locator:
        """A variable of the record producer by its label (mandatory prefix or not), or its sp_formfield_ id."""
        return self.labelled(self.label(f"incident.{incident_label_key(name)}"), variable=name)

    @property
    def submit_button(self) -> Locator:
        return self.page.get_by_role("button", name=self.label("incident.submit"), exact=True)

    def fill(self, data: IncidentData) -> None:
        for name, value in data.values.items():
            if name in CHOICE_FIELDS:
                if value:
                    self.choose(self.field(name), value)
            else:
                self.field(name).fill(value)

    def invalid_field_saying(self, message: str) -> str | None:
        """The label of a field marked invalid (aria-invalid) whose description holds the message, if any."""
        return self.page.evaluate(_INVALID_FIELD_JS, message)

    def raise_incident(self, data: IncidentData) -> None:
        self.open()
        self.fill(data)
        self.act(self.submit_button)  # then the ticket page, or the form with what it refused


class TicketPage(BasePage):
    """/sp?id=ticket&table=incident&sys_id=...: header, details, Actions, Activity, Attachments. The
    conversation and attachments are the same widgets on every table's ticket page (labels.incident.*)."""

    table = "incident"

    def open(self, sys_id: str) -> None:
        self.open_portal("ticket", table=self.table, sys_id=sys_id)

    def url_for(self, sys_id: str) -> str:
        return self.portal_path("ticket", table=self.table, sys_id=sys_id)

    def expect_new_ticket(self) -> tuple[str, str]:
        """On the ticket page of a just-raised incident, with its number and the confirmation; (number, sys_id)."""
        cfg = self.profile.incidents
        expect(self.page).to_have_url(re.compile(r"[?&]id=ticket\b"))
        expect(self.number).to_have_text(re.compile(rf"^{cfg.number_prefix}\d{{{cfg.number_digits},}}$"))
        number = self.number.inner_text().strip()
        expect(self.notice(f"{self.label('incident.raised')}: {number}")).to_be_visible()
        return number, self.sys_id

    @property
    def sys_id(self) -> str:
        params = parse_qs(urlparse(self.page.url).query)
        return params.get("sys_id", [""])[0]

    @property
    def number(self) -> Locator:
        return self.page.get_by_role("heading", level=1)

    def value(self, key: str) -> Locator:
        """The value shown for a field, by its label key (incident.<key>), e.g. 'priority'."""
        return self.value_labelled(self.label(f"incident.{key}"))

    def shown(self, name: str) -> Locator:
        """The value shown for a field of the Create Incident form, by its variable name (e.g. u_mpxn)."""
        return self.value(incident_label_key(name))

    @property
    def state(self) -> Locator:
        return self.value("state")

    @property
    def created(self) -> Locator:
        return self.value("created").locator("time")

    # ---- actions ---------------------------------------------------------------
    @property
    def actions(self) -> Locator:
        return self.page.get_by_role("region", name=self.label("incident.actions"), exact=True)

    def offered_actions(self) -> list[str]:
        """The names of the state actions the page offers, sorted (none: the page shows no Actions)."""
        expect(self.activity).to_be_visible()  # the page is drawn, with its Actions if it has any
        return sorted(self.actions.get_by_role("button").all_inner_texts())

    def action(self, key: str) -> Locator:
        return self.page.get_by_role("button", name=self.label(f"incident.{key}"), exact=True)

    def link(self, name: str) -> Locator:
        """A link the ticket page offers by its visible name (e.g. to answer the incident with a catalogue item)."""
        return self.page.get_by_role("link", name=name, exact=True)

    def button(self, name: str) -> Locator:
        """A button by its visible name, wherever it is on the ticket page."""
        return self.page.get_by_role("button", name=name, exact=True)

    @property
    def dialog(self) -> Locator:
        return self.page.get_by_role("dialog")

    def open_dialog(self, key: str) -> None:
        """Click a ticket action that asks for more (Resolve, Reopen): done when its dialog shows. A dialog that an
        attempt the SSI refused left open (the portal keeps it, with the refusal) is used as it is, as a person would
        correct it: the action behind it cannot be clicked while it is open."""
        if not self.dialog.is_visible():  # the step before waited on the refusal: the page is settled
            self.action(key).click()
        expect(self.dialog).to_be_visible()

    def resolve(self, code: str, notes: str) -> None:
        self.open_dialog("resolve")
        if code:
            self.choose(self.labelled(self.label("incident.close_code"), variable="close_code", within=self.dialog),
                        code)
        self.labelled(self.label("incident.close_notes"), variable="close_notes", within=self.dialog).fill(notes)
        self.act(self.dialog.get_by_role("button", name=self.label("incident.resolve_submit"), exact=True))

    def close(self) -> None:
        """Close: a classic page posts at once; the portal asks to confirm in a dialog first."""
        if self.action("close").get_attribute("type") == "submit":
            self.act(self.action("close"))
            return
        self.open_dialog("close")
        self.act(self.dialog.get_by_role("button", name=self.label("incident.close"), exact=True))

    def reopen(self, reason: str) -> None:
        self.open_dialog("reopen")
        self.labelled(self.label("incident.reopen_reason"), within=self.dialog).fill(reason)
        self.act(self.dialog.get_by_role("button", name=self.label("incident.reopen_submit"), exact=True))

    def field_error(self, label_key: str) -> Locator:
        """A form control whose accessible description carries its error."""
        return self.page.get_by_label(self.label(f"incident.{label_key}"), exact=True)

    # ---- activity ----------------------------------------------------------------
    @property
    def activity(self) -> Locator:
        return self.page.get_by_role("region", name=self.label("incident.activity"), exact=True)

    @property
    def entries(self) -> Locator:
        """The Activity stream's entries, newest first."""
        stream = self.activity.get_by_role("list", name=f"{self.label('incident.activity')} entries", exact=True)
        return stream.get_by_role("listitem")

    @property
    def update_text(self) -> Locator:
        return self.activity.get_by_label(self.label("incident.comment"), exact=True)

    def add_update(self, update_type: str | None, text: str) -> None:
        """Post an update from the conversation widget (with its type, where the record asks for one): done when
        the server has answered the post (the entry itself is checked by the step that expects it, or its
        refusal by the one that expects that)."""
        if update_type is not None:
            self.choose(self.labelled(self.label("incident.update_type"), within=self.activity), update_type)
        self.update_text.fill(text)
        self.act(self.activity.get_by_role("button", name=self.label("incident.send"), exact=True))

    # ---- attachments -----------------------------------------------------------------
    @property
    def attachments(self) -> Locator:
        return self.page.get_by_role("region", name=self.label("incident.attachments"), exact=True)

    @property
    def file_input(self) -> Locator:
        """The classic page's labelled file input (with an Upload button)."""
        return self.attachments.get_by_label(self.label("incident.attach_file"), exact=True)

    @property
    def paperclip(self) -> Locator:
        """The Service Portal's "Add attachments" button: a file chooser that uploads at once."""
        return self.attachments.get_by_role("button", name=self.label("incident.add_attachments"), exact=True)

    @property
    def upload_control(self) -> Locator:
        """Whatever this page offers to attach a file with (none when the user may not)."""
        return self.file_input.or_(self.paperclip)

    def attach(self, path: Path) -> None:
        """Attach a file: done when the server has answered the upload (the file's link, or the refusal,
        is checked by the step that expects it)."""
        expect(self.upload_control).to_be_visible()
        if self.paperclip.count():
            with self.page.expect_file_chooser() as chooser:
                self.paperclip.click()
            with self.page.expect_response(lambda r: r.request.method == "POST"):
                chooser.value.set_files(str(path))
            return
        self.file_input.set_input_files(str(path))
        self.act(self.attachments.get_by_role("button", name=self.label("incident.upload"), exact=True))

    def expect_file_refused(self, message: str) -> None:
        """The refusal is said in an alert; a classic file input also carries it as its description."""
        expect(self.alert.filter(has_text=message)).to_be_visible()
        if self.file_input.count():
            expect(self.file_input).to_have_accessible_description(re.compile(re.escape(message)))

    @property
    def attachment_links(self) -> Locator:
        return self.attachments.get_by_role("link")

    def attachment_link(self, file_name: str) -> Locator:
        return self.attachments.get_by_role("link", name=file_name, exact=True)

    def download(self, file_name: str) -> Download:
        with self.page.expect_download() as info:
            self.attachment_link(file_name).click()
        return info.value

    # ---- asking the server directly (proves a rule is enforced there, not only hidden) ----
    def post_directly(self, sys_id: str, **form: str) -> APIResponse:
        """POST the ticket page's form as a browser would, with this session's CSRF token."""
        return self.post_form(self.url_for(sys_id), **form)


class MyRequestsPage(BasePage):
    """/sp?id=my_requests: Open/Closed filter, search by number or summary."""

    def open(self) -> None:
        self.open_portal("my_requests")

    @property
    def table(self) -> Locator:
        """The list of requests: a table on classic pages, a list of record links on the portal."""
        name = self.label("incident.list_heading")
        return self.page.get_by_role("table", name=name).or_(self.page.get_by_role("list", name=name, exact=True))

    @property
    def summary(self) -> Locator:
        return self.page.locator("#list_summary")

    def search(self, text: str, show: str | None = None) -> None:
        # the text first: on the portal, choosing a view is itself a route change carrying the search bar's
        # text, and it redraws the widget; text typed after it could land in the bar being replaced
        params = {"q": text}
        self.labelled(self.label("incident.search")).fill(text)
        if show:
            view = self.labelled(self.label("incident.show"))
            self.choose(view, self.label(f"incident.show_{show}"))
            self.drawn()  # the portal's route for the view, if it made one
            params["view"] = view.input_value()
        self.search_with(self.page.get_by_role("button", name=self.label("incident.search_submit"), exact=True),
                         **params)

    def open_request(self, number: str) -> None:
        self.follow(self.link(number))

    @property
    def rows(self) -> Locator:
        return self.table.get_by_role("row").filter(has=self.page.get_by_role("rowheader")).or_(
            self.table.get_by_role("listitem"))

    def _named(self, number: str) -> re.Pattern[str]:
        return re.compile(rf"^\s*{re.escape(number)}(\s|$)")  # the number alone, or the number and the summary

    def link(self, number: str) -> Locator:
        return self.table.get_by_role("link", name=self._named(number))

    def row(self, number: str) -> Locator:
        return self.rows.filter(has=self.page.get_by_role("link", name=self._named(number)))

    def expect_summary(self, number: str, text: str) -> None:
        """The incident's row shows this summary: in a table, the cell after the number (the row header); in a
        list of record links, the link's text after the number."""
        expect(self.row(number)).to_be_visible()
        cell = self.row(number).get_by_role("cell")
        if cell.count():
            expect(cell.first).to_have_text(text)
        else:
            expect(self.link(number)).to_have_text(f"{number} {text}")

    @property
    def injected_markup(self) -> Locator:
        """Elements a typed summary would have become had the list rendered it as markup."""
        return self.page.locator('main img[src="x"], main script, main b')


NUMBER = re.compile(r"^[A-Z]{2,6}\d{7,}$")
