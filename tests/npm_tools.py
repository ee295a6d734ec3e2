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


def _attachment_links(node, out: list) -> list:
    if isinstance(node, dict):
        if node.get("type") == "attachment" and isinstance(node.get("link"), dict):
            out.append(node["link"])
        for v in node.values():
            _attachment_links(v, out)
    elif isinstance(node, list):
        for v in node:
            _attachment_links(v, out)
    return out


def allure3_attachments(results: Path, out: Path) -> tuple[int, list[str]]:
    """Allure 3's own data after `allure generate`: (attachment links in its test results, the names of
    those it marks missed). Allure 3 links a source file at its first reference only (allure3's
    packages/core/src/store/convert.ts: "deny reusing same file multiple times")."""
    allure3_counts(results, out)
    links = []
    for f in sorted((out / "data" / "test-results").glob("*.json")):  # its "attachments" repeats the steps'
        links += _attachment_links(json.loads(f.read_text()).get("steps") or [], [])
    return len(links), [f"{link.get('name')} ({link.get('originalFileName')})" for link in links if link.get("missed")]


def allure2_attachments(results: Path, out: Path) -> tuple[int, list[str]]:
    """Allure 2's generated test cases: (attachments, those whose file is not in the report's data)."""
    allure2_counts(results, out)
    seen, missing = 0, []

    def walk(node) -> None:
        nonlocal seen
        if isinstance(node, dict):
            for a in node.get("attachments") or []:
                seen += 1
                if not (out / "data" / "attachments" / a.get("source", "?")).is_file():
                    missing.append(a.get("name"))
            for v in node.values():
                walk(v)
        elif isinstance(node, list):
            for v in node:
                walk(v)

    for f in sorted((out / "data" / "test-cases").glob("*.json")):
        walk(json.loads(f.read_text()))
    return seen, missing


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
