"""The operator's figures about incidents."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request

from ..operator import require_operator

router = APIRouter()


@router.get("/_operator/incidents/stats", dependencies=[Depends(require_operator)], include_in_schema=False)
async def incident_stats(request: Request) -> dict:
    from ..bulk import STATS

    with request.app.state.db.tx() as c:
        total = c.execute("SELECT COUNT(*) FROM incident").fetchone()[0]
        orgs = c.execute("SELECT COUNT(DISTINCT company) FROM incident").fetchone()[0]
    return {"incidents": total, "organisations_with_incidents": orgs, "bulk_seed": dict(STATS)}
