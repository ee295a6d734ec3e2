"""A failed step's reason in a tester's words: what was expected of what, and what the page showed.

Playwright's assertion errors name neither the field nor the message in words a tester reads
("Locator expected to have attribute 'true' | Actual value: None"). Its call log does: the
`Expect "<matcher>" <subject>` line holds the locator's description (page objects describe the
fields they find by label, e.g. 'the field "Quantity"') or the locator itself, which is put into
words here ('the button "Save"', 'the alert message'). Anything that is not a Playwright assertion
is returned as it came. A page object may word the expectation itself: `expect(field, "to be marked
as in error")` reads 'Expected the field "Quantity" to be marked as in error; the page showed no value.'
"""

from __future__ import annotations

import re

_HEAD = re.compile(r"^(?:Locator|Page URL|Page title|Page) expected (?P<what>.+?)\s*$")
_EXPECT = re.compile(r'^\s*- Expect "(?P<matcher>\w+)"(?: (?P<subject>.+?))? with timeout \d+ms\s*$')
_WAITING = re.compile(r"^\s*- waiting for (?P<locator>.+?)\s*$")
_REGEX = re.compile(r"""re\.compile\(r?(?P<q>['"])(?P<body>.*)(?P=q)(?:, re\.\w+(?:\|re\.\w+)*)?\)""")

# what each matcher expects, with {v} for the expected value (when Playwright names one)
_MATCHERS = {
    "to_be_visible": "to be shown", "not_to_be_visible": "not to be shown", "to_be_hidden": "not to be shown",
    "not_to_be_hidden": "to be shown", "to_be_attached": "to be on the page", "to_be_detached": "to be gone",
    "not_to_be_attached": "not to be on the page", "to_be_enabled": "to be enabled",
    "to_be_disabled": "to be disabled", "to_be_checked": "to be ticked", "not_to_be_checked": "not to be ticked",
    "to_be_editable": "to be editable", "to_be_empty": "to be empty", "to_be_focused": "to have the focus",
    "to_have_text": "to read {v}", "not_to_have_text": "not to read {v}", "to_contain_text": "to contain {v}",
    "not_to_contain_text": "not to contain {v}", "to_have_value": "to hold {v}", "not_to_have_value": "not to hold {v}",
    "to_have_count": "to be found {v} time(s)", "not_to_have_count": "not to be found {v} time(s)",
    "to_have_attribute": "to have the attribute value {v}", "not_to_have_attribute": "not to have the value {v}",
    "to_have_accessible_name": "to be named {v}", "to_have_accessible_description": "to be described as expected",
    "not_to_have_accessible_description": "not to be described so", "to_have_accessible_error_message":
    "to show the error {v}", "to_have_url": "to be at an address matching {v}", "not_to_have_url":
    "not to be at an address matching {v}", "to_have_title": "to be titled {v}", "to_have_id": "to have the id {v}",
    "to_have_class": "to have the class {v}", "to_have_values": "to hold {v}", "to_have_role": "to be a {v}",
}
_ROLES = {"alert": "the alert message", "status": "the confirmation message", "dialog": "the dialog",
          "main": "the page's main content", "navigation": "the menu", "progressbar": "the loading indicator"}


def in_tester_words(text: str) -> str:
    """The reason a step failed, for the report: Playwright's assertion errors put into words; others unchanged."""
    lines = text.removeprefix("AssertionError: ").splitlines()  # pytest's crash line names the class
    if not lines:
        return text
    call = [ln for ln in lines if _EXPECT.match(ln)]
    head = _HEAD.match(lines[0])
    if not call and not head:
        return text
    m = _EXPECT.match(call[0]) if call else None
    matcher = m.group("matcher") if m else ""
    subject = (m.group("subject") or "") if m else ""
    if not subject:
        waiting = next((w.group("locator") for ln in lines if (w := _WAITING.match(ln))), "")
        subject = waiting or ("the page's address" if matcher.endswith("_url") else "the page")
    subject = describe(subject)
    expected = _expected(lines, head)
    custom = None if head else lines[0].strip()  # expect(x, "message"): the page object's own words
    if custom and custom.startswith(("to ", "not to ")):  # what is expected, worded by the page object
        want, custom = custom, None
    else:
        counted = matcher.endswith("_count")  # a number, not a text
        value = expected.strip("'") if counted and expected else _quote(expected) if expected is not None else None
        want = _MATCHERS.get(matcher, matcher.replace("_", " ") + (" {v}" if expected else "")).format(
            v=value or "as expected")
    sentence = f"Expected {subject} {want}; the page showed {_actual(lines, matcher.endswith('_count'))}."
    return f"{custom}: {sentence}" if custom else sentence


def describe(locator: str) -> str:
    """A locator (or the description a page object gave it) in words."""
    if not re.match(r"^(get_by_|locator\(|internal:|frame_locator)", locator):
        return locator  # a page object's description, already in words
    calls = re.findall(r"(get_by_\w+|locator|filter|nth|first|last)\((.*?)\)(?=\.|$)", locator)
    what, holding = "", ""
    for name, args in calls:
        quoted = re.findall(r"""(?:name=)?["'](.+?)["']""", args)
        if name == "filter" and "has_text=" in args:
            holding = f' holding "{quoted[0]}"' if quoted else holding
        elif name == "get_by_role":
            role = quoted[0] if quoted else "element"
            named = re.search(r"""name=(?:["'](.+?)["']|re\.compile\(["'](.+?)["'])""", args)
            what = f'the {role} "{named.group(1) or named.group(2)}"' if named else _ROLES.get(role, f"the {role}")
        elif name in ("get_by_label", "get_by_placeholder"):
            what = f'the field "{_plain(args)}"'
        elif name in ("get_by_text", "get_by_title", "get_by_alt_text"):
            what = f'the text "{_plain(args)}"'
        elif name == "get_by_test_id":
            what = f"the element {_plain(args)}"
        elif name == "locator" and quoted:
            what = f"the element {quoted[0]}"
    return (what or f"the element {locator[:100]}") + holding


def _plain(args: str) -> str:
    """The words a locator's first argument looks for (a regex's literal part when it is one)."""
    r = _REGEX.search(args)
    if r:
        body = re.sub(r"\\s[*+?]|\^|\$|\(\?:.*?\)\??", "", r.group("body"))
        return re.sub(r"\\(.)", r"\1", body).strip()
    q = re.search(r"""["'](.+?)["']""", args)
    return q.group(1) if q else args


def _expected(lines: list[str], head: re.Match[str] | None) -> str | None:
    for ln in lines[1:4]:
        e = re.match(r"^Expected (?:value|string|pattern|substring|text)?:?\s*(.+?)\s*$", ln.strip())
        if e:
            return e.group(1)
    if head:
        v = re.search(r"""['"](.*)['"]\s*$""", head.group("what"))
        if v:
            return v.group(1)
    return None


def _actual(lines: list[str], counted: bool = False) -> str:
    error = next((ln.removeprefix("Error:").strip() for ln in lines if ln.startswith("Error:")), "")
    if error.startswith("element(s) not found"):
        return "no such element"
    if error.startswith("strict mode violation"):
        n = re.search(r"resolved to (\d+) elements", error)
        found = [re.sub(r"\s+aka .*$", "", ln.strip()) for ln in lines if re.match(r"^\s+\d+\) <", ln)]
        return f"{n.group(1) if n else 'several'} such elements: " + "; ".join(found[:3])
    value = next((ln.split(":", 1)[1].strip() for ln in lines if ln.startswith(("Actual value:",
                                                                                   "Received string:",
                                                                                   "Received:"))), None)
    if value in (None, "None", ""):
        return "no value" if error == "" else error
    if counted:
        return value
    if value == "visible":
        return "it"
    if value == "hidden":
        return "it hidden"
    return _quote(value)


def _quote(value: str) -> str:
    r = _REGEX.fullmatch(value.strip("'\""))
    if r:
        return f"/{r.group('body')}/"
    if value.startswith("["):
        return value
    return f'"{value.strip(chr(39))}"'
