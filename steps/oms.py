"""UEPT theme 4: basic OMS functionality (features/oms.feature).

Catalogue items are named by position ("the first CH variant") and resolved from
the target profile, so the feature reads the same whatever DCC calls them. Values a
scenario needs later (months, quantities, numbers, device IDs) go into `oms_case` (fixtures/state.py),
which survives switching persona within a scenario.
"""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
from playwright.sync_api import Page, expect
from pytest_bdd import given, parsers, then, when

from fixtures import checks, data
from fixtures.actors import Actor
from fixtures.state import ForecastEntry, OmsCase, OrderLine
from fixtures.target import needs_control
from pages import SSI, journeys
from steps import TYPES
from uept.runtime.control import TargetControl


# ---------------------------------------------------------------- the way in (SSI-FR-20/20a)
@when("I open the OMS from the SSI home page")
def open_oms_from_home(ssi: SSI) -> None:
    ssi.home.open()
    ssi.home.follow_tile(ssi.profile.label("oms.menu"))


@then("the OMS home page is shown")
def oms_home_shown(ssi: SSI, page: Page) -> None:
    expect(ssi.oms.heading_).to_be_visible()
    expect(page).to_have_url(re.compile(r"[?&]id=oms(&|$)"))
    expect(ssi.oms.oms_menu).to_be_visible()


@when("I open the OMS catalogue")
def open_catalogue(ssi: SSI) -> None:
    ssi.oms.go("oms.catalogue")


@then("it lists every Region, CH variant and auxiliary item of the target profile")
def catalogue_lists_everything(ssi: SSI) -> None:
    cfg, cat = ssi.profile.oms, ssi.oms_catalogue
    expect(cat.regions).to_have_text(cfg.regions)
    for table, items in ((cat.variants, cfg.ch_variants), (cat.auxiliary, cfg.auxiliary_equipment)):
        expect(cat.item_rows(table)).to_have_count(len(items) + 1)
        for item in items:
            expect(cat.item_row(table, item)).to_contain_text(item.code)


# ---------------------------------------------------------------- forecasts
@when(parsers.parse('I open the "{region}" forecast'))
def open_forecast(ssi: SSI, oms_case: OmsCase, region: str) -> None:
    ssi.oms_forecast.open(region)
    oms_case.region = region


@when(parsers.parse("I change the forecast of the {item:Item} for a month after the lock window", extra_types=TYPES))
def change_forecast(ssi: SSI, oms_case: OmsCase, item: str) -> None:
    variant = data.catalogue_item(ssi.profile, item)
    month = data.pick(ssi.oms_forecast.open_months(oms_case.region))
    quantity = data.forecast_quantity(int(ssi.oms_forecast.value(variant, month) or 0))
    ssi.oms_forecast.enter(variant, month, str(quantity))
    oms_case.variant, oms_case.month, oms_case.quantity = variant, month, quantity


@when("I submit the forecast")
def submit_forecast(ssi: SSI) -> None:
    ssi.oms_forecast.submit()


@then("I see that a new forecast version was submitted")
def forecast_version_submitted(ssi: SSI, oms_case: OmsCase) -> None:
    expect(ssi.oms_forecast.confirmation).to_contain_text(f"for {oms_case.region} submitted")
    oms_case.version = ssi.oms_forecast.submitted_version()


@then("the forecast shows my quantity for that month")
def forecast_shows_quantity(ssi: SSI, oms_case: OmsCase) -> None:
    cell = ssi.oms_forecast.cell(oms_case.variant, oms_case.month)
    expect(cell).to_have_value(str(oms_case.quantity))
    ssi.oms_forecast.show(cell)


@then("the version history lists my version with my quantity")
def history_lists_version(ssi: SSI, oms_case: OmsCase, actor: Actor) -> None:
    f = ssi.oms_forecast
    f.open_history(oms_case.region)
    expect(f.version_row(oms_case.version)).to_contain_text(actor.user_name)
    f.open_version(oms_case.version)
    cell = f.version_cell(oms_case.version, oms_case.variant, oms_case.month)
    expect(cell).to_have_text(str(oms_case.quantity))
    f.show(cell)


@when(parsers.parse("I enter these forecasts of the {item:Item} for months after the lock window:", extra_types=TYPES))
def enter_bad_forecasts(ssi: SSI, oms_case: OmsCase, item: str, datatable: list[list[str]]) -> None:
    variant = data.catalogue_item(ssi.profile, item)
    rows = [dict(zip(datatable[0], r, strict=True)) for r in datatable[1:]]
    candidates = ssi.oms_forecast.open_months(oms_case.region)
    months = data.run_of(candidates, len(rows))  # next to each other: one screenshot shows them all
    oms_case.variant = variant
    for row, month in zip(rows, months, strict=True):
        oms_case.entries.append(ForecastEntry(month, row["quantity"], row["message"],
                                              ssi.oms_forecast.value(variant, month)))
        ssi.oms_forecast.enter(variant, month, row["quantity"])


@then("each of those months shows its message")
def months_show_messages(ssi: SSI, oms_case: OmsCase) -> None:
    expect(ssi.oms_forecast.alert).to_contain_text("Nothing has been saved")
    for e in oms_case.entries:
        ssi.oms_forecast.expect_field_error(
            ssi.oms_forecast.cell(oms_case.variant, e.month), e.message
        )
    ssi.oms_forecast.show(ssi.oms_forecast.cell(oms_case.variant, oms_case.entries[0].month))


@then("none of those forecasts has changed")
def forecasts_unchanged(ssi: SSI, oms_case: OmsCase) -> None:
    ssi.oms_forecast.open(oms_case.region)  # what the server holds now, not what the form kept
    for e in oms_case.entries:
        expect(ssi.oms_forecast.cell(oms_case.variant, e.month)).to_have_value(e.before)
    ssi.oms_forecast.show(ssi.oms_forecast.cell(oms_case.variant, oms_case.entries[0].month))


@then("every month inside the lock window is marked locked and cannot be changed")
def locked_months(ssi: SSI, oms_case: OmsCase) -> None:
    cfg = ssi.profile.oms
    months = ssi.oms_forecast.months(oms_case.region)
    assert months and len(months) == cfg.horizon_months, (
        f"the forecast shows {len(months)} months, not the {cfg.horizon_months}-month horizon"
    )
    locked = [m for m, is_locked in months if is_locked]
    assert locked == [m for m, _ in months[: cfg.lock_months]], (
        f"the locked months are {locked or 'none'}, not the first {cfg.lock_months} of the horizon"
    )
    for month in locked:
        for variant in cfg.ch_variants:
            cell = ssi.oms_forecast.cell(variant, month)
            expect(cell).not_to_be_editable()
            expect(cell).to_have_accessible_description(re.compile("lock window"))


@then("the first month after the lock window can be changed")
def first_open_month_editable(ssi: SSI, oms_case: OmsCase) -> None:
    month = ssi.oms_forecast.open_months(oms_case.region)[0]
    for variant in ssi.profile.oms.ch_variants:
        expect(ssi.oms_forecast.cell(variant, month)).to_be_editable()


@given(parsers.parse('our "{region}" forecast of the {item:Item} for a month after the lock window '
                     "is {quantity:Digits}", extra_types=TYPES))
def forecast_is(ssi: SSI, oms_case: OmsCase, region: str, item: str, quantity: str) -> None:
    variant = data.catalogue_item(ssi.profile, item)
    ssi.oms_forecast.open(region)
    month = data.pick(ssi.oms_forecast.open_months(region))
    if ssi.oms_forecast.value(variant, month) != quantity:
        ssi.oms_forecast.enter(variant, month, quantity)
        ssi.oms_forecast.submit()
        expect(ssi.oms_forecast.confirmation).to_be_visible()
    expect(ssi.oms_forecast.cell(variant, month)).to_have_value(quantity)
    oms_case.region, oms_case.variant, oms_case.month, oms_case.forecast = region, variant, month, int(quantity)


# ---------------------------------------------------------------- orders
@when(parsers.parse('I order the {item:Item} for "{region}" in that month, {how:WithinOrBeyond} the forecast tolerance',
                    extra_types=TYPES))
def order_against_forecast(ssi: SSI, oms_case: OmsCase, item: str, region: str, how: str) -> None:
    variant = data.catalogue_item(ssi.profile, item)
    quantity = checks.tolerance_quantity(ssi.profile.oms.tolerance_percent, oms_case.forecast, how)
    form = ssi.oms_order_form
    form.open_new()
    form.fill(
        region=region,
        location=data.new_location(),
        delivery_date=f"{oms_case.month}-15",
        quantities={variant.code: str(quantity)},
    )
    form.save_draft()
    oms_case.order_quantity = quantity


@then("the order is saved as a Draft with a ServiceNow-style order number")
def order_saved_as_draft(ssi: SSI) -> None:
    prefix = ssi.profile.oms.numbers.order
    expect(ssi.oms_order.number).to_have_text(re.compile(rf"^{re.escape(prefix)}\d{{7}}$"))
    expect(ssi.oms_order.notice(f"{ssi.oms_order.number.inner_text()} saved as a draft")).to_be_visible()
    expect(ssi.oms_order.state).to_have_text(ssi.oms_order.status_name("order", "draft"))


@when("I submit the order")
def submit_order(ssi: SSI) -> None:
    ssi.oms_order.submit()


@then(parsers.parse("the order is {state:w}"))
def order_is(ssi: SSI, state: str) -> None:
    expect(ssi.oms_order.state).to_have_text(ssi.oms_order.status_name("order", state))


@then(parsers.parse("the order line is {where:WithinOrOutside} the forecast tolerance", extra_types=TYPES))
def order_line_tolerance(ssi: SSI, oms_case: OmsCase, where: str) -> None:
    line = ssi.oms_order.line(oms_case.variant)
    expect(line).to_contain_text(str(oms_case.forecast))
    expect(line).to_contain_text(f"{where.capitalize()} tolerance")
    expect(ssi.oms_order.fact("Tolerance exception")).to_have_text("Yes" if where == "outside" else "No")


@when("I confirm the order")
@when("I confirm the order without a justification")
def confirm_order(ssi: SSI) -> None:
    ssi.oms_order.confirm()


@when("I confirm the order with a justification")
def confirm_order_justified(ssi: SSI, oms_case: OmsCase) -> None:
    oms_case.justification = data.justification()
    ssi.oms_order.confirm(oms_case.justification)


@then("I am asked for a tolerance-exception justification")
def asked_for_justification(ssi: SSI) -> None:
    ssi.oms_order.expect_field_error(ssi.oms_order.justification, "explain why")


@then("the order shows the tolerance exception and my justification")
def order_shows_justification(ssi: SSI, oms_case: OmsCase) -> None:
    expect(ssi.oms_order.fact("Tolerance exception")).to_have_text("Yes")
    expect(ssi.oms_order.fact(ssi.profile.label("oms.justification"))).to_have_text(
        oms_case.justification
    )


@then("its consignments are Scheduled")
def consignments_scheduled(ssi: SSI, oms_case: OmsCase) -> None:
    expected = checks.consignments_for(oms_case.order_quantity, ssi.profile.oms.consignment_max_quantity)
    expect(ssi.oms_order.consignment_rows).to_have_count(expected)
    scheduled = ssi.oms_order.status_name("consignment", "scheduled")
    for i in range(expected):
        expect(ssi.oms_order.consignment_state(i)).to_have_text(scheduled)


@given(parsers.parse('we have a confirmed order of {quantity:Digits} of the {item:Item} for the "{region}" region',
                     extra_types=TYPES))
def confirmed_order(ssi: SSI, oms_case: OmsCase, quantity: str, item: str, region: str) -> None:
    oms_case.order_quantity = int(quantity)
    oms_case.order_url = journeys.place_confirmed_order(ssi, data.catalogue_item(ssi.profile, item), int(quantity),
                                                        region, data.new_location(), data.deliverable_date(ssi.profile))


@given(parsers.parse('we have a confirmed order of {how:ConsignmentSize} of the {item:Item} for the "{region}" region',
                     extra_types=TYPES))
def confirmed_order_of_consignment_size(ssi: SSI, oms_case: OmsCase, how: int, item: str, region: str) -> None:
    confirmed_order(ssi, oms_case, str(ssi.profile.oms.consignment_max_quantity + how), item, region)


@then("its consignments hold the order's quantity, each at most the largest consignment allowed")
def consignments_split(ssi: SSI, oms_case: OmsCase) -> None:
    expected = checks.consignment_split(oms_case.order_quantity, ssi.profile.oms.consignment_max_quantity)
    held = ssi.oms_order.consignment_quantities()  # in the table's order, which the split does not set
    assert sorted(held) == sorted(expected), f"the order's consignments hold {held}, not {expected}"


@when("I open its first consignment")
def open_first_consignment(ssi: SSI, oms_case: OmsCase) -> None:
    oms_case.consignment = ssi.oms_order.open_consignment(0)


@when("I amend the delivery date to a week later")
def amend_week_later(ssi: SSI, oms_case: OmsCase) -> None:
    current = date.fromisoformat(ssi.oms_consignment.delivery_date.inner_text().strip())
    oms_case.new_date = (current + timedelta(days=7)).isoformat()
    ssi.oms_consignment.amend(oms_case.new_date)


@then("the consignment shows the new delivery date")
def shows_new_date(ssi: SSI, oms_case: OmsCase) -> None:
    expect(ssi.oms_consignment.notice(f"amended to {oms_case.new_date}")).to_be_visible()
    expect(ssi.oms_consignment.delivery_date).to_have_text(oms_case.new_date)


@then(parsers.parse("the consignment is {state:w}"))
def consignment_is(ssi: SSI, state: str) -> None:
    expect(ssi.oms_consignment.state).to_have_text(ssi.oms_consignment.status_name("consignment", state))


@when(parsers.parse("the carrier {action:DispatchesOrDelivers} the consignment", extra_types=TYPES))
def carrier_moves_consignment(ssi: SSI, target_control: TargetControl, oms_case: OmsCase, action: str) -> None:
    control = needs_control(target_control, "a carrier dispatching or delivering a consignment")
    control.oms_consignment(
        oms_case.consignment, action
    )
    ssi.oms_consignment.reload()


@then("the delivery date can no longer be amended")
def cannot_amend(ssi: SSI) -> None:
    expect(ssi.oms_consignment.state).to_have_text(ssi.oms_consignment.status_name("consignment", "dispatched"))
    expect(ssi.oms_consignment.new_delivery_date).to_have_count(0)
    expect(ssi.oms_consignment.amend_button).to_have_count(0)


@then("the consignment is Dispatched with a tracking reference")
def dispatched_with_tracking(ssi: SSI) -> None:
    expect(ssi.oms_consignment.state).to_have_text(ssi.oms_consignment.status_name("consignment", "dispatched"))
    expect(ssi.oms_consignment.tracking).to_have_text(re.compile(r"^\s*[A-Z0-9-]{6,}\s*$"))


@then(parsers.parse("the consignment is Delivered with the device ID of each of the {n:Digits} CHs",
                     extra_types=TYPES))
def delivered_with_devices(ssi: SSI, n: str) -> None:
    expect(ssi.oms_consignment.state).to_have_text(ssi.oms_consignment.status_name("consignment", "delivered"))
    expect(ssi.oms_consignment.devices).to_have_count(int(n))
    pattern = re.compile(ssi.profile.oms.device_id_pattern)
    ids = ssi.oms_consignment.device_ids()
    assert len(set(ids)) == int(n) and all(pattern.match(i) for i in ids), f"device IDs shown: {ids}"


@when("I accept the delivery")
def accept_delivery(ssi: SSI) -> None:
    ssi.oms_consignment.accept()


@given(parsers.parse("we have a delivered consignment of {quantity:Digits} of the {item:Item}", extra_types=TYPES))
def delivered_consignment(
    ssi: SSI, target_control: TargetControl, oms_case: OmsCase, quantity: str, item: str
) -> None:
    control = needs_control(target_control, "a carrier delivering a consignment")
    oms_case.order_quantity = int(quantity)
    oms_case.order_url = journeys.place_confirmed_order(ssi, data.catalogue_item(ssi.profile, item), int(quantity),
                                                        ssi.profile.oms.regions[0], data.new_location(),
                                                        data.deliverable_date(ssi.profile))
    oms_case.consignment = ssi.oms_order.open_consignment(0)
    control.oms_consignment(oms_case.consignment, "dispatched")
    control.oms_consignment(oms_case.consignment, "delivered")
    ssi.oms_consignment.reload()
    expect(ssi.oms_consignment.state).to_have_text(ssi.oms_consignment.status_name("consignment", "delivered"))


@when(parsers.parse('I reject {quantity:d} of the delivered units because "{reason}"'))
def reject_delivery(ssi: SSI, quantity: int, reason: str) -> None:
    ssi.profile.oms.choice(ssi.profile.oms.rejection_reasons, reason)  # a clear error if the profile lacks it
    ssi.oms_consignment.reject(reason, str(quantity))


@then(parsers.parse("I am told I can reject at most the {quantity:d} units delivered"))
def reject_at_most(ssi: SSI, quantity: int) -> None:
    ssi.oms_consignment.expect_field_error(
        ssi.oms_consignment.rejected_quantity, f"at most the {quantity} units"
    )


@then(parsers.parse('it records {quantity:d} units rejected because "{reason}"'))
def records_rejection(ssi: SSI, quantity: int, reason: str) -> None:
    k = ssi.oms_consignment
    expect(k.fact(ssi.profile.label("oms.rejected_quantity"))).to_have_text(str(quantity))
    expect(k.fact(ssi.profile.label("oms.rejection_reason"))).to_have_text(reason)


# ---------------------------------------------------------------- returns (SSI-FR-82..85)
@given(parsers.parse("our organisation holds {count:d} CHs that are not under return"))
def devices_held(target_control: TargetControl, actor: Actor, oms_case: OmsCase, count: int) -> None:
    control = needs_control(target_control, "giving the organisation Communications Hubs to return")
    oms_case.serials = control.oms_devices(actor.persona.organisation or "NPS", count)


@when(parsers.parse('I raise a return for both of them because "{reason}"'))
def raise_return_both(ssi: SSI, oms_case: OmsCase, reason: str) -> None:
    journeys.raise_return(ssi, oms_case.serials, reason)
    expect(ssi.oms_return.notice("raised")).to_be_visible()
    oms_case.return_number = ssi.oms_return.number.inner_text().strip()


@then("the return is Requested and both devices are awaiting triage")
def return_requested(ssi: SSI, oms_case: OmsCase) -> None:
    ssi.oms_return.expect_requested(oms_case.serials)


# the return limit (oms.return_max_devices), from both sides
@given("our organisation holds one more CH than a return may hold, none under return")
def devices_for_the_limit(ssi: SSI, target_control: TargetControl, actor: Actor, oms_case: OmsCase) -> None:
    devices_held(target_control, actor, oms_case, ssi.profile.oms.return_max_devices + 1)


@when("I raise a return for one more CH than a return may hold")
def raise_return_over_limit(ssi: SSI, oms_case: OmsCase) -> None:
    journeys.raise_return(ssi, oms_case.serials, ssi.profile.oms.return_reasons[0].label)


@then("the device IDs field says a return holds at most that many CHs")
def says_return_limit(ssi: SSI) -> None:
    f = ssi.oms_return_form
    f.expect_field_error(f.serials, f"Return at most {ssi.profile.oms.return_max_devices} Communications Hubs")


@then("no return holds any of them")
def no_return_for_any(ssi: SSI, oms_case: OmsCase) -> None:
    for serial in (oms_case.serials[0], oms_case.serials[-1]):  # the list is searched by device ID
        ssi.oms_returns.open()
        ssi.oms_returns.search(serial)
        expect(ssi.oms_returns.table_).to_be_visible()
        expect(ssi.oms_returns.rows).to_have_count(0)


@when("I raise a return for as many CHs as a return may hold")
def raise_return_at_limit(ssi: SSI, oms_case: OmsCase) -> None:
    journeys.raise_return(ssi, oms_case.serials[:ssi.profile.oms.return_max_devices],
                          ssi.profile.oms.return_reasons[0].label)


@then("the return is Requested and every device in it is awaiting triage")
def return_requested_at_limit(ssi: SSI, oms_case: OmsCase) -> None:
    ssi.oms_return.expect_requested(oms_case.serials[:ssi.profile.oms.return_max_devices])


@when(parsers.parse("{who:DccOrCarrier} {action:ReturnAction} the return", extra_types=TYPES))
def progress_return(ssi: SSI, target_control: TargetControl, oms_case: OmsCase, who: str, action: str) -> None:
    control = needs_control(target_control, f"{who} acting on a return")
    control.oms_return(oms_case.return_number, action)
    ssi.oms_return.reload()


@then("the return is Authorised with an RMA number")
def return_authorised(ssi: SSI) -> None:
    prefix = ssi.profile.oms.numbers.rma
    expect(ssi.oms_return.state).to_have_text(ssi.oms_return.status_name("returns", "authorised"))
    expect(ssi.oms_return.rma).to_have_text(re.compile(rf"^{re.escape(prefix)}\d{{7}}$"))


@then(parsers.parse("the return is {state:w}"))
def return_is(ssi: SSI, state: str) -> None:
    expect(ssi.oms_return.state).to_have_text(ssi.oms_return.status_name("returns", state))


@when(parsers.parse('DCC triages the first device as "{first}" and the second as "{second}"'))
def triage(ssi: SSI, target_control: TargetControl, oms_case: OmsCase, first: str, second: str) -> None:
    control = needs_control(target_control, "DCC triaging returned Communications Hubs")
    outcomes = dict(zip(oms_case.serials, [first, second], strict=True))
    control.oms_return(oms_case.return_number, "triage", outcomes)
    oms_case.outcomes = outcomes
    ssi.oms_return.reload()


@then("the return is Triage and shows the outcome of each device")
def triage_outcomes(ssi: SSI, oms_case: OmsCase) -> None:
    expect(ssi.oms_return.state).to_have_text(ssi.oms_return.status_name("returns", "triage"))
    for serial, outcome in oms_case.outcomes.items():
        expect(ssi.oms_return.outcome(serial)).to_have_text(outcome)


@given("I have raised a return for the first of them")
def raised_return_for_first(ssi: SSI, oms_case: OmsCase) -> None:
    journeys.raise_return(ssi, oms_case.serials[:1], ssi.profile.oms.return_reasons[0].label)
    expect(ssi.oms_return.notice("raised")).to_be_visible()
    oms_case.return_number = ssi.oms_return.number.inner_text().strip()


@when("I raise a return for both of them and for a device ID that is not ours")
def raise_return_with_unknown(ssi: SSI, oms_case: OmsCase) -> None:
    oms_case.unknown = data.unknown_device_id()
    journeys.raise_return(ssi, [*oms_case.serials, oms_case.unknown], ssi.profile.oms.return_reasons[0].label)


@then("the device IDs field says the first device is already under return")
def says_already_under_return(ssi: SSI, oms_case: OmsCase) -> None:
    f = ssi.oms_return_form
    f.expect_field_error(
        f.serials, f"{oms_case.serials[0]} is already under return {oms_case.return_number}"
    )


@then("the device IDs field says the unknown device is not a CH of our organisation")
def says_unknown_device(ssi: SSI, oms_case: OmsCase) -> None:
    f = ssi.oms_return_form
    f.expect_field_error(
        f.serials, f"{oms_case.unknown} is not a Communications Hub of your organisation"
    )


@then("no return holds the second device")
def no_return_for_second(ssi: SSI, oms_case: OmsCase) -> None:
    ssi.oms_returns.open()
    ssi.oms_returns.search(oms_case.serials[1])
    expect(ssi.oms_returns.table_).to_be_visible()
    expect(ssi.oms_returns.rows).to_have_count(0)
    ssi.oms_returns.search(oms_case.serials[0])  # and the search does find a device that is under return
    expect(ssi.oms_returns.rows).to_have_count(1)


# ---------------------------------------------------------------- bad order input
@when(parsers.parse('I start a new order for the "{region}" region to a new delivery location'))
def start_order(ssi: SSI, oms_case: OmsCase, region: str) -> None:
    oms_case.location = data.new_location()
    ssi.oms_order_form.open_new()
    ssi.oms_order_form.fill(region=region, location=oms_case.location)


@when("I enter a delivery date in the past and these quantities:")
def enter_bad_order(ssi: SSI, oms_case: OmsCase, datatable: list[list[str]]) -> None:
    rows = [dict(zip(datatable[0], r, strict=True)) for r in datatable[1:]]
    maximum = str(ssi.profile.oms.max_quantity + 1)
    oms_case.bad_lines = [OrderLine(data.catalogue_item(ssi.profile, row["item"]), row["quantity"], row["message"])
                          for row in rows]
    quantities = {line.item.code: maximum if line.quantity == "more than the maximum" else line.quantity
                  for line in oms_case.bad_lines}
    ssi.oms_order_form.fill(
        delivery_date=(data.utc_today() - timedelta(days=1)).isoformat(), quantities=quantities
    )


@when(parsers.parse("I enter a delivery date after the lead time and the largest quantity allowed of the {item:Item}",
                    extra_types=TYPES))
def enter_largest_quantity(ssi: SSI, oms_case: OmsCase, item: str) -> None:
    variant = data.catalogue_item(ssi.profile, item)
    oms_case.variant, oms_case.order_quantity = variant, ssi.profile.oms.max_quantity
    ssi.oms_order_form.fill(delivery_date=data.deliverable_date(ssi.profile),
                            quantities={variant.code: str(ssi.profile.oms.max_quantity)})


@when("I save a draft order whose delivery location contains HTML and script")
def draft_with_markup(ssi: SSI, oms_case: OmsCase) -> None:
    oms_case.location = data.location_with_markup(data.token())
    ssi.oms_order_form.open_new()
    ssi.oms_order_form.fill(region=ssi.profile.oms.regions[0], location=oms_case.location,
                            delivery_date=data.deliverable_date(ssi.profile),
                            quantities={ssi.profile.oms.auxiliary_equipment[0].code: "1"})
    ssi.oms_order_form.save_draft()


@then("the order shows the delivery location exactly as I typed it")
def order_shows_location(ssi: SSI, oms_case: OmsCase) -> None:
    expect(ssi.oms_order.fact(ssi.profile.label("oms.delivery_location"))).to_have_text(oms_case.location)


@when("I look for that delivery location in my orders")
def look_for_location(ssi: SSI, oms_case: OmsCase) -> None:
    ssi.oms_orders.open(q=oms_case.location)


@then("the list of orders shows the delivery location exactly as I typed it")
def orders_list_shows_location(ssi: SSI, oms_case: OmsCase) -> None:
    expect(ssi.oms_orders.rows_with(oms_case.location)).to_have_count(1)


@when("I save the order as a draft")
def save_draft(ssi: SSI) -> None:
    ssi.oms_order_form.save_draft()


@then("each of those quantities shows its message")
def quantities_show_messages(ssi: SSI, oms_case: OmsCase) -> None:
    expect(ssi.oms_order_form.alert).to_contain_text("Nothing has been saved")
    for line in oms_case.bad_lines:
        ssi.oms_order_form.expect_field_error(ssi.oms_order_form.quantity(line.item), line.message)
    ssi.oms_order_form.show(ssi.oms_order_form.quantity(oms_case.bad_lines[-1].item))


@then("the delivery date says it is in the past")
def date_in_past(ssi: SSI) -> None:
    ssi.oms_order_form.expect_field_error(ssi.oms_order_form.delivery_date, "is in the past")


@when("I correct the quantities and enter a delivery date inside the lead time")
def correct_quantities(ssi: SSI, oms_case: OmsCase) -> None:
    lead = ssi.profile.oms.lead_time_days
    if lead < 2:
        pytest.skip(f"the profile's lead time ({lead} days) leaves no date inside it after today")
    ssi.oms_order_form.fill(
        delivery_date=(data.utc_today() + timedelta(days=1)).isoformat(),
        quantities={line.item.code: "5" for line in oms_case.bad_lines},
    )


@then("the delivery date says it is inside the lead time")
def date_inside_lead_time(ssi: SSI) -> None:
    lead = ssi.profile.oms.lead_time_days
    ssi.oms_order_form.expect_field_error(
        ssi.oms_order_form.delivery_date, f"inside the {lead}-day lead time"
    )
    for item in ssi.profile.oms.items():
        expect(ssi.oms_order_form.quantity(item)).not_to_have_attribute("aria-invalid", "true")


@then("no order to that delivery location exists")
def no_order_saved(ssi: SSI, oms_case: OmsCase) -> None:
    ssi.oms_orders.open(q=oms_case.location)
    expect(ssi.oms_orders.table_).to_be_visible()
    expect(ssi.oms_orders.rows_with(oms_case.location)).to_have_count(0)


# ---------------------------------------------------------------- access and scoping
@then("the SSI menu and home page offer no way into the OMS")
def no_way_in(ssi: SSI) -> None:
    label = ssi.profile.label("oms.menu")
    ssi.home.open()
    expect(ssi.home.main_menu).to_be_visible()
    expect(ssi.home.menu_item(label)).to_have_count(0)
    expect(ssi.home.links_named(label)).to_have_count(0)


@when("I open the OMS by its address")
def open_oms_directly(ssi: SSI) -> None:
    ssi.oms.open()


@then("I am told I do not have access to this page")
def no_access(ssi: SSI) -> None:
    expect(ssi.message.message).to_have_text(ssi.profile.label("errors.forbidden"))
    expect(ssi.oms.heading_).to_have_count(0)
    expect(ssi.oms.oms_menu).to_have_count(0)


@given(parsers.parse('we have a draft order for the "{region}" region'))
def draft_order(ssi: SSI, oms_case: OmsCase, region: str) -> None:
    form = ssi.oms_order_form
    form.open_new()
    form.fill(
        region=region,
        location=data.new_location(),
        delivery_date=data.deliverable_date(ssi.profile),
        quantities={ssi.profile.oms.auxiliary_equipment[0].code: "1"},
    )
    form.save_draft()
    expect(ssi.oms_order.state).to_have_text(ssi.oms_order.status_name("order", "draft"))
    oms_case.order_url, oms_case.order_number = ssi.oms_order.url, ssi.oms_order.number.inner_text().strip()


@when("I open that order by its address")
def open_order_by_address(ssi: SSI, oms_case: OmsCase) -> None:
    ssi.oms_order.goto(oms_case.order_url)


@then("I am told I am not authorized or the record is not valid")
def not_authorized(ssi: SSI, oms_case: OmsCase) -> None:
    expect(ssi.message.message).to_have_text(ssi.profile.label("errors.not_authorized"))
    expect(ssi.message.mentions(oms_case.order_number)).to_have_count(0)


@then("that order is not in my list of orders")
def not_in_my_orders(ssi: SSI, oms_case: OmsCase) -> None:
    ssi.oms_orders.open(q=oms_case.order_number)
    expect(ssi.oms_orders.table_).to_be_visible()
    expect(ssi.oms_orders.rows_with(oms_case.order_number)).to_have_count(0)
