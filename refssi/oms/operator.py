"""What the operator does in OMS for tests: progress consignments and returns, hand out devices, count records."""

from __future__ import annotations

from fastapi import APIRouter, Depends, HTTPException, Request
from pydantic import BaseModel, Field

from ssi.profile import Oms

from ..db import glide_time
from ..operator import require_operator
from . import store
from .rules import choice_label

# ---------------------------------------------------------------- operator controls (DCC, carriers)
router = APIRouter(prefix="/_operator/oms", dependencies=[Depends(require_operator)])

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


@router.post("/consignments/{number}")
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


@router.post("/returns/{number}")
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


@router.post("/devices")
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


@router.get("/counts/{organisation}")
async def record_counts(organisation: str, request: Request) -> dict:
    """How many OMS records an organisation has (the harness's own tests check 'nothing saved')."""
    with request.app.state.db.tx() as c:
        org = store.company_by_key(c, organisation)
        if org is None:
            raise HTTPException(404, f"no organisation {organisation}")
        return store.counts(c, org["sys_id"])
