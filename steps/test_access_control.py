"""Access control, cell by cell (features/access_control.feature, Examples generated from the role matrix)."""

from __future__ import annotations

import hashlib
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect
from pytest_bdd import parsers, scenarios, then, when

from fixtures.actors import Actor
from fixtures.target import load_target
from pages import SSI
from steps.common import expect_function_offered, expect_function_withheld
from uept import access_matrix
from uept.errors import UsageError
from uept.features import register_generated
from uept.plugin import RUN_DIR_KEY, active_config
from uept.profile import load_profile

TEMPLATE = Path(__file__).resolve().parent.parent / "features" / "access_control.feature"


def generated_feature() -> Path:
    """Fill the template's Examples from the target's role matrix. pytest-bdd runs the result from
    .uept/generated/ under the suite (Allure's plugin needs features inside the suite's root, and the
    run's folder may be anywhere: UEPT_REPORTS_DIR); a copy is kept in the run's evidence folder."""
    cfg = active_config()
    _, resolved = load_target(cfg)
    try:
        text = access_matrix.generate(TEMPLATE, load_profile(resolved.target.profile).role_matrix,
                                      resolved.target.personas)
    except UsageError as exc:
        raise pytest.UsageError(exc.line()) from None
    if cfg is None:  # imported outside a pytest run
        return access_matrix.write_feature(text, Path(tempfile.mkdtemp(prefix="uept-features-")), TEMPLATE.name)
    access_matrix.write_feature(text, cfg.stash[RUN_DIR_KEY] / "features", TEMPLATE.name)
    digest = hashlib.sha256(text.encode()).hexdigest()[:16]
    runnable = access_matrix.write_feature(text, Path(cfg.rootpath) / ".uept" / "generated" / digest, TEMPLATE.name)
    register_generated(runnable, TEMPLATE)
    return runnable


scenarios(str(generated_feature()))


# ---------------------------------------------------------------- one browser context per worker
@pytest.fixture(scope="module")
def _cells_page(browser: Browser, browser_context_args: dict) -> Iterator[Page]:
    ctx = browser.new_context(**browser_context_args)
    yield ctx.new_page()
    ctx.close()


@pytest.fixture
def page(_cells_page: Page) -> Page:
    """The cells only read: they share one browser page per worker (each re-applies its persona's
    session cookies and gets its own trace and screenshots), instead of a new context each."""
    return _cells_page


@pytest.fixture
def context(page: Page) -> BrowserContext:
    return page.context


# ---------------------------------------------------------------- the cells
@then(parsers.parse('the menu offers "{function}" and its page opens for me'))
def offered_and_opens(ssi: SSI, function: str) -> None:
    expect_function_offered(ssi, ssi.profile.role_matrix.component_named(function).key)


@then(parsers.parse('the menu does not offer "{function}" and its address is refused with a readable 403 page'))
def withheld_and_refused(ssi: SSI, function: str) -> None:
    expect_function_withheld(ssi, ssi.profile.role_matrix.component_named(function).key)


# ---------------------------------------------------------------- my profile
@when("I open my profile")
def open_my_profile(ssi: SSI) -> None:
    ssi.user_profile.open()


@then(parsers.parse('my profile lists the Job Type Role "{role}"'))
def profile_lists_role(ssi: SSI, role: str) -> None:
    expect(ssi.user_profile.roles).to_contain_text(ssi.profile.role_matrix.role(role).name)


@then("my profile says Yes exactly for the functions the role matrix grants my roles")
def profile_matches_matrix(ssi: SSI, actor: Actor) -> None:
    matrix = ssi.profile.role_matrix
    granted = matrix.components_for(actor.persona.roles)
    expected = {c.name: "Yes" if c.key in granted else "No" for c in matrix.components}
    expect(ssi.user_profile.functions).to_be_visible()
    shown = ssi.user_profile.function_availability()
    assert shown == expected, "my profile's Yes/No lines differ from the role matrix: " + "; ".join(
        f"{name}: shown {shown.get(name, 'missing')}, matrix {want}"
        for name, want in expected.items() if shown.get(name) != want
    ) + "".join(f"; {name}: shown but not in the matrix" for name in shown if name not in expected)


# ---------------------------------------------------------------- no Log In
@then("I am refused because my Job Type Roles do not give me access to the SSI")
def refused_no_log_in(ssi: SSI) -> None:
    expect(ssi.login.alert).to_be_visible()
    expect(ssi.login.user_name).to_be_visible()
    expect(ssi.home.sign_out_button).to_have_count(0)
