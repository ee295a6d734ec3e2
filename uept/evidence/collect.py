"""Every feature file is collected as a test module of its own: no Python module per feature.

A tester adds a `.feature` file and nothing else: `pytest features/x.feature` (what `uept run` does)
collects its scenarios, each exactly once, with every step of the shared step library (the step
modules conftest.py registers as plugins) available to it. Node IDs name the feature file
(`features/x.feature::test_...`).

A feature whose Examples are generated from the target profile's role matrix (a template with
`# uept:generate` tables, uept/evidence/access_matrix.py) is completed here, at collection: the
completed text runs from `.uept/generated/<digest>/` under the suite (Allure's pytest-bdd plugin
needs every feature inside the suite's root), a copy goes into the run folder's `features/`, and
results name the template.

A feature may ask the suite for fixtures of its own module through the hook
`pytest_uept_feature_fixtures(config, tags)` (e.g. one browser page shared by the read-only
access-control cells of a worker), as a hand-written test module would define them.
"""

from __future__ import annotations

import hashlib
import re
import types
from pathlib import Path
from typing import Any

import pytest

from ssi.errors import UsageError
from ssi.profile import load_profile
from uept.evidence import access_matrix
from uept.evidence.features import register_generated
from uept.runtime import config as uept_config
from uept.runtime.run import RUN_DIR_KEY


class FeatureHooks:
    @pytest.hookspec(firstresult=False)
    def pytest_uept_feature_fixtures(self, config: pytest.Config, tags: frozenset[str]) -> dict[str, Any] | None:
        """Fixtures (name -> fixture function) for the module of a feature with these feature-level tags."""


def _completed(template: Path, config: pytest.Config) -> Path:
    """The template's Examples filled in from the target's role matrix; the path of the file to run."""
    try:
        settings = uept_config.load_settings(uept_config.config_path(config.getoption("--uept-config")))
        resolved = uept_config.resolve_target(settings, config.getoption("--uept-target"))
        profile = load_profile(resolved.target.profile)
        text = access_matrix.generate(template, profile.role_matrix, resolved.target.personas, profile)
    except UsageError as exc:
        raise pytest.UsageError(exc.line()) from None
    access_matrix.write_feature(text, config.stash[RUN_DIR_KEY] / "features", template.name)
    digest = hashlib.sha256(text.encode()).hexdigest()[:16]
    runnable = access_matrix.write_feature(text, Path(config.rootpath) / ".uept" / "generated" / digest,
                                           template.name)
    register_generated(runnable, template)
    return runnable


def _feature_tags(path: Path) -> frozenset[str]:
    """The feature-level tags (the tag lines above `Feature:`)."""
    tags: set[str] = set()
    for line in path.read_text(encoding="utf-8").splitlines():
        stripped = line.strip()
        if stripped.startswith("Feature:"):
            break
        if stripped.startswith("@"):
            tags.update(t[1:] for t in stripped.split("#", 1)[0].split())
    return frozenset(tags)


class FeatureModule(pytest.Module):
    """A feature file as pytest's module: the scenarios pytest-bdd binds, plus the fixtures it asks for."""

    def _getobj(self) -> types.ModuleType:
        path = Path(self.path)
        runnable = _completed(path, self.config) if access_matrix.is_template(path.read_text(encoding="utf-8")) \
            else path
        name = "feature_" + re.sub(r"\W+", "_", path.stem)
        module = types.ModuleType(name, f"Scenarios of {path.name}")
        module.__file__ = str(path)
        for fixtures in self.config.hook.pytest_uept_feature_fixtures(config=self.config, tags=_feature_tags(path)):
            module.__dict__.update(fixtures or {})
        code = compile("from pytest_bdd import scenarios as _bind\n_bind(_feature)\ndel _bind, _feature\n",
                       str(path), "exec")
        module.__dict__["_feature"] = str(runnable.resolve())
        exec(code, module.__dict__)  # scenarios() puts one test function per scenario into the module
        return module


def pytest_addhooks(pluginmanager: pytest.PytestPluginManager) -> None:
    pluginmanager.add_hookspecs(FeatureHooks)


def pytest_collect_file(file_path: Path, parent: pytest.Collector) -> pytest.Collector | None:
    if file_path.suffix == ".feature":
        return FeatureModule.from_parent(parent, path=file_path)
    return None
