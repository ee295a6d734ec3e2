"""'Remember this browser' on the MFA page (refssi/auth/remember.py), over HTTP against servers of their own:
a later sign-in of the same user in the same browser skips the code; the password is still checked; another
user in that browser, a browser that never ticked the box, and the user after an MFA reset are asked again.
The fault remembered_for_anyone shows the per-user check is what stops the second user."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest

from ssi.profile import PROFILES_DIR, load_profile
from tests.helpers import Portal
from uept.runtime.reference import EmbeddedSSI, RunningSSI

PROFILE = load_profile(PROFILES_DIR / "reference.yaml")
MFA_PAGE = "/validate_multifactor_auth_code.do"
COOKIE = "glide_mfa_remembered_browser"


@pytest.fixture(scope="module")
def server() -> Iterator[RunningSSI]:
    with EmbeddedSSI() as s:
        yield s


def sign_in(p: Portal, s: RunningSSI, persona: str, user: str, *, remember: bool) -> None:
    sec = s.secrets[persona]
    r = p.password(user, sec["password"])
    assert r.headers.get("location") == MFA_PAGE, r.text[:300]
    fields = {"txtResponse": p.fresh_code(user, sec["totp_seed"])} | ({"remember_browser": "true"} if remember else {})
    r = p.post("/validate_mfa_code.do", fields, csrf_from=MFA_PAGE)
    assert (r.status_code, r.headers.get("location")) == (303, "/sp?id=index"), r.text[:300]


def sign_out(p: Portal) -> None:
    assert p.post("/logout.do", {}, csrf_from="/logout.do").status_code == 303


def password_only(p: Portal, s: RunningSSI, persona: str, user: str, password: str | None = None):
    return p.password(user, password or s.secrets[persona]["password"])


def test_the_mfa_page_offers_the_box(server):
    p = Portal(server.url)
    password_only(p, server, "authenticator user", "alex.turner")
    page = p.http.get(MFA_PAGE).text
    assert re.search(r'<input type="checkbox" id="remember_browser" name="remember_browser"', page)
    assert f'<label for="remember_browser">{PROFILE.label("mfa.remember_browser")}</label>' in page


def test_a_remembered_browser_skips_the_code_for_that_user_only(server):
    p = Portal(server.url)
    sign_in(p, server, "authenticator user", "alex.turner", remember=True)
    assert p.http.cookies.get(COOKIE)
    sign_out(p)
    again = password_only(p, server, "authenticator user", "alex.turner")
    assert (again.status_code, again.headers["location"]) == (303, "/sp?id=index")  # no code asked
    assert p.http.get("/sp?id=index").status_code == 200
    sign_out(p)
    wrong = password_only(p, server, "authenticator user", "alex.turner", "Not-the-password-1")
    assert wrong.status_code == 200 and "location" not in wrong.headers  # never a way past the password
    other = password_only(p, server, "mistyped password user", "carl.mills")
    assert other.headers["location"] == MFA_PAGE  # another user in the same browser is asked for a code
    fresh = password_only(Portal(server.url), server, "authenticator user", "alex.turner")
    assert fresh.headers["location"] == MFA_PAGE  # a browser that was not remembered


def test_a_sign_in_without_the_box_remembers_nothing(server):
    p = Portal(server.url)
    sign_in(p, server, "replay user", "gus.hart", remember=False)
    assert not p.http.cookies.get(COOKIE)
    sign_out(p)
    assert password_only(p, server, "replay user", "gus.hart").headers["location"] == MFA_PAGE


def test_an_mfa_reset_forgets_the_users_browsers(server):
    p = Portal(server.url)
    sign_in(p, server, "idle user", "ivan.shaw", remember=True)
    sign_out(p)
    admin = Portal(server.url)
    sign_in(admin, server, "OA user", "oa.nps", remember=False)
    listing = admin.http.get("/sp", params={"id": "user_admin", "q": "ivan.shaw"}).text
    sys_id = re.search(r'sys_id=(\w+)">ivan\.shaw<', listing).group(1)
    url = f"/sp?id=user_admin_user&sys_id={sys_id}"
    assert admin.post(url, {"action": "reset_mfa"}).status_code == 303
    r = password_only(p, server, "idle user", "ivan.shaw")
    assert r.headers["location"] == MFA_PAGE  # asked to enrol again, not let through


def test_with_the_per_user_check_broken_another_user_skips_the_code():
    with EmbeddedSSI(unsafe={"remembered_for_anyone"}) as s:
        p = Portal(s.url)
        sign_in(p, s, "authenticator user", "alex.turner", remember=True)
        sign_out(p)
        r = password_only(p, s, "mistyped password user", "carl.mills")
        assert r.headers["location"] == "/sp?id=index"


def test_the_page_objects_tick_the_box_and_the_next_sign_in_lands_home(server):
    """MfaPage.submit_code(remember_browser=True) in Chromium; the steps of a mandated run never tick it
    (each sign-in there proves the second factor)."""
    from playwright.sync_api import expect, sync_playwright

    from pages import SSI
    from uept.runtime import browser
    from uept.runtime.secrets import Secret

    sec = server.secrets["expired code user"]
    password = Secret(sec["password"], "password of evan.lee")
    otp = Portal(server.url).totp_source("evan.lee", sec["totp_seed"])
    with sync_playwright() as pw:
        b = pw.chromium.launch(**browser.resolve().launch_args())
        try:
            ssi = SSI(b.new_page(base_url=server.url), PROFILE)
            ssi.login.open()
            ssi.login.sign_in("evan.lee", password)
            ssi.mfa.submit_code(otp.code(), remember_browser=True)
            expect(ssi.home.signed_in).to_be_visible()
            ssi.home.sign_out()
            ssi.login.open()
            ssi.login.sign_in("evan.lee", password)
            expect(ssi.home.signed_in).to_be_visible()
            expect(ssi.mfa.code).to_have_count(0)
        finally:
            b.close()
