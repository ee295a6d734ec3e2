"""The reference SSI's security rules, checked over plain HTTP (no browser)."""

from __future__ import annotations

import re
import time

import httpx
import pyotp
import pytest

from tests.helpers import Portal
from uept.runtime.reference import EmbeddedSSI


def op(server, method: str, path: str, **kw) -> httpx.Response:
    return httpx.request(method, f"{server.url}/_operator{path}",
                         headers={"Authorization": f"Bearer {server.operator_token}"}, **kw)


def test_every_form_needs_its_csrf_token(reference_ssi):
    c = httpx.Client(base_url=reference_ssi.url)
    c.get("/sp?id=login")  # a session, but no token in the post
    for path, data in [("/sp?id=login", {"sysparm_type": "view_form.login", "user_name": "x", "user_password": "y"}),
                       ("/login.do", {"user_name": "x", "user_password": "y"}),
                       ("/logout.do", {})]:
        r = c.post(path, data=data)
        assert r.status_code == 403, (path, r.status_code)
        assert "Invalid security token" in r.text
    r = c.post("/login.do", data={"user_name": "x", "user_password": "y", "sysparm_ck": "forged"})
    assert r.status_code == 403


def test_session_cookie_is_httponly_samesite_and_renewed_at_login(reference_ssi):
    p = Portal(reference_ssi.url)
    r = p.http.get("/sp?id=login")
    cookie = r.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie.replace("Lax", "lax") and "Path=/" in cookie
    anon = p.http.cookies["JSESSIONID"]
    sec = reference_ssi.secrets["AA user"]
    p.login("aa.nps", sec["password"], sec["totp_seed"])
    assert p.http.cookies["JSESSIONID"] != anon  # no session fixation
    home = p.http.get("/sp?id=index")
    assert home.status_code == 200 and "Log out" in home.text
    for header in ("Content-Security-Policy", "X-Frame-Options", "X-Content-Type-Options"):
        assert header in home.headers


def test_passwords_are_stored_as_argon2id_hashes(reference_ssi):
    state = op(reference_ssi, "GET", "/users/alex.turner").json()
    assert state["hash_prefix"].startswith("$argon2id$")


def test_operator_api_needs_the_token(reference_ssi):
    assert httpx.get(f"{reference_ssi.url}/_operator/users/alex.turner").status_code == 401
    assert httpx.get(f"{reference_ssi.url}/_mailsink/api/v1/messages").status_code == 401


def test_protected_pages_redirect_to_login_and_back(reference_ssi):
    p = Portal(reference_ssi.url)
    r = p.http.get("/sp?id=user_profile")
    assert r.status_code == 303 and r.headers["location"] == "/sp?id=login"
    sec = reference_ssi.secrets["SU user"]
    r = p.login("su.nps", sec["password"], sec["totp_seed"])
    assert r.headers["location"] == "/sp?id=user_profile"


def test_open_redirects_are_refused(reference_ssi):
    p = Portal(reference_ssi.url)
    p.http.get("/sp?id=login")
    from refssi.web import safe_goto

    for evil in ("https://evil.example/", "//evil.example/x", "javascript:alert(1)"):
        assert safe_goto(evil, "/sp") == "/sp"


def test_a_wrong_password_and_an_unknown_user_get_the_same_answer(reference_ssi):
    p = Portal(reference_ssi.url)
    known = p.password("sm.nps", "not-the-password")
    unknown = p.password("no.such.user", "not-the-password")
    msg = re.compile(r'role="alert">([^<]+)<')
    assert known.status_code == unknown.status_code == 200
    assert msg.search(known.text).group(1) == msg.search(unknown.text).group(1) == "User name or password invalid"


@pytest.fixture
def fresh_server():
    with EmbeddedSSI(overrides={"lockout_threshold": 3, "lockout_seconds": 60}) as server:
        yield server


def test_code_failures_count_towards_the_lockout_and_it_ends_by_itself(fresh_server):
    s = fresh_server
    sec = s.secrets["authenticator user"]
    p = Portal(s.url)
    for _ in range(3):
        p.password("alex.turner", sec["password"])
        r = p.code("000000" if pyotp.TOTP(sec["totp_seed"]).now() != "000000" else "111111")
    assert op(s, "GET", "/users/alex.turner").json()["locked_out"] == 1
    r = p.password("alex.turner", sec["password"])
    assert "Your account is locked" in r.text and "1 minute" in r.text
    op(s, "POST", "/age", json={"kind": "lockout", "user_name": "alex.turner", "seconds": 61})
    r = p.login("alex.turner", sec["password"], sec["totp_seed"])
    assert r.headers["location"] == "/sp?id=index"
    assert op(s, "GET", "/users/alex.turner").json()["failed_attempts"] == 0


def email_codes(server, address: str, since: float) -> list[str]:
    h = {"Authorization": f"Bearer {server.operator_token}"}
    msgs = httpx.get(f"{server.url}/_mailsink/api/v1/messages", params={"to": address, "since": since},
                     headers=h).json()["messages"]
    bodies = [httpx.get(f"{server.url}/_mailsink/api/v1/message/{m['ID']}", headers=h).json()["Text"] for m in msgs]
    return [re.search(r"\b(\d{6})\b", b).group(1) for b in bodies]


def test_resend_code_replaces_the_previous_one(fresh_server):
    s = fresh_server
    since = time.time() - 1
    p = Portal(s.url)
    p.password("bea.khan", s.secrets["email code user"]["password"])
    first = email_codes(s, "bea.khan@nps.example.com", since)
    assert len(first) == 1
    p.post("/mfa_resend_code.do", {}, csrf_from="/validate_multifactor_auth_code.do")
    codes = email_codes(s, "bea.khan@nps.example.com", since)
    assert len(codes) == 2 and codes[1] == first[0]  # newest first
    if codes[0] != codes[1]:
        assert "Invalid verification code" in p.code(codes[1]).text  # the old code no longer works
    assert p.code(codes[0]).headers["location"] == "/sp?id=index"


def test_first_login_can_enrol_email_codes_instead(fresh_server):
    s = fresh_server
    p = Portal(s.url)
    r = p.password("new.starter", s.secrets["new user"]["password"])
    assert r.headers["location"] == "/validate_multifactor_auth_code.do"
    assert "Set up multi-factor authentication" in p.http.get(r.headers["location"]).text
    since = time.time() - 1
    p.post("/multifactor_setup.do", {"method": "email"}, csrf_from="/validate_multifactor_auth_code.do")
    (code,) = email_codes(s, "new.starter@nps.example.com", since)
    r = p.code(code)
    assert r.headers["location"] == "/sp?id=complete_profile"  # the profile is still incomplete (SSI-FR-1)
    bad = p.post("/sp?id=complete_profile", {"first_name": "", "last_name": "Lloyd", "email": "not-an-email",
                                             "phone": "12"})
    assert bad.status_code == 400
    for text in ("First name is required", "Enter an email address", "Enter a telephone number"):
        assert text in bad.text
    ok = p.post("/sp?id=complete_profile", {"first_name": "Nia", "last_name": "Lloyd",
                                            "email": "nia@nps.example.com", "phone": "01632 960111"})
    assert ok.headers["location"] == "/sp?id=index"
    assert op(s, "GET", "/users/new.starter").json()["mfa_method"] == "email"


def test_a_setup_key_is_160_bits(fresh_server):
    s = fresh_server
    p = Portal(s.url)
    p.password("new.starter", s.secrets["new user"]["password"])
    p.post("/multifactor_setup.do", {"method": "totp"}, csrf_from="/validate_multifactor_auth_code.do")
    page = p.http.get("/validate_multifactor_auth_code.do").text
    key = re.search(r'id="mfa_setup_key"[^>]*>([A-Z2-7 ]+)<', page).group(1).replace(" ", "")
    assert len(key) * 5 >= 160
    assert 'data-secret' in page  # the key and QR code are marked for masking


def test_a_used_code_is_refused_but_an_unused_earlier_one_is_not(fresh_server):
    """Two workers may submit the codes of two time steps in either order: only a reuse is a replay."""
    s = fresh_server
    sec = s.secrets["authenticator user"]
    totp = pyotp.TOTP(sec["totp_seed"])
    step = int(time.time() // 30)  # both codes stay within the +-1 step window for at least 30 s
    later, earlier = totp.at((step + 1) * 30), totp.at(step * 30)
    first, second, third = Portal(s.url), Portal(s.url), Portal(s.url)
    first.password("alex.turner", sec["password"])
    assert first.code(later).headers["location"] == "/sp?id=index"
    second.password("alex.turner", sec["password"])
    assert second.code(earlier).headers["location"] == "/sp?id=index"  # not refused: never used
    third.password("alex.turner", sec["password"])
    assert "already been used" in third.code(later).text


def test_seeded_accounts_wait_for_their_hashes_and_stay_closed_if_hashing_fails(tmp_path):
    """The server is ready before its seeded accounts' argon2 hashes are made (refssi/app.py SeedGate): until
    they are stored every account holds '!' (no usable password) and the gate holds requests; should the
    hashing fail, the gate opens on accounts no password opens."""
    import os
    import threading

    from refssi.app import seed_database, store_seed_hashes
    from refssi.db import Database
    from refssi.security import hash_in_background, verify_password
    from refssi.settings import Settings
    from ssi.seed import generate_secrets

    secrets = generate_secrets()
    settings = Settings.from_env(profile="reference", db_path=tmp_path / "db.sqlite3", secrets=secrets,
                                 operator_token="x", server_key=os.urandom(32))

    def stored(db: Database, user: str, table: str = "sys_user") -> str:
        column, key = ("user_password", "user_name") if table == "sys_user" else ("password", "upn")
        return db.conn.execute(f"SELECT {column} FROM {table} WHERE {key}=?", (user,)).fetchone()[0]

    failed = Database(tmp_path / "failed.sqlite3")
    pending = seed_database(failed, settings)
    assert ("sys_user", "alex.turner", "authenticator user") in pending and stored(failed, "alex.turner") == "!"
    done = threading.Event()

    def broken() -> dict[str, str]:
        raise RuntimeError("argon2 failed")

    with pytest.raises(RuntimeError):
        store_seed_hashes(failed, pending, broken, done)
    assert done.is_set() and stored(failed, "alex.turner") == "!"
    assert not verify_password("!", secrets["authenticator user"]["password"])

    db = Database(tmp_path / "db.sqlite3")
    pending = seed_database(db, settings)
    done = threading.Event()
    store_seed_hashes(db, pending, hash_in_background({p: s["password"] for p, s in secrets.items()}), done)
    assert done.is_set() and verify_password(stored(db, "alex.turner"), secrets["authenticator user"]["password"])
    entra = next(u for t, u, _ in pending if t == "entra_user")
    persona = next(p for t, u, p in pending if u == entra)
    assert verify_password(stored(db, entra, "entra_user"), secrets[persona]["password"])


def test_the_seed_gate_holds_requests_until_the_hashes_are_stored():
    import asyncio
    import threading

    from refssi.app import SeedGate

    served: list[str] = []

    async def app(scope, receive, send) -> None:
        served.append(scope["type"])

    async def scenario() -> None:
        done = threading.Event()
        gate = SeedGate(app, done)
        await gate({"type": "lifespan"}, None, None)  # start-up and READY are not held
        request = asyncio.ensure_future(gate({"type": "http"}, None, None))
        for _ in range(20):  # the request stays held however often the loop turns
            await asyncio.sleep(0)
        assert served == ["lifespan"] and not request.done()
        done.set()
        await asyncio.wait_for(request, 5)
        assert served == ["lifespan", "http"]

    asyncio.run(scenario())
