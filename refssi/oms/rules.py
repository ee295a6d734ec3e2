"""The OMS rules: quantities, delivery dates, texts and choices, order lines against the forecast, returns."""

from __future__ import annotations

import re
from datetime import date

from ssi.profile import Oms, OmsChoice

from ..faults import fault
from ..settings import Settings
from ..web import Ctx
from . import store

MAX_TEXT = 120
MAX_NOTES = 1000

COMPONENT = "oms"


def oms(ctx: Ctx) -> Oms:
    return ctx.profile.oms


def company(ctx: Ctx) -> str:
    return ctx.user["company"]


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
    if n > cfg.max_quantity or (n == cfg.max_quantity and fault(ctx.settings, "oms_max_exclusive")):
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
                if fault(ctx.settings, "oms_tolerance_rounded"):
                    line["variance_percent"] = float(round(line["variance_percent"]))
                line["outside_tolerance"] = abs(line["variance_percent"]) > cfg.tolerance_percent
                if fault(ctx.settings, "oms_tolerance_exclusive"):
                    line["outside_tolerance"] = abs(line["variance_percent"]) >= cfg.tolerance_percent
            else:
                line["variance_percent"] = None
                line["outside_tolerance"] = True
            if fault(ctx.settings, "oms_no_tolerance_check"):
                line["outside_tolerance"] = False
        else:
            line.update(forecast_quantity=None, variance_percent=None, outside_tolerance=False)
        out.append(line)
    return out


SERIAL_SPLIT = re.compile(r"[\s,;]+")


def consignment_size(settings: Settings) -> int:
    """The most units one consignment holds (oms.consignment_max_quantity): a confirmed order line is split into
    consignments of this size, the last holding what is left."""
    size = settings.profile.oms.consignment_max_quantity
    if fault(settings, "oms_consignment_split_exclusive"):
        size -= 1
    if fault(settings, "oms_no_consignment_split"):
        size = settings.profile.oms.max_quantity
    return size


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
    elif (len(serials) > (cfg.return_max_devices - 1 if fault(ctx.settings, "oms_return_limit_exclusive")
                          else cfg.return_max_devices) and not fault(ctx.settings, "oms_no_return_limit")):
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
