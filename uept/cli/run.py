"""`uept run`: check everything a run depends on, then run the scenarios and make the evidence.

Exit status: 0 every scenario passed; 1 a scenario failed or the run was
interrupted; 2 a problem with the command, config, target, browser or feature files.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time
from pathlib import Path
from typing import Any

from ssi.errors import UsageError
from uept import __version__
from uept.cli import sharding
from uept.cli.common import REFSSI_ENV_HELP, keep_bytecode, say, shielded, suite_root, writable_folder
from uept.cli.runner import PytestOutcome, finish_run, run_pytest
from uept.evidence import features, shards
from uept.runtime import browser, config
from uept.runtime.secrets import REGISTRY, Secret

# ---------------------------------------------------------------- uept run
REAL_CLOCK = "real-clock"  # the tag of scenarios that wait a time limit out on the target's clock


def selection(tags: str | None) -> str | None:
    """The pytest -m expression of --tags; @real-clock scenarios (each waits a time limit out, up to 15 minutes)
    are left out unless the tags name them."""
    markexpr = features.tags_to_markexpr(tags) if tags else None
    if tags and REAL_CLOCK in tags:
        return markexpr
    return f"({markexpr}) and not {REAL_CLOCK}" if markexpr else f"not {REAL_CLOCK}"


def cmd_run(args: argparse.Namespace) -> int:
    """Check everything a run depends on (nothing starts while anything is wrong), then run."""
    from ssi.profile import load_profile
    from uept.evidence import access_matrix, inventory
    from uept.evidence.bundle import check_signing_key, scenario_catalogue
    from uept.evidence.completion import set_problems
    from uept.evidence.plugin import new_run_id, write_run_info

    suite = suite_root()
    cfg_path = config.config_path(args.config)
    settings = config.load_settings(cfg_path)
    resolved = config.resolve_target(settings, args.target)
    profile = load_profile(resolved.target.profile)  # a bad profile: one line now, not a failed server later
    if args.workers < 1:
        raise UsageError(f"-n {args.workers}: the number of workers must be at least 1", "use -n 1 or more")
    if args.retries < 0:
        raise UsageError(f"--retries {args.retries}: the number of retries must be 0 or more",
                         "use --retries 0 (no retry, the default) or e.g. --retries 2")
    shard, durations = sharding.check_options(args.shard, args.durations)
    chromium = browser.resolve()  # also the report's PDF printer
    chromium.check(headless=not args.headed)
    remote = remote_browser(args, settings, resolved)
    feature_files = features.discover([Path(p) for p in args.features] or [suite / "features"])
    scenarios = []
    for f in feature_files:
        scenarios.extend(features.parse_feature(f))
    markexpr = selection(args.tags)
    chosen = features.select(scenarios, markexpr)
    if not chosen and args.tags and features.select(scenarios, features.tags_to_markexpr(args.tags)):
        raise UsageError(f"--tags '{args.tags}' selects only @{REAL_CLOCK} scenarios, which wait real time limits "
                         "out and run only when the tags name them", f"add the tag: --tags '({args.tags}) and "
                         f"@{REAL_CLOCK}'")
    if not chosen:
        raise UsageError(f"no scenario matches --tags '{args.tags}'", "check the tag names in the feature files")
    outside = [f for f in feature_files if not f.resolve().is_relative_to(suite)]
    if outside:
        raise UsageError(f"{outside[0]} is outside the suite ({suite})",
                         "put the feature file in the suite's features/ folder, where the shared steps find it")
    modules = [str(f.resolve()) for f in sorted({s.file for s in chosen})]  # each feature file is a test module
    env = {k: v for k, v in os.environ.items() if not k.startswith("REFSSI_")}
    env["UEPT_TARGET"] = resolved.name
    env[browser.RESOLVED_ENV] = browser.handed_down(chromium)
    if cfg_path:
        env["UEPT_CONFIG"] = str(cfg_path.resolve())
    reports = writable_folder(Path(args.reports or os.environ.get("UEPT_REPORTS_DIR") or settings.reports_dir),
                              "reports folder", "--reports or UEPT_REPORTS_DIR")
    env["UEPT_REPORTS_DIR"] = str(reports.resolve())
    scenario_catalogue(None, settings)  # a broken catalogue or signing key stops the run before it starts
    check_signing_key(settings)
    expand = access_matrix.expander(profile, resolved.target.personas)
    scenario_set = inventory.build(suite, feature_files, chosen, expand=expand)
    faults = set_problems(scenario_set)
    if faults:
        more = f" (and {len(faults) - 1} more)" if len(faults) > 1 else ""
        raise UsageError(f"{faults[0]}{more}", "give every scenario one @UEPT-<THEME>-NN tag of its own")
    if resolved.url is not None:
        from uept.runtime.target import TargetSession, check_is_ssi, check_reachable

        check_reachable(resolved.url)
        check_is_ssi(resolved.url, profile)
        TargetSession(settings, resolved, resolved.url).check_secrets()
    from uept.cli.check import requirement_problems, step_problems

    found = requirement_problems(suite, chosen) + step_problems(
        suite, chosen, profile, sorted(resolved.target.personas))
    if found:  # what `uept check` says, the first of it: nothing has started
        more = f" (and {len(found) - 1} more)" if len(found) > 1 else ""
        raise UsageError(f"{found[0].line()}{more}", "correct it; `uept check` lists every problem, with the "
                         "wording the step library has (`uept steps`)")
    plan = None
    if shard:
        all_cases = sharding.cases(suite, chosen, expand, profile, sorted(resolved.target.personas))
        plan = shards.plan(all_cases, *shard, durations, args.durations)
        mine = set(plan.mine)
        files = {(suite / c.feature).resolve() for c in all_cases if c.id in mine}
        modules = [m for m in modules if Path(m) in files]
    if remote is not None:  # the last check: it starts a browser on the server, and closes it again
        remote_version = browser.check_remote(remote, headless=not args.headed)
        env.update(remote.env(env))

    keep_bytecode(suite, os.environ, env)  # for the children started from here on
    run_id = new_run_id()
    run_dir = (reports / run_id).resolve()
    server = None
    server_settings: dict[str, str] = {}
    try:
        if resolved.url is None:
            from uept.runtime.reference import CHOSEN_BY_USER, EmbeddedSSI, LaunchError, chosen_settings

            say("uept: starting the reference SSI ...")
            try:
                server_settings = chosen_settings()
                server = EmbeddedSSI(profile=resolved.target.profile, overrides=server_settings).start()
            except LaunchError as exc:
                chosen = [k for k in CHOSEN_BY_USER if k in str(exc)]
                raise UsageError(str(exc), f"correct {chosen[0]} in your environment, or unset it" if chosen
                                 else "run `uept serve` to see why") from None
            for k, v in server.env.items():
                if k != "UEPT_TARGET_URL":  # so that nothing printed below, nor the evidence, can show them
                    Secret(v, f"reference SSI secret {k}")
            env.update(server.env)
            url = server.url
        else:
            url = resolved.url
            env["UEPT_TARGET_URL"] = url
        if args.preflight:
            preflight(settings, resolved, url, chromium, reports, suite, [s.file for s in chosen],
                      server.env if server else {})
        started = time.time()
        info = run_info(run_id, settings, resolved, url, server is not None, feature_files, suite, args, chromium,
                        started, plan)
        if remote is not None:
            info["browser"] = f"{remote.describe()}, Chromium {remote_version}"
        write_run_info(run_dir, info)
        from uept.evidence.rundir import write_json_atomic

        write_json_atomic(run_dir / "scenario-set.json", scenario_set)
        if plan is not None:
            shards.write_plan(run_dir, plan)
    except BaseException:  # nothing recorded yet: nothing to report
        if server:
            server.stop()
        raise
    printers = EarlyPrinter()
    # From here on a signal never stops uept itself: pytest is asked to stop, and the report is written.
    with shielded("uept: writing the report and the evidence pack; please wait"):
        try:
            count = sum(e["examples"] for e in scenario_set["scenarios"] if e["selected"])  # generated rows too
            chosen = "".join(f", {k.replace('_', ' ')} {v}" for k, v in server_settings.items())
            what = f"{count} scenario(s)"
            if plan is not None:
                what = (f"{len(plan.mine)} of {len(plan.assignment)} scenario case(s) "
                        f"(shard {plan.index}/{plan.total}, balanced by {plan.balanced_by})")
            say(f"uept {__version__}: {what} against {resolved.name} ({url}{chosen}), "
                f"browser {info['browser']}")
            if plan is not None and not plan.mine:
                say(f"uept: shard {plan.index}/{plan.total} has no scenario to run (the selection has fewer persona "
                    f"groups than shards); it records an empty run for `uept merge`")
                outcome = PytestOutcome(0, nothing_to_run=True)
            else:
                extra = ["--uept-shard", str(run_dir / shards.PLAN_FILE)] if plan is not None else []
                outcome = run_pytest(suite, modules, run_dir, env, args, markexpr, extra,
                                     len(plan.mine) if plan is not None else count, near_end=printers.start)
        finally:
            if server:
                server.stop()
        return finish_run(run_dir, info, outcome, started, settings, printers.started)


class EarlyPrinter:
    """The report's PDF printer, started while the run's last scenarios run (its Chromium is ready when the report
    is): about a second off the end of every run. Should it fail to start, or stop meanwhile, the report starts one
    as it always did."""

    def __init__(self) -> None:
        self.started: Any = None  # a PdfPrinter once started

    def start(self) -> None:
        from uept.evidence.pdfprint import PdfPrinter

        self.started = PdfPrinter()


def remote_browser(args: argparse.Namespace, settings: config.Settings,
                   resolved: config.ResolvedTarget) -> browser.RemoteBrowser | None:
    """The browser server the run connects to: --browser-endpoint, UEPT_BROWSER_ENDPOINT or browser_endpoint in
    the config; exposing the client's loopback hosts the target lives on (the embedded reference SSI and its
    Entra imitation) to the remote browser."""
    from urllib.parse import urlsplit

    given = [(args.browser_endpoint, "--browser-endpoint"),
             (os.environ.get(browser.ENDPOINT_ENV), browser.ENDPOINT_ENV),
             (settings.browser_endpoint, "browser_endpoint in the config")]
    endpoint, where = next(((e, w) for e, w in given if e), (None, ""))
    if not endpoint:
        return None
    if args.preflight:
        raise UsageError("--preflight probes the pages with a browser on this machine, not a browser server",
                         "run `uept probe` (or --preflight) without --browser-endpoint first")
    if resolved.url is None:  # the embedded reference SSI: 127.0.0.1, and its Entra imitation's host
        hosts = ["127.0.0.1", os.environ.get("REFSSI_ENTRA_HOST", "login.microsoftonline.localhost")]
    else:
        hosts = [urlsplit(resolved.url).hostname or ""]
    return browser.RemoteBrowser(browser.check_endpoint(endpoint, where), browser.expose_network(hosts),
                                 os.environ.get(browser.REMOTE_CHROMIUM_ENV) or None)


def preflight(settings: config.Settings, resolved: config.ResolvedTarget, url: str, chromium: browser.Chromium,
              reports: Path, suite: Path, files: list[Path], server_env: dict[str, str]) -> None:
    """`uept run --preflight`: the probe's checks of the pages the chosen scenarios use, before anything is
    recorded; a run that would fail on a locator, a choice list or a sign-in is refused (exit 2)."""
    from uept.cli.probe import expose, probe_target

    if str(suite) not in sys.path:
        sys.path.insert(0, str(suite))
    from pages.inventory import pages_for_features

    expose(server_env)
    page_names = pages_for_features(sorted({Path(f).stem for f in files}))
    out, _result, problems, leaks = probe_target(settings, resolved, url, chromium, reports, page_names)
    problems += [f"a secret in the probe's {f.name}: {f.what}" for f in leaks]
    if problems:
        for p in problems:
            say(f"PROBLEM  {REGISTRY.redact(p)}")
        more = f" (and {len(problems) - 1} more above)" if len(problems) > 1 else ""
        raise UsageError(f"preflight: {REGISTRY.redact(problems[0])}{more}; nothing was run or recorded",
                         f"correct the profile or the target (see {out / 'probe.html'}), then run again")
    say(f"uept: preflight passed: every locator the scenarios need resolves exactly once ({out.name})")


def run_info(run_id: str, settings: config.Settings, resolved: config.ResolvedTarget, url: str, embedded: bool,
             feature_files: list[Path], suite: Path, args: argparse.Namespace, chromium: browser.Chromium,
             started: float, plan: shards.Plan | None = None) -> dict:
    return {
        "run_id": run_id,
        "uept_version": __version__,
        "party": settings.party.model_dump(),
        "target": {"name": resolved.name, "url": url, "environment": resolved.target.environment,
                   "profile": resolved.target.profile, "embedded": embedded},
        "features": [str(f.relative_to(suite)) if f.is_relative_to(suite) else str(f) for f in feature_files],
        "tags": args.tags,
        "workers": args.workers,
        "retries": args.retries,
        **({"shard": plan.record()} if plan is not None else {}),
        "browser": chromium.describe(),
        "platform": platform.platform(),
        "os": _os_name(),
        "python": platform.python_version(),
        "playwright": _version_of("playwright"),
        "user": os.environ.get("USER") or os.environ.get("USERNAME") or _login_name(),
        "host": platform.node(),
        "started": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(started)),
        "status": "running",
    }


def _version_of(dist: str) -> str | None:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(dist)
    except PackageNotFoundError:
        return None


def _os_name() -> str:
    try:
        return platform.freedesktop_os_release().get("PRETTY_NAME") or platform.system()
    except OSError:
        return f"{platform.system()} {platform.release()}"


def _login_name() -> str:
    try:
        import pwd

        return pwd.getpwuid(os.getuid()).pw_name
    except (ImportError, KeyError):
        return "unknown"


def add_parser(sub) -> None:
    run = sub.add_parser("run", help="run UEPT scenarios and write reports/<run-id>/",
                         description="Run the UEPT feature files (all of features/ by default) against a target.",
                         epilog=REFSSI_ENV_HELP + " Progress: a live display on a terminal, one line per finished "
                         "scenario otherwise; UEPT_PROGRESS=plain for the lines on a terminal too, "
                         "UEPT_PROGRESS=pytest for pytest's own output. UEPT_WAIT_SECONDS=N: how long a step "
                         "waits for what proves an outcome (the target's wait_seconds, 10 by default). "
                         "With --browser-endpoint, "
                         "UEPT_REMOTE_CHROMIUM=PATH names the Chromium the server launches (it must run "
                         "with --unsafe).")
    run.add_argument("features", nargs="*", help="feature files or folders (default: features/)")
    run.add_argument("--target", help="target name from the config, or a URL (default: reference)")
    run.add_argument("--tags", help="tag expression, e.g. '@UEPT-LOGIN-01 or @SSI-FR-1a', 'not @needs-operator'; "
                     "@real-clock scenarios (they wait real time limits out) run only when the tags name them")
    run.add_argument("--headed", action="store_true", help="show the browser window")
    run.add_argument("--slowmo", type=int, default=0, metavar="MS",
                     help="slow each browser action down (with --headed)")
    run.add_argument("-n", "--workers", type=int, default=1, metavar="WORKERS", help="parallel browsers (default 1)")
    run.add_argument("--retries", type=int, default=0, metavar="N",
                     help="run a failed scenario again, up to N more times (default 0); one that fails and then "
                          "passes is reported as flaky, with every attempt's evidence; one that fails on every "
                          "attempt is failed")
    run.add_argument("--shard", metavar="I/N",
                     help="run only shard I of N of the selected scenario cases (one per machine, e.g. a CI "
                          "matrix); each persona's cases stay in one shard; join the N run folders with "
                          "`uept merge`")
    run.add_argument("--durations", metavar="FILE",
                     help="with --shard: balance the shards by the scenario times of a previous run (its run "
                          "folder, summary.json or evidence pack); without it, by the number of cases")
    run.add_argument("--browser-endpoint", metavar="WS_URL",
                     help="run the scenarios in a browser of a Playwright browser server (`playwright run-server`, "
                          "the same Playwright major.minor as uept's) at this ws:// address instead of launching "
                          "one here; the embedded reference SSI is reached through the connection (default: "
                          "$UEPT_BROWSER_ENDPOINT or browser_endpoint in the config)")
    run.add_argument("--preflight", action="store_true",
                     help="probe the pages the scenarios use first (as `uept probe`) and refuse to start a run "
                          "that would fail on a locator")
    run.add_argument("--config", help="config file (default: $UEPT_CONFIG or ./uept.yaml)")
    run.add_argument("--reports", help="where run folders go (default: $UEPT_REPORTS_DIR or ./reports)")
    run.set_defaults(func=cmd_run)
