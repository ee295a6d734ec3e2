"""Real consumers of uept's outputs, from the npm registry: Allure 2, Allure 3, a Cucumber HTML reporter.

Installed on first use into .tools/npm (git-ignored) with the ordinary npm client. A test
that needs one is skipped, with the reason, when Node/npm is absent or the install fails.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from filelock import FileLock

from tests.helpers import ROOT

TOOLS = ROOT / ".tools" / "npm"
PACKAGES = {  # name -> (npm spec, entry point under TOOLS)
    "allure2": ("allure-commandline@2", "node_modules/allure-commandline/dist/bin/allure"),
    "allure3": ("allure@3", "node_modules/allure/cli.js"),
    "cucumber-html-reporter": ("cucumber-html-reporter@7", "node_modules/cucumber-html-reporter/index.js"),
}


def npm_tool(name: str) -> Path:
    spec, entry = PACKAGES[name]
    path = TOOLS / entry
    if path.exists():
        return path
    if not shutil.which("npm") or not shutil.which("node"):
        pytest.skip(f"{name}: Node.js/npm is not installed")
    TOOLS.mkdir(parents=True, exist_ok=True)
    with FileLock(str(TOOLS / ".install.lock")):
        if not path.exists():
            proc = subprocess.run(["npm", "install", "--prefix", str(TOOLS), "--no-audit", "--no-fund",
                                   "--loglevel=error", spec], capture_output=True, text=True, timeout=600)
            if proc.returncode != 0 or not path.exists():
                pytest.skip(f"{name}: `npm install {spec}` failed here: {proc.stderr.strip()[-300:]}")
    return path


def allure2_counts(results: Path, out: Path) -> dict:
    if not shutil.which("java"):
        pytest.skip("allure2: Java is not installed")
    exe = npm_tool("allure2")
    proc = subprocess.run([str(exe), "generate", str(results), "-o", str(out), "--clean"], capture_output=True,
                          text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return json.loads((out / "widgets" / "summary.json").read_text())["statistic"]


def allure3_counts(results: Path, out: Path) -> dict:
    cli = npm_tool("allure3")
    proc = subprocess.run(["node", str(cli), "generate", str(results), "-o", str(out)], capture_output=True,
                          text=True, timeout=300, cwd=out.parent)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return json.loads((out / "summary.json").read_text())["stats"]


CUKE_JS = """
const reporter = require(process.argv[2]);
reporter.generate({theme: 'bootstrap', jsonFile: process.argv[3], output: process.argv[4],
  reportSuiteAsScenarios: true, launchReport: false, brandTitle: 'uept', name: 'uept'});
"""


def cucumber_html_counts(cucumber_json: Path, out: Path) -> dict[str, int]:
    """Feed cucumber.json to cucumber-html-reporter; read its scenario totals back from the HTML."""
    index = npm_tool("cucumber-html-reporter")
    script = out.parent / "cuke.js"
    script.write_text(CUKE_JS)
    proc = subprocess.run(["node", str(script), str(index.parent), str(cucumber_json), str(out)],
                          capture_output=True, text=True, timeout=300, cwd=out.parent)
    assert proc.returncode == 0 and out.is_file(), proc.stdout + proc.stderr
    html = out.read_text()
    counts = {}
    for label in ("All", "Passed", "Failed"):
        m = re.search(rf"{label} Scenarios</h2>\s*</div>\s*<div class=\"feature-value\">\s*<h5>\s*(\d+)", html)
        assert m, f"no '{label} Scenarios' total in the Cucumber HTML report"
        counts[label.lower()] = int(m.group(1))
    return counts
