"""uept's pytest plugin: run bookkeeping and evidence for every Gherkin scenario.

Loaded by the suite's conftest.py. Per scenario it records result.json, a masked
screenshot after every step (attached to the Allure step), and Playwright trace
parts free of secrets. Requirement tags become Allure requirement links.
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
import shutil
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from uept.evidence.failures import in_tester_words
from uept.evidence.features import all_tags_in, source_of
from uept.evidence.recorder import ScenarioRecorder
from uept.evidence.rundir import write_json_atomic
from uept.evidence.tags import requirement_ids, uept_id
from uept.evidence.writer import WRITER
from uept.runtime.run import RUN_DIR_KEY
from uept.runtime.secrets import REGISTRY, install_log_redaction

REPORTS_KEY = pytest.StashKey[dict]()
HOLDER_KEY = pytest.StashKey["EvidenceHolder"]()
_ACTIVE: dict[str, pytest.Config] = {}


def active_config() -> pytest.Config | None:
    """The pytest config of this process, for code that runs at collection (e.g. generated features)."""
    return _ACTIVE.get("config")


def pytest_addoption(parser: pytest.Parser) -> None:
    g = parser.getgroup("uept")
    g.addoption("--uept-run-dir", default=None, help="folder for this run's evidence (default: reports/<run-id>)")
    g.addoption("--uept-target", default=None, help="target name or URL (default: UEPT_TARGET or the config's)")
    g.addoption("--uept-config", default=None, help="config file (default: UEPT_CONFIG or ./uept.yaml)")
    g.addoption("--uept-no-screenshots", action="store_true", help="no per-step screenshots (benchmarks only)")
    g.addoption("--uept-no-traces", action="store_true", help="no Playwright traces (benchmarks only)")
    g.addoption("--uept-shard", default=None, metavar="PLAN",
                help="keep only this shard's scenario cases (the shard.json `uept run --shard` writes)")


def new_run_id() -> str:
    return time.strftime("%Y%m%d-%H%M%S", time.gmtime()) + "-" + os.urandom(2).hex()


def pytest_configure(config: pytest.Config) -> None:
    opt = config.getoption("--uept-run-dir")
    if opt:
        run_dir = Path(opt)
    elif hasattr(config, "workerinput"):
        run_dir = Path(config.workerinput["uept_run_dir"])
    else:
        run_dir = Path(os.environ.get("UEPT_REPORTS_DIR", "reports")) / new_run_id()
    config.stash[RUN_DIR_KEY] = run_dir
    _ACTIVE["config"] = config
    # every Gherkin tag is a pytest mark: those of features/ and of any other feature file given
    given = [Path(a.split("::")[0]) for a in config.args if a.split("::")[0].endswith(".feature")]
    tags: set[str] = set()
    for where in [Path(str(config.rootpath)) / "features", *given]:
        if where.exists():
            tags |= all_tags_in(where)
    for tag in sorted(tags):
        config.addinivalue_line("markers", f"{tag}: Gherkin tag")
    install_log_redaction()
    logging.getLogger("uept").setLevel(logging.INFO)
    from playwright.sync_api import expect

    from uept.runtime.pwfix import install

    install()  # a browser that dies mid-call fails the scenario instead of hanging the run
    expect.set_options(timeout=10_000)  # the target's wait_seconds replaces it once the browser is set up


def pytest_configure_node(node: Any) -> None:  # pytest-xdist: every worker writes to the same run folder
    node.workerinput["uept_run_dir"] = str(node.config.stash[RUN_DIR_KEY])


def pytest_bdd_apply_tag(tag: str, function: Any) -> Any:
    if requirement_ids([tag]):
        import allure

        from uept.runtime.config import Settings

        pattern = Settings().requirement_url
        allure.link(pattern.format(id=tag), link_type="requirement", name=tag)(function)
    return None  # the tag still becomes a pytest mark


# ---------------------------------------------------------------- per-scenario evidence
class EvidenceHolder:
    def __init__(self, page: Any, run_dir: Path, mask: list[str], screenshots: bool, picture_scale: float) -> None:
        self.page = page
        self.run_dir = run_dir
        self.mask = mask
        self.screenshots = screenshots
        self.picture_scale = picture_scale
        self.recorder: ScenarioRecorder | None = None
        self.steps: list[tuple[str, str]] = []

    def attach(self, name: str, content: str | bytes, mime: str = "application/json") -> Path | None:
        """Keep a piece of evidence (e.g. the stored record a step checked): a file in the scenario folder,
        listed in result.json, and an Allure attachment of the current step."""
        if self.recorder is None:
            return None
        import allure

        safe = re.sub(r"[^A-Za-z0-9._-]+", "-", name).strip("-") or "attachment"
        path = self.recorder.dir / safe
        path.write_bytes(content.encode("utf-8") if isinstance(content, str) else content)
        self.recorder.result.setdefault("attachments", []).append(safe)
        self.recorder.flush()
        allure.attach.file(str(path), name=name, attachment_type=mime, extension=safe.rsplit(".", 1)[-1])
        return path


def feature_file(filename: str, config: pytest.Config) -> str:
    """The feature file as the scenario set names it (relative to the suite; a template, not its generated copy)."""
    return os.path.relpath(source_of(filename), config.rootpath)


def scenario_key(tags: set[str], nodeid: str) -> str:
    """The folder name of a scenario's evidence: its @UEPT- ID, and for an outline row the row's values. A row
    whose values are too long to show whole keeps a digest of all of them, so two rows that begin alike never
    share a folder (one would pass for a second attempt of the other)."""
    base = uept_id(tags) or re.sub(r"[^A-Za-z0-9]+", "-", nodeid.split("::")[-1]).strip("-")[:60]
    param = re.search(r"\[(.+)\](?:@[^\[\]]*)?$", nodeid)  # '@group' is pytest-xdist's loadgroup suffix
    if param:
        slug = re.sub(r"[^A-Za-z0-9]+", "-", param.group(1)).strip("-")
        if len(slug) > 40:
            slug = f"{slug[:33].rstrip('-')}-{hashlib.sha256(param.group(1).encode()).hexdigest()[:6]}"
        base += "-" + slug
    return base


def case_of(item: pytest.Item) -> str | None:
    """The shard plan's ID of a collected scenario case (uept/evidence/shards.py), None for other tests."""
    from uept.evidence.shards import case_id

    try:
        from pytest_bdd.scenario import scenario_wrapper_template_registry

        template = scenario_wrapper_template_registry.get(getattr(item, "obj", None))
    except (ImportError, TypeError):
        template = None
    if template is None:
        return None
    tags = set(template.feature.tags) | set(template.tags)
    example = dict(item.callspec.params.get("_pytest_bdd_example", {})) if hasattr(item, "callspec") else {}
    scenario = uept_id(tags) or f"{feature_file(template.feature.filename, item.config)}:{template.name}"
    return case_id(scenario, example)


@pytest.hookimpl(trylast=True)  # after --tags (-m) has deselected what the run did not choose
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """`uept run --shard I/N`: keep the cases the plan gives this shard. A case the plan does not know means
    that the run and pytest see different scenarios: stop rather than leave it out unnoticed."""
    path = config.getoption("--uept-shard")
    if not path:
        return
    from uept.evidence.shards import read_plan

    plan = read_plan(Path(path))
    keep, drop, unknown = [], [], []
    for item in items:
        case = case_of(item)
        if case is None:
            keep.append(item)
        elif case not in plan.assignment:
            unknown.append(case)
        else:
            (keep if plan.assignment[case] == plan.index else drop).append(item)
    if unknown:
        raise pytest.UsageError(f"the shard plan {path} does not know the scenario case {unknown[0]}"
                                + (f" (and {len(unknown) - 1} more)" if len(unknown) > 1 else "")
                                + "; run uept again from the same checkout")
    missing = sorted(set(plan.mine) - {case_of(item) for item in keep})
    if missing:
        raise pytest.UsageError(f"the shard plan {path} gives this shard {missing[0]}, which pytest did not "
                                "collect" + (f" (and {len(missing) - 1} more)" if len(missing) > 1 else "")
                                + "; run uept again from the same checkout")
    if drop:
        config.hook.pytest_deselected(items=drop)
        items[:] = keep


def _holder(request: pytest.FixtureRequest) -> EvidenceHolder | None:
    return request.node.stash.get(HOLDER_KEY, None)


def pytest_bdd_before_scenario(request: pytest.FixtureRequest, feature: Any, scenario: Any) -> None:
    holder = _holder(request)
    if holder is None:
        return
    tags = set(feature.tags) | set(scenario.tags)
    worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
    meta = {
        "uept_id": uept_id(tags),
        "name": scenario.name,
        "feature": {"name": feature.name, "file": feature_file(feature.filename, request.config)},
        "tags": sorted(tags),
        "requirements": requirement_ids(tags),
        "nodeid": request.node.nodeid,
        "worker": worker,
        "example": dict(request.node.callspec.params.get("_pytest_bdd_example", {}))
        if hasattr(request.node, "callspec") else {},
        "browser": _browser_info(holder.page),
    }
    holder.steps = [(s.keyword, s.name) for s in scenario.steps]
    holder.recorder = ScenarioRecorder(holder.run_dir, scenario_key(tags, request.node.nodeid), meta,
                                       holder.mask, screenshots=holder.screenshots,
                                       picture_scale=holder.picture_scale)
    if not request.config.getoption("--uept-no-traces"):
        holder.recorder.start_trace(holder.page)
    holder.recorder.step_started()


def _browser_info(page: Any) -> dict[str, str | None]:
    try:
        b = page.context.browser
        return {"name": b.browser_type.name, "version": b.version} if b else {"name": None, "version": None}
    except Exception:
        return {"name": None, "version": None}


def pytest_bdd_before_step(request: pytest.FixtureRequest) -> None:
    holder = _holder(request)
    if holder and holder.recorder:
        holder.recorder.step_started()


def _attach_step(step_record: dict, holder: EvidenceHolder) -> None:
    import allure

    if step_record.get("screenshot"):
        source = holder.recorder.dir / step_record["screenshot"]
        target = _allure_attachment_later("screenshot", "image/webp", "webp")
        if target is not None:  # the step's own copy, written once the picture is (the writer keeps order)
            WRITER.submit(lambda: shutil.copyfile(source, target), f"Allure's copy of {source.name}")
        else:
            WRITER.flush()
            allure.attach.file(str(source), name="screenshot", attachment_type="image/webp", extension="webp")
    elif step_record.get("no_screenshot"):
        allure.attach(step_record["no_screenshot"], name="no screenshot", attachment_type=allure.attachment_type.TEXT)


def _allure_attachment_later(name: str, mime: str, extension: str) -> Path | None:
    """An attachment of the current Allure step whose file is written later, by the evidence writer: where
    allure-results expects that file, or None when no Allure lifecycle reports this run. allure-python attaches
    a file by copying it at once; the picture is still being encoded, so the attachment is entered now
    (AllureLifecycle._attach, allure-python 2.16) and its bytes follow."""
    from allure_commons import plugin_manager
    from allure_commons.lifecycle import AllureLifecycle

    lifecycle = next((p.lifecycle for p in plugin_manager.get_plugins()
                      if isinstance(getattr(p, "lifecycle", None), AllureLifecycle)), None)
    results = next((getattr(p, "_report_dir", None) for p in plugin_manager.get_plugins()
                    if getattr(p, "_report_dir", None) is not None), None)
    if lifecycle is None or results is None or not hasattr(lifecycle, "_attach"):
        return None
    return Path(results) / lifecycle._attach(uuid.uuid4(), name=name, attachment_type=mime, extension=extension)


@pytest.hookimpl(tryfirst=True)
def pytest_bdd_after_step(request: pytest.FixtureRequest, step: Any) -> None:
    holder = _holder(request)
    if holder and holder.recorder:
        rec = holder.recorder.step_finished(step.keyword, step.name, "passed", holder.page)
        _attach_step(rec, holder)


def one_line(exc: BaseException) -> str:
    text = str(exc).strip() or exc.__class__.__name__
    worded = in_tester_words(text)
    if worded != text:  # a Playwright assertion: what was expected of what, and what the page showed
        return REGISTRY.redact(worded)[:500]
    lines = [ln for ln in text.splitlines() if ln.strip()]
    head = lines[0] if lines else text
    # Playwright's expect() failures: keep the expectation and what was found
    extra = [ln.strip() for ln in lines[1:4] if ln.strip().startswith(("Expected", "Actual", "Received"))]
    return REGISTRY.redact(" | ".join([head, *extra]))[:500]


@pytest.hookimpl(tryfirst=True)
def pytest_bdd_step_error(request: pytest.FixtureRequest, step: Any, exception: BaseException) -> None:
    holder = _holder(request)
    if holder and holder.recorder:
        status = "skipped" if isinstance(exception, pytest.skip.Exception) else "failed"
        try:
            rec = holder.recorder.step_finished(step.keyword, step.name, status, holder.page, one_line(exception))
            _attach_step(rec, holder)
        except AssertionError:
            pass  # the secret check refused the screenshot; the step is already failed


@pytest.hookimpl(tryfirst=True)
def pytest_bdd_step_func_lookup_error(request: pytest.FixtureRequest, step: Any, exception: BaseException) -> None:
    holder = _holder(request)
    if holder and holder.recorder:
        holder.recorder.step_finished(step.keyword, step.name, "undefined", None, one_line(exception))


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo) -> Any:
    report = yield
    if report.when == "setup":  # a new attempt (--retries): only its own reports decide its outcome
        item.stash[REPORTS_KEY] = {}
    item.stash.setdefault(REPORTS_KEY, {})[report.when] = report
    if report.when == "setup" and report.failed:
        _record_setup_error(item, report)
    return report


def _record_setup_error(item: pytest.Item, report: pytest.TestReport) -> None:
    """A scenario whose setup failed (no browser, the browser crashed, no persona...) still gets a
    result.json, so that the report lists it with the reason instead of 'did not run'."""
    holder = item.stash.get(HOLDER_KEY, None)
    if holder is not None and holder.recorder is not None:
        return  # the scenario started: its recorder has it
    try:
        from pytest_bdd.scenario import scenario_wrapper_template_registry

        template = scenario_wrapper_template_registry.get(getattr(item, "obj", None))
    except (ImportError, TypeError):
        template = None
    run_dir = item.config.stash.get(RUN_DIR_KEY, None)
    if template is None or run_dir is None:
        return
    feature = template.feature
    tags = set(feature.tags) | set(template.tags)
    example = dict(item.callspec.params.get("_pytest_bdd_example", {})) if hasattr(item, "callspec") else {}
    meta = {
        "uept_id": uept_id(tags), "name": template.name,
        "feature": {"name": feature.name, "file": feature_file(feature.filename, item.config)},
        "tags": sorted(tags), "requirements": requirement_ids(tags), "nodeid": item.nodeid,
        "worker": os.environ.get("PYTEST_XDIST_WORKER", "main"), "example": example,
        "browser": {"name": None, "version": None},
    }
    rec = ScenarioRecorder(run_dir, scenario_key(tags, item.nodeid), meta, [], screenshots=False)
    steps = [*template.all_background_steps, *template.steps]
    rec.result["steps"] = [{"n": i, "keyword": st.keyword, "text": st.name, "status": "not run", "error": None}
                           for i, st in enumerate(steps, 1)]
    rec.finish("error", _report_line(report))


def outcome_of(item: pytest.Item) -> tuple[str, str | None]:
    reports = item.stash.get(REPORTS_KEY, {})
    for when in ("setup", "call"):
        r = reports.get(when)
        if r is None:
            continue
        if r.failed:
            return ("failed" if when == "call" else "error"), _report_line(r)
        if r.skipped:
            reason = r.longrepr[2] if isinstance(r.longrepr, tuple) else str(r.longrepr)
            return "skipped", reason.removeprefix("Skipped: ")
    return ("passed", None) if "call" in reports else ("interrupted", "the run stopped before this scenario ended")


def _report_line(report: pytest.TestReport) -> str:
    crash = getattr(report.longrepr, "reprcrash", None)
    text = crash.message if crash is not None else str(report.longrepr)
    return one_line(Exception(text))


def finish_scenario(item: pytest.Item, holder: EvidenceHolder) -> None:
    if holder.recorder is None:
        return
    status, error = outcome_of(item)
    rec = holder.recorder
    done = len(rec.result["steps"])
    for keyword, text in holder.steps[done:]:
        rec.result["steps"].append({"n": len(rec.result["steps"]) + 1, "keyword": keyword, "text": text,
                                    "status": "not run", "error": None})
    rec.finish(status, error)
    import allure

    for name in rec.result["traces"]:
        allure.attach.file(str(rec.dir / name), name=name, extension="zip",
                           attachment_type="application/vnd.allure.playwright-trace")


@pytest.fixture(autouse=True)
def uept_evidence(request: pytest.FixtureRequest) -> Iterator[EvidenceHolder | None]:
    """For every Gherkin scenario: screenshots per step, traces, result.json."""
    if "_pytest_bdd_example" not in request.fixturenames:
        yield None
        return
    page = request.getfixturevalue("page")
    target = request.getfixturevalue("uept_target")
    holder = EvidenceHolder(page, request.config.stash[RUN_DIR_KEY], list(target.profile.evidence.mask_selectors),
                            screenshots=not request.config.getoption("--uept-no-screenshots"),
                            picture_scale=target.settings.picture_scale)
    request.node.stash[HOLDER_KEY] = holder
    yield holder
    finish_scenario(request.node, holder)


@pytest.hookimpl(trylast=True)
def pytest_sessionfinish(session: pytest.Session) -> None:
    """Whatever ended the session (a Ctrl-C included), the evidence already taken is written before it ends."""
    for problem in WRITER.flush():
        logging.getLogger("uept").error("evidence not written: %s", problem)


def write_run_info(run_dir: Path, info: dict) -> None:
    run_dir.mkdir(parents=True, exist_ok=True)
    write_json_atomic(run_dir / "run.json", info)
