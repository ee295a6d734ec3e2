"""uept: run the SSI User Entry Process Tests and produce the evidence.

Exit status: 0 every scenario passed; 1 a scenario failed or the run was
interrupted; 2 a problem with the command, config, target, browser or feature files.
"""

from __future__ import annotations

import argparse
import codecs
import json
import os
import platform
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from . import __version__, browser, child, config, features
from .errors import UsageError
from .secrets import REGISTRY, Secret, StreamRedactor

PYTEST_TO_EXIT = {0: 0, 1: 1, 2: 1, 3: 2, 4: 2, 5: 2}


def suite_root() -> Path:
    """The checkout holding features/, steps/, pages/, fixtures/ and conftest.py."""
    explicit = os.environ.get("UEPT_SUITE")
    candidates = [Path(explicit)] if explicit else [Path.cwd(), Path(__file__).resolve().parent.parent]
    for c in candidates:
        if (c / "features").is_dir() and (c / "conftest.py").is_file():
            return c.resolve()
    raise UsageError("cannot find the UEPT suite (features/ and conftest.py)",
                     "run uept from the uept checkout, or set UEPT_SUITE to it")


def say(msg: str = "") -> None:
    print(msg, flush=True)


# ---------------------------------------------------------------- uept run
def test_modules(suite: Path, feature_files: list[Path]) -> list[str]:
    mods = []
    for f in feature_files:
        mod = suite / "steps" / f"test_{f.stem}.py"
        if not mod.is_file():
            raise UsageError(f"{f} has no step module (expected {mod.relative_to(suite)})",
                             f"create it with scenarios(\"{f.name}\") and the feature's steps")
        if str(mod) not in mods:
            mods.append(str(mod))
    return mods


def select(scenarios: list[features.ScenarioInfo], markexpr: str | None) -> list[features.ScenarioInfo]:
    if not markexpr:
        return scenarios
    from _pytest.mark.expression import Expression

    expr = Expression.compile(markexpr)
    return [s for s in scenarios if expr.evaluate(lambda name, tags=s.tags, **kw: name in tags)]


def writable_folder(path: Path, what: str, option: str) -> Path:
    """The folder, made if needed, after proving a file can be written in it (one clear line if not)."""
    path = Path(path).expanduser()
    try:
        path.mkdir(parents=True, exist_ok=True)
        probe = path / f".uept-write-test-{os.getpid()}"
        probe.write_bytes(b"")
        probe.unlink()
    except FileExistsError:
        raise UsageError(f"{what} {path} is a file, not a folder", f"give a folder with {option}") from None
    except OSError as exc:
        raise UsageError(f"cannot write the {what} {path} ({exc.strerror or exc.__class__.__name__})",
                         f"give a folder you can write to with {option}") from None
    return path


class StepCheck:
    """Refuses a run before anything starts when a selected scenario has a step no step definition matches
    (pytest-bdd would only say so per scenario, with the browser running). The check is a pytest
    `--collect-only` pass (uept/stepcheck.py); it starts at once and runs beside the other checks."""

    def __init__(self, suite: Path, modules: list[str], env: dict[str, str], markexpr: str | None) -> None:
        import tempfile

        self._tmp = tempfile.TemporaryDirectory(prefix="uept-check-")
        self._out = Path(self._tmp.name) / "undefined.json"
        cmd = [sys.executable, "-m", "pytest", *modules, "-o", "testpaths=", "--rootdir", str(suite),
               "-c", str(suite / "pyproject.toml"), "--collect-only", "-q", "-p", "no:cacheprovider",
               "-p", "uept.stepcheck", "--uept-step-check", str(self._out),
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
                why = REGISTRY.redact(errors[-1].removeprefix("E").strip()[:300]) if errors else \
                    f"exit {self._proc.returncode}"
                raise UsageError(f"the scenarios could not be collected ({why})",
                                 "run pytest on the feature's step module to see why")
            undefined = json.loads(self._out.read_text(encoding="utf-8"))
        finally:
            self._tmp.cleanup()
        if undefined:
            first = undefined[0]
            more = f" (and {len(undefined) - 1} more undefined step(s))" if len(undefined) > 1 else ""
            raise UsageError(f"{first['file']}:{first['line']}: no step definition matches "
                             f"'{first['keyword']} {first['text']}' (scenario \"{first['scenario']}\"){more}",
                             "reword the step to match one the suite defines, or add a step definition to the "
                             "feature's step module")


def cmd_run(args: argparse.Namespace) -> int:
    """Check everything a run depends on (nothing starts while anything is wrong), then run."""
    from . import access_matrix, inventory
    from .completion import set_problems
    from .packcli import _catalogue, check_signing_key
    from .plugin import new_run_id, write_run_info
    from .profile import load_profile

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
    markexpr = features.tags_to_markexpr(args.tags) if args.tags else None
    chosen = select(scenarios, markexpr)
    if not chosen:
        raise UsageError(f"no scenario matches --tags '{args.tags}'", "check the tag names in the feature files")
    modules = test_modules(suite, sorted({s.file for s in chosen}))
    env = {k: v for k, v in os.environ.items() if not k.startswith("REFSSI_")}
    env["UEPT_TARGET"] = resolved.name
    if cfg_path:
        env["UEPT_CONFIG"] = str(cfg_path.resolve())
    steps = StepCheck(suite, modules, env, markexpr)  # beside the checks below: all of them change nothing
    try:
        reports = writable_folder(Path(args.reports or os.environ.get("UEPT_REPORTS_DIR") or settings.reports_dir),
                                  "reports folder", "--reports or UEPT_REPORTS_DIR")
        env["UEPT_REPORTS_DIR"] = str(reports.resolve())
        _catalogue(None, settings)  # a broken catalogue or signing key stops the run before it starts
        check_signing_key(settings)
        expand = access_matrix.expander(profile.role_matrix, resolved.target.personas)
        scenario_set = inventory.build(suite, feature_files, chosen, expand=expand)
        faults = set_problems(scenario_set)
        if faults:
            more = f" (and {len(faults) - 1} more)" if len(faults) > 1 else ""
            raise UsageError(f"{faults[0]}{more}", "give every scenario one @UEPT-<THEME>-NN tag of its own")
        if resolved.url is not None:
            from .target import TargetSession, check_is_ssi, check_reachable

            check_reachable(resolved.url)
            check_is_ssi(resolved.url, profile)
            TargetSession(settings, resolved, resolved.url).check_secrets()
    except BaseException:
        steps.cancel()
        raise
    steps.result()

    run_id = new_run_id()
    run_dir = (reports / run_id).resolve()
    server = None
    try:
        if resolved.url is None:
            from refssi.launcher import EmbeddedSSI, LaunchError

            say("uept: starting the reference SSI ...")
            try:
                server = EmbeddedSSI(profile=resolved.target.profile).start()
            except LaunchError as exc:
                raise UsageError(str(exc), "run `uept serve` to see why") from None
            for k, v in server.env.items():
                if k != "UEPT_TARGET_URL":  # so that nothing printed below, nor the evidence, can show them
                    Secret(v, f"reference SSI secret {k}")
            env.update(server.env)
            url = server.url
        else:
            url = resolved.url
            env["UEPT_TARGET_URL"] = url
        started = time.time()
        info = run_info(run_id, settings, resolved, url, server is not None, feature_files, suite, args, chromium,
                        started)
        write_run_info(run_dir, info)
        from .evidence import write_json_atomic

        write_json_atomic(run_dir / "scenario-set.json", scenario_set)
    except BaseException:  # nothing recorded yet: nothing to report
        if server:
            server.stop()
        raise
    from .packcli import shielded

    # From here on a signal never stops uept itself: pytest is asked to stop, and the report is written.
    with shielded("uept: writing the report and the evidence pack; please wait"):
        try:
            generated = " (plus Examples generated from the role matrix)" if any(s.cases == 0 for s in chosen) else ""
            say(f"uept {__version__}: {sum(s.cases for s in chosen)} scenario(s){generated} against {resolved.name} "
                f"({url}), browser {chromium.describe()}")
            outcome = run_pytest(suite, modules, run_dir, env, args, markexpr)
        finally:
            if server:
                server.stop()
        return finish_run(run_dir, info, outcome, started, settings)


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


@dataclass
class PytestOutcome:
    code: int  # pytest's exit status; negative: killed by that signal; 130: stopped before it had started
    signals: int = 0  # signals uept received and forwarded while pytest ran

    @property
    def interrupted(self) -> bool:
        return self.signals > 0 or self.code < 0 or self.code in (2, child.EXIT_INTERRUPTED)


def run_pytest(suite: Path, modules: list[str], run_dir: Path, env: dict, args: argparse.Namespace,
               markexpr: str | None) -> PytestOutcome:
    cmd = [sys.executable, "-m", "uept.child", *modules, "-o", "testpaths=", "--rootdir", str(suite),
           "-c", str(suite / "pyproject.toml"), "--uept-run-dir", str(run_dir),
           "--junitxml", str(run_dir / "junit.xml"), "--alluredir", str(run_dir / "allure-results"),
           "-q", "--no-header", "-rfEs", "-p", "no:cacheprovider", "--color", "no"]
    if markexpr:
        cmd += ["-m", markexpr]
    if args.workers > 1:
        cmd += ["-n", str(args.workers), "--dist", "loadgroup"]  # as 'load', but keeps xdist_group(s) together
    if args.headed:
        cmd += ["--headed"]
    if args.slowmo:
        cmd += ["--slowmo", str(args.slowmo)]
    log = open(run_dir / "pytest.log", "w", encoding="utf-8")
    # pytest runs in its own session, so a terminal's Ctrl-C reaches it once, through uept, and
    # pytest-xdist workers and the browsers are stopped by pytest, not killed mid-write. It holds the
    # read end of a pipe whose write end only uept holds: if uept dies, pytest stops too (uept/child.py).
    watch_r, watch_w = os.pipe()
    previous = {s: signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM)}
    signals = [0]
    started: list[subprocess.Popen] = []

    def forward(signum: int, _frame: object) -> None:  # let pytest stop cleanly; we write the summary after
        signals[0] += 1
        if not started or started[0].poll() is not None:
            return
        proc = started[0]
        if signals[0] == 1:
            print("uept: stopping: the scenarios running now end as 'interrupted'; the report follows "
                  "(press Ctrl-C twice more to abandon them)", file=sys.stderr, flush=True)
        if signals[0] <= 2:
            proc.send_signal(signal.SIGINT)
        else:
            os.killpg(proc.pid, signal.SIGKILL)

    for s in previous:
        signal.signal(s, forward)
    # The child starts with SIGINT blocked, and unblocks it once it can take it quietly (uept/child.py): a
    # Ctrl-C while Python itself starts would otherwise end in a "Fatal Python error" and a traceback.
    mask = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
    try:
        proc = subprocess.Popen(cmd, cwd=suite, env={**env, "UEPT_PARENT_FD": str(watch_r)},
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                start_new_session=True, pass_fds=(watch_r,))
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, mask)
    os.close(watch_r)
    started.append(proc)
    if signals[0]:  # a signal came while it was being started
        signals[0] -= 1
        forward(signal.SIGINT, None)
    redactor = StreamRedactor(REGISTRY)
    decoder = codecs.getincrementaldecoder("utf-8")("replace")

    def show(text: str) -> None:
        if text:
            sys.stdout.write(text)
            sys.stdout.flush()  # progress reaches a terminal or a CI log as it happens
            log.write(text)
            log.flush()  # and the log holds it, should uept be killed a moment later

    try:
        assert proc.stdout is not None
        fd = proc.stdout.fileno()
        while True:
            try:
                chunk = os.read(fd, 65536)
            except InterruptedError:
                continue
            if not chunk:
                break
            show(redactor.feed(decoder.decode(chunk)))
        show(redactor.feed(decoder.decode(b"", final=True)) + redactor.flush())
        return PytestOutcome(proc.wait(), signals[0])
    finally:
        for s, h in previous.items():
            signal.signal(s, h)
        os.close(watch_w)
        log.close()


def finish_run(run_dir: Path, info: dict, outcome: PytestOutcome, started: float,
               settings: config.Settings | None = None) -> int:
    from .plugin import write_run_info
    from .results import RunResults

    results = RunResults.load(run_dir)
    counts = results.counts()
    interrupted = outcome.interrupted or counts.get("interrupted", 0) > 0
    pytest_code = outcome.code
    verdict = ("incomplete" if interrupted else
               "passed" if pytest_code == 0 and results.all_passed else "failed")
    info.update(status=verdict, ended=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), counts=counts,
                pytest_exit=pytest_code, interrupted=interrupted)
    write_run_info(run_dir, info)
    say()
    if results.scenarios:
        say(results.table(shutil.get_terminal_size((110, 20)).columns))
    total = len(results.scenarios)
    parts = ", ".join(f"{n} {k}" for k, n in sorted(counts.items()))
    say(f"\n{total} scenario(s): {parts or 'none ran'} in {time.time() - started:.0f}s. Verdict: {verdict.upper()}"
        + (" (the run was interrupted)" if interrupted else ""))
    say(f"Evidence: {run_dir}/  (scenarios/, junit.xml, cucumber.json, allure-results/, report.html, report.pdf)")
    evidence_code = write_evidence(run_dir, settings)
    if interrupted:
        return max(evidence_code, 1)
    if pytest_code in (3, 4):
        say("uept: pytest could not run the suite; see pytest.log in the evidence folder")
        return 2
    if verdict == "passed":
        return evidence_code
    return max(evidence_code, 1 if pytest_code in (0, 1) else PYTEST_TO_EXIT.get(pytest_code, 2))


def write_evidence(run_dir: Path, settings: config.Settings | None) -> int:
    """The report and the signed pack, whatever happened to the run; 0 when both were made."""
    from .packcli import produce_evidence, shielded

    with shielded("uept: writing the report and the evidence pack; please wait"):
        try:
            ok, _ = produce_evidence(run_dir, settings)
        except UsageError as exc:
            say(f"uept: error: the report or pack was not made: {exc.line()} Then run: uept report {run_dir}")
            return 2
        except Exception as exc:
            if os.environ.get("UEPT_DEBUG"):
                raise
            say(f"uept: internal error while writing the report: {exc.__class__.__name__}: "
                f"{REGISTRY.redact(str(exc))}. The results are kept; run: uept report {run_dir}")
            return 3
    return 0 if ok else 1


# ---------------------------------------------------------------- uept serve
def cmd_serve(args: argparse.Namespace) -> int:
    from refssi.__main__ import serve
    from refssi.security import new_token
    from refssi.seed import generate_secrets, load_seed, persona_env_names, secrets_env

    if not 0 <= args.port <= 65535:
        raise UsageError(f"--port {args.port}: a port is a number from 0 to 65535", "e.g. --port 8765, or 0 for any "
                         "free port")
    if not 0 <= args.incidents <= 5_000_000:
        raise UsageError(f"--incidents {args.incidents}: give a number from 0 to 5000000",
                         "e.g. --incidents 300000 for one year of DCC volume")
    if args.incidents:
        os.environ["REFSSI_BULK_INCIDENTS"] = str(args.incidents)
        say(f"uept: generating {args.incidents} incidents before the server starts ...")
    generated = generate_secrets()
    token = new_token()
    state = Path(args.state_dir)
    state.mkdir(parents=True, exist_ok=True)
    env_file = state / "serve.env"
    db_dir = state / "refssi"
    shutil.rmtree(db_dir, ignore_errors=True)
    db_dir.mkdir()

    def ready(url: str, s: object) -> None:
        values = {"UEPT_TARGET_URL": url, "UEPT_REF_OPERATOR_TOKEN": token, **secrets_env(generated)}
        fd = os.open(env_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as f:
            f.writelines(f"{k}={json.dumps(v)}\n" for k, v in values.items())
        say(f"Reference SSI running at {url}  (portal: {url}/sp, classic login: {url}/login.do)")
        entra = url.replace(args.host, os.environ.get("REFSSI_ENTRA_HOST", "login.microsoftonline.localhost"), 1)
        say(f"Microsoft Entra ID sign-in (imitated): {entra} for browsers on this machine "
            "(the portal login page's 'Use external login')")
        if args.incidents:
            from refssi.bulk import STATS

            say(f"Generated {STATS.get('incidents')} incidents across {STATS.get('organisations')} organisations "
                f"in {STATS.get('seconds')} s (benchmark data).")
        say("Demo personas (organisation: user name, Job Type Roles, second factor):")
        for p in load_seed().personas:
            mfa = {"totp": "authenticator app", "email": "emailed code", "none": "sets up MFA at first login"}[p.mfa]
            if p.identity == "entra":
                mfa = f"signs in at Microsoft Entra ID ({mfa})"
            line = f"  {p.persona:<26} {p.organisation}: {p.user_name:<12} {','.join(p.roles):<4} {mfa}"
            if args.show_secrets:
                names = persona_env_names(p.persona)
                line += f"  password={generated[p.persona]['password']}"
                if "totp_seed" in generated[p.persona]:
                    line += f" authenticator key={generated[p.persona]['totp_seed']}"
                del names
            say(line)
        say(f"Passwords and authenticator keys for this server: {env_file} (mode 600; use --show-secrets to print).")
        say(f"Emailed codes: {url}/_mailsink/api/v1/messages (Authorization: Bearer $UEPT_REF_OPERATOR_TOKEN).")
        say(f"Run the suite against it: set -a; . {env_file}; set +a; uept run --target {url}")
        say("Press Ctrl-C to stop.")

    try:
        serve(host=args.host, port=args.port, profile=args.profile, secrets=generated, operator_token=token,
              db_dir=db_dir, on_ready=ready)
    except OSError as exc:
        raise UsageError(f"cannot listen on {args.host}:{args.port} ({exc.strerror})",
                         "choose another port with --port, or --port 0 for any free one") from None
    finally:
        env_file.unlink(missing_ok=True)
    return 0


# ---------------------------------------------------------------- uept browser
def cmd_browser(args: argparse.Namespace) -> int:
    chosen = browser.install(log=say) if args.install else browser.resolve()
    say(f"Chromium: {chosen.describe()}")
    return 0


# ---------------------------------------------------------------- entry point
def build_parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(
        prog="uept",
        description="SSI User Entry Process Tests: Gherkin scenarios in Chromium, with evidence. "
        "The default target is the embedded reference SSI.",
        epilog="Exit status: 0 all scenarios passed, 1 a scenario failed or the run was interrupted, "
        "2 a problem with the command, config, target, browser or feature files.",
    )
    ap.add_argument("--version", action="version", version=f"uept {__version__}")
    sub = ap.add_subparsers(dest="command", metavar="COMMAND")

    run = sub.add_parser("run", help="run UEPT scenarios and write reports/<run-id>/",
                         description="Run the UEPT feature files (all of features/ by default) against a target.")
    run.add_argument("features", nargs="*", help="feature files or folders (default: features/)")
    run.add_argument("--target", help="target name from the config, or a URL (default: reference)")
    run.add_argument("--tags", help="tag expression, e.g. '@UEPT-LOGIN-01 or @SSI-FR-1a', 'not @needs-operator'")
    run.add_argument("--headed", action="store_true", help="show the browser window")
    run.add_argument("--slowmo", type=int, default=0, metavar="MS",
                     help="slow each browser action down (with --headed)")
    run.add_argument("-n", "--workers", type=int, default=1, metavar="WORKERS", help="parallel browsers (default 1)")
    run.add_argument("--config", help="config file (default: $UEPT_CONFIG or ./uept.yaml)")
    run.add_argument("--reports", help="where run folders go (default: $UEPT_REPORTS_DIR or ./reports)")
    run.set_defaults(func=cmd_run)

    serve = sub.add_parser("serve", help="run the reference SSI alone and print its URL and demo personas")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8765, help="port (default 8765; 0 = any free port)")
    serve.add_argument("--profile", default="reference", help="target profile (default: reference)")
    serve.add_argument("--state-dir", default=".uept", help="where the secrets file goes (default: .uept)")
    serve.add_argument("--show-secrets", action="store_true", help="also print passwords and authenticator keys")
    serve.add_argument("--incidents", type=int, default=0, metavar="N",
                       help="first generate N incidents across organisations (benchmarks; 300000 = a year of volume)")
    serve.set_defaults(func=cmd_serve)

    br = sub.add_parser("browser", help="show which Chromium uept uses; --install gets one")
    br.add_argument("--install", action="store_true",
                    help="install Playwright's Chromium, or the OS packages (chromium, chromium-headless-shell) "
                         "when that download fails")
    br.set_defaults(func=cmd_browser)

    from .packcli import add_commands

    add_commands(sub)
    return ap


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    try:
        return args.func(args)
    except UsageError as exc:
        print(f"uept: error: {exc.line()}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("uept: interrupted", file=sys.stderr)
        return 1
    except Exception as exc:
        if os.environ.get("UEPT_DEBUG"):
            raise
        print(f"uept: internal error: {exc.__class__.__name__}: {REGISTRY.redact(str(exc))} "
              "(set UEPT_DEBUG=1 to see the traceback, and please report it)", file=sys.stderr)
        return 3


if __name__ == "__main__":
    sys.exit(main())
