"""What DCC does with a submitted file, for tests: validate it (accept, or reject with a reason the user sees)
and process it. POST /_operator/requests/{RITM number} {"action": "accept" | "reject" | "process", "reason"};
the requester is emailed at each outcome (an item that notifies)."""

from __future__ import annotations

from fastapi import APIRouter, Depends, HTTPException, Request
from pydantic import BaseModel

from ..incidents.rules import FORM_FIELDS
from ..incidents.store import create as create_incident
from ..mail import send_mail
from ..operator import require_operator
from .rules import RequestError
from .store import DESK, advance

router = APIRouter(prefix="/_operator/requests", dependencies=[Depends(require_operator)])


class Quarantine(BaseModel):
    user_name: str
    commands: int = 3


@router.post("/quarantine-incident")
async def quarantine_incident(body: Quarantine, request: Request) -> dict:
    """DCC raises an incident for a user about commands held in quarantine, asking for a quarantine command action
    file (the catalogue item that answers an incident); its number and sys_id."""
    settings = request.app.state.settings
    item = next((i for i in settings.profile.service_requests.items if i.answers_incident), None)
    if item is None:
        raise HTTPException(409, "the profile has no catalogue item that answers an incident")
    with request.app.state.db.tx() as c:
        user = c.execute("SELECT * FROM sys_user WHERE user_name = ?", (body.user_name,)).fetchone()
        if user is None:
            raise HTTPException(404, f"no user {body.user_name}")
        cfg = settings.profile.incidents
        values = {k: "" for k in FORM_FIELDS} | {
            "category": cfg.categories[0].value, "impact": "2", "urgency": "2",
            "short_description": f"{body.commands} commands from your organisation are held in quarantine",
            "description": f"DCC's anomaly detection quarantined {body.commands} commands. Answer with a "
                           f"{item.name} file saying, for each, whether to release or delete it.",
            "u_contact_first_name": user["first_name"], "u_contact_last_name": user["last_name"],
            "u_contact_phone": user["phone"]}
        row = create_incident(c, settings, DESK, values, dict(user))
        c.execute("UPDATE incident SET u_action_item = ? WHERE sys_id = ?", (item.sys_id, row["sys_id"]))
    return {"number": row["number"], "sys_id": row["sys_id"]}


# after the fixed paths above: /{number} would match them too
class Step(BaseModel):
    action: str
    reason: str = ""


@router.post("/{number}")
async def dcc_step(number: str, body: Step, request: Request) -> dict:
    settings = request.app.state.settings
    with request.app.state.db.tx() as c:
        row = c.execute("SELECT * FROM sc_req_item WHERE number = ?", (number,)).fetchone()
        if row is None:
            raise HTTPException(404, f"no requested item {number}")
        try:
            mail = advance(c, settings, dict(row), body.action, body.reason)
        except RequestError as err:
            raise HTTPException(err.status, "; ".join(err.errors.values())) from None
        after = dict(c.execute("SELECT stage, state FROM sc_req_item WHERE number = ?", (number,)).fetchone())
    if mail:  # after the commit, outside the lock (the sink's own thread writes to the db)
        send_mail(settings.smtp_port, mail["to"], mail["subject"], mail["body"])
    return {"number": number, **after}
