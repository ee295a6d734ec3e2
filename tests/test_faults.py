"""The reference SSI's faults (test-only switches) are declared once, in refssi/faults.py, and read
through one function that refuses a name nobody declared."""

from __future__ import annotations

import re
from types import SimpleNamespace

import pytest

from refssi.faults import FAULTS, fault
from tests.helpers import ROOT


def test_an_undeclared_fault_name_is_refused() -> None:
    with pytest.raises(ValueError, match="undeclared fault 'no_such_check'"):
        fault(SimpleNamespace(unsafe=frozenset({"no_such_check"})), "no_such_check")


def test_a_declared_fault_is_on_only_when_switched_on() -> None:
    assert fault(SimpleNamespace(unsafe=frozenset({"no_lockout"})), "no_lockout")
    assert not fault(SimpleNamespace(unsafe=frozenset()), "no_lockout")


def test_every_declared_fault_is_read_somewhere() -> None:
    text = "\n".join(p.read_text(encoding="utf-8") for p in (ROOT / "refssi").rglob("*.py")
                     if p.name != "faults.py")
    read = set(re.findall(r'fault\([^,()]+, "(\w+)"\)|bypass_fault="(\w+)"', text))
    assert FAULTS.keys() == {a or b for a, b in read}
