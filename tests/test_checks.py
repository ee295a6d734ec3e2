"""The oracles and cross-checks the steps assert with (fixtures/checks.py), pinned from both sides."""

import pytest

from fixtures import checks
from pages.incident import IncidentData
from ssi.profile import load_profile

PROFILE = load_profile("reference")
INC = PROFILE.incidents
HIGH, MEDIUM, LOW = "1 - High", "2 - Medium", "3 - Low"


# ---------------------------------------------------------------- the priority matrix, cell by cell
@pytest.mark.parametrize(("impact", "urgency", "priority", "label"), [
    (HIGH, HIGH, 1, "1 - Critical"), (HIGH, MEDIUM, 2, "2 - High"), (HIGH, LOW, 3, "3 - Moderate"),
    (MEDIUM, HIGH, 2, "2 - High"), (MEDIUM, MEDIUM, 3, "3 - Moderate"), (MEDIUM, LOW, 4, "4 - Low"),
    (LOW, HIGH, 3, "3 - Moderate"), (LOW, MEDIUM, 4, "4 - Low"), (LOW, LOW, 5, "5 - Planning"),
])
def test_every_cell_of_the_priority_matrix(impact, urgency, priority, label):
    assert checks.priority_of(INC, impact, urgency) == priority
    assert checks.priority_label(INC, priority) == label
    assert checks.sec_category_of(INC, impact, urgency).label == f"Category {priority}"


def test_impact_and_urgency_are_not_swapped():
    # the matrix is symmetric in the reference profile; a lopsided one shows the order of the lookup
    lopsided = INC.model_copy(update={"priority_matrix": [[1, 1, 1], [5, 5, 5], [5, 5, 5]]})
    assert checks.priority_of(lopsided, HIGH, LOW) == 1
    assert checks.priority_of(lopsided, LOW, HIGH) == 5


def test_an_unknown_choice_label_is_an_error_not_a_default():
    with pytest.raises(StopIteration):
        checks.priority_of(INC, "4 - Unknown", HIGH)


@pytest.mark.parametrize(("priority", "hours"), [(1, 4), (2, 8), (3, 24), (4, 72), (5, 120)])
def test_target_resolution_hours_per_priority(priority, hours):
    assert INC.sec_category(priority).target_resolution_hours == hours


# ---------------------------------------------------------------- target times
@pytest.mark.parametrize(("opened", "hours", "target"), [
    ("2026-03-01 10:00:00", 4, "2026-03-01 14:00:00"),
    ("2026-03-01 10:00:00Z", 4, "2026-03-01 14:00:00"),  # the datetime attribute's UTC marker
    ("2026-03-01 20:00:00", 4, "2026-03-02 00:00:00"),  # exactly midnight: the next day
    ("2026-03-01 19:59:59", 4, "2026-03-01 23:59:59"),  # one second before it: the same day
    ("2026-02-28 23:30:00", 1, "2026-03-01 00:30:00"),  # past the end of February (2026: no leap day)
    ("2028-02-28 23:30:00", 1, "2028-02-29 00:30:00"),  # a leap year
    ("2026-12-31 23:00:00", 72, "2027-01-03 23:00:00"),  # across the year
    ("2026-03-29 00:30:00", 1, "2026-03-29 01:30:00"),  # UTC: no clock change at the UK's spring change
    ("2026-03-01 10:00:00", 0.5, "2026-03-01 10:30:00"),  # a fractional target
])
def test_target_resolution_time(opened, hours, target):
    assert checks.target_resolution(opened, hours) == target


def test_target_resolution_refuses_a_time_it_cannot_read():
    with pytest.raises(ValueError):
        checks.target_resolution("01/03/2026 10:00", 4)


# ---------------------------------------------------------------- the stored record
def _record(**values):
    return {k: {"value": v, "display_value": d} for k, (v, d) in values.items()}


def test_stored_record_matches_what_was_typed():
    data = IncidentData({"impact": "2 - Medium", "short_description": "Hub down [t1]", "u_mpxn": ""})
    record = _record(impact=("2", "2 - Medium"), short_description=("Hub down [t1]", "Hub down [t1]"),
                     u_mpxn=("", ""))
    assert checks.stored_mismatches(record, data) == []


def test_stored_record_compares_choices_by_label_and_text_by_value():
    data = IncidentData({"impact": "2 - Medium", "short_description": "Hub down"})
    record = _record(impact=("2", "3 - Low"), short_description=("Hub down!", "Hub down"))
    assert checks.stored_mismatches(record, data) == [
        "impact: typed '2 - Medium', stored '3 - Low'",
        "short_description: typed 'Hub down', stored 'Hub down!'",
    ]


def test_typed_edge_whitespace_may_be_trimmed_but_nothing_else():
    record = _record(description=("notes", "notes"))
    assert checks.stored_mismatches(record, IncidentData({"description": "  notes\n"})) == []
    assert checks.stored_mismatches(record, IncidentData({"description": "no tes"})) != []


def test_page_values_of_a_record():
    record = _record(state=("1", "New"), priority=("3", "3 - Moderate"), u_sec_category=("3", "Category 3"),
                     company=("c1", "NPS"), caller_id=("u1", "Pat Jones"),
                     u_target_resolution=("2026-03-02 10:00:00", "02/03/2026"))
    assert checks.page_values_of(record) == {
        "state": "New", "priority": "3 - Moderate", "sec_category": "Category 3", "organisation": "NPS",
        "caller": "Pat Jones", "target_resolution": "2026-03-02 10:00:00 UTC"}


def test_comments_newest_first():
    journal = "2026 (Additional comments)\nthird\n2026 (Additional comments)\nsecond\n...first"
    assert checks.newest_first_problem(journal, ["first", "second", "third"]) is None
    assert checks.newest_first_problem(journal, ["third", "second", "first"]) == \
        "the stored comments are not newest first"
    assert "not every update" in checks.newest_first_problem(journal, ["first", "fourth"])


def test_attachment_problems():
    sent = b"mpan,kwh\n1,2\n"
    good = {"file_name": "reads.csv", "size_bytes": str(len(sent)), "hash": checks.sha256(sent)}
    assert checks.attachment_problems([good], "reads.csv", sent) == []
    assert checks.attachment_problems([], "reads.csv", sent) == ["0 attachments stored, expected 1"]
    assert checks.attachment_problems([good, good], "reads.csv", sent) == ["2 attachments stored, expected 1"]
    assert checks.attachment_problems([{**good, "size_bytes": str(len(sent) - 1)}], "reads.csv", sent) == \
        [f"stored size {len(sent) - 1}, sent {len(sent)} bytes"]
    assert checks.attachment_problems([{**good, "hash": checks.sha256(sent + b"x")}], "reads.csv", sent) == \
        ["the stored checksum differs from the file's"]
    assert checks.attachment_problems([good], "reads.CSV", sent) == ["stored as 'reads.csv', not 'reads.CSV'"]


def test_journal_leaks():
    comment = {"element": "comments", "value": "We are looking into this [t1]"}
    note = {"element": "work_notes", "value": "INTERNAL"}
    assert checks.journal_leaks({"number": {}}, [comment], "INTERNAL", "looking into this") == []
    assert checks.journal_leaks({"number": {}}, [comment, note], "INTERNAL", "looking into this") == \
        ["the Table API returns the work note to me"]
    assert checks.journal_leaks({"work_notes": {}}, [comment], "INTERNAL", "looking into this") == \
        ["the Table API returns the work_notes field to me"]
    assert checks.journal_leaks({}, [], "INTERNAL", "looking into this") == \
        ["the desk's comment is missing from the journal"]


# ---------------------------------------------------------------- user administration
def test_expected_availability_is_the_union_of_the_roles_rows():
    matrix = PROFILE.role_matrix
    for role in matrix.roles:
        one = checks.expected_availability(matrix, [role.abbr])
        assert set(one) == {c.name for c in matrix.components}
        assert {n for n, v in one.items() if v == "Yes"} == \
            {c.name for c in matrix.components if role.abbr in c.allowed_roles}
    a, b = matrix.roles[0].abbr, matrix.roles[1].abbr
    both = checks.expected_availability(matrix, [a, b])
    assert {n for n, v in both.items() if v == "Yes"} == \
        {n for n, v in checks.expected_availability(matrix, [a]).items() if v == "Yes"} | \
        {n for n, v in checks.expected_availability(matrix, [b]).items() if v == "Yes"}
    assert set(checks.expected_availability(matrix, []).values()) == {"No"}


def test_user_list_sort_key():
    key = checks.user_list_sort_key
    assert key("Never", "last login", "Never") == ""
    assert key("Never", "last login", "2026-01-01 10:00") > key("Never", "last login", "Never")
    assert key("Never", "name", "Never") == "never"  # only the last-login column knows 'never'
    assert key("Never", "name", "Zoë ADAMS") == "zoë adams"  # ASCII folded, the rest kept (NOCASE)
    assert key("Never", "name", "Ö") == "Ö"


# ---------------------------------------------------------------- OMS
def _outside(tolerance, forecast, quantity):  # the reference SSI's rule (refssi/oms.py)
    return abs((quantity - forecast) / forecast * 100) > tolerance


@pytest.mark.parametrize("forecast", [1, 7, 10, 50, 99, 100, 1000, 4990])
@pytest.mark.parametrize("tolerance", [0, 5, 10, 12.5, 50])
def test_tolerance_quantities_fall_on_their_side(forecast, tolerance):
    within = checks.tolerance_quantity(tolerance, forecast, "within")
    beyond = checks.tolerance_quantity(tolerance, forecast, "beyond")
    assert within >= 1 and not _outside(tolerance, forecast, within)
    assert _outside(tolerance, forecast, beyond)


def test_tolerance_quantities_of_the_reference_profile():
    assert checks.tolerance_quantity(10, 100, "within") == 105
    assert checks.tolerance_quantity(10, 100, "beyond") == 121


@pytest.mark.parametrize(("quantity", "count"), [(1, 1), (999, 1), (1000, 1), (1001, 2), (2000, 2), (2001, 3)])
def test_consignments_per_order_line(quantity, count):
    assert checks.consignments_for(quantity, 1000) == count


@pytest.mark.parametrize(("quantity", "split"),
                         [(1, [1]), (1000, [1000]), (1001, [1000, 1]), (2500, [1000, 1000, 500])])
def test_consignment_split_of_an_order_line(quantity, split):
    assert checks.consignment_split(quantity, 1000) == split
    assert len(split) == checks.consignments_for(quantity, 1000)


def test_round_trip_evidence():
    kept = checks.round_trip("reads.csv", b"abc", b"abd")
    assert kept == {"file": "reads.csv", "attached_bytes": 3, "attached_sha256": checks.sha256(b"abc"),
                    "downloaded_bytes": 3, "downloaded_sha256": checks.sha256(b"abd")}
    assert kept["attached_sha256"] != kept["downloaded_sha256"]


# ---------------------------------------------------------------- test data never looks like a one-time code
def test_no_phone_number_of_the_seed_or_the_data_builders_holds_a_code_shaped_run():
    """The secret scan finds one-time codes by shape (a lone run of digits) and looks each up among the run's
    thousands of possible codes; a persona's phone number on every profile page once collided with one
    (cc.nps's '01632 775691')."""
    from fixtures import data
    from ssi.seed import load_seed
    from tests.helpers import CODE_SHAPE

    phones = [p.phone for p in load_seed().personas if p.phone]
    phones += [data.drama_phone() for _ in range(50)] + [data.my_profile_details(None)["phone"]]
    assert len(phones) > 60
    assert [p for p in phones if any(len(m.group(0)) >= 6 for m in CODE_SHAPE.finditer(p))] == []
    assert CODE_SHAPE.search("01632 775691")  # the shape that collided is still found as one


def test_the_quantities_the_oms_steps_type_are_the_only_code_shaped_data_the_tests_scan_leaves_out() -> None:
    """UEPT-OMS-12 types the quantity limit and one past it, six digits each: once one equalled one of a run's
    possible authenticator codes. The tests' secret scan leaves exactly these out of the codes it looks for."""
    from ssi.profile import load_profile
    from tests.helpers import CODE_SHAPE, suite_data_numbers

    oms = load_profile().oms
    assert suite_data_numbers() == {str(oms.max_quantity), str(oms.max_quantity + 1)} == {"100000", "100001"}
    assert all(CODE_SHAPE.fullmatch(n) for n in suite_data_numbers())  # why they must be left out


def test_the_secret_scan_skips_a_trace_s_own_numbers_and_still_finds_codes_in_its_strings(tmp_path) -> None:
    """A trace's JSON lines are full of Playwright's numbers ("startTime":303220): one of them once equalled one
    of the run's thousands of authenticator codes. They are not page text; a code typed, shown or posted is a
    string in the trace, and is still found."""
    import json
    import zipfile

    from tests.helpers import scan_for_secrets

    lines = [{"type": "before", "callId": "pwiz@14500", "startTime": 303220, "class": "Page"},
             {"type": "input", "params": {"value": "303221"}},
             {"type": "resource-snapshot", "postData": json.dumps({"code": 303222})}]
    with zipfile.ZipFile(tmp_path / "trace-1.zip", "w") as z:
        z.writestr("trace.trace", "\n".join(json.dumps(x, separators=(",", ":")) for x in lines))
    (tmp_path / "step-01.txt").write_text("Verification code 303220")  # outside a trace, a number is a number
    found = scan_for_secrets(tmp_path, {c: f"code {c}" for c in ("303220", "303221", "303222")})
    assert sorted(f.split(" in ")[0] for f in found) == ["code 303220", "code 303221", "code 303222"], found
    assert not any("trace.trace" in f and f.startswith("code 303220") for f in found)
