"""`uept probe`: against the reference SSI every locator resolves once (both portal generations); with a profile
that gets one label, one choice list and the portal suffix wrong, it names exactly those three with the nearest
candidates; it changes nothing on the target; a URL that is not an SSI is one line, exit 2."""

from __future__ import annotations

import json
import shutil
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest
import yaml

from ssi.profile import PROFILES_DIR
from ssi.seed import persona_env_names
from tests.helpers import run_uept
from uept.runtime.reference import EmbeddedSSI

PERSONAS = {"admin": ("oa.nps", "OA user")}


def probe_result(run_dir_parent: Path) -> dict:
    [folder] = list(run_dir_parent.glob("probe-*"))
    return json.loads((folder / "probe.json").read_text(encoding="utf-8"))


@pytest.mark.slow
@pytest.mark.parametrize("generation", ["classic", "sp"])
def test_the_reference_ssi_probes_clean(tmp_path: Path, generation: str) -> None:
    env = {"REFSSI_PORTAL_UI": generation}
    run = run_uept("probe", "--reports", str(tmp_path), env=env, timeout=600)
    assert run.code == 0, run.stdout[-4000:] + run.stderr[-2000:]
    result = probe_result(tmp_path)
    assert result["problems"] == []
    assert [p["persona"] for p in result["personas"]] == ["OA user", "Entra user", "email code user"]
    assert all(p["signed_in"] for p in result["personas"])
    assert ("Service Portal" in result["generation"]) == (generation == "sp")
    judged = [i for p in result["personas"] for r in p["pages"] for i in r.get("items", [])]
    assert judged and all(i["status"] == "ok" and i["count"] == 1 for i in judged)
    category = next(i for i in judged if i["key"] == "labels.incident.category")
    assert category["choices"]["missing"] == [] and category["choices"]["found"]
    folder = next(tmp_path.glob("probe-*"))
    assert list((folder / "pages").glob("*.png")) and list((folder / "pages").glob("*.aria.yaml"))
    assert "LEAK" not in run.stdout


def broken_profile(tmp_path: Path) -> Path:
    """A copy of the reference profile with one label, one choice list and the portal suffix wrong."""
    data = yaml.safe_load((PROFILES_DIR / "reference.yaml").read_text(encoding="utf-8"))
    data["labels"]["incident"]["short_description"] = "Short description"
    data.setdefault("incidents", {})["impact"] = [{"value": "1", "label": "1 - Highest"},
                                                  {"value": "2", "label": "2 - Medium"},
                                                  {"value": "3", "label": "3 - Low"}]
    data["portal"]["suffix"] = "/ssi"
    shutil.copy(PROFILES_DIR / data.get("role_matrix", "role_matrix.yaml"), tmp_path / "role_matrix.yaml")
    data["role_matrix"] = "role_matrix.yaml"
    path = tmp_path / "dcc.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return path


def url_config(tmp_path: Path, url: str, profile: str, personas: dict | None = None) -> Path:
    lines = [f"targets:\n  uit:\n    url: {url}\n    profile: {profile}\n    personas:\n"]
    for key, (user, persona) in (personas or PERSONAS).items():
        names = persona_env_names(persona)
        lines.append(f"      {key}: {{username: {user}, password_env: {names['password']}, "
                     f"totp_seed_env: {names['totp_seed']}, roles: [OA]}}\n")
    cfg = tmp_path / "uept.yaml"
    cfg.write_text("".join(lines), encoding="utf-8")
    return cfg


def counts(url: str, secrets: dict) -> dict[str, int]:
    auth = httpx.BasicAuth("oa.nps", secrets["OA user"]["password"])
    out = {}
    with httpx.Client(base_url=url, auth=auth, timeout=20) as c:
        for table in ("incident", "sys_user", "x_dcc_oms_order", "x_dcc_oms_return"):
            r = c.get(f"/api/now/table/{table}", params={"sysparm_fields": "sys_id", "sysparm_limit": 10000})
            out[table] = len(r.json()["result"]) if r.status_code == 200 else -r.status_code
    return out


@pytest.mark.slow
def test_a_profile_wrong_in_three_places_is_named_in_three_lines(tmp_path: Path) -> None:
    draft = tmp_path / "draft" / "dcc-draft.yaml"
    draft.parent.mkdir()
    shutil.copy(PROFILES_DIR / "role_matrix.yaml", draft.parent / "role_matrix.yaml")
    with EmbeddedSSI() as ssi:
        before = counts(ssi.url, ssi.secrets)
        cfg = url_config(tmp_path, ssi.url, str(broken_profile(tmp_path)))
        run = run_uept("probe", "--config", str(cfg), "--target", "uit", "--reports", str(tmp_path / "out"),
                       "--suggest-profile", str(draft), env=ssi.env, timeout=600)
        after = counts(ssi.url, ssi.secrets)
        again = run_uept("probe", "--config", str(url_config(tmp_path / "draft", ssi.url, str(draft))), "--target",
                         "uit", "--reports", str(tmp_path / "again"), env=ssi.env, timeout=600)
    assert run.code == 1, run.stdout[-4000:] + run.stderr[-2000:]
    problems = probe_result(tmp_path / "out")["problems"]
    assert len(problems) == 3, problems
    suffix, label, choice = (next(p for p in problems if w in p) for w in
                             ("portal.suffix", "short_description", "incidents.impact"))
    assert '"/ssi" not found' in suffix and '"/sp" answers' in suffix
    assert '"Short description" not found' in label and '"Incident summary"' in label, label
    assert '"1 - Highest"' in choice and "1 - High" in choice.split("nearest:")[1]
    assert before == after, "the probe changed records on the target"
    assert all(v >= 0 for v in before.values()), before
    suggested = yaml.safe_load(draft.read_text(encoding="utf-8"))
    assert suggested["labels"]["incident"]["short_description"] == "Incident summary"
    assert [c["label"] for c in suggested["incidents"]["impact"]] == ["1 - High", "2 - Medium", "3 - Low"]
    assert suggested["portal"]["suffix"] == "/sp"
    assert again.code == 0, again.stdout[-3000:]  # the draft matches the target


class NotAnSsi(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        body = b"<html><body>It works!</body></html>"
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args) -> None:
        pass


def test_a_url_that_is_not_an_ssi_is_one_line_and_exit_2() -> None:
    server = ThreadingHTTPServer(("127.0.0.1", 0), NotAnSsi)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        run = run_uept("probe", "--target", f"http://127.0.0.1:{server.server_address[1]}", timeout=120)
    finally:
        server.shutdown()
    assert run.code == 2
    lines = [ln for ln in run.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1 and "is not a ServiceNow SSI" in lines[0], run.stderr
    assert "Traceback" not in run.stderr + run.stdout


@pytest.mark.parametrize(("args", "says"), [
    (["--pages", "nope"], 'no page "nope"'),
    (["--persona", "nobody"], 'no persona "nobody"'),
    (["--persona", "new email user"], '"new email user" has never logged in'),  # probing would use up its first
    (["--suggest-profile", "/nonexistent-folder/draft.yaml"], "cannot write a file there"),
])
def test_bad_probe_input_is_one_line_and_exit_2(args: list[str], says: str) -> None:
    run = run_uept("probe", *args, timeout=120)
    assert run.code == 2
    lines = [ln for ln in run.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1 and says in lines[0], run.stderr
    assert "starting the reference SSI" not in run.stdout  # refused before anything starts


@pytest.mark.slow
def test_preflight_lets_a_matching_target_run(tmp_path: Path) -> None:
    run = run_uept("run", "features/mfa_login.feature", "--tags", "@UEPT-LOGIN-01", "--preflight",
                   "--reports", str(tmp_path), timeout=600)
    assert run.code == 0, run.stdout[-4000:] + run.stderr[-2000:]
    assert "preflight passed" in run.stdout
    probed = probe_result(tmp_path)
    names = {r["name"] for p in probed["personas"] for r in p["pages"]} | {r["name"] for r in probed["anonymous"]}
    assert names == {"login", "home", "profile"}  # only the pages the login scenarios use
    runs = [d for d in tmp_path.iterdir() if d.is_dir() and not d.name.startswith("probe-")]
    assert len(runs) == 1 and (runs[0] / "report.html").is_file()


@pytest.mark.slow
def test_preflight_refuses_a_run_that_would_fail_on_a_locator(tmp_path: Path) -> None:
    with EmbeddedSSI() as ssi:
        cfg = url_config(tmp_path, ssi.url, str(broken_profile(tmp_path)), {"SM user": ("sm.nps", "SM user")})
        run = run_uept("run", "features/incidents.feature", "--tags", "@UEPT-INC-01", "--preflight", "--config",
                       str(cfg), "--target", "uit", "--reports", str(tmp_path / "out"), env=ssi.env, timeout=600)
    assert run.code == 2, run.stdout[-4000:] + run.stderr[-2000:]
    lines = [ln for ln in run.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1 and lines[0].count("preflight:") == 1 and "nothing was run" in lines[0], run.stderr
    assert '"Short description" not found' in run.stdout and "Traceback" not in run.stderr
    assert [d.name.split("-")[0] for d in (tmp_path / "out").iterdir()] == ["probe"]  # no run folder
