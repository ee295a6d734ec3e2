"""The secret-shape scan's shortcuts (uept/evidence/leakscan.py) never skip a text its regexes would flag."""

from __future__ import annotations

import itertools
import json

import pytest

from uept.evidence import leakscan


def language(pattern: str) -> set[str]:
    """Every string a finite regex of literals, groups, alternatives and optional parts matches."""
    from re import _constants as c
    from re import _parser as sre_parse

    def words(items) -> set[str]:
        out = {""}
        for op, arg in items:
            if op is c.LITERAL:
                alts = {chr(arg)}
            elif op is c.SUBPATTERN:
                alts = words(arg[3])
            elif op is c.BRANCH:
                alts = set().union(*(words(b) for b in arg[1]))
            elif op in (c.MAX_REPEAT, c.MIN_REPEAT) and arg[1] <= 1:
                alts = {""} | words(arg[2]) if arg[0] == 0 else words(arg[2])
            else:
                raise AssertionError(f"not a finite pattern this test can read: {op}")
            out = {a + b for a, b in itertools.product(out, alts)}
        return out

    return words(sre_parse.parse(pattern))


def test_every_name_the_scan_looks_for_ends_with_one_of_its_form_hints() -> None:
    names = language(leakscan.NAMES)
    assert {"user_password", "txtresponse", "one-time-code", "otc", "setup_key", "totp_seed"} <= names
    assert len(names) > 30
    for name in names:
        assert name.endswith(leakscan._NAME_ENDS), name
        assert any(h in f"{name}=x" for h in leakscan._FORM_HINTS)


SEED = "K5XW4ZLBNRWG6YLU"  # 16 Base32 characters, digits among them


@pytest.mark.parametrize("text, found", [
    (SEED, True), (SEED[:15], False), (f"key: {SEED}\n", True), (f"clé «{SEED}»", True), (f"é{SEED}é", True),
    (f"x{SEED}", False),  # part of a longer word: no seed, whatever the shortcut says
])
def test_a_base32_run_is_found_from_sixteen_characters_with_or_without_the_shortcut(text: str, found: bool,
                                                                                   monkeypatch) -> None:
    seen = ["Base32" in str(f) for f in leakscan.scan_text("step-01.txt", text)]
    assert any(seen) is found
    monkeypatch.setattr(leakscan, "_BASE32_MIN", 0)  # no shortcut: every text goes through the regex
    assert any("Base32" in str(f) for f in leakscan.scan_text("step-01.txt", text)) is found


@pytest.mark.parametrize("char", "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567")
def test_the_shortcut_takes_every_base32_character_for_one(char: str) -> None:
    assert any("Base32" in str(f) for f in leakscan.scan_text("step-01.txt", f"{SEED[:8]}{char}{SEED[8:]}"))


SAMPLES = [  # (text, flagged)
    ('[{"password": "Winter2026!"}]', True), ('{"new_password" : "abc"}', True), ('{"txtResponse":"123456"}', True),
    (json.dumps({"steps": [{"name": "When I log in", "parameters": [{"name": "password", "value": "'W1nter!'"}]}]}),
     True),
    ('{"name": "otp_code", "value": "493817"}', True), ("user_name=a&user_password=S3cr3t%21", True),
    ("otc=123456&x=1", True), ('<input type="password" value="hunter22">', True), ("[Verification code: 204613]", True),
    (f"Setup key\n{SEED}XYZ2\n", True), ("otpauth://totp/DCC:alex?secret=JBSWY3DPEHPK3PXP", True),
    ('{"passcode": "****"}', False), ("nothing to see", False), ('{"a": "b"}', False), ('{"keys": "no"}', False),
    ('{"monkey": "not a name of ours"}', False),
]


@pytest.mark.parametrize("text, flagged", SAMPLES)
def test_the_shortcuts_find_what_the_regexes_alone_find(text: str, flagged: bool, monkeypatch) -> None:
    shortcut = leakscan.scan_text("allure-results/x-result.json", text)
    assert bool(shortcut) is flagged
    monkeypatch.setattr(leakscan, "_FORM_HINTS", ("",))  # no shortcut: every text goes through every regex
    monkeypatch.setattr(leakscan, "_BASE32_MIN", 0)
    assert shortcut == leakscan.scan_text("allure-results/x-result.json", text)
