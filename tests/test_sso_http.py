"""Single sign-on through the imitated Microsoft Entra ID, checked over plain HTTP (no browser):
the SSI's side (refssi/auth/sso.py) and Entra's (refssi/auth/entra.py)."""

from __future__ import annotations

import base64
import json
import re
import time
from urllib.parse import parse_qs, urlparse

import httpx
import pytest

from ssi.profile import load_profile
from tests.helpers import Portal
from uept.runtime.reference import EmbeddedSSI, RunningSSI

PROFILE = load_profile()
ENTRA_HOST = "login.microsoftonline.localhost"
TENANT = PROFILE.sso.tenant
UPN = "tess.ward@nps.example.com"  # the "Entra test user": no feature uses it
LABELS = PROFILE.labels["entra"]
FLOW = re.compile(r'name="flowToken" value="([^"]+)"')
FAILED = PROFILE.label("login.sso_failed")


class Entra:
    """The same server, asked for by the Entra host name (another origin, as the browser sees it)."""

    def __init__(self, server: RunningSSI) -> None:
        port = urlparse(server.url).port
        self.origin = f"http://{ENTRA_HOST}:{port}"
        self.http = httpx.Client(base_url=server.url, headers={"Host": f"{ENTRA_HOST}:{port}"}, timeout=20)

    def get(self, url: str) -> httpx.Response:
        assert url.startswith(self.origin), url
        return self.http.get(url[len(self.origin):])

    def post(self, flow: str, **fields: str) -> httpx.Response:
        return self.http.post(f"/{TENANT}/login", data={"flowToken": flow, **fields})


def start(server: RunningSSI, portal: Portal) -> tuple[Entra, str, dict]:
    """Follow 'Use external login' to Entra's first page: (client, flowToken, the SAML request)."""
    login = portal.http.get("/sp?id=login")
    link = re.search(r'href="(/login_locate_sso\.do)"', login.text)
    assert link, "the login page offers no external login"
    r = portal.post(link.group(1), {"user_name": UPN})
    assert r.status_code == 303 and r.headers["location"].startswith("/login_with_sso.do?"), r.text[:300]
    r = portal.http.get(r.headers["location"])
    assert r.status_code == 303
    entra = Entra(server)
    page = entra.get(r.headers["location"])
    assert page.status_code == 200, page.text[:300]
    query = parse_qs(urlparse(r.headers["location"]).query)
    request = json.loads(base64.urlsafe_b64decode(query["SAMLRequest"][0].split(".")[0]))
    return entra, FLOW.search(page.text).group(1), request


def fresh_code(portal: Portal, server: RunningSSI, persona: str = "Entra test user") -> str:
    return portal.fresh_code(UPN, server.secrets[persona]["totp_seed"])


def sign_in_at_entra(server: RunningSSI, portal: Portal) -> tuple[str, str, str]:
    """A whole sign-in at Entra: (the form's action, SAMLResponse, RelayState) of the page that posts back."""
    entra, flow, _ = start(server, portal)
    assert "Enter password" in entra.post(flow, loginfmt=UPN).text
    assert LABELS["code_heading"] in entra.post(flow, passwd=server.secrets["Entra test user"]["password"]).text
    assert LABELS["kmsi_heading"] in entra.post(flow, otc=fresh_code(portal, server)).text
    done = entra.post(flow, LoginOptions="3")
    assert done.status_code == 200
    action = re.search(r'<form method="POST" name="hiddenform" action="([^"]+)"', done.text).group(1)
    response = re.search(r'name="SAMLResponse" value="([^"]+)"', done.text).group(1)
    relay = re.search(r'name="RelayState" value="([^"]*)"', done.text).group(1)
    assert f"form-action 'self' {server.url}" in done.headers["content-security-policy"]
    return action, response, relay


def test_the_login_page_sends_a_signed_request_to_entra(reference_ssi):
    portal = Portal(reference_ssi.url)
    login = portal.http.get("/sp?id=login").text
    assert 'href="/login_locate_sso.do"' in login and PROFILE.label("login.external") in login
    r = portal.http.get(f"/login_with_sso.do?glide_sso_id={PROFILE.sso.glide_sso_id}")
    assert r.status_code == 303
    where = urlparse(r.headers["location"])
    assert (where.hostname, where.path) == (ENTRA_HOST, f"/{TENANT}/saml2")
    query = parse_qs(where.query)
    assert query["RelayState"] == ["/sp?id=index"]
    body, _, signature = query["SAMLRequest"][0].partition(".")
    request = json.loads(base64.urlsafe_b64decode(body))
    assert request["AssertionConsumerServiceURL"] == f"{reference_ssi.url}/navpage.do" and len(signature) == 64
    assert portal.http.get("/login_with_sso.do?glide_sso_id=" + "0" * 32).status_code == 404


def test_the_intermediate_page_sends_only_a_federated_user_on_to_entra(reference_ssi):
    """login_locate_sso.do: Entra for an account federated with it; for a local account, an unknown or an
    inactive one the same refusal (the page does not tell who has an account), and no request sent."""
    portal = Portal(reference_ssi.url)
    page = portal.http.get("/login_locate_sso.do")
    assert page.status_code == 200 and PROFILE.label("login.locate_heading") in page.text
    r = portal.post("/login_locate_sso.do", {"user_name": UPN})
    assert (r.status_code, r.headers["location"]) == (
        303, f"/login_with_sso.do?glide_sso_id={PROFILE.sso.glide_sso_id}")
    refusals = set()
    for name in ("alex.turner", "nobody.here", "", "legacy.user.nps"):
        r = portal.post("/login_locate_sso.do", {"user_name": name})
        assert r.status_code == 200 and "location" not in r.headers, name
        refusals.add(re.search(r'role="alert">([^<]+)<', r.text).group(1))
    assert len(refusals) == 1 and "not available for this user name" in refusals.pop()
    forged = portal.http.post("/login_locate_sso.do", data={"user_name": UPN, "sysparm_ck": "forged"})
    assert forged.status_code == 403


def test_a_federated_user_signs_in_at_entra_once_and_only_once(reference_ssi):
    portal = Portal(reference_ssi.url)
    action, response, relay = sign_in_at_entra(reference_ssi, portal)
    assert action == f"{reference_ssi.url}/navpage.do" and relay == "/sp?id=index"
    r = portal.http.post("/navpage.do", data={"SAMLResponse": response, "RelayState": relay})
    assert (r.status_code, r.headers.get("location")) == (303, "/sp?id=index"), r.text[:500]
    home = portal.http.get("/sp?id=index")
    assert "Log out" in home.text and PROFILE.label("home.confirmation") in home.text and "Tess Ward" in home.text
    # the same response a second time, in another browser: refused, nobody signed in
    again = Portal(reference_ssi.url)
    r = again.http.post("/navpage.do", data={"SAMLResponse": response, "RelayState": relay})
    assert r.status_code == 403 and FAILED in r.text
    assert again.http.get("/sp?id=index").status_code in (302, 303)


def test_entra_refuses_an_unknown_account_a_wrong_password_and_wrong_or_used_codes(reference_ssi):
    portal = Portal(reference_ssi.url)
    entra, flow, _ = start(reference_ssi, portal)
    assert LABELS["unknown_account"] in entra.post(flow, loginfmt="nobody@nps.example.com").text
    assert "Enter password" in entra.post(flow, loginfmt=UPN).text
    wrong = entra.post(flow, passwd="Not-the-password-1")
    assert LABELS["wrong_password"].replace("'", "&#39;") in wrong.text and LABELS["code_heading"] not in wrong.text
    assert LABELS["code_heading"] in entra.post(flow, passwd=reference_ssi.secrets["Entra test user"]["password"]).text
    code = fresh_code(portal, reference_ssi)
    wrong_code = f"{(int(code) + 1) % 10**6:06d}"
    assert LABELS["wrong_code"].replace("'", "&#39;") in entra.post(flow, otc=wrong_code).text
    assert LABELS["kmsi_heading"] in entra.post(flow, otc=code).text
    # the same code in a second sign-in: refused (a code is good for one sign-in)
    entra2, flow2, _ = start(reference_ssi, Portal(reference_ssi.url))
    entra2.post(flow2, loginfmt=UPN)
    entra2.post(flow2, passwd=reference_ssi.secrets["Entra test user"]["password"])
    assert LABELS["wrong_code"].replace("'", "&#39;") in entra2.post(flow2, otc=code).text


def test_entra_needs_its_flow_token_and_its_tenant(reference_ssi):
    entra = Entra(reference_ssi)
    r = entra.post("forged-token", loginfmt=UPN)
    assert r.status_code == 400 and "AADSTS50132" in r.text
    assert entra.http.get("/00000000-0000-0000-0000-000000000000/saml2?SAMLRequest=x").status_code == 404
    r = entra.http.get(f"/{TENANT}/saml2?SAMLRequest=forged.0000")
    assert r.status_code == 400 and "AADSTS50011" in r.text  # a request the SSI did not sign


def test_a_federated_account_has_no_servicenow_password(reference_ssi):
    r = Portal(reference_ssi.url).password(UPN, reference_ssi.secrets["Entra test user"]["password"])
    assert r.status_code == 200 and PROFILE.label("login.invalid") in r.text


def test_entra_locks_the_account_after_repeated_failures():
    with EmbeddedSSI() as server:
        portal = Portal(server.url)
        entra, flow, _ = start(server, portal)
        entra.post(flow, loginfmt=UPN)
        for _ in range(PROFILE.sso.lockout_threshold):
            entra.post(flow, passwd="Not-the-password-1")
        locked = entra.post(flow, passwd=server.secrets["Entra test user"]["password"])  # right, but too late
        assert LABELS["locked"] in locked.text and LABELS["code_heading"] not in locked.text


def test_a_tampered_response_is_refused(reference_ssi):
    portal = Portal(reference_ssi.url)
    _, response, relay = sign_in_at_entra(reference_ssi, portal)
    body, _, signature = response.partition(".")
    data = json.loads(base64.urlsafe_b64decode(body))
    data["NameID"] = "aa.nps"  # someone else, with the identity provider's signature kept
    forged = base64.urlsafe_b64encode(json.dumps(data).encode()).decode() + "." + signature
    r = portal.http.post("/navpage.do", data={"SAMLResponse": forged, "RelayState": relay})
    assert r.status_code == 403 and "not signed by the identity provider" in r.text
    assert portal.http.get("/sp?id=index").status_code in (302, 303)


@pytest.fixture(scope="module")
def unsigned_ssi():
    """A server that takes a response whatever signed it, so that each other check can be tried alone."""
    with EmbeddedSSI(unsafe={"sso_skip_signature_check"}) as server:
        yield server


def craft(server: RunningSSI, portal: Portal, **changes) -> httpx.Response:
    r = portal.http.get(f"/login_with_sso.do?glide_sso_id={PROFILE.sso.glide_sso_id}")
    request = json.loads(base64.urlsafe_b64decode(parse_qs(urlparse(r.headers["location"]).query)["SAMLRequest"][0]
                                                  .split(".")[0]))
    t = time.time()
    data = {"ID": f"_crafted{t}", "InResponseTo": request["ID"], "Destination": f"{server.url}/navpage.do",
            "Audience": server.url, "NameID": UPN, "NotBefore": t, "NotOnOrAfter": t + 300, **changes}
    token = base64.urlsafe_b64encode(json.dumps(data).encode()).decode() + ".unsigned"
    return portal.http.post("/navpage.do", data={"SAMLResponse": token, "RelayState": "/sp?id=index"})


@pytest.mark.parametrize(("changes", "why"), [
    ({"Audience": "https://another-service.example.com"}, "meant for another service"),
    ({"Destination": "https://another-service.example.com/navpage.do"}, "meant for another service"),
    ({"NotOnOrAfter": time.time() - 3600}, "has expired"),
    ({"NotBefore": time.time() + 3600}, "has expired"),
    ({"InResponseTo": "_a-request-the-ssi-never-sent"}, "answers no sign-in this SSI started"),
    ({"NameID": "nobody@nps.example.com"}, "no active SSI account"),
])
def test_every_other_part_of_the_response_is_checked(unsigned_ssi, changes, why):
    assert craft(unsigned_ssi, Portal(unsigned_ssi.url)).status_code == 303  # the crafted response itself is good
    portal = Portal(unsigned_ssi.url)
    r = craft(unsigned_ssi, portal, **changes)
    assert r.status_code == 403 and why in r.text, r.text[:600]
    assert portal.http.get("/sp?id=index").status_code in (302, 303)


@pytest.mark.parametrize("ui", ["legacy", "new"])
def test_the_two_sign_in_ui_generations(ui):
    with EmbeddedSSI(overrides={"entra_ui": ui}) as server:
        _, flow, _ = start(server, Portal(server.url))
        page = Entra(server).post(flow, loginfmt="nobody@nps.example.com").text
    legacy = ['id="i0116"', 'id="idSIButton9"', 'id="usernameError"']
    new = ['data-testid="primaryButton"', 'data-testid="error"']
    assert all((hook in page) == (ui == "legacy") for hook in legacy), page
    assert all((hook in page) == (ui == "new") for hook in new), page
    assert 'name="loginfmt"' in page and f'aria-label="{LABELS["email"]}"' in page  # the same for both


def test_the_whole_ceremony_in_a_browser_as_fixtures_sign_personas_in(reference_ssi):
    """journeys.sign_in(identity='entra'): what 'Given I am signed in as ...' does for a federated persona."""
    from playwright.sync_api import expect, sync_playwright

    from pages import SSI, journeys
    from uept.runtime import browser
    from uept.runtime.secrets import Secret

    secrets = reference_ssi.secrets["Entra test user"]
    otp = Portal(reference_ssi.url).totp_source(UPN, secrets["totp_seed"])  # shared with the other tests here
    with sync_playwright() as pw:
        b = pw.chromium.launch(**browser.resolve().launch_args())
        try:
            ssi = SSI(b.new_page(base_url=reference_ssi.url), PROFILE)
            journeys.sign_in(ssi, UPN, Secret(secrets["password"], "password of the Entra test user"), otp, "entra")
            expect(ssi.home.login_confirmation).to_be_visible()
            assert urlparse(ssi.page.url).hostname == "127.0.0.1"  # back at the SSI, signed in
        finally:
            b.close()
