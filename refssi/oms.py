"""The OMS module of the portal (BFD13): CH forecasts, orders, consignments and returns.

Under FSM the Order Management System is a module inside the SSI portal (SSI-FR-20/20a):
the header menu and the home page tile lead to /sp?id=oms. Every page needs the 'oms'
component of the role matrix (AA, OA, MI, AMO, LOG) and shows only the signed-in
user's organisation's records; another organisation's record answers ServiceNow's
'not authorized or record is not valid'.

What DCC or a carrier does in real life (dispatch, delivery, return authorisation,
collection, receipt, triage) is driven by the operator API at /_operator/oms/*.
Every rule and choice list comes from the target profile (profile.oms); the data
access is in refssi/oms_store.py.
"""

from __future__ import annotations

import re
from datetime import date

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import Response
from pydantic import BaseModel, Field

from ssi.profile import Oms, OmsChoice

from . import oms_store as store
from .db import glide_time
from .faults import fault
from .operator import require_operator
from .web import Ctx, portal_page

MAX_TEXT = 120
MAX_NOTES = 1000

COMPONENT = "oms"


def oms(ctx: Ctx) -> Oms:
    return ctx.profile.oms


def company(ctx: Ctx) -> str:
    return ctx.user["company"]


def is_post(ctx: Ctx) -> bool:
    return ctx.request.method == "POST"


def param(ctx: Ctx, name: str, default: str = "") -> str:
    return ctx.request.query_params.get(name, default)


def render(ctx: Ctx, template: str, title: str, status: int = 200, **context) -> Response:
    cfg = oms(ctx)
    return ctx.render(template, status=status, title=title, oms=cfg, store=store, **context)


# ---------------------------------------------------------------- validation (one message per field)
WHOLE = re.compile(r"^[+-]?\d+$")
DECIMAL = re.compile(r"^[+-]?(\d+[.,]\d*|[.,]\d+)$")


def check_quantity(ctx: Ctx, raw: str, *, minimum: int) -> tuple[int | None, str | None]:
    """(quantity, None) or (None, message). Blank gives (None, None): the caller decides."""
    s = raw.strip()
    if s == "":
        return None, None
    cfg = oms(ctx)
    if DECIMAL.match(s):
        return None, f"{s} is not a whole number: enter a whole number of units, e.g. 250."
    if not WHOLE.match(s):
        return None, f"“{s[:20]}” is not a number: enter a whole number of units, e.g. 250."
    n = int(s)
    if fault(ctx.settings, "oms_no_quantity_check"):
        return n, None
    if n < minimum:
        if minimum == 0:
            return None, "A forecast cannot be negative: enter 0 or more."
        return None, f"Enter at least {minimum}, or leave it blank to order none."
    if n > cfg.max_quantity:
        return None, f"Enter at most {cfg.max_quantity:,}: that is the largest quantity one line may hold."
    return n, None


def earliest_delivery(ctx: Ctx) -> date:
    return store.days_from_today(oms(ctx).lead_time_days)


def latest_delivery(ctx: Ctx) -> date:
    return store.last_day(store.horizon(oms(ctx).horizon_months)[-1])


def check_delivery_date(ctx: Ctx, raw: str) -> tuple[str | None, str | None]:
    s = raw.strip()
    if not s:
        return None, "Enter the requested delivery date."
    try:
        d = date.fromisoformat(s)
        if len(s) != 10:
            raise ValueError
    except ValueError:
        return (
            None,
            f"“{s[:20]}” is not a date: enter it as YYYY-MM-DD, e.g. {earliest_delivery(ctx).isoformat()}.",
        )
    if fault(ctx.settings, "oms_no_date_check"):
        return d.isoformat(), None
    cfg, first = oms(ctx), earliest_delivery(ctx)
    if d < store.today():
        return None, f"{d.isoformat()} is in the past: choose {first.isoformat()} or later."
    if d < first:
        return None, (
            f"{d.isoformat()} is inside the {cfg.lead_time_days}-day lead time: "
            f"choose {first.isoformat()} or later."
        )
    last = latest_delivery(ctx)
    if d > last:
        return None, (
            f"{d.isoformat()} is beyond the {cfg.horizon_months}-month forecast horizon: "
            f"choose {last.isoformat()} or earlier."
        )
    return d.isoformat(), None


def check_text(raw: str, what: str, *, required: bool, limit: int) -> tuple[str, str | None]:
    s = raw.strip()
    if required and not s:
        return s, f"Enter the {what}."
    if len(s) > limit:
        return s, f"The {what} must be at most {limit} characters (it has {len(s)})."
    return s, None


def check_choice(raw: str, choices: list[OmsChoice], what: str) -> tuple[str | None, str | None]:
    for ch in choices:
        if raw == ch.value:
            return ch.value, None
    return None, f"Choose a {what} from the list."


def choice_label(choices: list[OmsChoice], value: str) -> str:
    return next((c.label for c in choices if c.value == value), value)


# ---------------------------------------------------------------- home and catalogue
@portal_page("oms", title="Order Management", component=COMPONENT, menu="@oms.menu", menu_order=40)
def oms_home(ctx: Ctx) -> Response:
    c, org = ctx.db, company(ctx)
    summary = {
        "orders": c.execute(
            "SELECT COUNT(*) FROM x_dcc_oms_order WHERE company=? AND state!='confirmed'", (org,)
        ).fetchone()[0],
        "consignments": c.execute(
            "SELECT COUNT(*) FROM x_dcc_oms_consignment WHERE company=? AND state IN "
            "('scheduled','dispatched','delivered')",
            (org,),
        ).fetchone()[0],
        "returns": c.execute(
            "SELECT COUNT(*) FROM x_dcc_oms_return WHERE company=? AND state!='closed'", (org,)
        ).fetchone()[0],
    }
    return render(ctx, "oms_home.html", ctx.profile.label("oms.heading"), summary=summary)


@portal_page("oms_catalogue", title="Catalogue", component=COMPONENT)
def oms_catalogue(ctx: Ctx) -> Response:
    return render(ctx, "oms_catalogue.html", ctx.profile.label("oms.catalogue"))


# ---------------------------------------------------------------- forecasts
def region_param(ctx: Ctx) -> str | None:
    region = param(ctx, "region")
    return region if region in oms(ctx).regions else None


@portal_page("oms_forecasts", title="Forecasts", component=COMPONENT)
def oms_forecasts(ctx: Ctx) -> Response:
    rows = store.forecast_summary(ctx.db, company(ctx), oms(ctx).regions)
    return render(ctx, "oms_forecasts.html", ctx.profile.label("oms.forecasts"), rows=rows)


@portal_page("oms_forecast", title="Forecast", component=COMPONENT)
def oms_forecast(ctx: Ctx) -> Response:
    """A Region's forecast: months x CH variants over the rolling horizon; submitting makes a new version."""
    region = region_param(ctx)
    if region is None:
        return ctx.not_valid()
    cfg, c, org = oms(ctx), ctx.db, company(ctx)
    months = store.horizon(cfg.horizon_months)
    locked = set() if fault(ctx.settings, "oms_no_lock_window") else set(months[: cfg.lock_months])
    latest, current = store.latest_forecast(c, org, region)
    errors: dict[str, str] = {}
    entered: dict[str, str] = {}
    form_error = None
    base_version = latest["version"] if latest else 0
    if is_post(ctx):
        try:
            base_version = int(ctx.form.get("base_version", "0"))
        except ValueError:
            base_version = -1
        base_row = store.forecast_version(c, org, region, base_version) if base_version > 0 else None
        if base_version < 0 or (base_version > 0 and base_row is None):
            return ctx.not_valid()
        base = store.forecast_values(c, base_row["sys_id"]) if base_row else {}
        new = {(m, v.code): current.get((m, v.code), 0) for m in months for v in cfg.ch_variants}
        changed = 0
        for m in months:
            for v in cfg.ch_variants:
                name = f"q_{m}_{v.code}"
                if name not in ctx.form:
                    continue
                raw = ctx.form[name]
                entered[name] = raw
                qty, err = check_quantity(ctx, raw, minimum=0)
                if err is None and qty is None:
                    err = "Enter a quantity (0 when you expect none)."
                if err:
                    errors[name] = err
                    continue
                was = base.get((m, v.code), 0)
                if qty == was:
                    continue  # not changed in this form
                if m in locked:
                    errors[name] = (
                        f"{store.month_label(m)} is inside the {cfg.lock_months}-month lock window: "
                        f"its forecast can no longer be changed (it stays {was})."
                    )
                    continue
                now_is = current.get((m, v.code), 0)
                if now_is != was:
                    errors[name] = (
                        f"Changed to {now_is} in version {latest['version']} since you opened this form: "
                        "open the forecast again and re-enter your change."
                    )
                    continue
                new[(m, v.code)] = qty
                changed += 1
        if not errors and changed == 0:
            form_error = (
                f"Nothing has changed since version {base_version}: change a quantity before submitting."
                if base_version
                else "Enter at least one quantity before submitting."
            )
        if not errors and not form_error:
            row = store.add_forecast(
                c,
                company=org,
                region=region,
                user=ctx.user["sys_id"],
                prefix=cfg.numbers.forecast,
                values=new,
                changes=changed,
            )
            ctx.flash(
                "success",
                f"Forecast version {row['version']} ({row['number']}) for {region} submitted: "
                f"{changed} quantit{'y' if changed == 1 else 'ies'} changed.",
            )
            return ctx.redirect(ctx.portal_url("oms_forecast", region=region))
    values = {f"q_{m}_{v.code}": str(current.get((m, v.code), 0)) for m in months for v in cfg.ch_variants}
    values.update(entered)
    status = 400 if (errors or form_error) else 200
    return render(
        ctx,
        "oms_forecast.html",
        f"{ctx.profile.label('oms.forecasts')}: {region}",
        status=status,
        region=region,
        months=months,
        locked=locked,
        latest=latest,
        base_version=base_version,
        values=values,
        errors=errors,
        form_error=form_error,
        last_locked=months[cfg.lock_months - 1] if locked else None,
    )


@portal_page("oms_forecast_history", title="Forecast history", component=COMPONENT)
def oms_forecast_history(ctx: Ctx) -> Response:
    region = region_param(ctx)
    if region is None:
        return ctx.not_valid()
    c, org = ctx.db, company(ctx)
    versions = store.forecast_versions(c, org, region)
    shown, values = None, {}
    if param(ctx, "version"):
        try:
            shown = store.forecast_version(c, org, region, int(param(ctx, "version")))
        except ValueError:
            shown = None
        if shown is None:
            return ctx.not_valid()
        shown["submitted_by_name"] = store.user_display(c, shown["submitted_by"])
        values = store.forecast_values(c, shown["sys_id"])
    months = sorted({m for m, _ in values})
    return render(
        ctx,
        "oms_forecast_history.html",
        f"{ctx.profile.label('oms.forecast_history')}: {region}",
        region=region,
        versions=versions,
        shown=shown,
        values=values,
        months=months,
    )


# ---------------------------------------------------------------- orders
@portal_page("oms_orders", title="Orders", component=COMPONENT)
def oms_orders(ctx: Ctx) -> Response:
    q = param(ctx, "q")
    return render(
        ctx,
        "oms_orders.html",
        ctx.profile.label("oms.orders"),
        q=q,
        orders=store.list_orders(ctx.db, company(ctx), q),
    )


def validate_order_form(ctx: Ctx) -> tuple[dict, dict[str, str]]:
    cfg, f = oms(ctx), ctx.form
    errors: dict[str, str] = {}
    region = f.get("region", "")
    if region not in cfg.regions:
        errors["region"] = "Choose the Region the Communications Hubs are for."
    location, err = check_text(
        f.get("delivery_location", ""), "delivery location", required=True, limit=MAX_TEXT
    )
    if err:
        errors["delivery_location"] = err
    when, err = check_delivery_date(ctx, f.get("delivery_date", ""))
    if err:
        errors["delivery_date"] = err
    quantities: dict[str, int] = {}
    for item in cfg.items():
        name = f"qty_{item.code}"
        qty, err = check_quantity(ctx, f.get(name, ""), minimum=1)
        if err:
            errors[name] = err
        elif qty is not None:
            quantities[item.code] = qty
    if not quantities and not any(k.startswith("qty_") for k in errors):
        errors["quantities"] = (
            "Enter a quantity for at least one Communications Hub variant or auxiliary item."
        )
    return {"region": region, "location": location, "delivery_date": when, "quantities": quantities}, errors


@portal_page("oms_order_form", title="Order", component=COMPONENT)
def oms_order_form(ctx: Ctx) -> Response:
    """New order (sys_id=-1) or a draft being edited."""
    c, org, cfg = ctx.db, company(ctx), oms(ctx)
    sys_id = param(ctx, "sys_id", "-1")
    order = None if sys_id == "-1" else store.get_order(c, org, sys_id)
    if sys_id != "-1" and (order is None or order["state"] != "draft"):
        return ctx.not_valid()
    errors: dict[str, str] = {}
    if is_post(ctx):
        data, errors = validate_order_form(ctx)
        if not errors:
            if order is None:
                order = store.create_order(
                    c,
                    company=org,
                    user=ctx.user["sys_id"],
                    prefix=cfg.numbers.order,
                    region=data["region"],
                    location=data["location"],
                    delivery_date=data["delivery_date"],
                    quantities=data["quantities"],
                )
                store.log(c, "x_dcc_oms_order", order["sys_id"], "Draft created", ctx.user["user_name"])
            else:
                store.update_order(
                    c,
                    order["sys_id"],
                    region=data["region"],
                    location=data["location"],
                    delivery_date=data["delivery_date"],
                    quantities=data["quantities"],
                )
                store.log(c, "x_dcc_oms_order", order["sys_id"], "Draft updated", ctx.user["user_name"])
            ctx.flash("success", f"Order {order['number']} saved as a draft.")
            return ctx.redirect(ctx.portal_url("oms_order", sys_id=order["sys_id"]))
        values = dict(ctx.form)
    elif order:
        values = {
            "region": order["region"],
            "delivery_location": order["delivery_location"],
            "delivery_date": order["delivery_date"],
        }
        values.update(
            {f"qty_{ln['item']}": str(ln["quantity"]) for ln in store.order_lines(c, order["sys_id"])}
        )
    else:
        values = {}
    title = order["number"] if order else ctx.profile.label("oms.new_order")
    return render(
        ctx,
        "oms_order_form.html",
        title,
        status=400 if errors else 200,
        order=order,
        values=values,
        errors=errors,
        earliest=earliest_delivery(ctx).isoformat(),
        latest=latest_delivery(ctx).isoformat(),
    )


def assess_lines(ctx: Ctx, order: dict, lines: list[dict]) -> list[dict]:
    """Compare each CH line with the latest forecast for the Region and the delivery month."""
    cfg = oms(ctx)
    variants = {v.code for v in cfg.ch_variants}
    month = order["delivery_date"][:7]
    out = []
    for line in lines:
        line = dict(line)
        if line["item"] in variants:
            fq = store.forecast_quantity(ctx.db, order["company"], order["region"], month, line["item"])
            line["forecast_quantity"] = fq
            if fq:
                line["variance_percent"] = round((line["quantity"] - fq) * 100.0 / fq, 1)
                line["outside_tolerance"] = abs(line["variance_percent"]) > cfg.tolerance_percent
            else:
                line["variance_percent"] = None
                line["outside_tolerance"] = True
            if fault(ctx.settings, "oms_no_tolerance_check"):
                line["outside_tolerance"] = False
        else:
            line.update(forecast_quantity=None, variance_percent=None, outside_tolerance=False)
        out.append(line)
    return out


@portal_page("oms_order", title="Order", component=COMPONENT)
def oms_order(ctx: Ctx) -> Response:
    c, org, cfg = ctx.db, company(ctx), oms(ctx)
    order = store.get_order(c, org, param(ctx, "sys_id"))
    if order is None:
        return ctx.not_valid()
    errors: dict[str, str] = {}
    form_error = None
    lines = store.order_lines(c, order["sys_id"])
    if is_post(ctx):
        action = ctx.form.get("action", "")
        who = ctx.user["user_name"]
        if action == "submit" and order["state"] == "draft":
            _, err = check_delivery_date(ctx, order["delivery_date"])
            if err:
                form_error = (
                    f"The order cannot be submitted: {err} Edit the order to change the delivery date."
                )
            else:
                assessed = assess_lines(ctx, order, lines)
                store.submit_order(c, order, assessed, ctx.user["sys_id"])
                outside = [ln for ln in assessed if ln["outside_tolerance"]]
                store.log(
                    c,
                    "x_dcc_oms_order",
                    order["sys_id"],
                    "Submitted"
                    + (f"; {len(outside)} line(s) outside the forecast tolerance" if outside else ""),
                    who,
                )
                ctx.flash(
                    "success" if not outside else "info",
                    f"Order {order['number']} submitted."
                    + (
                        f" It differs from the forecast by more than ±{cfg.tolerance_percent:g}%: "
                        "give a tolerance exception justification to confirm it."
                        if outside
                        else ""
                    ),
                )
                return ctx.redirect(ctx.portal_url("oms_order", sys_id=order["sys_id"]))
        elif action == "confirm" and order["state"] == "submitted":
            justification, err = check_text(
                ctx.form.get("justification", ""), "justification", required=False, limit=MAX_NOTES
            )
            if order["tolerance_exception"] and not fault(ctx.settings, "oms_no_tolerance_check"):
                if err is None and len(justification) < 10:
                    err = (
                        f"This order differs from the forecast by more than ±{cfg.tolerance_percent:g}%: "
                        "explain why in at least 10 characters before you confirm it."
                    )
            _, date_err = check_delivery_date(ctx, order["delivery_date"])
            if err:
                errors["justification"] = err
            elif date_err:
                form_error = f"The order cannot be confirmed: {date_err}"
            else:
                made = store.confirm_order(
                    c,
                    order,
                    user=ctx.user["sys_id"],
                    justification=justification,
                    prefix=cfg.numbers.consignment,
                    consignment_max=cfg.consignment_max_quantity,
                )
                store.log(
                    c,
                    "x_dcc_oms_order",
                    order["sys_id"],
                    "Confirmed"
                    + (
                        f" with a tolerance exception: {justification}"
                        if order["tolerance_exception"]
                        else ""
                    ),
                    who,
                )
                for k in made:
                    store.log(
                        c, "x_dcc_oms_consignment", k["sys_id"], f"Scheduled for {k['delivery_date']}", who
                    )
                ctx.flash(
                    "success", f"Order {order['number']} confirmed: {len(made)} consignment(s) scheduled."
                )
                return ctx.redirect(ctx.portal_url("oms_order", sys_id=order["sys_id"]))
        else:
            form_error = (
                f"Order {order['number']} is {cfg.status('order', order['state'])}: "
                "that action is not available any more."
            )
        order = store.get_order(c, org, order["sys_id"])
    shown = lines if order["state"] != "draft" else assess_lines(ctx, order, lines)
    return render(
        ctx,
        "oms_order.html",
        order["number"],
        status=400 if (errors or form_error) else 200,
        order=order,
        lines=shown,
        errors=errors,
        form_error=form_error,
        values={"justification": ctx.form.get("justification", "")},
        consignments=store.list_consignments(c, org, order["sys_id"]),
        activity=store.activity(c, order["sys_id"]),
        opened_by=store.user_display(c, order["opened_by"]),
        confirmed_by=store.user_display(c, order["confirmed_by"]),
    )


# ---------------------------------------------------------------- consignments
@portal_page("oms_consignments", title="Consignments", component=COMPONENT)
def oms_consignments(ctx: Ctx) -> Response:
    return render(
        ctx,
        "oms_consignments.html",
        ctx.profile.label("oms.consignments"),
        consignments=store.list_consignments(ctx.db, company(ctx)),
    )


@portal_page("oms_consignment", title="Consignment", component=COMPONENT)
def oms_consignment(ctx: Ctx) -> Response:
    c, org, cfg = ctx.db, company(ctx), oms(ctx)
    k = store.get_consignment(c, org, param(ctx, "sys_id"))
    if k is None:
        return ctx.not_valid()
    errors: dict[str, str] = {}
    form_error = None
    if is_post(ctx):
        action, who = ctx.form.get("action", ""), ctx.user["user_name"]
        state_name = cfg.status("consignment", k["state"])
        if action == "amend":
            if k["state"] != "scheduled":
                form_error = (
                    f"Consignment {k['number']} is {state_name}: its delivery date can no longer be amended."
                )
            else:
                new_date, err = check_delivery_date(ctx, ctx.form.get("delivery_date", ""))
                if err is None and new_date == k["delivery_date"]:
                    err = f"{new_date} is already the delivery date: choose another date."
                if err:
                    errors["delivery_date"] = err
                else:
                    store.amend_delivery_date(c, k, new_date)
                    store.log(
                        c,
                        "x_dcc_oms_consignment",
                        k["sys_id"],
                        f"Delivery date amended from {k['delivery_date']} to {new_date}",
                        who,
                    )
                    ctx.flash("success", f"Delivery date of {k['number']} amended to {new_date}.")
                    return ctx.redirect(ctx.portal_url("oms_consignment", sys_id=k["sys_id"]))
        elif action in ("accept", "reject"):
            if k["state"] != "delivered":
                form_error = (
                    f"Consignment {k['number']} is {state_name}: only a delivered consignment can be "
                    "accepted or rejected."
                )
            elif action == "accept":
                store.set_consignment_state(
                    c, k, "accepted", responded_by=ctx.user["sys_id"], responded_on=glide_time()
                )
                store.log(c, "x_dcc_oms_consignment", k["sys_id"], "Delivery accepted", who)
                ctx.flash("success", f"Delivery {k['number']} accepted.")
                return ctx.redirect(ctx.portal_url("oms_consignment", sys_id=k["sys_id"]))
            else:
                reason, err = check_choice(
                    ctx.form.get("rejection_reason", ""), cfg.rejection_reasons, "rejection reason"
                )
                if err:
                    errors["rejection_reason"] = err
                qty, err = check_quantity(ctx, ctx.form.get("rejected_quantity", ""), minimum=1)
                if err is None and qty is None:
                    err = f"Enter how many of the {k['quantity']} units you reject."
                if err is None and qty > k["quantity"] and not fault(ctx.settings, "oms_no_quantity_check"):
                    err = f"You can reject at most the {k['quantity']} units delivered."
                if err:
                    errors["rejected_quantity"] = err
                if not errors:
                    store.set_consignment_state(
                        c,
                        k,
                        "rejected",
                        rejection_reason=reason,
                        rejected_quantity=qty,
                        responded_by=ctx.user["sys_id"],
                        responded_on=glide_time(),
                    )
                    label = choice_label(cfg.rejection_reasons, reason)
                    store.log(
                        c,
                        "x_dcc_oms_consignment",
                        k["sys_id"],
                        f"Delivery rejected: {qty} of {k['quantity']} units, {label}",
                        who,
                    )
                    ctx.flash("success", f"Delivery {k['number']} rejected: {qty} units, {label}.")
                    return ctx.redirect(ctx.portal_url("oms_consignment", sys_id=k["sys_id"]))
        else:
            form_error = "That action is not available."
    return render(
        ctx,
        "oms_consignment.html",
        k["number"],
        status=400 if (errors or form_error) else 200,
        k=k,
        errors=errors,
        form_error=form_error,
        values=dict(ctx.form),
        devices=store.devices_of_consignment(c, k["sys_id"]),
        activity=store.activity(c, k["sys_id"]),
        earliest=earliest_delivery(ctx).isoformat(),
        latest=latest_delivery(ctx).isoformat(),
        responded_by=store.user_display(c, k["responded_by"]),
    )


# ---------------------------------------------------------------- returns
@portal_page("oms_returns", title="Returns", component=COMPONENT)
def oms_returns(ctx: Ctx) -> Response:
    q = param(ctx, "q")
    return render(
        ctx,
        "oms_returns.html",
        ctx.profile.label("oms.returns"),
        q=q,
        returns=store.list_returns(ctx.db, company(ctx), q),
    )


SERIAL_SPLIT = re.compile(r"[\s,;]+")


def validate_return_form(ctx: Ctx) -> tuple[dict, dict[str, str]]:
    cfg, f, c, org = oms(ctx), ctx.form, ctx.db, company(ctx)
    errors: dict[str, str] = {}
    serials = [s.upper() for s in SERIAL_SPLIT.split(f.get("serials", "")) if s]
    pattern = re.compile(cfg.device_id_pattern)
    devices, problems, seen = [], [], set()
    for s in serials:
        if s in seen:
            problems.append(f"{s} is listed twice.")
            continue
        seen.add(s)
        if not pattern.match(s):
            problems.append(f"{s[:30]} is not a CH device ID (like {cfg.device_id_example}).")
            continue
        dev, ret = store.device_for_return(c, org, s)
        if fault(ctx.settings, "oms_no_device_check"):  # test-only: any well-formed ID, returned any number of times
            dev, ret = dev or store.add_device(c, org, cfg.ch_variants[0].code, s), None
        if dev is None:
            problems.append(f"{s} is not a Communications Hub of your organisation.")
        elif ret is not None:
            problems.append(f"{s} is already under return {ret['number']}.")
        else:
            devices.append(dev)
    if not serials:
        errors["serials"] = "Enter the device ID of each Communications Hub to return, one per line."
    elif len(serials) > cfg.return_max_devices:
        errors["serials"] = (
            f"Return at most {cfg.return_max_devices} Communications Hubs at a time "
            f"(you listed {len(serials)})."
        )
    elif problems:
        errors["serials"] = " ".join(problems)
    reason, err = check_choice(f.get("reason", ""), cfg.return_reasons, "return reason")
    if err:
        errors["reason"] = err
    notes, err = check_text(f.get("notes", ""), "additional information", required=False, limit=MAX_NOTES)
    if err:
        errors["notes"] = err
    return {"devices": devices, "reason": reason, "notes": notes}, errors


@portal_page("oms_return_form", title="Raise a return", component=COMPONENT)
def oms_return_form(ctx: Ctx) -> Response:
    c, org, cfg = ctx.db, company(ctx), oms(ctx)
    errors: dict[str, str] = {}
    if is_post(ctx):
        data, errors = validate_return_form(ctx)
        if not errors:
            ret = store.create_return(
                c,
                company=org,
                user=ctx.user["sys_id"],
                prefix=cfg.numbers.returns,
                reason=data["reason"],
                notes=data["notes"],
                devices=data["devices"],
            )
            store.log(
                c,
                "x_dcc_oms_return",
                ret["sys_id"],
                f"Return requested for {len(data['devices'])} CH(s): "
                f"{choice_label(cfg.return_reasons, data['reason'])}",
                ctx.user["user_name"],
            )
            ctx.flash(
                "success", f"Return {ret['number']} raised for {len(data['devices'])} Communications Hub(s)."
            )
            return ctx.redirect(ctx.portal_url("oms_return", sys_id=ret["sys_id"]))
    return render(
        ctx,
        "oms_return_form.html",
        ctx.profile.label("oms.new_return"),
        status=400 if errors else 200,
        values=dict(ctx.form),
        errors=errors,
    )


@portal_page("oms_return", title="Return", component=COMPONENT)
def oms_return(ctx: Ctx) -> Response:
    c = ctx.db
    ret = store.get_return(c, company(ctx), param(ctx, "sys_id"))
    if ret is None:
        return ctx.not_valid()
    return render(
        ctx,
        "oms_return.html",
        ret["number"],
        ret=ret,
        items=store.return_items(c, ret["sys_id"]),
        activity=store.activity(c, ret["sys_id"]),
        opened_by=store.user_display(c, ret["opened_by"]),
    )


# ---------------------------------------------------------------- operator controls (DCC, carriers)
operator_router = APIRouter(prefix="/_operator/oms", dependencies=[Depends(require_operator)])

CONSIGNMENT_NEXT = {"scheduled": "dispatched", "dispatched": "delivered"}
RETURN_NEXT = {
    "requested": "authorised",
    "authorised": "collected",
    "collected": "received",
    "received": "triage",
    "triage": "closed",
}


class Progress(BaseModel):
    to: str
    outcomes: dict[str, str] = {}  # returns at triage: device ID -> outcome (value or label)


class Devices(BaseModel):
    organisation: str
    count: int = Field(1, ge=1, le=100)
    item: str | None = None


def _cfg(request: Request) -> Oms:
    return request.app.state.settings.profile.oms


@operator_router.post("/consignments/{number}")
async def progress_consignment(number: str, body: Progress, request: Request) -> dict:
    """A carrier dispatches (Scheduled -> Dispatched) or delivers (Dispatched -> Delivered) a consignment."""
    cfg = _cfg(request)
    with request.app.state.db.tx() as c:
        k = store.consignment_by_number(c, number)
        if k is None:
            raise HTTPException(404, f"no consignment {number}")
        if CONSIGNMENT_NEXT.get(k["state"]) != body.to:
            nxt = CONSIGNMENT_NEXT.get(k["state"])
            raise HTTPException(
                409,
                f"consignment {number} is {k['state']}: "
                + (f"it can only become {nxt}" if nxt else "the carrier has nothing left to do"),
            )
        if body.to == "dispatched":
            fields = {"tracking_ref": store.new_tracking_ref(), "dispatched_on": glide_time()}
            text = f"Dispatched by the carrier, tracking reference {fields['tracking_ref']}"
        else:
            fields = {"delivered_on": glide_time()}
            text = f"Delivered to {c.execute('SELECT delivery_location FROM x_dcc_oms_order WHERE sys_id=?', (k['oms_order'],)).fetchone()[0]}"  # noqa: E501
            if k["item"] in {v.code for v in cfg.ch_variants}:
                store.issue_devices(c, k["company"], k["item"], k["quantity"], consignment=k["sys_id"])
        store.set_consignment_state(c, k, body.to, **fields)
        store.log(c, "x_dcc_oms_consignment", k["sys_id"], text, "carrier")
        k = store.consignment_by_number(c, number)
    return {"number": number, "state": k["state"], "tracking_ref": k["tracking_ref"]}


@operator_router.post("/returns/{number}")
async def progress_return(number: str, body: Progress, request: Request) -> dict:
    """DCC authorises a return (issuing the RMA number), the carrier collects it, DCC receives it,
    triages each device and closes it."""
    cfg = _cfg(request)
    with request.app.state.db.tx() as c:
        ret = store.return_by_number(c, number)
        if ret is None:
            raise HTTPException(404, f"no return {number}")
        nxt = RETURN_NEXT.get(ret["state"])
        triage_again = ret["state"] == "triage" and body.to == "triage"
        if body.to != nxt and not triage_again:
            raise HTTPException(
                409,
                f"return {number} is {ret['state']}: "
                + (f"it can only become {nxt}" if nxt else "it is closed"),
            )
        items = {i["serial"]: i for i in store.return_items(c, ret["sys_id"])}
        fields: dict = {}
        if body.to == "authorised":
            fields["rma_number"] = store.next_number(
                c, "x_dcc_oms_return", cfg.numbers.rma, column="rma_number"
            )
            text = f"Authorised by DCC: RMA number {fields['rma_number']}"
        elif body.to == "triage":
            if not body.outcomes:
                raise HTTPException(422, "give the triage outcome of at least one device")
            for serial, outcome in body.outcomes.items():
                if serial.upper() not in items:
                    raise HTTPException(422, f"{serial} is not in return {number}")
                choice = next((o for o in cfg.triage_outcomes if outcome in (o.value, o.label)), None)
                if choice is None:
                    raise HTTPException(422, f"unknown triage outcome {outcome!r}")
                store.set_triage_outcome(c, items[serial.upper()]["sys_id"], choice.value)
            text = "Triage: " + ", ".join(
                f"{s.upper()} {choice_label(cfg.triage_outcomes, o)}" for s, o in body.outcomes.items()
            )
        elif body.to == "closed":
            pending = [s for s, i in items.items() if not i["triage_outcome"]]
            if pending:
                raise HTTPException(
                    409, f"return {number} still has devices without a triage outcome: " + ", ".join(pending)
                )
            text = "Closed by DCC"
        else:
            text = {
                "collected": "Collected by the carrier",
                "received": "Received at the DCC returns centre",
            }[body.to]
        store.set_return_state(c, ret, body.to, **fields)
        store.log(c, "x_dcc_oms_return", ret["sys_id"], text, "DCC" if body.to != "collected" else "carrier")
        ret = store.return_by_number(c, number)
    return {"number": number, "state": ret["state"], "rma_number": ret["rma_number"]}


@operator_router.post("/devices")
async def give_devices(body: Devices, request: Request) -> dict:
    """Communications Hubs an organisation holds (as if delivered earlier), for returns scenarios."""
    cfg = _cfg(request)
    item = body.item or cfg.ch_variants[0].code
    code = next((v.code for v in cfg.ch_variants if item in (v.code, v.name)), None)
    if code is None:
        raise HTTPException(422, f"{item!r} is not a CH variant of the profile")
    with request.app.state.db.tx() as c:
        org = store.company_by_key(c, body.organisation)
        if org is None:
            raise HTTPException(404, f"no organisation {body.organisation}")
        serials = store.issue_devices(c, org["sys_id"], code, body.count)
    return {"serials": serials}


@operator_router.get("/counts/{organisation}")
async def record_counts(organisation: str, request: Request) -> dict:
    """How many OMS records an organisation has (the harness's own tests check 'nothing saved')."""
    with request.app.state.db.tx() as c:
        org = store.company_by_key(c, organisation)
        if org is None:
            raise HTTPException(404, f"no organisation {organisation}")
        return store.counts(c, org["sys_id"])
