"""OMS pages as Service Portal widgets (REFSSI_PORTAL_UI=sp): the widget view of each classic template.

The page's handler in portal.py runs as it does for the classic page (same rules, store and context); only the
template is swapped for the view here, which draws the same content as a "record" widget (sp_record.js): the
OMS menu, facts as label/value pairs, tables, and forms posted by XHR whose choices are select2 fields and
whose mandatory fields carry ServiceNow's prefix, searches that change the route, and the forecast grid as a
table of quantity fields.
"""

from __future__ import annotations

from typing import Any

from ..sp.widgets import from_handler, pair, sp_page, sp_view
from ..web import PAGES, Ctx

Block = dict[str, Any]


def menu(ctx: Ctx) -> Block:
    L = ctx.profile.labels["oms"]
    pages = [
        ("oms", "heading"),
        ("oms_forecasts", "forecasts"),
        ("oms_orders", "orders"),
        ("oms_consignments", "consignments"),
        ("oms_returns", "returns"),
        ("oms_catalogue", "catalogue"),
    ]
    links = [{"label": L[k], "url": ctx.portal_url(p)} for p, k in pages]
    return {"kind": "nav", "label": L["menu_region"], "links": links}


def fact(key: str, label: str, value: Any) -> dict[str, str]:
    return pair(f"fact_{key}", label, "—" if value in (None, "") else str(value))


def summary(errors: dict[str, str], form_error: str | None) -> list[Block]:
    """The error summary the classic page shows above its form (oms_macros.summary)."""
    if form_error:
        return [{"kind": "summary", "text": form_error}]
    if errors:
        fields = "field" if len(errors) == 1 else f"{len(errors)} fields"
        return [{"kind": "summary", "text": f"Correct the {fields} marked below. Nothing has been saved."}]
    return []


def field(
    name: str,
    label: str,
    values: dict[str, Any],
    errors: dict[str, str],
    *,
    kind: str = "text",
    hint: str = "",
    mandatory: bool = False,
    **more: Any,
) -> Block:
    return {
        "name": name,
        "label": label,
        "kind": kind,
        "value": str(values.get(name, "") or ""),
        "hint": hint,
        "error": errors.get(name, ""),
        "mandatory": mandatory,
        **more,
    }


def choice(
    name: str,
    label: str,
    choices: list[Any],
    values: dict[str, Any],
    errors: dict[str, str],
    placeholder: str,
    **more: Any,
) -> Block:
    options = [
        {"value": c, "label": c} if isinstance(c, str) else {"value": c.value, "label": c.label} for c in choices
    ]
    return field(name, label, values, errors, kind="choice", choices=options, placeholder=placeholder, **more)


def form(
    ctx: Ctx,
    page_id: str,
    fields: list[Block],
    submit: str,
    *,
    action: str | None = None,
    label: str | None = None,
    danger: bool = False,
    inline: bool = False,
    intro: list[Block] | None = None,
    **params: str,
) -> Block:
    return {
        "kind": "form",
        "post_url": ctx.portal_url(page_id, **params),
        "fields": fields,
        "hidden": {"action": action} if action else {},
        "label": label,
        "inline": inline,
        "intro": intro or [],
        "submit": {"label": submit, "class": "btn-danger" if danger else "btn-primary"},
    }


def record(heading: str, blocks: list[Block]) -> dict[str, Any]:
    return {"type": "record", "blocks": [{"kind": "heading", "text": heading}, *blocks]}


def activity_block(rows: list[dict[str, Any]]) -> Block:
    return {"kind": "activity", "items": [dict(a) for a in rows]}


# ---------------------------------------------------------------- orders
@sp_view("oms_order_form.html")
def order_form(ctx: Ctx, *, oms, order, values, errors, earliest, latest, **_: Any) -> dict[str, Any]:
    L = ctx.profile.labels["oms"]
    quantities = {
        "kind": "group",
        "name": "quantities",
        "legend": "Quantities",
        "error": errors.get("quantities", ""),
        "hint": f"Whole numbers from 1 to {oms.max_quantity:,}; leave blank what you do not order.",
        "parts": [
            {"kind": "heading", "text": "Communications Hubs"},
            *[field(f"qty_{v.code}", v.name, values, errors, kind="numeric") for v in oms.ch_variants],
            {"kind": "heading", "text": "Auxiliary equipment"},
            *[field(f"qty_{v.code}", v.name, values, errors, kind="numeric") for v in oms.auxiliary_equipment],
        ],
    }
    fields = [
        choice("region", L["region"], oms.regions, values, errors, "Choose a Region", mandatory=True),
        field(
            "delivery_location",
            L["delivery_location"],
            values,
            errors,
            mandatory=True,
            hint="The depot or warehouse the carrier delivers to",
        ),
        field(
            "delivery_date",
            L["delivery_date"],
            values,
            errors,
            kind="date",
            mandatory=True,
            hint=f"From {earliest} ({oms.lead_time_days} days' notice) to {latest} (end of the forecast horizon)",
        ),
        quantities,
    ]
    heading = f"{order['number']}: edit draft" if order else L["new_order"]
    return record(
        heading,
        [
            menu(ctx),
            *summary(errors, None),
            form(ctx, "oms_order_form", fields, L["save_draft"], sys_id=order["sys_id"] if order else "-1"),
        ],
    )


def order_line(oms, store, ln: dict[str, Any]) -> Block:
    item = oms.item(ln["item"])
    is_ch = item in oms.ch_variants
    forecast = (
        "Not forecast"
        if not is_ch
        else "No forecast"
        if ln.get("forecast_quantity") is None
        else str(ln["forecast_quantity"])
    )
    variance = f"{ln['variance_percent']:+.1f}%" if ln.get("variance_percent") is not None else "—"
    tolerance = (
        "—"
        if not is_ch
        else {"text": "Outside tolerance", "strong": True}
        if ln.get("outside_tolerance")
        else "Within tolerance"
    )
    return {"header": item.name, "cells": [str(ln["quantity"]), forecast, variance, tolerance]}


@sp_view("oms_order.html")
def order_page(
    ctx: Ctx,
    *,
    oms,
    store,
    order,
    lines,
    errors,
    form_error,
    values,
    consignments,
    activity: list,
    opened_by,
    confirmed_by,
    **_: Any,
) -> dict[str, Any]:
    L = ctx.profile.labels["oms"]
    pairs = [
        fact("number", "Number", order["number"]),
        fact("state", L["status"], oms.status("order", order["state"])),
        fact("region", L["region"], order["region"]),
        fact("delivery_location", L["delivery_location"], order["delivery_location"]),
        fact("delivery_date", L["delivery_date"], order["delivery_date"]),
        fact("opened_by", "Created by", f"{opened_by}, {order['sys_created_on']} UTC"),
    ]
    if order["submitted_on"]:
        pairs.append(fact("submitted_on", "Submitted", f"{order['submitted_on']} UTC"))
    if order["state"] != "draft":
        pairs.append(
            fact("tolerance_exception", "Tolerance exception", "Yes" if order["tolerance_exception"] else "No")
        )
    if order["justification"]:
        pairs.append(fact("justification", L["justification"], order["justification"]))
    if order["confirmed_on"]:
        pairs.append(fact("confirmed", "Confirmed", f"{confirmed_by}, {order['confirmed_on']} UTC"))
    month = store.month_label(order["delivery_date"][:7])
    blocks: list[Block] = [
        menu(ctx),
        *summary(errors, form_error),
        {"kind": "pairs", "pairs": pairs},
        {
            "kind": "table",
            "label": "Order lines",
            "rows": [order_line(oms, store, ln) for ln in lines],
            "columns": [
                "Item",
                "Quantity",
                f"Forecast for {month}",
                "Difference",
                f"Tolerance (±{oms.tolerance_percent:g}%)",
            ],
        },
    ]
    if order["state"] == "draft":
        blocks += [
            {"kind": "text", "class": "small", "text": "The forecast comparison is final when you submit the order."},
            {
                "kind": "links",
                "links": [{"label": "Edit", "url": ctx.portal_url("oms_order_form", sys_id=order["sys_id"])}],
            },
            form(ctx, "oms_order", [], L["submit_order"], action="submit", inline=True, sys_id=order["sys_id"]),
        ]
    elif order["state"] == "submitted":
        fields, intro = [], []
        if order["tolerance_exception"]:
            intro = [
                {
                    "level": "warning",
                    "text": f"This order differs from your forecast by more than "
                    f"±{oms.tolerance_percent:g}%: it is a tolerance exception.",
                }
            ]
            fields = [
                field(
                    "justification",
                    L["justification"],
                    values,
                    errors,
                    kind="textarea",
                    mandatory=True,
                    hint="Why the order differs from the forecast (at least 10 characters)",
                )
            ]
        blocks.append(
            form(ctx, "oms_order", fields, L["confirm_order"], action="confirm", intro=intro, sys_id=order["sys_id"])
        )
    if consignments:
        blocks.append(
            {
                "kind": "table",
                "label": "Consignments",
                "columns": ["Consignment", "Item", L["quantity"], L["delivery_date"], L["status"]],
                "rows": [
                    {
                        "header": {"text": k["number"], "url": ctx.portal_url("oms_consignment", sys_id=k["sys_id"])},
                        "cells": [
                            oms.item(k["item"]).name,
                            str(k["quantity"]),
                            k["delivery_date"],
                            oms.status("consignment", k["state"]),
                        ],
                    }
                    for k in consignments
                ],
            }
        )
    blocks.append(activity_block(activity))
    return record(f"{L['orders']}: {order['number']}", blocks)


# ---------------------------------------------------------------- consignments
@sp_view("oms_consignment.html")
def consignment_page(
    ctx: Ctx, *, oms, k, errors, form_error, values, devices, activity: list, earliest, latest, responded_by, **_: Any
) -> dict[str, Any]:
    L = ctx.profile.labels["oms"]
    pairs = [
        fact("number", "Consignment", k["number"]),
        fact("state", L["status"], oms.status("consignment", k["state"])),
        fact("order", "Order", k["order_number"]),
        fact("item", "Item", oms.item(k["item"]).name),
        fact("quantity", "Quantity", k["quantity"]),
        fact("delivery_location", L["delivery_location"], k["delivery_location"]),
        fact("delivery_date", L["delivery_date"], k["delivery_date"]),
        fact("tracking", L["tracking"], k["tracking_ref"]),
    ]
    if k["dispatched_on"]:
        pairs.append(fact("dispatched_on", "Dispatched", f"{k['dispatched_on']} UTC"))
    if k["delivered_on"]:
        pairs.append(fact("delivered_on", "Delivered", f"{k['delivered_on']} UTC"))
    if k["state"] == "rejected":
        pairs += [
            fact(
                "rejection_reason",
                L["rejection_reason"],
                oms.choice(oms.rejection_reasons, k["rejection_reason"]).label,
            ),
            fact("rejected_quantity", L["rejected_quantity"], k["rejected_quantity"]),
        ]
    if k["responded_on"]:
        pairs.append(fact("responded", "Receipt recorded", f"{responded_by}, {k['responded_on']} UTC"))
    blocks: list[Block] = [
        menu(ctx),
        *summary(errors, form_error),
        {"kind": "pairs", "pairs": pairs},
        {
            "kind": "text",
            "text": "",
            "links": [
                {"label": f"Open order {k['order_number']}", "url": ctx.portal_url("oms_order", sys_id=k["oms_order"])}
            ],
        },
    ]
    if k["state"] == "scheduled":
        blocks.append(
            form(
                ctx,
                "oms_consignment",
                [
                    field(
                        "delivery_date",
                        L["new_delivery_date"],
                        values,
                        errors,
                        kind="date",
                        mandatory=True,
                        hint=f"Until the carrier dispatches it: from {earliest} to {latest}",
                    )
                ],
                L["amend_date"],
                action="amend",
                label=L["amend_date"],
                sys_id=k["sys_id"],
            )
        )
    elif k["state"] == "delivered":
        blocks += [
            {"kind": "text", "text": "Check the delivery, then accept it or reject it."},
            form(ctx, "oms_consignment", [], L["accept"], action="accept", inline=True, sys_id=k["sys_id"]),
            form(
                ctx,
                "oms_consignment",
                [
                    choice(
                        "rejection_reason",
                        L["rejection_reason"],
                        oms.rejection_reasons,
                        values,
                        errors,
                        "Choose a reason",
                        mandatory=True,
                    ),
                    field(
                        "rejected_quantity",
                        L["rejected_quantity"],
                        values,
                        errors,
                        kind="numeric",
                        mandatory=True,
                        hint=f"1 to {k['quantity']}",
                    ),
                ],
                L["reject"],
                action="reject",
                label=L["reject"],
                danger=True,
                sys_id=k["sys_id"],
            ),
        ]
    if devices:
        blocks.append(
            {
                "kind": "table",
                "label": "Devices in this consignment",
                "columns": ["Device ID", "Variant"],
                "rows": [{"cells": [d["serial"], oms.item(d["item"]).name]} for d in devices],
            }
        )
    blocks.append(activity_block(activity))
    return record(f"{L['consignments']}: {k['number']}", blocks)


# ---------------------------------------------------------------- returns
@sp_view("oms_return_form.html")
def return_form(ctx: Ctx, *, oms, values, errors, **_: Any) -> dict[str, Any]:
    L = ctx.profile.labels["oms"]
    fields = [
        field(
            "serials",
            L["serials"],
            values,
            errors,
            kind="textarea",
            rows=5,
            mandatory=True,
            hint=f"Up to {oms.return_max_devices} device IDs such as {oms.device_id_example}",
        ),
        choice("reason", L["return_reason"], oms.return_reasons, values, errors, "Choose a reason", mandatory=True),
        field("notes", "Additional information (optional)", values, errors, kind="textarea", rows=3),
    ]
    intro = (
        "Return Communications Hubs your organisation holds. DCC authorises the return and issues an RMA "
        "number; the carrier then collects the Communications Hubs."
    )
    return record(
        L["new_return"],
        [
            menu(ctx),
            {"kind": "text", "text": intro},
            *summary(errors, None),
            form(ctx, "oms_return_form", fields, L["raise_return"]),
        ],
    )


@sp_view("oms_return.html")
def return_page(ctx: Ctx, *, oms, ret, items, activity: list, opened_by, **_: Any) -> dict[str, Any]:
    L = ctx.profile.labels["oms"]
    pairs = [
        fact("number", "Return", ret["number"]),
        fact("state", L["status"], oms.status("returns", ret["state"])),
        fact("rma", L["rma"], ret["rma_number"] or "Issued when DCC authorises the return"),
        fact("reason", L["return_reason"], oms.choice(oms.return_reasons, ret["reason"]).label),
    ]
    if ret["notes"]:
        pairs.append(fact("notes", "Additional information", ret["notes"]))
    pairs.append(fact("opened_by", "Raised by", f"{opened_by}, {ret['sys_created_on']} UTC"))
    steps, reached = [], True
    for key, label in oms.statuses.returns.items():
        steps.append({"text": label, "done": reached, "current": key == ret["state"]})
        reached = reached and key != ret["state"]
    rows = [
        {
            "header": i["serial"],
            "cells": [
                oms.item(i["item"]).name,
                oms.choice(oms.triage_outcomes, i["triage_outcome"]).label
                if i["triage_outcome"]
                else "Awaiting triage",
            ],
        }
        for i in items
    ]
    return record(
        f"{L['returns']}: {ret['number']}",
        [
            menu(ctx),
            {"kind": "pairs", "pairs": pairs},
            {"kind": "steps", "label": "Return progress", "items": steps},
            {
                "kind": "table",
                "label": "Returned devices",
                "columns": ["Device ID", "Variant", "Triage outcome"],
                "rows": rows,
            },
            activity_block(activity),
        ],
    )


# ---------------------------------------------------------------- home, catalogue and lists
@sp_view("oms_home.html")
def home(ctx: Ctx, *, oms, summary, **_: Any) -> dict[str, Any]:
    L = ctx.profile.labels["oms"]
    glance = [
        fact("open_orders", "Orders not yet confirmed", summary["orders"]),
        fact("open_consignments", "Consignments awaiting your receipt", summary["consignments"]),
        fact("open_returns", "Open returns", summary["returns"]),
    ]
    return record(
        L["heading"],
        [
            menu(ctx),
            {
                "kind": "text",
                "text": "Forecast and order 4G Communications Hubs and auxiliary equipment, follow "
                "your consignments and return Communications Hubs.",
            },
            {"kind": "pairs", "pairs": glance},
            {
                "kind": "text",
                "class": "small",
                "text": f"Forecast horizon {oms.horizon_months} months, of which the first "
                f"{oms.lock_months} are locked. Orders may differ from the forecast by "
                f"±{oms.tolerance_percent:g}% and need {oms.lead_time_days} days' notice.",
            },
        ],
    )


@sp_view("oms_catalogue.html")
def catalogue(ctx: Ctx, *, oms, **_: Any) -> dict[str, Any]:
    L = ctx.profile.labels["oms"]
    return record(
        L["catalogue"],
        [
            menu(ctx),
            {"kind": "subheading", "text": "Regions"},
            {"kind": "list", "label": L["regions_list"], "items": list(oms.regions)},
            {
                "kind": "table",
                "label": L["variants_table"],
                "columns": ["Code", "Communications Hub variant"],
                "rows": [{"cells": [v.code, v.name]} for v in oms.ch_variants],
            },
            {
                "kind": "table",
                "label": L["auxiliary_table"],
                "columns": ["Code", "Auxiliary equipment"],
                "rows": [{"cells": [v.code, v.name]} for v in oms.auxiliary_equipment],
            },
        ],
    )


def search(ctx: Ctx, page_id: str, what: str, hint: str, q: str) -> Block:
    """The GET search form of a list: on the portal a route change to the list with ?q=."""
    L = ctx.profile.labels["oms"]
    return {
        "kind": "search",
        "label": f"Search {what}",
        "button": L["search"],
        "url": ctx.portal_url(page_id),
        "fields": [{"name": "q", "label": L["search"], "hint": hint, "value": q}],
    }


@sp_view("oms_orders.html")
def orders(ctx: Ctx, *, oms, orders, q, **_: Any) -> dict[str, Any]:
    L = ctx.profile.labels["oms"]
    rows = [
        {
            "header": {"text": o["number"], "url": ctx.portal_url("oms_order", sys_id=o["sys_id"])},
            "cells": [
                o["region"],
                o["delivery_location"],
                o["delivery_date"],
                str(o["units"] or 0),
                oms.status("order", o["state"]),
            ],
        }
        for o in orders
    ]
    return record(
        L["orders"],
        [
            menu(ctx),
            {
                "kind": "links",
                "links": [
                    {
                        "label": L["new_order"],
                        "class": "btn-primary",
                        "url": ctx.portal_url("oms_order_form", sys_id="-1"),
                    }
                ],
            },
            search(ctx, "oms_orders", "orders", "Order number or delivery location", q),
            {
                "kind": "table",
                "label": L["orders_table"],
                "rows": rows,
                "empty": f"No orders match “{q}”." if q else "No orders.",
                "columns": ["Number", L["region"], L["delivery_location"], L["delivery_date"], "Units", L["status"]],
            },
        ],
    )


@sp_view("oms_consignments.html")
def consignments(ctx: Ctx, *, oms, consignments, **_: Any) -> dict[str, Any]:
    L = ctx.profile.labels["oms"]
    rows = [
        {
            "header": {"text": k["number"], "url": ctx.portal_url("oms_consignment", sys_id=k["sys_id"])},
            "cells": [
                k["order_number"],
                oms.item(k["item"]).name,
                str(k["quantity"]),
                k["delivery_date"],
                oms.status("consignment", k["state"]),
                k["tracking_ref"] or "",
            ],
        }
        for k in consignments
    ]
    return record(
        L["consignments"],
        [
            menu(ctx),
            {
                "kind": "table",
                "label": "Consignments",
                "rows": rows,
                "empty": "No consignments yet: they are scheduled when an order is confirmed.",
                "columns": ["Consignment", "Order", "Item", "Quantity", L["delivery_date"], L["status"], L["tracking"]],
            },
        ],
    )


@sp_view("oms_returns.html")
def returns(ctx: Ctx, *, oms, returns, q, **_: Any) -> dict[str, Any]:
    L = ctx.profile.labels["oms"]
    rows = [
        {
            "header": {"text": r["number"], "url": ctx.portal_url("oms_return", sys_id=r["sys_id"])},
            "cells": [
                r["rma_number"] or "",
                oms.status("returns", r["state"]),
                oms.choice(oms.return_reasons, r["reason"]).label,
                str(r["devices"]),
                f"{r['sys_created_on']} UTC",
            ],
        }
        for r in returns
    ]
    return record(
        L["returns"],
        [
            menu(ctx),
            {
                "kind": "links",
                "links": [{"label": L["new_return"], "class": "btn-primary", "url": ctx.portal_url("oms_return_form")}],
            },
            search(ctx, "oms_returns", "returns", "Return number, RMA number or CH device ID", q),
            {
                "kind": "table",
                "label": L["returns_table"],
                "rows": rows,
                "empty": f"No returns match “{q}”." if q else "No returns.",
                "columns": ["Return", L["rma"], L["status"], L["return_reason"], "Devices", "Raised"],
            },
        ],
    )


# ---------------------------------------------------------------- forecasts
@sp_view("oms_forecasts.html")
def forecasts(ctx: Ctx, *, oms, rows, **_: Any) -> dict[str, Any]:
    L = ctx.profile.labels["oms"]
    table = [
        {
            "header": {"text": r["region"], "url": ctx.portal_url("oms_forecast", region=r["region"])},
            "cells": [
                str(r["latest"]["version"]) if r["latest"] else "None yet",
                f"{r['latest']['sys_created_on']} UTC" if r["latest"] else "",
                r["submitted_by_name"] or "",
                {
                    "text": L["forecast_history"],
                    "sr": f" for {r['region']}",
                    "url": ctx.portal_url("oms_forecast_history", region=r["region"]),
                },
            ],
        }
        for r in rows
    ]
    return record(
        L["forecasts"],
        [
            menu(ctx),
            {
                "kind": "text",
                "text": f"Each Region's forecast covers the next {oms.horizon_months} months; "
                f"the first {oms.lock_months} are locked.",
            },
            {
                "kind": "table",
                "label": "Forecasts by Region",
                "rows": table,
                "columns": [L["region"], "Latest version", "Submitted", "By", L["forecast_history"]],
            },
        ],
    )


@sp_view("oms_forecast.html")
def forecast(
    ctx: Ctx,
    *,
    oms,
    store,
    region,
    months,
    locked,
    latest,
    base_version,
    values,
    errors,
    form_error,
    last_locked,
    **_: Any,
) -> dict[str, Any]:
    L = ctx.profile.labels["oms"]
    version = (
        f"Version {latest['version']} ({latest['number']}), submitted {latest['sys_created_on']} UTC."
        if latest
        else f"No forecast submitted yet for {region}."
    )
    rows = []
    for mo in months:
        is_locked = mo in locked
        cells = []
        for v in oms.ch_variants:
            name = f"q_{mo}_{v.code}"
            cells.append(
                field(
                    name,
                    f"{v.name}, {store.month_label(mo)}",
                    values,
                    errors,
                    kind="numeric",
                    readonly=is_locked,
                    css="qty",
                    described_by=["lock_note"] if is_locked else [],
                    hidden_label=True,
                )
            )
        rows.append(
            {
                "header": store.month_label(mo),
                "badge": L["locked"] if is_locked else "",
                "cells": cells,
                "locked": is_locked,
            }
        )
    grid = {
        "kind": "grid",
        "name": "forecast",
        "label": L["forecast_table"].format(region=region),
        "columns": [L["month"], *[v.name for v in oms.ch_variants]],
        "rows": rows,
    }
    blocks: list[Block] = [
        menu(ctx),
        {
            "kind": "text",
            "id": "forecast_version",
            "text": version,
            "links": [{"label": L["forecast_history"], "url": ctx.portal_url("oms_forecast_history", region=region)}],
        },
        {
            "kind": "text",
            "text": "Quantities of Communications Hubs you expect to need delivered each month. Change the "
            "months you need and submit: a new version is recorded.",
        },
    ]
    if last_locked:
        blocks.append(
            {
                "kind": "text",
                "id": "lock_note",
                "class": "note",
                "text": f"{L['locked']}: months up to {store.month_label(last_locked)} are inside the "
                f"{oms.lock_months}-month lock window and can no longer be changed.",
            }
        )
    blocks += [
        *summary(errors, form_error),
        form(ctx, "oms_forecast", [grid], L["submit_forecast"], region=region)
        | {"hidden": {"base_version": str(base_version)}},
    ]
    return record(f"{L['forecasts']}: {region}", blocks)


@sp_view("oms_forecast_history.html")
def forecast_history(ctx: Ctx, *, oms, store, region, versions, shown, values, months, **_: Any) -> dict[str, Any]:
    L = ctx.profile.labels["oms"]
    rows = [
        {
            "header": {
                "text": L["version_row"].format(version=v["version"]),
                "url": ctx.portal_url("oms_forecast_history", region=region, version=str(v["version"])),
            },
            "cells": [v["number"], f"{v['sys_created_on']} UTC", v["submitted_by_name"] or "", str(v["changes"])],
        }
        for v in versions
    ]
    blocks: list[Block] = [
        menu(ctx),
        {
            "kind": "table",
            "label": L["versions_table"],
            "rows": rows,
            "empty": "No forecast submitted yet.",
            "columns": ["Version", "Number", "Submitted", "Submitted by", "Quantities changed"],
        },
    ]
    if shown:
        blocks += [
            {
                "kind": "subheading",
                "text": f"Version {shown['version']} ({shown['number']}), submitted "
                f"{shown['sys_created_on']} UTC by {shown['submitted_by_name']}",
            },
            {
                "kind": "table",
                "label": L["forecast_version"].format(version=shown["version"]),
                "columns": [L["month"], *[v.name for v in oms.ch_variants]],
                "rows": [
                    {
                        "header": store.month_label(mo),
                        "cells": [str(values.get((mo, v.code), 0)) for v in oms.ch_variants],
                    }
                    for mo in months
                ],
            },
        ]
    return record(f"{L['forecast_history']}: {region}", blocks)


for _page in (
    "oms",
    "oms_catalogue",
    "oms_forecasts",
    "oms_forecast",
    "oms_forecast_history",
    "oms_orders",
    "oms_order_form",
    "oms_order",
    "oms_consignments",
    "oms_consignment",
    "oms_returns",
    "oms_return_form",
    "oms_return",
):
    sp_page(_page)(from_handler(PAGES[_page].handler))
