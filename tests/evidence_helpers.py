"""Synthetic run folders for the evidence tests: what `uept run` writes, without a browser.

The files have the shapes the plugin really writes (result.json, JPEG screenshots, page
text, Playwright trace zips, Allure results, JUnit), so the report, the exports, the
pack and the verifier are tested on them quickly; the end-to-end tests check the same
on real runs.
"""

from __future__ import annotations

import io
import json
import lzma
import tarfile
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from uept.evidence import inventory, pack
from uept.evidence.features import parse_feature

FEATURE = """@UEPT-DEMO @BFD14
Feature: Demo theme
  A small feature for the evidence tests.

  @UEPT-DEMO-01 @SSI-FR-1a @SSI-NFR-36
  Scenario: First demo scenario
    Given I am the "authenticator user"
    When I open the SSI login page
    Then I see the login confirmation

  @UEPT-DEMO-02 @SSI-NFR-10
  Scenario Outline: Second demo scenario
    Given I am the "mistyped password user"
    When I log in as <who> with a wrong password
    Then I am not signed in

    Examples:
      | who     |
      | myself  |
      | nobody  |

  @UEPT-DEMO-03 @SSI-NFR-20 @needs-operator
  Scenario: Operator-only demo scenario
    Given I am the "idle user"
    Then I am asked to log in again because my session expired
"""

CATALOGUE = """
version: 1
roles:
  Supplier: {groups: [supplier]}
  Other User: {groups: []}
role_groups:
  supplier: "suppliers"
themes:
  UEPT-DEMO: {title: Demo theme, mandatory_for: [all]}
not_mandatory_tags: [needs-operator]
scenarios: {}
"""


def jpeg(color: tuple[int, int, int] = (40, 90, 160), size: tuple[int, int] = (1280, 800)) -> bytes:
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", size, color).save(out, "JPEG", quality=70)
    return out.getvalue()


def trace_zip(extra_lines: list[dict] | None = None, extra_files: dict[str, str] | None = None) -> bytes:
    """A Playwright-trace-shaped zip: trace.trace (JSON lines), trace.network, resources."""
    lines = [
        {"type": "context-options", "version": 8, "browserName": "chromium"},
        {"type": "before", "callId": "call@1", "method": "goto", "params": {"url": "http://127.0.0.1:1/sp?id=login"}},
        {"type": "before", "callId": "call@2", "method": "fill",
         "params": {"selector": "internal:label=\"User name\"i", "value": "alex.turner"}},
        {"type": "frame-snapshot", "snapshot": {"html": ["HTML", {}, ["BODY", {}, ["INPUT", {
            "__playwright_value_": "alex.turner", "type": "text", "name": "user_name"}], ["INPUT", {
            "__playwright_value_": "totp", "type": "radio", "id": "method_totp", "name": "method",
            "value": "totp"}]]]}},
        *(extra_lines or []),
    ]
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        z.writestr("trace.trace", "\n".join(json.dumps(x) for x in lines) + "\n")
        z.writestr("trace.network", json.dumps({"type": "resource-snapshot", "snapshot": {
            "request": {"method": "GET", "url": "http://127.0.0.1:1/sp?id=index", "postData": None}}}) + "\n")
        z.writestr("resources/page.html", "<html><body><p>Welcome, Alex</p></body></html>")
        for name, text in (extra_files or {}).items():
            z.writestr(name, text)
    return out.getvalue()


def write_result(run_dir: Path, key: str, uept_id: str, name: str, status: str, *, tags: list[str],
                 feature_file: str = "features/demo.feature", example: dict | None = None, attempt: int = 1,
                 error: str | None = None, started: str = "2026-11-23T08:00:00.000Z", steps: int = 3,
                 step_status: list[str] | None = None, worker: str = "gw0") -> Path:
    folder = run_dir / "scenarios" / key
    folder.mkdir(parents=True)
    tint = sum(key.encode()) % 200  # each scenario's pages look different, as in a real run
    step_rows = []
    statuses = step_status or (["passed"] * steps if status == "passed" else
                               ["passed"] * (steps - 1) + ["failed" if status == "failed" else "not run"])
    for n, st in enumerate(statuses, 1):
        row: dict[str, Any] = {"n": n, "keyword": ["Given", "When", "Then", "And"][min(n - 1, 3)],
                               "text": f"step {n} of {name}", "status": st, "ended": started, "duration": 0.25,
                               "error": error if st == "failed" else None}
        if st == "not run":  # as uept/plugin.py writes the steps a scenario never reached
            row = {k: row[k] for k in ("n", "keyword", "text", "status", "error")}
        if st != "not run":
            (folder / f"step-{n:02d}.jpg").write_bytes(jpeg((40 + 20 * n, 90, tint)))
            (folder / f"step-{n:02d}.txt").write_text(f"DCC Self-Service Interface\n{key} step {n}\n",
                                                       encoding="utf-8")
            row.update(screenshot=f"step-{n:02d}.jpg", page_text=f"step-{n:02d}.txt",
                       url="http://127.0.0.1:1/sp?id=index")
        step_rows.append(row)
    (folder / "trace-01.zip").write_bytes(trace_zip(extra_files={"resources/scenario.txt": key}))
    reqs = sorted(t for t in tags if t.startswith(("SSI-", "BFD", "PM")))
    result = {
        "uept_id": uept_id, "name": name, "feature": {"name": "Demo theme", "file": feature_file},
        "tags": sorted(tags), "requirements": reqs, "nodeid": f"steps/test_demo.py::test_{key}", "worker": worker,
        "example": example or {}, "browser": {"name": "chromium", "version": "150.0.7871.100"},
        "key": key, "attempt": attempt, "status": status, "started": started, "ended": started, "duration": 1.5,
        "steps": step_rows, "traces": ["trace-01.zip"], "error": error,
    }
    (folder / "result.json").write_text(json.dumps(result, indent=2), encoding="utf-8")
    return folder


def make_suite(root: Path) -> Path:
    (root / "features").mkdir(parents=True, exist_ok=True)
    (root / "features" / "demo.feature").write_text(FEATURE, encoding="utf-8")
    return root


def make_run(tmp: Path, *, statuses: dict[str, str] | None = None, role: str = "Supplier",
             run_status: str = "passed", name: str = "run") -> Path:
    """A finished run of the demo feature. statuses: result key -> status (default: all passed)."""
    suite = make_suite(tmp / f"{name}-suite")
    run_dir = tmp / name
    run_dir.mkdir(parents=True)
    feature = suite / "features" / "demo.feature"
    chosen = parse_feature(feature)
    (run_dir / "scenario-set.json").write_text(json.dumps(inventory.build(suite, [feature], chosen)), "utf-8")
    statuses = statuses or {}
    base = ["UEPT-DEMO", "BFD14"]
    specs = [
        ("UEPT-DEMO-01", "UEPT-DEMO-01", "First demo scenario", base + ["UEPT-DEMO-01", "SSI-FR-1a", "SSI-NFR-36"], {}),
        ("UEPT-DEMO-02-myself", "UEPT-DEMO-02", "Second demo scenario", base + ["UEPT-DEMO-02", "SSI-NFR-10"],
         {"who": "myself"}),
        ("UEPT-DEMO-02-nobody", "UEPT-DEMO-02", "Second demo scenario", base + ["UEPT-DEMO-02", "SSI-NFR-10"],
         {"who": "nobody"}),
        ("UEPT-DEMO-03", "UEPT-DEMO-03", "Operator-only demo scenario",
         base + ["UEPT-DEMO-03", "SSI-NFR-20", "needs-operator"], {}),
    ]
    for key, sid, title, tags, example in specs:
        status = statuses.get(key, "passed")
        if status == "absent":
            continue
        write_result(run_dir, key, sid, title, status, tags=tags, example=example,
                     error="Expected to see 'Welcome' | Received: 'Invalid'" if status == "failed" else None)
    counts: dict[str, int] = {}
    for key, *_ in specs:
        s = statuses.get(key, "passed")
        if s != "absent":
            counts[s] = counts.get(s, 0) + 1
    (run_dir / "run.json").write_text(json.dumps({
        "run_id": f"20261123-080000-{name}", "uept_version": "0.1.0",
        "party": {"name": "Northern Power Supply Ltd", "sec_party_id": "NPSL", "user_role": role},
        "target": {"name": "reference", "url": "http://127.0.0.1:1", "environment": "Reference SSI (embedded)",
                   "profile": "reference"},
        "features": ["features/demo.feature"], "tags": None, "workers": 2, "browser": "os: /usr/bin/chromium",
        "platform": "Linux", "os": "Debian GNU/Linux 12 (bookworm)", "python": "3.11.7", "playwright": "1.65.2",
        "user": "tester", "host": "ci-1", "started": "2026-11-23T08:00:00Z", "ended": "2026-11-23T08:01:00Z",
        "status": run_status, "counts": counts, "pytest_exit": 0 if run_status == "passed" else 1,
    }), "utf-8")
    allure = run_dir / "allure-results"
    allure.mkdir()
    (allure / "0f0e0d0c-0000-4000-8000-000000000001-result.json").write_text(json.dumps({
        "name": "First demo scenario", "status": "passed", "uuid": "0f0e0d0c-0000-4000-8000-000000000001",
        "historyId": "h1", "start": 1795420800000, "stop": 1795420801500, "labels": [{"name": "feature",
                                                                                    "value": "Demo theme"}]}), "utf-8")
    (run_dir / "junit.xml").write_text(
        '<?xml version="1.0" encoding="utf-8"?><testsuites name="pytest tests"><testsuite name="pytest" errors="0" '
        f'failures="{counts.get("failed", 0)}" skipped="0" tests="{sum(counts.values())}" time="3.0">'
        '<testcase classname="steps.test_demo" name="test_first_demo_scenario" time="1.5" /></testsuite></testsuites>',
        "utf-8")
    (run_dir / "pytest.log").write_text("....\n4 passed in 3.00s\n", "utf-8")
    return run_dir


def catalogue_file(tmp: Path, text: str = CATALOGUE) -> Path:
    path = tmp / "scenarios.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def new_key(path: Path) -> Ed25519PrivateKey:
    key = Ed25519PrivateKey.generate()
    path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                       serialization.NoEncryption()))
    path.chmod(0o600)
    return key


def public_key_file(key: Ed25519PrivateKey, path: Path) -> Path:
    path.write_bytes(key.public_key().public_bytes(serialization.Encoding.PEM,
                                                   serialization.PublicFormat.SubjectPublicKeyInfo))
    return path


def rewrite_pack(src: Path, dest: Path, change: Callable[[str, bytes], bytes | None],
                 add: dict[str, bytes] | None = None, add_to_traces: dict[str, bytes] | None = None) -> Path:
    """A copy of a pack with files changed as a forger would: `change(path in the run folder, bytes)` returns the
    new bytes (None keeps them), whether the file is a member of the zip or inside its records.tar.xz (or
    traces.tar.xz); `add` and `add_to_traces` put new files there."""
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dest, "w", zipfile.ZIP_DEFLATED) as zout:
        top = zin.namelist()[0].split("/", 1)[0]
        for info in zin.infolist():
            rel = info.filename.split("/", 1)[1]
            data = zin.read(info)
            if rel in pack.SOLIDS:
                out = io.BytesIO()
                with lzma.open(io.BytesIO(data)) as xz, tarfile.open(fileobj=xz, mode="r|") as tin, \
                        lzma.open(out, "wb", format=lzma.FORMAT_XZ) as xzout, \
                        tarfile.open(fileobj=xzout, mode="w|", format=tarfile.PAX_FORMAT) as tout:
                    for entry in tin:
                        body = tin.extractfile(entry).read()
                        body = change(entry.name, body) or body
                        entry.size = len(body)
                        tout.addfile(entry, io.BytesIO(body))
                    for name, body in (add_to_traces or {}).items():
                        entry = tarfile.TarInfo(name)
                        entry.size = len(body)
                        tout.addfile(entry, io.BytesIO(body))
                data = out.getvalue()
            else:
                data = change(rel, data) or data
            zout.writestr(info.filename, data)
        for name, body in (add or {}).items():
            zout.writestr(f"{top}/{name}", body)
    return dest
