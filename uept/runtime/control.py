"""What the harness may make happen on a target besides using its UI: nothing on a real SSI; on the
reference SSI, its operator controls (time passing, DCC's service desk, carriers) and its mail sink."""

from __future__ import annotations

import httpx

from uept.runtime.secrets import Secret
from uept.runtime.tableapi import TableApiClient


class _Bearer(httpx.Auth):
    def __init__(self, token: Secret) -> None:
        self._token = token

    def auth_flow(self, request: httpx.Request):
        request.headers["Authorization"] = f"Bearer {self._token.reveal()}"
        yield request


class TargetControl:
    """What the harness may make happen on the target besides using its UI.

    A real SSI offers nothing: a scenario that needs a control is skipped there,
    saying why. The reference SSI offers operator controls (e.g. let time pass).
    """

    available = False

    def __repr__(self) -> str:
        return f"{self.__class__.__name__}()"

    def age(self, kind: str, user_name: str, seconds: float) -> None:
        raise NotImplementedError

    def user_state(self, user_name: str) -> dict:
        raise NotImplementedError

    def desk_update(self, table: str, sys_id: str, **changes: str) -> dict:
        """What DCC's service desk does to a record (state, hold reason, work notes...)."""
        raise NotImplementedError

    # ---- OMS: what DCC and the carriers do
    def oms_consignment(self, number: str, to: str) -> dict:
        """A carrier dispatches ('dispatched') or delivers ('delivered') a consignment."""
        raise NotImplementedError

    def oms_return(self, number: str, to: str, outcomes: dict[str, str] | None = None) -> dict:
        """DCC authorises, the carrier collects, DCC receives, triages (an outcome per device ID) or closes
        a return."""
        raise NotImplementedError

    def oms_devices(self, organisation: str, count: int, item: str | None = None) -> list[str]:
        """Device IDs of Communications Hubs the organisation now holds (as if delivered earlier)."""
        raise NotImplementedError

    # ---- service requests: what DCC does with a submitted file
    def quarantine_incident(self, user_name: str, commands: int = 3) -> dict:
        """DCC raises an incident for this user about commands held in quarantine, asking for a quarantine
        command action file; its number and sys_id."""
        raise NotImplementedError

    def request_step(self, number: str, action: str, reason: str = "") -> dict:
        """DCC accepts ('accept'), rejects with a reason ('reject') or processes ('process') a requested item's
        file; the item's new stage and state."""
        raise NotImplementedError


class ReferenceControl(TargetControl):
    available = True

    def __init__(self, url: str, token: Secret) -> None:
        self._http = httpx.Client(base_url=f"{url}/_operator",
                                  headers={"Authorization": f"Bearer {token.reveal()}"}, timeout=10)
        # the reference SSI's operator token is also its system administrator on the Table API
        self.desk = TableApiClient(url, _Bearer(token), "DCC's service desk")

    def age(self, kind: str, user_name: str, seconds: float) -> None:
        r = self._http.post("/age", json={"kind": kind, "user_name": user_name, "seconds": seconds})
        r.raise_for_status()
        if r.json()["updated"] < 1:
            raise AssertionError(f"nothing of kind '{kind}' to age for {user_name}")

    def user_state(self, user_name: str) -> dict:
        r = self._http.get(f"/users/{user_name}")
        r.raise_for_status()
        return r.json()

    def desk_update(self, table: str, sys_id: str, **changes: str) -> dict:
        return self.desk.update(table, sys_id, changes)

    def _oms(self, path: str, body: dict) -> dict:
        r = self._http.post(f"/oms/{path}", json=body)
        if r.status_code >= 400:
            detail = r.json().get("error", {}).get("message", r.text) if r.content else r.reason_phrase
            raise AssertionError(f"the reference SSI refused the operator action on {path}: {detail}")
        return r.json()

    def oms_consignment(self, number: str, to: str) -> dict:
        return self._oms(f"consignments/{number}", {"to": to})

    def oms_return(self, number: str, to: str, outcomes: dict[str, str] | None = None) -> dict:
        return self._oms(f"returns/{number}", {"to": to, "outcomes": outcomes or {}})

    def oms_devices(self, organisation: str, count: int, item: str | None = None) -> list[str]:
        return self._oms("devices", {"organisation": organisation, "count": count, "item": item})["serials"]

    def quarantine_incident(self, user_name: str, commands: int = 3) -> dict:
        r = self._http.post("/requests/quarantine-incident", json={"user_name": user_name, "commands": commands})
        r.raise_for_status()
        return r.json()

    def request_step(self, number: str, action: str, reason: str = "") -> dict:
        r = self._http.post(f"/requests/{number}", json={"action": action, "reason": reason})
        if r.status_code >= 400:
            detail = r.json().get("error", {}).get("message", r.text) if r.content else r.reason_phrase
            raise AssertionError(f"the reference SSI refused DCC's {action} of {number}: {detail}")
        return r.json()
