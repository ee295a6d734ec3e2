"""uept's command line: one module per command family (run, serve, browser, evidence).

Exit status: 0 every scenario passed; 1 a scenario failed or the run was
interrupted; 2 a problem with the command, config, target, browser or feature files.
"""

from __future__ import annotations

import argparse
import os
import sys

from ssi.errors import UsageError
from uept import __version__


def build_parser() -> argparse.ArgumentParser:
    from uept.cli import browser, check, evidence, probe, run, serve, steps

    ap = argparse.ArgumentParser(
        prog="uept",
        description="SSI User Entry Process Tests: Gherkin scenarios in Chromium, with evidence. "
        "The default target is the embedded reference SSI.",
        epilog="Exit status: 0 all scenarios passed, 1 a scenario failed or the run was interrupted, "
        "2 a problem with the command, config, target, browser or feature files.",
    )
    ap.add_argument("--version", action="version", version=f"uept {__version__}")
    sub = ap.add_subparsers(dest="command", metavar="COMMAND")
    run.add_parser(sub)
    probe.add_parser(sub)
    steps.add_parser(sub)
    check.add_parser(sub)
    serve.add_parser(sub)
    browser.add_parser(sub)
    evidence.add_commands(sub)
    return ap


def main(argv: list[str] | None = None) -> int:
    from uept.runtime.secrets import REGISTRY

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
