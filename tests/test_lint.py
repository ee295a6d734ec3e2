"""The code stays lint-clean (ruff, configured in pyproject.toml)."""

import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_ruff_finds_nothing():
    ruff = shutil.which("ruff", path=str(Path(sys.executable).parent)) or shutil.which("ruff")
    assert ruff, "ruff is not installed: pip install -e '.[dev]'"
    proc = subprocess.run([ruff, "check", "."], cwd=ROOT, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout[-3000:]


def test_allure_pytest_is_not_installed_beside_allure_pytest_bdd():
    # pytest refuses to start when both are installed (allure-python#486)
    import importlib.util

    assert importlib.util.find_spec("allure_pytest_bdd") is not None
    assert importlib.util.find_spec("allure_pytest") is None
