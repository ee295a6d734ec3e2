"""User administration and access control of the reference SSI, checked over HTTP (no browser).

Direct POSTs that bypass the form are refused like the form's own input: a message on the
field, HTTP 400, and nothing saved. Administrators reach only their own organisation's
accounts; everyone else gets 403. Every role x component cell answers 200 or 403 as the
role matrix says.
"""

from __future__ import annotations

import html
import re
import secrets
from collections.abc import Iterator
from pathlib import Path

import httpx
import pyotp
import pytest
import yaml

from ssi.profile import PROFILES_DIR, load_profile
from tests.helpers import Portal
from uept.runtime.reference import EmbeddedSSI, RunningSSI

NPS_ID, NPS_ID2, SEN_ID = "90-B3-D5-1F-30-01-00-01", "90-B3-D5-1F-30-01-00-02", "90-B3-D5-1F-30-02-00-01"
NEW = "/sp?id=user_admin_user&sys_id=-1"
SECRET = re.compile(r"data-secret>([^<]+)<")
FIELD_ERROR = re.compile(r'<p class="field-error" id="(\w+)_error">([^<]+)</p>')


def login(portal: Portal, ssi: RunningSSI, persona: str, user: str) -> None:
    s = ssi.secrets[persona]
    r = portal.login(user, s["password"], s["totp_seed"])
    assert r.status_code == 303 and "id=index" in r.headers["location"], r.text[:300]


def operator(ssi: RunningSSI) -> httpx.Client:
    return httpx.Client(base_url=f"{ssi.url}/_operator", headers={"Authorization": f"Bearer {ssi.operator_token}"})


def state(ssi: RunningSSI, user: str) -> dict | None:
    r = operator(ssi).get(f"/users/{user}")
    return None if r.status_code == 404 else r.json()


def unique() -> str:
    return f"t.{secrets.token_hex(4)}"


def valid(user: str, **change: object) -> dict:
    data: dict = {"action": "create", "user_name": user, "first_name": "Tess", "last_name": "Ting",
                  "email": f"{user}@example.com", "phone": "01632 960001", "user_ids": [NPS_ID], "roles": ["SM"]}
    data.update(change)
    return {k: v for k, v in data.items() if v is not None}


def errors(r: httpx.Response) -> dict[str, str]:
    return {k: html.unescape(v) for k, v in FIELD_ERROR.findall(r.text)}


def sys_id_of(portal: Portal, user: str) -> str:
    r = portal.http.get("/sp", params={"id": "user_admin", "q": user})
    m = re.search(r'href="/sp\?id=user_admin_user&amp;sys_id=(\w+)">' + re.escape(user) + "<", r.text)
    assert m, f"{user} not in the list"
    return m.group(1)


_SIGNED_IN: dict[tuple[str, str], Portal] = {}


def signed_in(ssi: RunningSSI, persona: str, user: str) -> Portal:
    """One login per persona per server: the server refuses an authenticator code used twice."""
    key = (ssi.url, persona)
    if key not in _SIGNED_IN:
        p = Portal(ssi.url)
        login(p, ssi, persona, user)
        _SIGNED_IN[key] = p
    return _SIGNED_IN[key]


@pytest.fixture(scope="module")
def admin(reference_ssi: RunningSSI) -> Portal:
    return signed_in(reference_ssi, "OA user", "oa.nps")


@pytest.fixture(scope="module")
def other_admin(reference_ssi: RunningSSI) -> Portal:
    return signed_in(reference_ssi, "other organisation admin", "oa.sen")


# ---------------------------------------------------------------- create: the form's own input
def test_create_shows_a_one_time_password_once_and_forces_change_and_enrolment(admin, reference_ssi):
    user = unique()
    r = admin.post(NEW, valid(user, roles=["SM", "LA"], user_ids=[NPS_ID, NPS_ID2]))
    assert r.status_code == 200, errors(r)
    password = SECRET.findall(r.text)
    assert len(password) == 1 and len(password[0]) >= 12
    st = state(reference_ssi, user)
    assert st["active"] == 1 and st["password_needs_reset"] == 1 and st["mfa_method"] is None
    page = admin.http.get(f"/sp?id=user_admin_user&sys_id={sys_id_of(admin, user)}").text
    assert "data-secret" not in page and password[0] not in page
    assert "Service Management User" in page and NPS_ID2 in page

    newcomer = Portal(reference_ssi.url)
    r = newcomer.password(user, html.unescape(password[0]))
    assert r.headers["location"] == "/validate_multifactor_auth_code.do"  # must enrol MFA first
    r = newcomer.post("/multifactor_setup.do", {"method": "totp"}, csrf_from="/validate_multifactor_auth_code.do")
    key = re.search(r'id="mfa_setup_key"[^>]*>([^<]+)<', newcomer.http.get(r.headers["location"]).text).group(1)
    r = newcomer.code(pyotp.TOTP(key.replace(" ", "")).now())
    assert r.headers["location"] == "/sp?id=password_change"  # then change the one-time password


@pytest.mark.parametrize(("change", "field", "message"), [
    ({"email": "no-at-sign.example.com"}, "email", "Enter an email address"),
    ({"first_name": ""}, "first_name", "First name is required"),
    ({"first_name": None}, "first_name", "First name is required"),  # field left out of the post
    ({"last_name": "   "}, "last_name", "Last name is required"),
    ({"first_name": "A" * 51}, "first_name", "at most 50 characters"),
    ({"email": "a" * 95 + "@example.com"}, "email", "at most 100 characters"),
    ({"phone": "9" * 41}, "phone", "at most 40 characters"),
    ({"phone": "call me"}, "phone", "Enter a telephone number"),
    ({"last_name": "Ting\nInjected"}, "last_name", "control characters"),
    ({"roles": ["XX"]}, "roles", "'XX' is not a Job Type Role"),
    ({"roles": ["SM", "Supreme Leader"]}, "roles", "is not a Job Type Role"),
    ({"roles": []}, "roles", "Choose at least one Job Type Role"),
    ({"user_ids": [SEN_ID]}, "user_ids", "is not a User ID of your organisation"),
    ({"user_ids": []}, "user_ids", "Choose at least one organisation"),
])
def test_a_direct_post_with_bad_input_is_refused_on_the_field_and_saves_nothing(admin, reference_ssi, change,
                                                                                field, message):
    user = unique()
    r = admin.post(NEW, valid(user, **change))
    assert r.status_code == 400
    assert message in errors(r).get(field, ""), errors(r)
    assert f'id="{field}' in r.text and 'aria-invalid="true"' in r.text and 'role="alert"' in r.text
    assert "data-secret" not in r.text
    assert state(reference_ssi, user) is None


@pytest.mark.parametrize("user_name", ["u" * 41, "two words", ".starts.with.dot", "semi;colon", ""])
def test_a_bad_user_name_is_refused(admin, reference_ssi, user_name):
    r = admin.post(NEW, valid(user_name))
    assert r.status_code == 400 and "user_name" in errors(r), errors(r)
    if user_name:
        assert state(reference_ssi, user_name) is None


@pytest.mark.parametrize("taken", ["sm.nps", "SM.NPS", "sm.sen"])
def test_a_taken_user_name_is_refused_in_any_case_and_any_organisation(admin, taken):
    r = admin.post(NEW, valid(taken, first_name="Dup", last_name="Licate"))
    assert r.status_code == 400
    assert "is already taken" in errors(r)["user_name"]
    assert "Southern" not in r.text  # nothing about the organisation that holds it


def test_fields_the_form_does_not_have_are_refused(admin, reference_ssi):
    user = unique()
    r = admin.post(NEW, valid(user, active="0", password="Hunter2Hunter2"))
    assert r.status_code == 400 and "cannot be set" in r.text
    r = admin.post(NEW, valid(user) | {"user_name": [user, unique()]})
    assert r.status_code == 400 and "more than once" in errors(r)["user_name"]
    assert state(reference_ssi, user) is None


def test_a_post_without_the_security_token_is_refused(admin, reference_ssi):
    user = unique()
    r = admin.http.post(NEW, data=valid(user))
    assert r.status_code == 403 and "security token" in r.text
    assert state(reference_ssi, user) is None


# ---------------------------------------------------------------- edit
def created(admin: Portal, **change: object) -> tuple[str, str]:
    user = unique()
    r = admin.post(NEW, valid(user, **change))
    assert r.status_code == 200, errors(r)
    return user, sys_id_of(admin, user)


def test_an_update_cannot_change_the_user_name_or_status_and_saves_nothing_when_refused(admin, reference_ssi):
    user, sid = created(admin)
    url = f"/sp?id=user_admin_user&sys_id={sid}"
    base = {"action": "update", "first_name": "Changed", "last_name": "Name", "email": f"{user}@example.com",
            "user_ids": [NPS_ID], "roles": ["SM"]}
    r = admin.post(url, base | {"user_name": "someone.else"})
    assert r.status_code == 400 and "cannot be changed" in errors(r)["user_name"]
    r = admin.post(url, base | {"active": "0"})
    assert r.status_code == 400 and "account status cannot be set" in r.text
    r = admin.post(url, base | {"roles": ["SM", "XX"], "email": "bad"})
    assert r.status_code == 400 and {"roles", "email"} <= set(errors(r))
    page = admin.http.get(url).text
    assert 'value="Tess"' in page and "Changed" not in page
    assert state(reference_ssi, user)["active"] == 1
    r = admin.post(url, base)
    assert r.status_code == 303
    page = admin.http.get(url).text
    assert 'value="Changed"' in page and "updated" in page  # and the change is in the account history


def test_an_administrator_cannot_remove_their_own_access_nor_deactivate_themselves(admin, reference_ssi):
    sid = sys_id_of(admin, "oa.nps")
    url = f"/sp?id=user_admin_user&sys_id={sid}"
    r = admin.post(url, {"action": "update", "first_name": "Olivia", "last_name": "Okafor",
                         "email": "oa.nps@nps.example.com", "user_ids": [NPS_ID], "roles": ["SM"]})
    assert r.status_code == 400 and "your own access" in errors(r)["roles"]
    r = admin.post(url, {"action": "deactivate", "confirmed": "yes"})
    assert r.status_code == 400 and "your own account" in r.text
    assert state(reference_ssi, "oa.nps")["active"] == 1


# ---------------------------------------------------------------- lifecycle
def test_deactivate_needs_confirmation_and_then_blocks_login_until_reinstated(admin, reference_ssi):
    user, sid = created(admin)
    url = f"/sp?id=user_admin_user&sys_id={sid}"
    r = admin.post(url, {"action": "deactivate"})  # no confirmation: asked to confirm, nothing changes
    assert r.status_code == 303 and "confirm=deactivate" in r.headers["location"]
    assert state(reference_ssi, user)["active"] == 1
    assert "Yes, deactivate this user" in admin.http.get(r.headers["location"]).text
    assert admin.post(url, {"action": "deactivate", "confirmed": "yes"}).status_code == 303
    assert state(reference_ssi, user)["active"] == 0
    assert admin.post(url, {"action": "reinstate"}).status_code == 200  # never logged in: a new one-time password
    assert state(reference_ssi, user)["active"] == 1


def test_reset_password_unlock_and_reset_mfa(admin, reference_ssi):
    user, sid = created(admin)
    url = f"/sp?id=user_admin_user&sys_id={sid}"
    first = html.unescape(SECRET.findall(admin.post(url, {"action": "reset_password"}).text)[0])
    person = Portal(reference_ssi.url)
    for _ in range(5):
        person.password(user, "Wrong-password-123")
    assert state(reference_ssi, user)["locked_out"] == 1
    assert "Locked" in admin.http.get("/sp", params={"id": "user_admin", "q": user}).text
    assert admin.post(url, {"action": "unlock"}).status_code == 303
    assert state(reference_ssi, user)["locked_out"] == 0
    second = html.unescape(SECRET.findall(admin.post(url, {"action": "reset_password"}).text)[0])
    assert second != first
    assert "invalid" in Portal(reference_ssi.url).password(user, first).text  # the old one no longer works
    r = Portal(reference_ssi.url).password(user, second)
    assert r.headers["location"] == "/validate_multifactor_auth_code.do"
    assert admin.post(url, {"action": "reset_mfa"}).status_code == 303
    assert state(reference_ssi, user)["mfa_method"] is None


def test_a_migrated_account_is_reinstated_only_with_a_role_and_then_gets_a_one_time_password(admin, reference_ssi):
    sid = sys_id_of(admin, "mig.hussain")
    url = f"/sp?id=user_admin_user&sys_id={sid}"
    assert state(reference_ssi, "mig.hussain")["active"] == 0
    r = admin.post(url, {"action": "reinstate"})
    assert r.status_code == 400 and "at least one Job Type Role" in errors(r)["roles"]
    assert state(reference_ssi, "mig.hussain")["active"] == 0
    assert admin.post(url, {"action": "update", "first_name": "Aisha", "last_name": "Hussain",
                            "email": "mig.hussain@nps.example.com", "user_ids": [NPS_ID],
                            "roles": ["CC"]}).status_code == 303
    r = admin.post(url, {"action": "reinstate"})
    assert r.status_code == 200 and len(SECRET.findall(r.text)) == 1
    assert state(reference_ssi, "mig.hussain")["active"] == 1


# ---------------------------------------------------------------- organisation scope and roles
def test_an_administrator_neither_sees_nor_changes_another_organisations_accounts(admin, other_admin,
                                                                                  reference_ssi):
    listing = admin.http.get("/sp", params={"id": "user_admin", "q": "sen"}).text
    assert "sm.sen" not in listing and "oa.sen" not in listing and "mig.ivanova" not in listing
    sid = sys_id_of(other_admin, "sm.sen")
    url = f"/sp?id=user_admin_user&sys_id={sid}"
    assert admin.http.get(url).status_code == 404
    for action in ({"action": "update", "first_name": "X", "last_name": "Y", "email": "x@example.com",
                    "user_ids": [NPS_ID], "roles": ["OA"]}, {"action": "deactivate", "confirmed": "yes"},
                   {"action": "reset_password"}, {"action": "reset_mfa"}):
        assert admin.post(url, action, csrf_from="/sp?id=user_admin").status_code == 404
    st = state(reference_ssi, "sm.sen")
    assert st["active"] == 1 and st["mfa_method"] == "totp" and st["password_needs_reset"] == 0
    assert "Sara" in other_admin.http.get(url).text


def test_a_non_administrator_is_refused_every_user_administration_request(reference_ssi):
    p = signed_in(reference_ssi, "AA user", "aa.nps")
    for path in ("/sp?id=user_admin", NEW, f"/sp?id=user_admin_user&sys_id={'0' * 32}"):
        r = p.http.get(path)
        assert r.status_code == 403 and "You do not have access to this page" in r.text
    user = unique()
    r = p.post(NEW, valid(user), csrf_from="/sp?id=index")
    assert r.status_code == 403 and "You do not have access to this page" in r.text
    assert state(reference_ssi, user) is None


ROLE_PERSONAS = {"AA": ("AA user", "aa.nps"), "OA": ("OA user", "oa.nps"), "SU": ("SU user", "su.nps"),
                 "LA": ("LA user", "la.nps"), "CC": ("CC user", "cc.nps"), "MI": ("MI user", "mi.nps"),
                 "SM": ("SM user", "sm.nps"), "SMO": ("SMO user", "smo.nps"), "AMO": ("AMO user", "amo.nps"),
                 "SCM": ("SCM user", "scm.nps"), "LOG": ("LOG user", "log.nps")}


@pytest.mark.parametrize("role", list(ROLE_PERSONAS))
def test_every_component_answers_as_the_role_matrix_says(reference_ssi, admin, role):
    """The HTTP twin of features/access_control.feature: 22 components per role, page and menu."""
    profile = load_profile()
    p = signed_in(reference_ssi, *ROLE_PERSONAS[role])
    granted = profile.role_matrix.components_for([role])
    menu = re.search(r'<nav aria-label="Main menu">(.*?)</nav>', p.http.get("/sp?id=index").text, re.S).group(1)
    wrong = []
    for comp in profile.role_matrix.components:
        where = profile.component_page(comp.key)
        path = "/sp?" + httpx.QueryParams({"id": where.page, **where.params}).__str__()
        status = p.http.get(path).status_code
        in_menu = f'href="{html.escape(path)}"' in menu
        menu_expected = comp.key in granted and where.menu is not None  # menu: null = reached from another page
        if (status == 200) != (comp.key in granted) or in_menu != menu_expected or status not in (200, 403):
            wrong.append(f"{comp.key}: HTTP {status}, in menu {in_menu}, granted {comp.key in granted}")
    assert not wrong, wrong


# ---------------------------------------------------------------- a profile that restricts what admins grant
@pytest.fixture(scope="module")
def restricted(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningSSI]:
    """Admins may grant only SM and CC; MI loses Log In."""
    d: Path = tmp_path_factory.mktemp("profile")
    prof = yaml.safe_load((PROFILES_DIR / "reference.yaml").read_text())
    matrix = yaml.safe_load((PROFILES_DIR / "role_matrix.yaml").read_text())
    for c in matrix["components"]:
        if c["key"] == "log_in":
            c["allowed_roles"].remove("MI")
    (d / "matrix.yaml").write_text(yaml.safe_dump(matrix))
    prof.update(name="restricted", role_matrix="matrix.yaml", user_admin={"assignable_roles": ["SM", "CC"]})
    (d / "restricted.yaml").write_text(yaml.safe_dump(prof))
    with EmbeddedSSI(profile=str(d / "restricted.yaml")) as ssi:
        yield ssi


def test_roles_the_profile_does_not_let_administrators_grant_are_refused(restricted):
    p = signed_in(restricted, "OA user", "oa.nps")
    form = p.http.get(NEW).text
    assert 'value="SM"' in form and 'value="OA"' not in form  # only grantable roles are offered
    user = unique()
    r = p.post(NEW, valid(user, roles=["SM", "OA"]))
    assert r.status_code == 400 and "You may not grant the role Organisational Administrator" in errors(r)["roles"]
    assert state(restricted, user) is None
    assert p.post(NEW, valid(user, roles=["CC"])).status_code == 200


def test_a_role_without_log_in_cannot_log_in(restricted):
    r = Portal(restricted.url).password("mi.nps", restricted.secrets["MI user"]["password"])
    assert r.status_code == 200 and "do not give you access to the SSI" in r.text
