"""ServiceNow's REST Table API, as the harness calls it to cross-check what the pages showed."""

from __future__ import annotations

import httpx


class TableApiClient:
    """ServiceNow's REST Table API as one persona (basic auth) or as DCC's service desk (reference SSI only).

    Used to cross-check what the pages showed against the stored record. Never logs credentials.
    """

    def __init__(self, url: str, auth: httpx.Auth, who: str, path: str = "/api/now/table") -> None:
        self.who = who
        self.path = path.rstrip("/")
        self._http = httpx.Client(base_url=url, auth=auth, timeout=20,
                                  headers={"Accept": "application/json"})

    def request(self, method: str, table: str, sys_id: str | None = None, **kwargs) -> httpx.Response:
        url = f"{self.path}/{table}" + (f"/{sys_id}" if sys_id else "")
        return self._http.request(method, url, **kwargs)

    def get(self, table: str, sys_id: str, display: str = "all") -> dict | None:
        """One record ({field: {display_value, value}} with display='all'), or None when not visible."""
        r = self.request("GET", table, sys_id, params={"sysparm_display_value": display,
                                                       "sysparm_exclude_reference_link": "true"})
        if r.status_code == 404:
            return None
        r.raise_for_status()
        return r.json()["result"]

    def query(self, table: str, query: str, display: str = "false", limit: int = 100,
              fields: str | None = None) -> list[dict]:
        params = {"sysparm_query": query, "sysparm_display_value": display, "sysparm_limit": limit}
        if fields:
            params["sysparm_fields"] = fields
        r = self.request("GET", table, params=params)
        r.raise_for_status()
        return r.json()["result"]

    def attach(self, table: str, sys_id: str, file_name: str, content: bytes) -> httpx.Response:
        """POST a file to a record through the Attachment API (beside the Table API's path)."""
        root = self.path.rsplit("/table", 1)[0]
        return self._http.post(f"{root}/attachment/file", content=content, headers={"Content-Type": "text/plain"},
                               params={"table_name": table, "table_sys_id": sys_id, "file_name": file_name})

    def update(self, table: str, sys_id: str, values: dict) -> dict:
        r = self.request("PATCH", table, sys_id, json=values)
        if r.status_code >= 400:
            raise AssertionError(f"Table API refused {self.who}'s update of {table}/{sys_id}: "
                                 f"{r.status_code} {r.text[:300]}")
        return r.json()["result"]
