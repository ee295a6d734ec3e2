"""The clicks of features/mfa_login.feature as a plain Playwright script: no pytest, no
Gherkin, no evidence. bench/mfa_login.py compares the harness against it."""

from __future__ import annotations

import re
import time

import httpx
import pyotp
from playwright.sync_api import Page, expect, sync_playwright

from ssi.profile import load_profile
from uept.runtime.browser import resolve

L = load_profile().labels


class Totp:
    """Same rules as the harness: never within 5 s of the edge, never the same step twice."""

    waited = 0.0

    def __init__(self, seed: str) -> None:
        self.totp, self.last = pyotp.TOTP(seed), -1

    def code(self) -> str:
        now = time.time()
        step = int(now // 30) + (1 if 30 - now % 30 < 5 else 0)
        step = max(step, self.last + 1)
        if step * 30 > now:
            Totp.waited += step * 30 - now
            time.sleep(step * 30 - now + 0.05)
        self.last = step
        return self.totp.at(step * 30)


def run(url: str, secrets: dict, token: str, screenshots: bool = False) -> tuple[float, float]:
    """(seconds, of which seconds spent waiting for fresh TOTP time steps)."""
    Totp.waited = 0.0
    t0 = time.monotonic()
    mail = httpx.Client(base_url=f"{url}/_mailsink/api/v1", headers={"Authorization": f"Bearer {token}"})
    op = httpx.Client(base_url=f"{url}/_operator", headers={"Authorization": f"Bearer {token}"})
    user = {p: v for p, v in secrets.items()}
    names = {"authenticator user": "alex.turner", "email code user": "bea.khan", "new user": "new.starter",
             "mistyped password user": "carl.mills", "mistyped code user": "dana.price",
             "expired code user": "evan.lee", "expired email code user": "fay.ross", "replay user": "gus.hart",
             "lockout user": "hana.cole", "idle user": "ivan.shaw", "sign-out user": "jill.ford",
             "returning user": "kai.moss", "Entra user": "nia.patel@nps.example.com",
             "Entra mistyped code user": "rob.quinn@nps.example.com"}
    totps = {p: Totp(v["totp_seed"]) for p, v in user.items() if "totp_seed" in v}

    def login(page: Page, persona: str, password: str | None = None, open_page: bool = True) -> None:
        if open_page:
            page.goto(f"{url}/sp?id=login")
        page.get_by_label(L["login"]["username"], exact=True).fill(names[persona])
        page.get_by_label(L["login"]["password"], exact=True).fill(password or user[persona]["password"])
        with page.expect_navigation():
            page.get_by_role("button", name=L["login"]["submit"], exact=True).click()

    def code(page: Page, value: str) -> None:
        page.get_by_label(L["mfa"]["code"], exact=True).fill(value)
        with page.expect_navigation():
            page.get_by_role("button", name=L["mfa"]["verify"], exact=True).click()

    def email_code(address: str, since: float) -> str:
        msgs = mail.get("/messages", params={"to": address, "since": since}).json()["messages"]
        body = mail.get(f"/message/{msgs[0]['ID']}").json()["Text"]
        return re.search(r"\b(\d{6})\b", body).group(1)

    def signed_in(page: Page) -> None:
        expect(page.get_by_role("status").filter(has_text=L["home"]["confirmation"])).to_be_visible()

    def sign_out(page: Page) -> None:
        with page.expect_navigation():
            page.get_by_role("button", name=L["home"]["sign_out"], exact=True).click()

    chromium = resolve()
    with sync_playwright() as p:
        browser = p.chromium.launch(**chromium.launch_args())

        def scenario(fn) -> None:
            ctx = browser.new_context(viewport={"width": 1280, "height": 800})
            page = ctx.new_page()
            fn(page)
            if screenshots:
                page.screenshot(type="jpeg", quality=70)
            ctx.close()

        def s01(page):
            login(page, "authenticator user")
            code(page, totps["authenticator user"].code())
            signed_in(page)
            page.goto(f"{url}/sp?id=user_profile")
            expect(page.locator("#profile_user_name")).to_have_text("alex.turner")

        def s02(page):
            since = time.time() - 1
            login(page, "email code user")
            code(page, email_code("bea.khan@nps.example.com", since))
            signed_in(page)

        def s03(page):
            login(page, "new user")
            page.get_by_label(L["mfa"]["method_authenticator"]).check()
            with page.expect_navigation():
                page.get_by_role("button", name=L["mfa"]["continue"]).click()
            seed = page.get_by_label(L["mfa"]["manual_key"], exact=True).inner_text().replace(" ", "")
            totps["new user"] = Totp(seed)
            code(page, totps["new user"].code())
            for label, value in (("first_name", "Nia"), ("last_name", "Lloyd"), ("email", "nia@nps.example.com"),
                                 ("phone", "01632 960111")):
                page.get_by_label(L["first_login"][label], exact=True).fill(value)
            with page.expect_navigation():
                page.get_by_role("button", name=L["first_login"]["save"]).click()
            signed_in(page)
            sign_out(page)
            login(page, "new user", open_page=False)
            code(page, totps["new user"].code())
            signed_in(page)

        def s04(page, who):
            page.goto(f"{url}/sp?id=login")
            page.get_by_label(L["login"]["username"], exact=True).fill(who)
            page.get_by_label(L["login"]["password"], exact=True).fill("wrong-password-123")
            with page.expect_navigation():
                page.get_by_role("button", name=L["login"]["submit"], exact=True).click()
            expect(page.get_by_role("alert")).to_have_text(L["login"]["invalid"])

        def s05(page):
            login(page, "mistyped code user")
            code(page, "000001")
            expect(page.get_by_role("alert")).to_contain_text("Invalid verification code")

        def s06(page):
            login(page, "expired code user")
            code(page, totps["expired code user"].totp.at(time.time() - 120))
            expect(page.get_by_role("alert")).to_contain_text("Invalid verification code")

        def s07(page):
            since = time.time() - 1
            login(page, "expired email code user")
            op.post("/age", json={"kind": "email_code", "user_name": "fay.ross", "seconds": 301})
            code(page, email_code("fay.ross@nps.example.com", since))
            expect(page.get_by_role("alert")).to_contain_text("This code has expired")

        def s08(page):
            login(page, "replay user")
            used = totps["replay user"].code()
            code(page, used)
            signed_in(page)
            sign_out(page)
            login(page, "replay user", open_page=False)
            code(page, used)
            expect(page.get_by_role("alert")).to_contain_text("already been used")

        def s09(page):
            page.goto(f"{url}/sp?id=login")
            for _ in range(5):
                login(page, "lockout user", password="wrong-password-123", open_page=False)
            expect(page.get_by_role("alert")).to_contain_text("Your account is locked")
            login(page, "lockout user", open_page=False)
            expect(page.get_by_role("alert")).to_contain_text("Your account is locked")

        def s10(page):
            login(page, "idle user")
            code(page, totps["idle user"].code())
            op.post("/age", json={"kind": "session", "user_name": "ivan.shaw", "seconds": 901})
            page.goto(f"{url}/sp?id=index")
            expect(page.get_by_role("alert")).to_contain_text("expired")

        def s11(page):
            login(page, "sign-out user")
            code(page, totps["sign-out user"].code())
            sign_out(page)
            expect(page.get_by_role("status")).to_contain_text(L["home"]["signed_out"])
            page.goto(f"{url}/sp?id=index")
            expect(page.get_by_label(L["login"]["username"], exact=True)).to_be_visible()

        def s12(page):
            page.goto(f"{url}/sp?id=user_profile")
            login(page, "returning user", open_page=False)
            code(page, totps["returning user"].code())
            expect(page.locator("#profile_user_name")).to_have_text("kai.moss")

        def entra(page, persona, value):
            page.goto(f"{url}/sp?id=login")
            with page.expect_navigation():
                page.get_by_role("link", name=L["login"]["external"], exact=True).click()
            if load_profile().sso.locate_page:  # the page asking for the user name before the identity provider
                page.get_by_label(L["login"]["username"], exact=True).fill(names[persona])
                with page.expect_navigation():
                    page.get_by_role("button", name=L["login"]["locate_submit"], exact=True).click()
            for field, text, button in (("loginfmt", names[persona], "next"),
                                        ("passwd", user[persona]["password"], "sign_in"), ("otc", value, "verify")):
                page.locator(f"input[name={field}]").fill(text)
                with page.expect_navigation():
                    page.get_by_role("button", name=L["entra"][button], exact=True).click()

        def s13(page):
            entra(page, "Entra user", totps["Entra user"].code())
            page.get_by_role("button", name=L["entra"]["no"], exact=True).click()
            signed_in(page)
            page.goto(f"{url}/sp?id=user_profile")
            expect(page.locator("#profile_user_name")).to_have_text(names["Entra user"])

        def s14(page):
            entra(page, "Entra mistyped code user", "000001")
            expect(page.get_by_role("alert")).to_contain_text("expected verification code")

        for fn in (s01, s02, s03, lambda pg: s04(pg, "carl.mills"), lambda pg: s04(pg, "nobody.9999"), s05, s06, s07,
                   s08, s09, s10, s11, s12, s13, s14):
            scenario(fn)
        browser.close()
    return time.monotonic() - t0, Totp.waited
