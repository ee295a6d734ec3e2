"""End to end: real `uept run`s in Chromium, their report and pack, and runs that stop early.

Kept small: a few scenarios of features/mfa_login.feature. The full run starts its own
reference SSI, so that the test knows every password, seed and code of that run and
can prove none of them is in the pack.
"""

from __future__ import annotations

import io
import json
import lzma
import os
import posixpath
import signal
import subprocess
import sys
import tarfile
import time
import zipfile
from pathlib import Path

import pytest
from junitparser import JUnitXml

from tests.evidence_helpers import new_key, public_key_file
from tests.helpers import ROOT, login_catalogue, run_secrets, run_uept, scan_for_secrets
from tests.npm_tools import (
    allure2_attachments,
    allure2_counts,
    allure3_attachments,
    allure3_counts,
    cucumber_html_counts,
)
from tests.test_report_html import open_offline
from uept.evidence import pack
from uept.runtime.reference import EmbeddedSSI

pytestmark = pytest.mark.slow

FULL = ["@UEPT-LOGIN-01", "@UEPT-LOGIN-02", "@UEPT-LOGIN-03", "@UEPT-LOGIN-04", "@UEPT-LOGIN-05"]
CATALOGUE = login_catalogue(*FULL)


@pytest.fixture(scope="module")
def full_run(tmp_path_factory: pytest.TempPathFactory) -> dict:
    tmp = tmp_path_factory.mktemp("full")
    key = new_key(tmp / "party.pem")
    cat = tmp / "scenarios.yaml"
    cat.write_text(CATALOGUE)
    with EmbeddedSSI() as ssi:
        t0 = time.time()
        env = {**ssi.env, "UEPT_SIGNING_KEY": str(tmp / "party.pem"), "UEPT_SCENARIO_CATALOGUE": str(cat)}
        result = run_uept("run", "features/mfa_login.feature", "--tags", " or ".join(FULL), "-n", "2",
                          "--target", ssi.url, "--reports", str(tmp / "reports"), env=env)
        secrets = run_secrets(ssi, t0, time.time())
    assert result.code == 0, result.stdout[-3000:] + result.stderr[-2000:]
    run_dir = result.run_dir
    (pack_zip,) = run_dir.glob("evidence-pack-*.zip")
    return {"result": result, "run": run_dir, "pack": pack_zip, "pub": public_key_file(key, tmp / "party.pub"),
            "catalogue": cat, "secrets": secrets, "tmp": tmp,
            "summary": json.loads((run_dir / "summary.json").read_text())}


def _members(data: bytes, name: str = ""):
    """Every file inside a zip, zips inside it and the pack's records.tar.xz opened too."""
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        for info in z.infolist():
            body = z.read(info)
            inner = f"{name}!{info.filename}" if name else info.filename
            if body[:4] == b"PK\x03\x04":
                yield from _members(body, inner)
            elif info.filename.endswith(".tar.xz"):
                with tarfile.open(fileobj=io.BytesIO(lzma.decompress(body))) as tar:
                    for entry in tar:
                        part = tar.extractfile(entry).read()
                        if entry.name.endswith(".zip"):
                            assert part[:4] == b"PK\x03\x04", entry.name
                            yield from _members(part, f"{inner}!{entry.name}")
                        else:  # the scenarios' and Allure's records, and nothing else
                            assert entry.name.startswith(("scenarios/", "allure-results/")), entry.name
                            assert not entry.name.endswith((".webp", ".jpg", ".png")), entry.name
                            yield f"{inner}!{entry.name}", part
            else:
                yield inner, body


def test_the_run_writes_a_complete_signed_pack_that_verifies(full_run: dict) -> None:
    out = full_run["result"].stdout
    assert "Exit criteria for User Role Supplier: COMPLETE (5 of 5 mandatory scenario(s) passed)" in out
    assert "Evidence pack: " in out
    v = run_uept("verify", str(full_run["pack"]), "--key", str(full_run["pub"]), "--catalogue",
                 str(full_run["catalogue"]))
    assert v.code == 0, v.stdout
    assert "OK   secrets" in v.stdout and "the signer is the expected key" in v.stdout
    names = [n for n, _ in _members(full_run["pack"].read_bytes())]
    for part in ("report.html", "report.pdf", "summary.json", "cucumber.json", "junit.xml", "manifest.json",
                 "manifest.sig", "scenario-set.json", "scenarios/UEPT-LOGIN-03/result.json"):
        assert any(n.endswith(("/" + part, "!" + part)) for n in names), part
    assert any(n.endswith(".zip!trace.trace") for n in names)  # traces are in the pack, and were scanned


def test_the_pack_holds_none_of_the_runs_passwords_seeds_or_codes(full_run: dict) -> None:
    secrets = full_run["secrets"]
    assert any(v.startswith("emailed code") for v in secrets.values())
    assert any("new.starter" in v for v in secrets.values())  # the seed captured at enrolment (UEPT-LOGIN-03)
    unpacked = full_run["tmp"] / "unpacked"
    assert pack.unpack(full_run["pack"], unpacked) == {}
    assert len(list(unpacked.rglob("*"))) > 50 and any(unpacked.rglob("*.zip"))  # the trace parts restored
    leaks = scan_for_secrets(unpacked, secrets)  # every text file, trace zips opened
    assert not leaks, "\n".join(leaks[:20])


def test_junit_and_cucumber_json_are_read_by_real_consumers_with_the_runs_counts(full_run: dict) -> None:
    s = full_run["summary"]
    assert s["counts"] == {"passed": 6} and s["results_total"] == 6
    workers = {json.loads(p.read_text())["worker"] for p in full_run["run"].glob("scenarios/*/result.json")}
    assert workers == {"gw0", "gw1"}  # really run by two xdist workers
    junit = JUnitXml.fromfile(str(full_run["run"] / "junit.xml"))
    cases = [c for suite in junit for c in suite]
    assert len(cases) == 6 and all(c.is_passed for c in cases)
    cucumber = json.loads((full_run["run"] / "cucumber.json").read_text())
    assert sum(len(f["elements"]) for f in cucumber) == 6
    counts = cucumber_html_counts(full_run["run"] / "cucumber.json", full_run["tmp"] / "cucumber.html")
    assert counts == {"all": 6, "passed": 6, "failed": 0}


def test_allure_2_and_allure_3_render_the_results(full_run: dict) -> None:
    results = full_run["run"] / "allure-results"
    a2 = allure2_counts(results, full_run["tmp"] / "allure2")
    assert (a2["total"], a2["passed"]) == (6, 6)
    a3 = allure3_counts(results, full_run["tmp"] / "allure3")
    assert (a3["total"], a3["passed"]) == (6, 6)
    # every step's screenshot renders, the ones that repeat an earlier picture included
    shots = [st for f in full_run["run"].glob("scenarios/*/result.json") for st in json.loads(f.read_text())["steps"]
             if st.get("screenshot")]
    assert len({st["screenshot"].rsplit("/", 1)[-1] for st in shots}) < len(shots)  # some pictures are shared
    total, missed = allure3_attachments(results, full_run["tmp"] / "allure3-data")
    assert total >= len(shots) and missed == []
    total, missing = allure2_attachments(results, full_run["tmp"] / "allure2-data")
    assert total >= len(shots) and missing == []


def test_a_step_without_a_screenshot_says_why(full_run: dict) -> None:
    first = json.loads((full_run["run"] / "scenarios" / "UEPT-LOGIN-01" / "result.json").read_text())["steps"][0]
    assert first["text"].startswith("I am the") and first["screenshot"] is None
    assert "no page is open yet" in first["no_screenshot"]
    assert "no screenshot: no page is open yet" in (full_run["run"] / "report.html").read_text()


def test_the_real_report_opens_offline_in_chromium(full_run: dict) -> None:
    seen = open_offline(full_run["run"] / "report.html")
    assert seen["console"] == [] and seen["page_errors"] == []
    assert seen["requests"] == [(full_run["run"] / "report.html").resolve().as_uri()]
    assert "COMPLETE" in seen["verdict"]
    assert len(seen["images"]) >= 25 and all(w > 0 for w, *_ in seen["images"])
    assert (full_run["run"] / "report.pdf").read_bytes()[:5] == b"%PDF-"


# ---------------------------------------------------------------- runs that stop early
STOP_TAGS = "@UEPT-LOGIN-01 or @UEPT-LOGIN-03 or @UEPT-LOGIN-11 or @UEPT-LOGIN-12"


def _start(tmp: Path) -> tuple[subprocess.Popen, Path]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("UEPT_", "REFSSI_", "PYTEST_"))}
    env["UEPT_SIGNING_KEY"] = str(tmp / "k.pem")
    new_key(tmp / "k.pem")
    reports = tmp / "reports"
    log = open(tmp / "uept.out", "w")
    proc = subprocess.Popen([sys.executable, "-m", "uept.cli", "run", "features/mfa_login.feature", "--tags",
                             STOP_TAGS, "--reports", str(reports)], cwd=ROOT, env=env, stdout=log,
                            stderr=subprocess.STDOUT)
    return proc, reports


def _wait_mid_run(proc: subprocess.Popen, reports: Path, timeout: float = 240) -> Path:
    """Until the first scenario passed and the second (14 steps) is early in its run."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert proc.poll() is None, "uept ended before the test could stop it"
        results = {}
        for f in reports.glob("*/scenarios/*/result.json"):
            try:
                results[f.parent.name] = json.loads(f.read_text())
            except (OSError, ValueError):
                pass
        first, second = results.get("UEPT-LOGIN-01", {}), results.get("UEPT-LOGIN-03", {})
        if first.get("status") == "passed" and second.get("status") == "running" \
                and 1 <= len(second.get("steps", [])) <= 8:
            return next(reports.iterdir())
        time.sleep(0.1)
    raise AssertionError("the run never reached its second scenario")


def _finished(proc: subprocess.Popen, tmp: Path) -> tuple[int, str]:
    try:
        code = proc.wait(timeout=180)
    except subprocess.TimeoutExpired:
        proc.kill()
        raise
    return code, (tmp / "uept.out").read_text()


def _assert_incomplete_report(run_dir: Path, out: str, tmp: Path) -> dict:
    summary = json.loads((run_dir / "summary.json").read_text())
    assert summary["verdict"]["result"] == "INCOMPLETE"
    rows = {r["id"]: r for r in summary["scenarios"]}
    assert rows["UEPT-LOGIN-01"]["status"] == "passed"  # what ran before is kept...
    first = json.loads((run_dir / "scenarios" / "UEPT-LOGIN-01" / "result.json").read_text())
    assert first["status"] == "passed" and len(first["steps"]) == 7
    for step in first["steps"][1:]:
        assert (run_dir / "scenarios" / "UEPT-LOGIN-01" / step["screenshot"]).is_file()
    assert first["traces"] and all((run_dir / "scenarios" / "UEPT-LOGIN-01" / t).is_file() for t in first["traces"])
    assert rows["UEPT-LOGIN-03"]["status"] != "passed"
    html = (run_dir / "report.html").read_text()
    assert "INCOMPLETE" in html and "UEPT-LOGIN-03" in html
    assert (run_dir / "report.pdf").is_file()
    (pack,) = run_dir.glob("evidence-pack-*.zip")
    v = run_uept("verify", str(pack), "--no-completeness")
    assert v.code == 0, v.stdout  # ... signed, whole, and free of secrets
    manifest = json.loads((run_dir / "manifest.json").read_text())
    listed = {f["path"] for f in manifest["files"]}
    # a screenshot is stored once: in the scenario's folder, or as the Allure attachment with the same bytes
    last_shot = posixpath.normpath(f"scenarios/UEPT-LOGIN-01/{first['steps'][6]['screenshot']}")
    assert {"scenarios/UEPT-LOGIN-01/result.json", last_shot} <= listed
    return summary


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_a_signal_mid_run_still_writes_an_incomplete_report(tmp_path: Path, sig: signal.Signals) -> None:
    proc, reports = _start(tmp_path)
    run_dir = _wait_mid_run(proc, reports)
    proc.send_signal(sig)
    code, out = _finished(proc, tmp_path)
    assert code == 1, out[-3000:]
    assert "Verdict: INCOMPLETE" in out and "Evidence pack: " in out
    summary = _assert_incomplete_report(run_dir, out, tmp_path)
    assert summary["run"]["interrupted"] is True
    assert "the run was interrupted before it finished" in summary["verdict"]["reasons"]
    rows = {r["id"]: r for r in summary["scenarios"]}
    assert rows["UEPT-LOGIN-03"]["status"] == "interrupted"
    assert rows["UEPT-LOGIN-11"]["status"] == "not run" and rows["UEPT-LOGIN-12"]["status"] == "not run"
    assert "Run interrupted." in (run_dir / "report.html").read_text()


def _descendants(pid: int) -> list[int]:
    children: dict[int, list[int]] = {}
    for d in Path("/proc").iterdir():
        if d.name.isdigit():
            try:
                ppid = int((d / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(ppid, []).append(int(d.name))
    out, todo = [], [pid]
    while todo:
        for c in children.get(todo.pop(), []):
            out.append(c)
            todo.append(c)
    return out


def test_a_browser_crash_still_writes_an_incomplete_report(tmp_path: Path) -> None:
    proc, reports = _start(tmp_path)
    run_dir = _wait_mid_run(proc, reports)
    browsers = []
    for pid in _descendants(proc.pid):
        try:
            exe = os.readlink(f"/proc/{pid}/exe")
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
        except OSError:
            continue
        if "chrom" in exe and b"--type=" not in cmdline:  # the browser process itself, started by this run
            browsers.append(pid)
    assert browsers, "no Chromium found under the uept process"
    for pid in browsers:
        os.kill(pid, signal.SIGKILL)
    code, out = _finished(proc, tmp_path)
    assert code == 1, out[-3000:]
    summary = _assert_incomplete_report(run_dir, out, tmp_path)
    rows = {r["id"]: r for r in summary["scenarios"]}
    seen = {k: (r["status"], [x.get("error") for x in r["results"]]) for k, r in rows.items() if r["selected"]}
    assert any("browser crashed" in p for p in summary["problems"]), (summary["problems"], seen, out[-2000:])
    assert any("browser crashed" in r for r in summary["verdict"]["reasons"])
    assert rows["UEPT-LOGIN-03"]["status"] in ("failed", "error"), seen
    # the scenarios after the crash could not start: listed with the reason, not silently 'not run'
    for sid in ("UEPT-LOGIN-11", "UEPT-LOGIN-12"):
        assert rows[sid]["status"] == "error", seen
        assert "closed" in rows[sid]["results"][0]["error"], seen


# ---------------------------------------------------------------- interruptions at awkward moments
def _ours(marker: str) -> list[str]:
    """Processes started for this test's run: they carry its reports folder in their environment."""
    found = []
    for d in Path("/proc").iterdir():
        if d.name.isdigit() and int(d.name) != os.getpid():
            try:
                if marker.encode() in (d / "environ").read_bytes():
                    found.append(f"{d.name}: {(d / 'cmdline').read_bytes()[:400]!r}")
            except OSError:
                continue
    return found


def _wait_for(predicate, what: str, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.05)
    raise AssertionError(f"gave up waiting for {what}")


def _launch(tmp: Path, tags: str, *, own_group: bool = False) -> tuple[subprocess.Popen, Path]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("UEPT_", "REFSSI_", "PYTEST_"))}
    env["UEPT_SIGNING_KEY"] = str(tmp / "k.pem")
    new_key(tmp / "k.pem")
    reports = tmp / "reports"
    env["UEPT_REPORTS_DIR"] = str(reports)  # also marks every process of this run (see _ours)
    log = open(tmp / "uept.out", "w")
    proc = subprocess.Popen([sys.executable, "-m", "uept.cli", "run", "features/mfa_login.feature", "--tags", tags],
                            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=own_group)
    return proc, reports


@pytest.mark.parametrize("presses", [1, 3], ids=["one Ctrl-C", "three Ctrl-Cs"])
def test_ctrl_c_while_pytest_is_still_starting(tmp_path: Path, presses: int) -> None:
    proc, reports = _launch(tmp_path, "@UEPT-LOGIN-01 or @UEPT-LOGIN-02")
    _wait_for(lambda: "uept 0.1.0: " in (tmp_path / "uept.out").read_text(), "the run to start")
    for _ in range(presses):
        proc.send_signal(signal.SIGINT)
    code, out = _finished(proc, tmp_path)
    assert code == 1, out[-3000:]
    assert "Traceback" not in out and "KeyboardInterrupt" not in out, out[-3000:]
    assert "Verdict: INCOMPLETE (the run was interrupted)" in out and "Evidence pack: " in out, out[-3000:]
    (run_dir,) = reports.iterdir()
    summary = json.loads((run_dir / "summary.json").read_text())
    assert summary["run"]["interrupted"] is True and summary["verdict"]["result"] == "INCOMPLETE"
    (pack,) = run_dir.glob("evidence-pack-*.zip")
    assert run_uept("verify", str(pack), "--no-completeness").code == 0
    _wait_for(lambda: not _ours(str(reports)), "every process of the run to end", timeout=30)


def test_ctrl_c_while_the_report_is_written_keeps_the_pdf(tmp_path: Path) -> None:
    proc, reports = _launch(tmp_path, "@UEPT-LOGIN-01", own_group=True)  # as a terminal's foreground job
    _wait_for(lambda: "\nEvidence: " in (tmp_path / "uept.out").read_text(), "the report to be started")
    # pytest has ended: the Playwright driver now running is the one printing the PDF
    _wait_for(lambda: any("run-driver" in p for p in _ours(str(reports))), "the PDF printer to start")
    os.killpg(proc.pid, signal.SIGINT)  # what Ctrl-C does: every process of the foreground group
    code, out = _finished(proc, tmp_path)
    (run_dir,) = reports.iterdir()
    assert (run_dir / "report.pdf").read_bytes()[:5] == b"%PDF-", out[-3000:]
    manifest = json.loads((run_dir / "manifest.json").read_text())
    assert "report.pdf" in {f["path"] for f in manifest["files"]}
    assert code == 0, out[-3000:]  # every scenario had passed, and all of the evidence was made
    assert "please wait" in out


def test_kill_9_of_uept_leaves_no_process_and_keeps_the_log(tmp_path: Path) -> None:
    import socket

    proc, reports = _launch(tmp_path, STOP_TAGS)
    run_dir = _wait_mid_run(proc, reports)
    url = json.loads((run_dir / "run.json").read_text())["target"]["url"]
    proc.kill()
    proc.wait()
    _wait_for(lambda: not _ours(str(reports)), "the reference SSI, pytest and Chromium to end", timeout=90)
    host, port = url.removeprefix("http://").split(":")
    with pytest.raises(OSError), socket.create_connection((host, int(port)), timeout=5):
        pass  # nothing listens there any more: its operator token died with it
    log = (run_dir / "pytest.log").read_text()
    assert log.startswith("."), repr(log)  # LOGIN-01 had passed: its progress dot is in the log
    r = run_uept("report", str(run_dir), "--no-pdf", env={"UEPT_SIGNING_KEY": str(tmp_path / "k.pem")})
    assert r.code == 0, r.stdout + r.stderr
    summary = json.loads((run_dir / "summary.json").read_text())
    assert summary["verdict"]["result"] == "INCOMPLETE" and summary["run"]["interrupted"] is True


def test_the_pdf_printer_starts_while_the_last_scenario_runs_and_prints_the_report(tmp_path: Path) -> None:
    # uept run starts the report's printer once its last case is running (uept/cli/runner.py near_end), so that
    # its Chromium is ready when the report is: the printer is seen while pytest still runs, and it is the one
    # that prints (one printer in all)
    proc, reports = _launch(tmp_path, "@UEPT-LOGIN-01 or @UEPT-LOGIN-03")
    printers: set[str] = set()
    overlap = False

    def started_by_uept(pid: str) -> bool:  # not the printer's own fork before it runs Playwright's driver
        try:
            return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1]) == proc.pid
        except (OSError, ValueError, IndexError):
            return False

    while proc.poll() is None:
        ours = _ours(str(reports))
        mine = {p.split(":")[0] for p in ours if "uept.evidence.pdfprint" in p}
        mine = {pid for pid in mine if started_by_uept(pid)}
        printers |= mine
        overlap = overlap or bool(mine and any("uept.cli.child" in p for p in ours))
        time.sleep(0.02)
    code, out = _finished(proc, tmp_path)
    assert code == 0, out[-3000:]
    (run_dir,) = reports.iterdir()
    assert (run_dir / "report.pdf").read_bytes()[:5] == b"%PDF-"
    assert overlap, f"the PDF printer was not running before pytest ended: printers {printers}"
    assert len(printers) == 1, printers


def test_ctrl_c_once_the_pdf_printer_started_early_still_prints_and_packs(tmp_path: Path) -> None:
    # a terminal's Ctrl-C reaches the whole foreground group while the early printer waits: it is in a session of
    # its own, so it survives, prints the interrupted run's report, and nothing is left running
    proc, reports = _launch(tmp_path, "@UEPT-LOGIN-01 or @UEPT-LOGIN-03", own_group=True)

    def printer_waits_while_pytest_runs() -> bool:
        ours = _ours(str(reports))
        return any("uept.evidence.pdfprint" in p for p in ours) and any("uept.cli.child" in p for p in ours)

    _wait_for(printer_waits_while_pytest_runs, "the PDF printer to start while pytest runs")
    os.killpg(proc.pid, signal.SIGINT)
    code, out = _finished(proc, tmp_path)
    assert code == 1 and "Verdict: INCOMPLETE (the run was interrupted)" in out, out[-3000:]
    (run_dir,) = reports.iterdir()
    assert (run_dir / "report.pdf").read_bytes()[:5] == b"%PDF-", out[-3000:]
    (pack,) = run_dir.glob("evidence-pack-*.zip")
    assert run_uept("verify", str(pack), "--no-completeness").code == 0
    _wait_for(lambda: not _ours(str(reports)), "every process of the run to end", timeout=30)
