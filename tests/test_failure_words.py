"""A failed step says, in a tester's words, what was expected of what and what the page showed: Playwright's
assertion errors, raised for real in Chromium, are put into words (uept/evidence/failures.py) as the
evidence records them (plugin.one_line); and every plain assert in steps/ carries a message of its own."""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect, sync_playwright

from pages.base import BasePage
from ssi.profile import load_profile
from uept.evidence.failures import describe, in_tester_words
from uept.evidence.plugin import one_line
from uept.runtime import browser

ROOT = Path(__file__).resolve().parent.parent
FORM = """
<main><form>
<label for="q">Quantity</label><input id="q" value="0" aria-describedby="q_msg"><span id="q_msg">Enter at most 5</span>
<button>Save</button>
<p role="alert">Saved</p><p role="status">Order CHO0010003 saved</p><p role="status">Draft kept</p>
</form></main>
"""


@pytest.fixture(scope="module")
def page() -> Iterator[Page]:
    with sync_playwright() as pw:
        b = pw.chromium.launch(**browser.resolve().launch_args())
        p = b.new_page()
        p.set_content(FORM)
        yield p
        b.close()


def failure(check) -> str:
    with pytest.raises(AssertionError) as info:
        check()
    return one_line(info.value)


@pytest.fixture
def form(page: Page) -> BasePage:
    return BasePage(page, load_profile("reference"))


def test_a_field_found_by_its_label_is_named_with_what_was_expected_and_found(form: BasePage) -> None:
    quantity = form.labelled("Quantity")
    said = failure(lambda: expect(quantity, "to be marked as in error").to_have_attribute(
        "aria-invalid", "true", timeout=200))
    assert said == 'Expected the field "Quantity" to be marked as in error; the page showed no value.'
    said = failure(lambda: expect(quantity, 'to show the message "Enter at least 1"').to_have_accessible_description(
        re.compile("Enter at least 1"), timeout=200))
    assert said == ('Expected the field "Quantity" to show the message "Enter at least 1"; '
                    'the page showed "Enter at most 5".')
    assert failure(lambda: expect(quantity).to_have_value("3", timeout=200)) == \
        'Expected the field "Quantity" to hold "3"; the page showed "0".'
    with pytest.raises(AssertionError) as info:
        expect(quantity).to_have_value("3", timeout=200)
    # the scenario's reason comes from pytest's crash line, which names the exception's class first
    assert one_line(Exception(f"AssertionError: {info.value}")) == \
        'Expected the field "Quantity" to hold "3"; the page showed "0".'


def test_messages_buttons_and_counts_are_named_by_their_role(page: Page) -> None:
    assert failure(lambda: expect(page.get_by_role("alert")).to_contain_text("Nothing has been saved", timeout=200)) \
        == 'Expected the alert message to contain "Nothing has been saved"; the page showed "Saved".'
    assert failure(lambda: expect(page.get_by_role("button", name="Submit")).to_be_visible(timeout=200)) == \
        'Expected the button "Submit" to be shown; the page showed no such element.'
    assert failure(lambda: expect(page.get_by_role("alert")).not_to_be_visible(timeout=200)) == \
        "Expected the alert message not to be shown; the page showed it."
    assert failure(lambda: expect(page.get_by_role("status")).to_have_count(1, timeout=200)) == \
        "Expected the confirmation message to be found 1 time(s); the page showed 2."
    said = failure(lambda: expect(page.get_by_role("status")).to_have_text("Submitted", timeout=200))
    assert said.startswith("Expected the confirmation message to read \"Submitted\"; the page showed 2 such "
                           "elements: 1) <p role=\"status\">Order CHO0010003 saved</p>"), said
    said = failure(lambda: expect(page).to_have_url(re.compile("id=ticket"), timeout=200))
    assert said == "Expected the page's address to be at an address matching /id=ticket/; the page showed " \
                   '"about:blank".', said


def test_locators_are_put_into_words() -> None:
    assert describe('get_by_role("table", name="Orders").get_by_role("row").filter(has_text="CHO0010003")') == \
        'the row holding "CHO0010003"'
    assert describe('get_by_label(re.compile(r"^\\s*(?:Mandatory\\ \\-\\ x\\s*)?Short\\ description\\s*$"))') == \
        'the field "Short description"'
    assert describe('locator("#sp-attachments")') == "the element #sp-attachments"
    assert describe('the field "Quantity"') == 'the field "Quantity"'


def test_other_errors_are_kept_as_they_came() -> None:
    text = "Target page, context or browser has been closed"
    assert in_tester_words(text) == text
    assert one_line(AssertionError("no incident was raised earlier in this scenario")) == \
        "no incident was raised earlier in this scenario"


def test_every_plain_assert_in_a_step_says_what_it_expected() -> None:
    bare = []
    for module in sorted((ROOT / "steps").glob("*.py")):
        for node in ast.walk(ast.parse(module.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Assert) and node.msg is None:
                bare.append(f"{module.name}:{node.lineno}: assert {ast.unparse(node.test)[:80]}")
    assert bare == []
