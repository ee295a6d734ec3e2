"""The house's walls hold: the import contracts of pyproject.toml ([tool.importlinter]) pass, and break
when a wall is broken."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers import ROOT

PACKAGES = ("ssi", "uept", "refssi", "pages", "steps", "fixtures")
LINT = Path(sys.executable).with_name("lint-imports")


def lint(root: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(root)}  # the tree under test, before the installed one
    return subprocess.run([str(LINT), "--config", str(root / "pyproject.toml"), "--no-cache"], cwd=root, env=env,
                          capture_output=True, text=True, timeout=300)


def test_every_import_contract_is_kept() -> None:
    r = lint(ROOT)
    assert r.returncode == 0, r.stdout[-4000:] + r.stderr[-2000:]
    assert " broken" not in r.stdout.split("Contracts:")[-1].splitlines()[0] or ", 0 broken" in r.stdout


@pytest.mark.parametrize(("module", "line", "contract"), [
    ("ssi/errors.py", "import uept.runtime.config", "ssi (what an SSI is) imports nothing of ours"),
    ("refssi/mail.py", "import uept.runtime.secrets", "The reference SSI is independent"),
    ("pages/base.py", "import steps.session", "The suite is layered"),
    ("uept/evidence/pack.py", "import uept.cli.common", "The evidence engine uses the runtime"),
    ("uept/runtime/secrets.py", "import uept.runtime.target", "No import cycle"),
])
def test_a_broken_wall_is_named(tmp_path: Path, module: str, line: str, contract: str) -> None:
    for name in PACKAGES:
        shutil.copytree(ROOT / name, tmp_path / name, ignore=shutil.ignore_patterns("__pycache__", "templates",
                                                                                     "static", "catalogue"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    path = tmp_path / module
    path.write_text(path.read_text(encoding="utf-8") + f"\n{line}  # a wall broken on purpose\n", encoding="utf-8")
    r = lint(tmp_path)
    assert r.returncode != 0, r.stdout[-3000:]
    broken = r.stdout.split("Broken contracts")[-1]
    assert contract in broken, r.stdout[-3000:]
