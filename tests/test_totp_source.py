"""The harness's authenticator: RFC 6238 vectors, the window-edge wait, no reuse."""

from __future__ import annotations

import base64

import pyotp
import pytest

from ssi.errors import UsageError
from uept.runtime.otp import TotpSource
from uept.runtime.secrets import Secret

# RFC 6238 Appendix B: SHA1 seed "12345678901234567890", 8 digits, T0=0, X=30.
RFC_SEED = base64.b32encode(b"12345678901234567890").decode()
RFC_VECTORS = [
    (59, "94287082"),
    (1111111109, "07081804"),
    (1111111111, "14050471"),
    (1234567890, "89005924"),
    (2000000000, "69279037"),
    (20000000000, "65353130"),
]


class FakeClock:
    def __init__(self, t: float) -> None:
        self.t = t
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.t

    def sleep(self, s: float) -> None:
        self.slept.append(s)
        self.t += s


def source(tmp_path, clock: FakeClock, seed: str = RFC_SEED, digits: int = 8, account: str = "a",
           margin: float = 5.0) -> TotpSource:
    return TotpSource(Secret(seed, "seed"), account=account, state_dir=tmp_path, digits=digits,
                      clock=clock, sleep=clock.sleep, margin=margin)


@pytest.mark.parametrize(("t", "expected"), RFC_VECTORS)
def test_rfc6238_appendix_b_vectors(tmp_path, t, expected):
    clock = FakeClock(t)
    assert source(tmp_path, clock, margin=0).code().reveal() == expected
    assert clock.slept == []


def test_vector_59_via_the_library_matches_rfc():
    assert pyotp.TOTP(RFC_SEED, digits=8).at(59) == "94287082"


def test_waits_for_the_next_window_near_the_edge(tmp_path):
    clock = FakeClock(1111111111 - (1111111111 % 30) + 27)  # 3 s left in the window
    code = source(tmp_path, clock).code()
    assert clock.slept and 2.9 < clock.slept[0] < 3.2
    assert code.reveal() == pyotp.TOTP(RFC_SEED, digits=8).at(clock.t)


def test_no_wait_with_time_to_spare(tmp_path):
    clock = FakeClock(1111111111 - (1111111111 % 30) + 5)
    source(tmp_path, clock).code()
    assert clock.slept == []


def test_never_reuses_a_code_even_from_another_source_object(tmp_path):
    clock = FakeClock(1111111111 - (1111111111 % 30) + 2)
    first = source(tmp_path, clock).code()
    second = source(tmp_path, clock).code()  # e.g. another xdist worker, same account
    assert first != second
    assert clock.slept and clock.t >= (1111111111 - (1111111111 % 30) + 30)


def test_different_accounts_do_not_wait_for_each_other(tmp_path):
    clock = FakeClock(1111111111 - (1111111111 % 30) + 2)
    source(tmp_path, clock, account="a").code()
    source(tmp_path, clock, account="b").code()
    assert clock.slept == []


def test_expired_and_last_codes(tmp_path):
    clock = FakeClock(1111111111 - (1111111111 % 30) + 2)
    src = source(tmp_path, clock)
    with pytest.raises(UsageError):
        src.last_code()
    used = src.code()
    assert src.last_code() == used
    assert src.expired_code(4).reveal() == pyotp.TOTP(RFC_SEED, digits=8).at(clock.t - 120)


def test_codes_and_seeds_never_print(tmp_path):
    clock = FakeClock(1111111111 - (1111111111 % 30) + 2)
    code = source(tmp_path, clock).code()
    assert code.reveal() not in repr(code) + str(code) + f"{code}"


def test_a_second_code_in_the_same_step_uses_the_next_step_when_the_server_allows(tmp_path):
    clock = FakeClock(1111111111 - (1111111111 % 30) + 2)
    step = int(clock.t // 30)
    src = TotpSource(Secret(RFC_SEED, "seed"), account="a", state_dir=tmp_path, digits=8, clock=clock,
                     sleep=clock.sleep, lookahead=1)
    first, second = src.code(), src.code()
    totp = pyotp.TOTP(RFC_SEED, digits=8)
    assert (first.reveal(), second.reveal()) == (totp.at(step * 30), totp.at((step + 1) * 30))
    assert clock.slept == []  # no wait: the server accepts one step ahead
    src.code()  # a third would be two steps ahead: it waits for the next step to begin
    assert clock.slept and int(clock.t // 30) == step + 1
