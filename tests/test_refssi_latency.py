"""REFSSI_LATENCY_MS: portal pages and APIs answer late, the harness's control endpoints do not."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from refssi.latency import parse_latency
from uept.runtime.reference import EmbeddedSSI


def test_a_page_waits_the_latency_and_an_operator_call_does_not() -> None:
    with EmbeddedSSI(overrides={"latency_ms": 300}) as ssi:
        with httpx.Client(base_url=ssi.url, timeout=20) as http:
            http.get("/_operator/health")  # a warm connection for both measurements
            t0 = time.monotonic()
            page = http.get("/sp?id=login")
            page_took = time.monotonic() - t0
            t0 = time.monotonic()
            health = http.get("/_operator/health")
            operator_took = time.monotonic() - t0
            static = http.get("/static/portal.css")
    assert page.status_code == 200 and health.status_code == 200 and static.status_code == 200
    assert page_took >= 0.3
    assert page_took - operator_took >= 0.25  # the operator call skipped the 300 ms the page waited


def test_the_latency_setting_reads_one_value_or_a_range() -> None:
    assert parse_latency("300") == (300, 300)
    assert parse_latency("50-1500") == (50, 1500)
    assert parse_latency("0-10000") == (0, 10000)  # the longest delay allowed
    for bad in ("", "fast", "-5", "1500-50", "1-2-3", "10001", "50-99999999"):
        with pytest.raises(ValueError, match="REFSSI_LATENCY_MS"):
            parse_latency(bad)


@pytest.mark.parametrize("name,value", [("REFSSI_LATENCY_MS", "slow"), ("REFSSI_PORTAL_UI", "angular")])
def test_a_bad_setting_stops_the_server_with_one_line_and_exit_2(tmp_path: Path, name: str, value: str) -> None:
    secrets = tmp_path / "secrets.json"
    secrets.write_text(json.dumps({"secrets": {}, "operator_token": "t"}))
    env = {k: v for k, v in os.environ.items() if not k.startswith("REFSSI_")} | {name: value}
    proc = subprocess.run([sys.executable, "-m", "refssi", "--secrets-file", str(secrets), "--db-dir", str(tmp_path)],
                          env=env, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines() == [proc.stderr.strip()]
    assert f"{name}={value}" in proc.stderr
