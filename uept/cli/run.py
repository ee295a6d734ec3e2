"""`uept run`: check everything a run depends on, then run the scenarios and make the evidence.

Exit status: 0 every scenario passed; 1 a scenario failed or the run was
interrupted; 2 a problem with the command, config, target, browser or feature files.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

from ssi.errors import UsageError
from uept import __version__
from uept.cli.common import REFSSI_ENV_HELP, say, shielded, suite_root, writable_folder
from uept.cli.runner import finish_run, run_pytest
from uept.evidence import features
from uept.runtime import browser, config
from uept.runtime.secrets import REGISTRY, Secret


# ---------------------------------------------------------------- uept run
class StepCheck:
    """Refuses a run before anything starts when a selected scenario has a step no step definition matches
    (pytest-bdd would only say so per scenario, with the browser running). The check is a pytest
    `--collect-only` pass (uept/evidence/stepcheck.py); it starts at once and runs beside the other checks."""

    def __init__(self, suite: Path, modules: list[str], env: dict[str, str], markexpr: str | None) -> None:
        import tempfile

        self._tmp = tempfile.TemporaryDirectory(prefix="uept-check-")
        self._out = Path(self._tmp.name) / "undefined.json"
        cmd = [sys.executable, "-m", "pytest", *modules, "-o", "testpaths=", "--rootdir", str(suite),
               "-c", str(suite / "pyproject.toml"), "--collect-only", "-q", "-p", "no:cacheprovider",
               "-p", "uept.evidence.stepcheck", "--uept-step-check", str(self._out),
               "--uept-run-dir", str(Path(self._tmp.name) / "run")]
        if markexpr:
            cmd += ["-m", markexpr]
        self._proc = subprocess.Popen(cmd, cwd=suite, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                      stdin=subprocess.DEVNULL, text=True, start_new_session=True)

    def cancel(self) -> None:
        if self._proc.poll() is None:
            self._proc.kill()
        self._proc.communicate()
        self._tmp.cleanup()

    def result(self) -> None:
        output, _ = self._proc.communicate()
        try:
            if not self._out.is_file():
                lines = [ln for ln in output.splitlines() if ln.strip()]
                errors = [ln for ln in lines if ln.startswith(("E ", "ERROR", "UsageError", "ImportError"))] or lines
                why = REGISTRY.redact(errors[-1].removeprefix("E ").strip()[:300]) if errors else \
                    f"exit {self._proc.returncode}"
                raise UsageError(f"the scenarios could not be collected ({why})",
                                 "run `pytest --collect-only FEATURE` to see why")
            undefined = json.loads(self._out.read_text(encoding="utf-8"))
        finally:
            self._tmp.cleanup()
        if undefined:
            first = undefined[0]
            more = f" (and {len(undefined) - 1} more undefined step(s))" if len(undefined) > 1 else ""
            raise UsageError(f"{first['file']}:{first['line']}: no step definition matches "
                             f"'{first['keyword']} {first['text']}' (scenario \"{first['scenario']}\"){more}",
                             "reword the step to match one the suite defines (steps/), or add a step definition "
                             "to a step module in steps/")


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
    chromium = browser.resolve()
    chromium.check(headless=not args.headed)
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
    if cfg_path:
        env["UEPT_CONFIG"] = str(cfg_path.resolve())
    steps = StepCheck(suite, modules, env, markexpr)  # beside the checks below: all of them change nothing
    try:
        reports = writable_folder(Path(args.reports or os.environ.get("UEPT_REPORTS_DIR") or settings.reports_dir),
                                  "reports folder", "--reports or UEPT_REPORTS_DIR")
        env["UEPT_REPORTS_DIR"] = str(reports.resolve())
        scenario_catalogue(None, settings)  # a broken catalogue or signing key stops the run before it starts
        check_signing_key(settings)
        expand = access_matrix.expander(profile.role_matrix, resolved.target.personas, profile)
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
    except BaseException:
        steps.cancel()
        raise
    steps.result()

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
                        started)
        write_run_info(run_dir, info)
        from uept.evidence.rundir import write_json_atomic

        write_json_atomic(run_dir / "scenario-set.json", scenario_set)
    except BaseException:  # nothing recorded yet: nothing to report
        if server:
            server.stop()
        raise
    # From here on a signal never stops uept itself: pytest is asked to stop, and the report is written.
    with shielded("uept: writing the report and the evidence pack; please wait"):
        try:
            count = sum(e["examples"] for e in scenario_set["scenarios"] if e["selected"])  # generated rows too
            chosen = "".join(f", {k.replace('_', ' ')} {v}" for k, v in server_settings.items())
            say(f"uept {__version__}: {count} scenario(s) against {resolved.name} ({url}{chosen}), "
                f"browser {chromium.describe()}")
            outcome = run_pytest(suite, modules, run_dir, env, args, markexpr)
        finally:
            if server:
                server.stop()
        return finish_run(run_dir, info, outcome, started, settings)


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
             started: float) -> dict:
    return {
        "run_id": run_id,
        "uept_version": __version__,
        "party": settings.party.model_dump(),
        "target": {"name": resolved.name, "url": url, "environment": resolved.target.environment,
                   "profile": resolved.target.profile, "embedded": embedded},
        "features": [str(f.relative_to(suite)) if f.is_relative_to(suite) else str(f) for f in feature_files],
        "tags": args.tags,
        "workers": args.workers,
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
                         epilog=REFSSI_ENV_HELP)
    run.add_argument("features", nargs="*", help="feature files or folders (default: features/)")
    run.add_argument("--target", help="target name from the config, or a URL (default: reference)")
    run.add_argument("--tags", help="tag expression, e.g. '@UEPT-LOGIN-01 or @SSI-FR-1a', 'not @needs-operator'; "
                     "@real-clock scenarios (they wait real time limits out) run only when the tags name them")
    run.add_argument("--headed", action="store_true", help="show the browser window")
    run.add_argument("--slowmo", type=int, default=0, metavar="MS",
                     help="slow each browser action down (with --headed)")
    run.add_argument("-n", "--workers", type=int, default=1, metavar="WORKERS", help="parallel browsers (default 1)")
    run.add_argument("--preflight", action="store_true",
                     help="probe the pages the scenarios use first (as `uept probe`) and refuse to start a run "
                          "that would fail on a locator")
    run.add_argument("--config", help="config file (default: $UEPT_CONFIG or ./uept.yaml)")
    run.add_argument("--reports", help="where run folders go (default: $UEPT_REPORTS_DIR or ./reports)")
    run.set_defaults(func=cmd_run)
