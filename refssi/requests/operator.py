"""What DCC does with a submitted file, for tests: validate it (accept, or reject with a reason the user sees)
and process it. POST /_operator/requests/{RITM number} {"action": "accept" | "reject" | "process", "reason"};
the requester is emailed at each outcome (an item that notifies)."""

from __future__ import annotations

from fastapi import APIRouter, Depends, HTTPException, Request
from pydantic import BaseModel

from ..mail import send_mail
from ..operator import require_operator
from .rules import RequestError
from .store import advance

router = APIRouter(prefix="/_operator/requests", dependencies=[Depends(require_operator)])


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
