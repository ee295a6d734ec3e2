"""The reference SSI's OMS module at the HTTP level: direct POSTs, bad input, scoping, operator controls.

Every refusal must come with a message on the field and leave nothing saved, also
for requests that no browser form would send.
"""

from __future__ import annotations

import html
import re
from datetime import UTC, date, datetime, timedelta

import httpx
import pyotp
import pytest

from ssi.profile import load_profile
from tests.helpers import CSRF, Portal
from uept.runtime.reference import RunningSSI

PROFILE = load_profile("reference")
CFG = PROFILE.oms
V1, V2 = (v.code for v in CFG.ch_variants[:2])
AUX = CFG.auxiliary_equipment[0].code
NUMBER = re.compile(r"^[A-Z]{2,6}\d{7}$")


# ---------------------------------------------------------------- helpers
class Client(Portal):
    """A signed-in portal user with a cached CSRF token."""

    token = ""

    def sign_in(self, ssi: RunningSSI, persona: str, user: str) -> Client:
        secret = ssi.secrets[persona]
        totp = pyotp.TOTP(secret["totp_seed"])
        r = self.password(user, secret["password"])
        assert r.headers.get("location") == "/validate_multifactor_auth_code.do", r.text[:300]
        # these personas are this module's own (seed.yaml), so no one else has used this code
        r = self.code(totp.now())
        assert r.status_code == 303 and "id=" in r.headers["location"], r.text[:500]
        self.token = CSRF.search(self.http.get("/sp?id=index").text).group(1)
        return self

    def page(self, page: str, **params: str) -> httpx.Response:
        return self.http.get("/sp", params={"id": page, **params})

    def send(self, page: str, data: dict, **params: str) -> httpx.Response:
        return self.http.post("/sp", params={"id": page, **params}, data={"sysparm_ck": self.token, **data})


def field_error(r: httpx.Response, name: str) -> str:
    m = re.search(rf'id="{re.escape(name)}_error">(.*?)</p>', r.text, re.S)
    assert m, f"no error shown on field {name} (HTTP {r.status_code})"
    assert re.search(rf'id="{re.escape(name)}"[^>]*aria-invalid="true"', r.text), (
        f"{name} is not marked invalid"
    )
    return html.unescape(m.group(1))


def sys_id_of(r: httpx.Response) -> str:
    assert r.status_code == 303, f"expected a redirect, got {r.status_code}: {r.text[:800]}"
    return re.search(r"sys_id=([0-9a-f]{32})", r.headers["location"]).group(1)


def today() -> date:
    return datetime.now(UTC).date()


def month_after_lock(k: int = 0) -> str:
    """A month outside the lock window (k = 0: the first one)."""
    t = today()
    idx = t.year * 12 + t.month - 1 + 1 + CFG.lock_months + k
    return f"{idx // 12:04d}-{idx % 12 + 1:02d}"


def locked_month() -> str:
    t = today()
    idx = t.year * 12 + t.month  # next month: the first of the horizon, always locked when lock_months > 0
    return f"{idx // 12:04d}-{idx % 12 + 1:02d}"


@pytest.fixture(scope="module")
def operator(reference_ssi: RunningSSI) -> httpx.Client:
    return httpx.Client(
        base_url=f"{reference_ssi.url}/_operator/oms",
        timeout=20,
        headers={"Authorization": f"Bearer {reference_ssi.operator_token}"},
    )


@pytest.fixture(scope="module")
def amo(reference_ssi: RunningSSI) -> Client:
    return Client(reference_ssi.url).sign_in(reference_ssi, "OMS test user", "omstest.nps")


@pytest.fixture(scope="module")
def other_org(reference_ssi: RunningSSI) -> Client:
    return Client(reference_ssi.url).sign_in(
        reference_ssi, "OMS test user of another organisation", "omstest.sen"
    )


@pytest.fixture(scope="module")
def sm(reference_ssi: RunningSSI) -> Client:
    return Client(reference_ssi.url).sign_in(reference_ssi, "OMS test user without OMS", "nooms.nps")


def counts(operator: httpx.Client, org: str = "NPS") -> dict:
    r = operator.get(f"/counts/{org}")
    r.raise_for_status()
    return r.json()


def forecast(client: Client, region: str, changes: dict[tuple[str, str], str]) -> httpx.Response:
    form = client.page("oms_forecast", region=region).text
    base = re.search(r'name="base_version" value="(\d+)"', form).group(1)
    return client.send(
        "oms_forecast",
        {"base_version": base, **{f"q_{m}_{v}": q for (m, v), q in changes.items()}},
        region=region,
    )


def new_order(client: Client, **fields: str) -> httpx.Response:
    data = {
        "region": "North",
        "delivery_location": "Unit 7, Leeds depot",
        "delivery_date": f"{month_after_lock()}-15",
        **fields,
    }
    return client.send("oms_order_form", data, sys_id="-1")


def confirmed_order(client: Client, quantity: int = 10, item: str = AUX) -> str:
    """An order of auxiliary equipment (no forecast, no tolerance check), confirmed."""
    sys_id = sys_id_of(new_order(client, **{f"qty_{item}": str(quantity)}))
    assert client.send("oms_order", {"action": "submit"}, sys_id=sys_id).status_code == 303
    r = client.send(
        "oms_order", {"action": "confirm", "justification": "needed for the roll-out"}, sys_id=sys_id
    )
    assert r.status_code == 303, r.text[:500]
    return sys_id


def consignments_of(client: Client, order_id: str) -> list[tuple[str, str]]:
    text = client.page("oms_order", sys_id=order_id).text
    return re.findall(r'id=oms_consignment&amp;sys_id=([0-9a-f]{32})">([A-Z]+\d{7})<', text)


def fact(text: str, key: str) -> str:
    m = re.search(rf'<dd aria-labelledby="fact_{key}">(.*?)</dd>', text, re.S)
    assert m, f"no fact {key}"
    return html.unescape(m.group(1)).strip()


# ---------------------------------------------------------------- access
def test_a_role_without_oms_gets_no_menu_entry_and_a_403_on_every_oms_page(sm: Client) -> None:
    home = sm.page("index").text
    assert PROFILE.label("oms.menu") not in home
    for page in (
        "oms",
        "oms_catalogue",
        "oms_forecasts",
        "oms_orders",
        "oms_order_form",
        "oms_consignments",
        "oms_returns",
        "oms_return_form",
    ):
        r = sm.page(page)
        assert r.status_code == 403, page
        assert PROFILE.label("errors.forbidden") in r.text
    assert sm.send("oms_order_form", {"region": "North"}, sys_id="-1").status_code == 403


def test_the_oms_is_in_the_menu_of_a_role_with_oms(amo: Client) -> None:
    home = amo.page("index").text
    assert f'href="/sp?id=oms">{PROFILE.label("oms.menu")}</a>' in home
    assert amo.page("oms").status_code == 200


def test_signed_out_visitors_are_sent_to_log_in(reference_ssi: RunningSSI) -> None:
    r = httpx.get(f"{reference_ssi.url}/sp?id=oms_orders")
    assert r.status_code == 303 and "id=login" in r.headers["location"]


def test_a_post_without_the_csrf_token_is_refused(amo: Client, operator: httpx.Client) -> None:
    before = counts(operator)
    r = amo.http.post(
        "/sp",
        params={"id": "oms_order_form", "sys_id": "-1"},
        data={
            "region": "North",
            "delivery_location": "x",
            "delivery_date": f"{month_after_lock()}-01",
            f"qty_{AUX}": "1",
        },
    )
    assert r.status_code in (400, 403)
    assert counts(operator) == before


# ---------------------------------------------------------------- forecasts
def test_a_forecast_submission_records_a_new_version_with_history(amo: Client) -> None:
    month = month_after_lock(5)
    r = forecast(amo, "Central", {(month, V1): "730"})
    assert r.status_code == 303
    page = amo.page("oms_forecast", region="Central").text
    version = int(re.search(r"Forecast version (\d+) \((CHF\d{7})\) for Central submitted", page).group(1))
    assert re.search(rf'id="q_{month}_{V1}"[^>]*value="730"', page)
    history = amo.page("oms_forecast_history", region="Central", version=str(version)).text
    assert "Omar Stone (omstest.nps)" in history
    assert f"Version {version}" in history


def test_unchanged_forecast_is_not_a_new_version(amo: Client, operator: httpx.Client) -> None:
    forecast(amo, "Central", {(month_after_lock(6), V2): "15"})
    before = counts(operator)
    r = forecast(amo, "Central", {(month_after_lock(6), V2): "15"})
    assert r.status_code == 400 and "Nothing has changed since version" in r.text
    assert counts(operator) == before


def test_concurrent_forecast_edits_of_different_cells_both_count(amo: Client) -> None:
    m1, m2 = month_after_lock(7), month_after_lock(8)
    form = amo.page("oms_forecast", region="South").text
    base = re.search(r'name="base_version" value="(\d+)"', form).group(1)
    # two forms opened on the same version: each changes its own month
    assert (
        amo.send("oms_forecast", {"base_version": base, f"q_{m1}_{V1}": "111"}, region="South").status_code
        == 303
    )
    assert (
        amo.send("oms_forecast", {"base_version": base, f"q_{m2}_{V1}": "222"}, region="South").status_code
        == 303
    )
    page = amo.page("oms_forecast", region="South").text
    assert re.search(rf'id="q_{m1}_{V1}"[^>]*value="111"', page)
    assert re.search(rf'id="q_{m2}_{V1}"[^>]*value="222"', page)
    # ... but the same cell changed on a stale form is a conflict, not a silent overwrite
    r = amo.send("oms_forecast", {"base_version": base, f"q_{m1}_{V1}": "333"}, region="South")
    assert r.status_code == 400
    assert "since you opened this form" in field_error(r, f"q_{m1}_{V1}")


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("-5", "cannot be negative"),
        ("lots", "is not a number"),
        ("12.5", "is not a whole number"),
        (str(CFG.max_quantity + 1), f"at most {CFG.max_quantity:,}"),
        ("", "Enter a quantity"),
    ],
)
def test_bad_forecast_quantities_are_refused_on_the_field_and_nothing_is_saved(
    amo: Client, operator: httpx.Client, raw: str, message: str
) -> None:
    month = month_after_lock(2)
    before = counts(operator)
    r = forecast(amo, "North", {(month, V2): raw, (month_after_lock(3), V2): "40"})
    assert r.status_code == 400
    assert message in field_error(r, f"q_{month}_{V2}")
    assert 'role="alert"' in r.text and "Nothing has been saved" in r.text
    assert counts(operator) == before


def test_a_month_inside_the_lock_window_cannot_be_changed(amo: Client, operator: httpx.Client) -> None:
    month = locked_month()
    page = amo.page("oms_forecast", region="North").text
    assert re.search(rf'id="q_{month}_{V1}"[^>]*readonly', page), "a locked month is editable"
    before = counts(operator)
    r = forecast(amo, "North", {(month, V1): "999"})
    assert r.status_code == 400
    assert "lock window" in field_error(r, f"q_{month}_{V1}")
    assert counts(operator) == before


def test_unknown_region_or_version_is_not_valid(amo: Client) -> None:
    assert amo.page("oms_forecast", region="Atlantis").status_code == 404
    assert amo.page("oms_forecast_history", region="North", version="9999").status_code == 404


# ---------------------------------------------------------------- orders
def lead_date() -> str:
    return (today() + timedelta(days=max(CFG.lead_time_days - 1, 0))).isoformat()


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({f"qty_{V1}": "0"}, f"qty_{V1}", "at least 1"),
        ({f"qty_{V1}": "-3"}, f"qty_{V1}", "at least 1"),
        ({f"qty_{V1}": "2.5"}, f"qty_{V1}", "not a whole number"),
        ({f"qty_{V1}": "ten"}, f"qty_{V1}", "not a number"),
        ({f"qty_{AUX}": str(CFG.max_quantity + 1)}, f"qty_{AUX}", "at most"),
        (
            {f"qty_{V1}": "5", "delivery_date": (today() - timedelta(days=1)).isoformat()},
            "delivery_date",
            "in the past",
        ),
        ({f"qty_{V1}": "5", "delivery_date": lead_date()}, "delivery_date", "lead time"),
        ({f"qty_{V1}": "5", "delivery_date": "2099-01-01"}, "delivery_date", "beyond the"),
        ({f"qty_{V1}": "5", "delivery_date": "15/03/2027"}, "delivery_date", "not a date"),
        ({f"qty_{V1}": "5", "region": "Atlantis"}, "region", "Choose the Region"),
        ({f"qty_{V1}": "5", "delivery_location": "  "}, "delivery_location", "Enter the delivery location"),
        ({f"qty_{V1}": "5", "delivery_location": "x" * 121}, "delivery_location", "at most 120"),
    ],
)
def test_bad_order_input_is_refused_on_the_field_and_nothing_is_saved(
    amo: Client, operator: httpx.Client, fields: dict, field: str, message: str
) -> None:
    before = counts(operator)
    r = new_order(amo, **fields)
    assert r.status_code == 400
    assert message in field_error(r, field)
    assert counts(operator) == before


def test_an_order_without_any_quantity_is_refused(amo: Client, operator: httpx.Client) -> None:
    before = counts(operator)
    r = new_order(amo)
    assert r.status_code == 400 and "at least one" in field_error(r, "quantities")
    assert counts(operator) == before


def test_order_within_tolerance_goes_draft_submitted_confirmed(amo: Client) -> None:
    month = month_after_lock(9)
    assert forecast(amo, "North", {(month, V1): "400"}).status_code == 303
    r = new_order(amo, delivery_date=f"{month}-10", **{f"qty_{V1}": "420", f"qty_{AUX}": "2500"})
    sys_id = sys_id_of(r)
    page = amo.page("oms_order", sys_id=sys_id).text
    number = fact(page, "number")
    assert NUMBER.match(number) and number.startswith(CFG.numbers.order)
    assert fact(page, "state") == CFG.status("order", "draft")
    # a draft can still be edited
    r = amo.send(
        "oms_order_form",
        {
            "region": "North",
            "delivery_location": "Depot 9",
            "delivery_date": f"{month}-12",
            f"qty_{V1}": "410",
            f"qty_{AUX}": "2500",
        },
        sys_id=sys_id,
    )
    assert r.status_code == 303
    assert amo.send("oms_order", {"action": "confirm"}, sys_id=sys_id).status_code == 400  # not submitted yet
    assert amo.send("oms_order", {"action": "submit"}, sys_id=sys_id).status_code == 303
    page = amo.page("oms_order", sys_id=sys_id).text
    assert fact(page, "state") == CFG.status("order", "submitted")
    assert fact(page, "tolerance_exception") == "No" and "+2.5%" in page
    assert amo.send("oms_order", {"action": "confirm"}, sys_id=sys_id).status_code == 303
    page = amo.page("oms_order", sys_id=sys_id).text
    assert fact(page, "state") == CFG.status("order", "confirmed")
    # 410 CHs in one consignment; 2,500 aerials split into consignments of at most 1,000
    cons = consignments_of(amo, sys_id)
    assert len(cons) == 1 + -(-2500 // CFG.consignment_max_quantity)
    assert all(NUMBER.match(n) and n.startswith(CFG.numbers.consignment) for _, n in cons)
    # a confirmed order cannot be edited or submitted again
    assert amo.page("oms_order_form", sys_id=sys_id).status_code == 404
    assert amo.send("oms_order", {"action": "submit"}, sys_id=sys_id).status_code == 400


def test_order_outside_tolerance_needs_a_justification(amo: Client) -> None:
    month = month_after_lock(10)
    assert forecast(amo, "North", {(month, V2): "100"}).status_code == 303
    sys_id = sys_id_of(new_order(amo, delivery_date=f"{month}-20", **{f"qty_{V2}": "150"}))
    assert amo.send("oms_order", {"action": "submit"}, sys_id=sys_id).status_code == 303
    page = amo.page("oms_order", sys_id=sys_id).text
    assert fact(page, "tolerance_exception") == "Yes" and "+50.0%" in page and "Outside tolerance" in page
    for justification in ("", "short"):
        r = amo.send("oms_order", {"action": "confirm", "justification": justification}, sys_id=sys_id)
        assert r.status_code == 400
        assert "at least 10 characters" in field_error(r, "justification")
        assert fact(amo.page("oms_order", sys_id=sys_id).text, "state") == CFG.status("order", "submitted")
        assert not consignments_of(amo, sys_id)
    r = amo.send(
        "oms_order", {"action": "confirm", "justification": "New-build estate brought forward"}, sys_id=sys_id
    )
    assert r.status_code == 303
    page = amo.page("oms_order", sys_id=sys_id).text
    assert fact(page, "state") == CFG.status("order", "confirmed")
    assert fact(page, "justification") == "New-build estate brought forward"


def test_an_order_against_a_zero_or_missing_forecast_is_a_tolerance_exception(
    amo: Client, other_org: Client
) -> None:
    for client in (amo, other_org):  # SEN has never forecast anything
        sys_id = sys_id_of(
            new_order(
                client, region="South", delivery_date=f"{month_after_lock(11)}-03", **{f"qty_{V2}": "7"}
            )
        )
        client.send("oms_order", {"action": "submit"}, sys_id=sys_id)
        page = client.page("oms_order", sys_id=sys_id).text
        assert "Outside tolerance" in page and fact(page, "tolerance_exception") == "Yes"
    assert "No forecast" in page


def test_orders_list_search_finds_by_location(amo: Client) -> None:
    sys_id_of(new_order(amo, delivery_location="Searchable depot 4711", **{f"qty_{AUX}": "3"}))
    listing = amo.page("oms_orders", q="depot 4711").text
    assert "Searchable depot 4711" in listing
    assert "No orders" in amo.page("oms_orders", q="no-such-depot-xyz").text


# ---------------------------------------------------------------- consignments
def test_delivery_date_can_be_amended_only_before_dispatch(amo: Client, operator: httpx.Client) -> None:
    order = confirmed_order(amo)
    k_id, k_number = consignments_of(amo, order)[0]
    r = amo.send("oms_consignment", {"action": "amend", "delivery_date": lead_date()}, sys_id=k_id)
    assert r.status_code == 400 and "lead time" in field_error(r, "delivery_date")
    new = f"{month_after_lock(1)}-21"
    assert (
        amo.send("oms_consignment", {"action": "amend", "delivery_date": new}, sys_id=k_id).status_code == 303
    )
    page = amo.page("oms_consignment", sys_id=k_id).text
    assert fact(page, "delivery_date") == new and "Delivery date amended from" in page
    r = amo.send("oms_consignment", {"action": "amend", "delivery_date": new}, sys_id=k_id)
    assert "already the delivery date" in field_error(r, "delivery_date")
    assert operator.post(f"/consignments/{k_number}", json={"to": "dispatched"}).json()["tracking_ref"]
    r = amo.send(
        "oms_consignment", {"action": "amend", "delivery_date": f"{month_after_lock(1)}-22"}, sys_id=k_id
    )
    assert r.status_code == 400 and "can no longer be amended" in r.text
    assert fact(amo.page("oms_consignment", sys_id=k_id).text, "delivery_date") == new


def test_operator_moves_consignments_one_step_at_a_time(
    amo: Client, operator: httpx.Client, reference_ssi: RunningSSI
) -> None:
    order = confirmed_order(amo)
    _, number = consignments_of(amo, order)[0]
    assert operator.post(f"/consignments/{number}", json={"to": "delivered"}).status_code == 409
    assert (
        httpx.post(
            f"{reference_ssi.url}/_operator/oms/consignments/{number}", json={"to": "dispatched"}
        ).status_code
        == 401
    )
    assert operator.post("/consignments/CON9999999", json={"to": "dispatched"}).status_code == 404


def test_accept_and_reject_a_delivered_consignment(amo: Client, operator: httpx.Client) -> None:
    order = confirmed_order(amo, quantity=12, item=V1)
    k_id, number = consignments_of(amo, order)[0]
    r = amo.send("oms_consignment", {"action": "accept"}, sys_id=k_id)
    assert r.status_code == 400 and "only a delivered consignment" in r.text
    operator.post(f"/consignments/{number}", json={"to": "dispatched"}).raise_for_status()
    operator.post(f"/consignments/{number}", json={"to": "delivered"}).raise_for_status()
    page = amo.page("oms_consignment", sys_id=k_id).text
    assert page.count("00-DB-12-") == 12  # the delivered CHs, by device ID
    for data, field, message in [
        ({"rejection_reason": "damaged", "rejected_quantity": "13"}, "rejected_quantity", "at most the 12"),
        ({"rejection_reason": "damaged", "rejected_quantity": "0"}, "rejected_quantity", "at least 1"),
        ({"rejection_reason": "damaged", "rejected_quantity": ""}, "rejected_quantity", "how many"),
        (
            {"rejection_reason": "bored", "rejected_quantity": "2"},
            "rejection_reason",
            "Choose a rejection reason",
        ),
    ]:
        r = amo.send("oms_consignment", {"action": "reject", **data}, sys_id=k_id)
        assert r.status_code == 400 and message in field_error(r, field)
        assert fact(amo.page("oms_consignment", sys_id=k_id).text, "state") == CFG.status(
            "consignment", "delivered"
        )
    r = amo.send(
        "oms_consignment",
        {"action": "reject", "rejection_reason": "damaged", "rejected_quantity": "3"},
        sys_id=k_id,
    )
    assert r.status_code == 303
    page = amo.page("oms_consignment", sys_id=k_id).text
    assert fact(page, "state") == CFG.status("consignment", "rejected")
    assert fact(page, "rejected_quantity") == "3" and fact(page, "rejection_reason") == "Damaged in transit"
    assert amo.send("oms_consignment", {"action": "accept"}, sys_id=k_id).status_code == 400


# ---------------------------------------------------------------- returns
def devices(operator: httpx.Client, n: int, org: str = "NPS") -> list[str]:
    r = operator.post("/devices", json={"organisation": org, "count": n})
    r.raise_for_status()
    return r.json()["serials"]


def test_bad_return_input_is_refused_on_the_field_and_nothing_is_saved(
    amo: Client, operator: httpx.Client
) -> None:
    mine = devices(operator, 3)
    theirs = devices(operator, 1, org="SEN")[0]
    first = amo.send("oms_return_form", {"serials": mine[0], "reason": "faulty_in_life"})
    assert first.status_code == 303
    returned = fact(amo.page("oms_return", sys_id=sys_id_of(first)).text, "number")
    before = counts(operator)
    for serials, reason, field, message in [
        ("", "faulty_in_life", "serials", "Enter the device ID"),
        (
            "00-DB-12-00-00-00-00-00",
            "faulty_in_life",
            "serials",
            "is not a Communications Hub of your organisation",
        ),
        (theirs, "faulty_in_life", "serials", "is not a Communications Hub of your organisation"),
        ("not-a-hub", "faulty_in_life", "serials", "is not a CH device ID"),
        (f"{mine[1]}\n{mine[1]}", "faulty_in_life", "serials", "listed twice"),
        (
            f"{mine[1]}\n{mine[0]}",
            "faulty_in_life",
            "serials",
            f"{mine[0]} is already under return {returned}",
        ),
        (mine[1], "", "reason", "Choose a return reason"),
        (mine[1], "bored", "reason", "Choose a return reason"),
        ("\n".join([mine[2]] * (CFG.return_max_devices + 1)), "wrong_item", "serials", "at most"),
    ]:
        r = amo.send("oms_return_form", {"serials": serials, "reason": reason})
        assert r.status_code == 400, serials
        assert message in field_error(r, field)
    assert counts(operator) == before


def test_a_return_goes_from_requested_to_closed_with_triage_outcomes(
    amo: Client, operator: httpx.Client
) -> None:
    a, b = devices(operator, 2)
    r = amo.send(
        "oms_return_form", {"serials": f"{a.lower()}, {b}", "reason": "no_fault_found", "notes": "site visit"}
    )
    sys_id = sys_id_of(r)
    page = amo.page("oms_return", sys_id=sys_id).text
    number = fact(page, "number")
    assert NUMBER.match(number) and number.startswith(CFG.numbers.returns)
    assert fact(page, "state") == CFG.status("returns", "requested") and page.count("Awaiting triage") == 2
    assert operator.post(f"/returns/{number}", json={"to": "collected"}).status_code == 409
    rma = operator.post(f"/returns/{number}", json={"to": "authorised"}).json()["rma_number"]
    assert NUMBER.match(rma) and rma.startswith(CFG.numbers.rma)
    for state in ("collected", "received"):
        operator.post(f"/returns/{number}", json={"to": state}).raise_for_status()
    assert operator.post(f"/returns/{number}", json={"to": "triage"}).status_code == 422
    assert (
        operator.post(
            f"/returns/{number}", json={"to": "triage", "outcomes": {"00-DB-12-00-00-00-00-01": "x"}}
        ).status_code
        == 422
    )
    operator.post(
        f"/returns/{number}", json={"to": "triage", "outcomes": {a: "Fault confirmed"}}
    ).raise_for_status()
    assert (
        operator.post(f"/returns/{number}", json={"to": "closed"}).status_code == 409
    )  # b has no outcome yet
    operator.post(
        f"/returns/{number}", json={"to": "triage", "outcomes": {b: "no_fault_found"}}
    ).raise_for_status()
    operator.post(f"/returns/{number}", json={"to": "closed"}).raise_for_status()
    page = amo.page("oms_return", sys_id=sys_id).text
    assert fact(page, "state") == CFG.status("returns", "closed") and fact(page, "rma") == rma
    assert re.search(rf"{a}</th><td>[^<]+</td>\s*<td>Fault confirmed</td>", page)
    assert re.search(rf"{b}</th><td>[^<]+</td>\s*<td>No fault found</td>", page)
    assert number in amo.page("oms_returns", q=b).text  # find a return by device ID


# ---------------------------------------------------------------- organisation scoping
def test_another_organisation_cannot_see_or_touch_our_records(
    amo: Client, other_org: Client, operator: httpx.Client
) -> None:
    order = confirmed_order(amo)
    k_id, _ = consignments_of(amo, order)[0]
    ret = sys_id_of(amo.send("oms_return_form", {"serials": devices(operator, 1)[0], "reason": "wrong_item"}))
    not_valid = PROFILE.label("errors.not_authorized")
    for page, sys_id in (
        ("oms_order", order),
        ("oms_consignment", k_id),
        ("oms_return", ret),
        ("oms_order_form", order),
    ):
        r = other_org.page(page, sys_id=sys_id)
        assert r.status_code == 404 and not_valid in r.text, page
    before = counts(operator)
    r = other_org.send(
        "oms_consignment", {"action": "amend", "delivery_date": f"{month_after_lock(2)}-02"}, sys_id=k_id
    )
    assert r.status_code == 404
    assert counts(operator) == before
    nps_number = fact(amo.page("oms_order", sys_id=order).text, "number")
    assert nps_number not in other_org.page("oms_orders").text
    assert nps_number not in other_org.page("oms_consignments").text
