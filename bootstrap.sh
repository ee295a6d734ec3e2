#!/usr/bin/env bash
# Set up uept on a fresh Debian/Ubuntu machine (Python 3.11+), then run it.
#
#   ./bootstrap.sh [ARGS...]        set up, then `uept run ARGS...` against the reference SSI
#   ./bootstrap.sh test [ARGS...]   set up, then run uept's own tests (pytest ARGS...)
#   ./bootstrap.sh setup            set up only
#
# Setting up means: a virtualenv in .venv, uept and its packages in it, and a
# Chromium (Playwright's own where it downloads, otherwise the OS packages chromium
# and chromium-headless-shell, which this script installs with apt-get when it runs
# as root). It is quick when
# everything is already there.
set -euo pipefail
cd "$(dirname "$0")"

PYTHON=${PYTHON:-python3}
if ! "$PYTHON" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else 1)' 2>/dev/null; then
  echo "bootstrap: error: uept needs Python 3.11 or newer (found: $("$PYTHON" --version 2>&1 || echo none)). Install it, or set PYTHON=/path/to/python3.11." >&2
  exit 2
fi
if ! "$PYTHON" -c 'import venv, ensurepip' 2>/dev/null; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    apt-get install -y -q python3-venv >/dev/null || { apt-get update -q >/dev/null && apt-get install -y -q python3-venv >/dev/null; }
  else
    echo "bootstrap: error: Python's venv module is missing. Install it: sudo apt-get install python3-venv" >&2
    exit 2
  fi
fi

stamp=.venv/.uept-installed
if [ ! -x .venv/bin/python ]; then
  echo "bootstrap: creating .venv"
  "$PYTHON" -m venv .venv
fi
if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
  echo "bootstrap: installing uept and its packages into .venv"
  if ! { .venv/bin/python -m pip install -q --upgrade pip && .venv/bin/python -m pip install -q -e '.[dev]'; } \
      >.venv/pip.log 2>&1; then
    tail -n 30 .venv/pip.log >&2
    echo "bootstrap: error: installing the Python packages failed (log: .venv/pip.log). Check the network or proxy, then run ./bootstrap.sh again." >&2
    exit 2
  fi
  touch "$stamp"
fi
.venv/bin/uept browser --install

case "${1:-run}" in
  setup) exit 0 ;;
  test)
    shift
    set +e
    # With options only (e.g. -q), two passes: the quick tests on 2 workers, then the slow ones (whole feature
    # runs, which use both cores themselves) one at a time. With a selection (-k, -m, a path), one pytest run.
    split=1
    for a in "$@"; do case "$a" in -k|-m|-k*|-m*|--lf|--last-failed|--deselect*|[!-]*) split=0 ;; esac; done
    if [ "$split" = 1 ]; then
      .venv/bin/python -m pytest tests -m "not slow" -n 2 "$@"; fast=$?
      if [ "$fast" = 2 ]; then exit 2; fi  # interrupted
      # the slowest ten named at the end: what to look at when the pass nears CI's 30 minutes
      .venv/bin/python -m pytest tests -m slow --durations=10 "$@"; slow=$?
      if [ "$fast" = 5 ] && [ "$slow" = 5 ]; then echo "bootstrap: pytest collected no tests"; exit 0; fi
      for code in "$fast" "$slow"; do
        if [ "$code" != 0 ] && [ "$code" != 5 ]; then exit "$code"; fi
      done
      exit 0
    fi
    .venv/bin/python -m pytest tests "$@"
    code=$?
    if [ "$code" = 5 ]; then echo "bootstrap: pytest collected no tests"; code=0; fi
    exit "$code"
    ;;
  run) shift || true; exec .venv/bin/uept run "$@" ;;
  *) exec .venv/bin/uept run "$@" ;;
esac
