"""`uept browser`: which Chromium uept uses, and `--install` to get one."""

from __future__ import annotations

import argparse

from uept.cli.common import say
from uept.runtime import browser


def cmd_browser(args: argparse.Namespace) -> int:
    chosen = browser.install(log=say) if args.install else browser.resolve()
    say(f"Chromium: {chosen.describe()}")
    return 0


def add_parser(sub) -> None:
    br = sub.add_parser("browser", help="show which Chromium uept uses; --install gets one")
    br.add_argument("--install", action="store_true",
                    help="install Playwright's Chromium, or the OS packages (chromium, chromium-headless-shell) "
                         "when that download fails")
    br.set_defaults(func=cmd_browser)
