"""The OMS module of the portal (BFD13): CH forecasts, orders, consignments and returns.

Under FSM the Order Management System is a module inside the SSI portal (SSI-FR-20/20a):
the header menu and the home page tile lead to /sp?id=oms. Every page needs the 'oms'
component of the role matrix (AA, OA, MI, AMO, LOG) and shows only the signed-in
user's organisation's records; another organisation's record answers ServiceNow's
'not authorized or record is not valid'.

What DCC or a carrier does in real life (dispatch, delivery, return authorisation,
collection, receipt, triage) is driven by the operator API at /_operator/oms/*.
Every rule and choice list comes from the target profile (profile.oms); the data
access is in store.py.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable

from fastapi.responses import Response

from ..db import glide_time
from ..faults import fault
from ..sp.widgets import drawn, moved
from ..web import Ctx, portal_page
from . import store
from .rules import (
    COMPONENT,
    MAX_NOTES,
    assess_lines,
    check_choice,
    check_delivery_date,
    check_quantity,
    check_text,
    choice_label,
    company,
    consignment_size,
    earliest_delivery,
    latest_delivery,
    oms,
    validate_order_form,
    validate_return_form,
)
from .store import Row


def is_post(ctx: Ctx) -> bool:
    return ctx.request.method == "POST"


def param(ctx: Ctx, name: str, default: str = "") -> str:
    return ctx.request.query_params.get(name, default)


def render(ctx: Ctx, template: str, title: str, status: int = 200, **context) -> Response:
    """The page: its template, or on the Service Portal the template's widget view (oms/sp.py) of the same context."""
    cfg = oms(ctx)
    context = {"oms": cfg, "store": store, **context}
    return drawn(ctx, template, title, status, context) or ctx.render(template, status=status, title=title, **context)


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
            return moved(ctx, ctx.portal_url("oms_forecast", region=region))
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
    return _searched_list(ctx, "orders", store.list_orders)


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
            return moved(ctx, ctx.portal_url("oms_order", sys_id=order["sys_id"]))
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
                return moved(ctx, ctx.portal_url("oms_order", sys_id=order["sys_id"]))
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
                    consignment_max=consignment_size(ctx.settings),
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
                return moved(ctx, ctx.portal_url("oms_order", sys_id=order["sys_id"]))
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
                    return moved(ctx, ctx.portal_url("oms_consignment", sys_id=k["sys_id"]))
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
                return moved(ctx, ctx.portal_url("oms_consignment", sys_id=k["sys_id"]))
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
                    return moved(ctx, ctx.portal_url("oms_consignment", sys_id=k["sys_id"]))
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
    return _searched_list(ctx, "returns", store.list_returns)


def _searched_list(ctx: Ctx, kind: str, rows: Callable[[sqlite3.Connection, str, str], list[Row]]) -> Response:
    """The organisation's orders or returns, filtered by the search box (?q=)."""
    q = param(ctx, "q")
    return render(ctx, f"oms_{kind}.html", ctx.profile.label(f"oms.{kind}"), q=q,
                  **{kind: rows(ctx.db, company(ctx), q)})


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
            return moved(ctx, ctx.portal_url("oms_return", sys_id=ret["sys_id"]))
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
